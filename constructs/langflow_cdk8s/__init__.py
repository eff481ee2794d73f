"""Langflow on Kubernetes as cdk8s constructs: LangflowIDE for development, LangflowRuntime for
production, inside Environments that isolate them; GitOps points Argo CD at the result.

Layers: patterns/ holds the public constructs, props/ the value types they take, mechanics/ the
cdk8s-plus composition they share (workloads, hardening, networking, labels), tooling/ what is not
a construct (the synthesis wrapper, generated docs, inventories of synthesized objects).
"""

import os

# jsii prints an end-of-life banner on Node 20 when it starts; `make` and cdk8s.yaml set this
# variable, and setting it here quiets `python main.py` too when this package is imported before
# cdk8s (import order changes nothing else). A value you set yourself wins.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from .errors import ConfigError
from .mechanics.completion import App
from .tooling import report

report.install_excepthook()  # a mistake at module level of main.py: two lines, exit 2, never a stack
from .mechanics.workload import ServiceWorkload
from .patterns.environment import Environment, EnvironmentProps, PodSecurityLevel, Quota, Stage
from .patterns.gitops import Destination, GitOps, GitOpsProps, SyncPolicy
from .patterns.ide import LangflowIDE, LangflowIDEProps
from .patterns.runtime import LangflowRuntime, LangflowRuntimeProps
from .props.database import Database
from .props.delivery import FlowDelivery
from .props.engine import Engine, EngineDefault, LangflowEngine, LfxEngine
from .props.exposure import Certificate, Exposure, GatewayRef
from .props.flow import Flow, FlowGroup
from .props.frontend import Frontend
from .props.image import LANGFLOW_VERSION, Image
from .props.ingress import IngressOptions
from .props.network import NetworkPeer
from .props.pod import PodOptions
from .props.posture import CustomComponents, ObjectStorage, ProductionPreflight, Security
from .props.profiles import CloudProfile
from .props.resources import Resources
from .props.scaling import Autoscaling
from .props.secrets import RemoteKey, SecretKey, SecretSource, StoreKind, astra_db
from .props.server import ServiceType
from .props.settings import Auth, Metrics, Monitor, OpenTelemetry, RedisCache

__all__ = [
    "LANGFLOW_VERSION",
    "App",
    "Auth",
    "Autoscaling",
    "Certificate",
    "CloudProfile",
    "ConfigError",
    "CustomComponents",
    "Database",
    "Destination",
    "Engine",
    "EngineDefault",
    "Environment",
    "EnvironmentProps",
    "Exposure",
    "Flow",
    "FlowDelivery",
    "FlowGroup",
    "Frontend",
    "GatewayRef",
    "GitOps",
    "GitOpsProps",
    "Image",
    "IngressOptions",
    "LangflowEngine",
    "LangflowIDE",
    "LangflowIDEProps",
    "LangflowRuntime",
    "LangflowRuntimeProps",
    "LfxEngine",
    "Metrics",
    "Monitor",
    "NetworkPeer",
    "ObjectStorage",
    "OpenTelemetry",
    "PodOptions",
    "PodSecurityLevel",
    "ProductionPreflight",
    "Quota",
    "RedisCache",
    "RemoteKey",
    "Resources",
    "SecretKey",
    "SecretSource",
    "Security",
    "ServiceType",
    "ServiceWorkload",
    "Stage",
    "StoreKind",
    "SyncPolicy",
    "astra_db",
]
