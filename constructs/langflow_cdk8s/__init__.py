"""Langflow on Kubernetes as cdk8s constructs: LangflowIDE for development, LangflowRuntime for
production, inside Environments that isolate them; GitOps points Argo CD at the result."""

import os

# jsii prints an end-of-life banner on Node 20 when cdk8s is first imported; import this package
# before cdk8s (as main.py does) and `python main.py` is as quiet as `make synth` (Node 22 and 24
# print nothing). A value you set yourself wins.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from .backend import Auth, Metrics, RedisCache  # noqa: E402 - after the jsii setting above

from .database import Database
from .environment import Environment, EnvironmentProps, Quota, Stage
from .errors import ConfigError
from .flow import Flow, FlowDelivery, FlowGroup
from .gitops import GitOps, GitOpsProps, SyncPolicy
from .ide import LangflowIDE, LangflowIDEProps
from .image import LANGFLOW_VERSION, Image
from .ingress import IngressOptions
from .network import NetworkPeer
from .pod import PodOptions
from .posture import CustomComponents, ObjectStorage, ProductionPreflight, Security
from .profiles import CloudProfile
from .resources import Resources
from .runtime import LangflowRuntime, LangflowRuntimeProps
from .secrets import SecretKey, astra_db
from .workload import Autoscaling

__all__ = [
    "LANGFLOW_VERSION", "Auth", "Autoscaling", "CloudProfile", "ConfigError", "CustomComponents", "Database",
    "Environment", "EnvironmentProps", "Flow", "FlowDelivery", "FlowGroup", "GitOps", "GitOpsProps", "Image",
    "IngressOptions", "LangflowIDE", "LangflowIDEProps", "LangflowRuntime", "LangflowRuntimeProps", "Metrics",
    "NetworkPeer", "ObjectStorage", "PodOptions", "ProductionPreflight", "Quota", "RedisCache", "Resources",
    "SecretKey", "Security", "Stage", "SyncPolicy", "astra_db",
]
