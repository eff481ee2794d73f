"""Langflow on Kubernetes as cdk8s constructs: LangflowIDE for development, LangflowRuntime for
production, inside Environments that isolate them; GitOps points Argo CD at the result.

Layers: patterns/ holds the public constructs, props/ the value types they take, mechanics/ the
cdk8s-plus composition they share (workloads, hardening, networking, labels), tooling/ what is not
a construct (the synthesis wrapper, generated docs, inventories of synthesized objects).
"""

import os

# jsii prints an end-of-life banner on Node 20 when cdk8s is first imported; import this package
# before cdk8s (as main.py does) and `python main.py` is as quiet as `make synth` (Node 22 and 24
# print nothing). A value you set yourself wins.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from .tooling import jsii_channel  # noqa: E402 - before anything starts jsii

jsii_channel.install()

from .errors import ConfigError  # noqa: E402 - after the jsii settings above
from .mechanics.workload import ServiceWorkload
from .patterns.environment import Environment, EnvironmentProps, Quota, Stage
from .patterns.gitops import GitOps, GitOpsProps, SyncPolicy
from .patterns.ide import LangflowIDE, LangflowIDEProps
from .patterns.runtime import LangflowRuntime, LangflowRuntimeProps
from .props.database import Database
from .props.engine import Engine, EngineDefault, LangflowEngine, LfxEngine
from .props.flow import Flow, FlowDelivery, FlowGroup
from .props.image import LANGFLOW_VERSION, Image
from .props.ingress import IngressOptions
from .props.network import NetworkPeer
from .props.pod import PodOptions
from .props.posture import CustomComponents, ObjectStorage, ProductionPreflight, Security
from .props.profiles import CloudProfile
from .props.resources import Resources
from .props.scaling import Autoscaling
from .props.secrets import SecretKey, astra_db
from .props.settings import Auth, Metrics, RedisCache

__all__ = [
    "LANGFLOW_VERSION", "Auth", "Autoscaling", "CloudProfile", "ConfigError", "CustomComponents", "Database",
    "Engine", "EngineDefault", "Environment", "EnvironmentProps", "Flow", "FlowDelivery", "FlowGroup", "GitOps", "GitOpsProps", "Image",
    "IngressOptions", "LangflowEngine", "LangflowIDE", "LangflowIDEProps", "LangflowRuntime", "LangflowRuntimeProps", "LfxEngine", "Metrics",
    "NetworkPeer", "ObjectStorage", "PodOptions", "ProductionPreflight", "Quota", "RedisCache", "Resources",
    "SecretKey", "Security", "ServiceWorkload", "Stage", "SyncPolicy", "astra_db",
]
