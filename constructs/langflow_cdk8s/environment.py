"""An environment: one namespace, one Chart, one dist/<name>/ folder, and what isolates it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import cdk8s
from constructs import Construct

from .errors import ConfigError
from .labels import standard_labels
from .manifest import emit
from .network import NetworkPeer
from .profiles import CloudProfile
from .resources import Resources
from .validation import at_least, dns_label, quantity

if TYPE_CHECKING:
    from .flow import Flow


class Stage(enum.Enum):
    """What an environment is for; it sets the secure defaults that differ between dev and prod."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


@dataclass(frozen=True, kw_only=True)
class Quota:
    """The namespace's ResourceQuota. Every value is a Kubernetes quantity or count.

    requests_cpu, requests_memory, limits_cpu, limits_memory: totals over all pods (required).
    pods: most pods at once (default 50).
    persistent_volume_claims: most claims (default 10).
    requests_storage: total storage of all claims (default "100Gi").
    """

    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int = 50
    persistent_volume_claims: int = 10
    requests_storage: str = "100Gi"

    def __post_init__(self) -> None:
        for prop in ("requests_cpu", "requests_memory", "limits_cpu", "limits_memory", "requests_storage"):
            quantity(f"quota.{prop}", getattr(self, prop))
        at_least("quota.pods", self.pods, 1)
        at_least("quota.persistent_volume_claims", self.persistent_volume_claims, 0)

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": self.requests_cpu,
            "requests.memory": self.requests_memory,
            "limits.cpu": self.limits_cpu,
            "limits.memory": self.limits_memory,
            "pods": str(self.pods),
            "persistentvolumeclaims": str(self.persistent_volume_claims),
            "requests.storage": self.requests_storage,
        }


@dataclass(frozen=True, kw_only=True)
class EnvironmentProps:
    """Everything that belongs to an environment rather than to one workload.

    stage: DEVELOPMENT or PRODUCTION (required).
    namespace: the namespace everything lands in (required, a DNS-1123 label).
    quota: the namespace's ResourceQuota (required: it is what keeps dev from starving prod).
    profile: the kind of cluster (default CloudProfile.generic()).
    developer_group: the identity-provider group that gets a Role here: `edit` in development,
    read-only without exec or Secrets in production (default "langflow-developers"; None: no binding).
    external_apis: where pods may open connections outside the cluster: LLM providers and the
    vector database (default: every public address on 443, private ranges excepted).
    monitoring_namespace: namespace of the Prometheus that scrapes metrics ports (default None: no scraping allowed).
    container_defaults: the LimitRange defaults for a container that states no resources
    (default 100m/128Mi requested, 500m/256Mi limit).
    pod_security: Pod Security Admission level enforced (default: `restricted` in production,
    `baseline` in development; both always warn and audit at `restricted`).
    """

    stage: Stage
    namespace: str
    quota: Quota
    profile: CloudProfile = field(default_factory=CloudProfile.generic)
    developer_group: str | None = "langflow-developers"
    external_apis: Sequence[NetworkPeer] = (NetworkPeer.public_internet(),)
    monitoring_namespace: str | None = None
    container_defaults: Resources = Resources(cpu="100m", memory="128Mi", cpu_limit="500m", memory_limit="256Mi")
    pod_security: str | None = None

    def __post_init__(self) -> None:
        dns_label("namespace", self.namespace)
        if self.monitoring_namespace is not None:
            dns_label("monitoring_namespace", self.monitoring_namespace)
        if self.pod_security not in (None, "baseline", "restricted"):
            raise ConfigError("pod_security", f"{self.pod_security!r} is not a Pod Security level this library allows",
                              "use 'restricted' or 'baseline' (every pod here passes 'restricted')")
        if self.stage is Stage.PRODUCTION and self.pod_security == "baseline":
            raise ConfigError("pod_security", "'baseline' in a production environment",
                              "production enforces 'restricted'; leave pod_security unset")

    @property
    def enforced_pod_security(self) -> str:
        if self.pod_security:
            return self.pod_security
        return "restricted" if self.stage is Stage.PRODUCTION else "baseline"


class Environment(cdk8s.Chart):
    """One environment of the reference architecture: a namespace with Pod Security Admission,
    default-deny networking, a developer Role, a quota and container defaults.

    Workloads (LangflowIDE, LangflowRuntime) are created inside it and record every object they
    emit here, so the environment can summarise itself and GitOps can whitelist exactly its kinds.
    The construct id is the environment's name and its dist/ folder.
    """

    def __init__(self, scope: Construct, id: str, props: EnvironmentProps) -> None:
        dns_label("environment id", id)
        super().__init__(scope, id, disable_resource_name_hashes=True)
        self.name = id
        self.props = props
        self.objects: list[dict[str, Any]] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.flows: list[Flow] = []
        self._emit_namespace()
        self._emit_network_baseline()
        self._emit_developer_access()
        self._emit_limits()

    @property
    def namespace_name(self) -> str:
        """The environment's namespace. (Not `namespace`: overriding cdk8s's Chart.namespace would make
        cdk8s stamp it onto cluster-scoped objects too, through a jsii callback per object.)"""
        return self.props.namespace

    @property
    def stage(self) -> Stage:
        return self.props.stage

    @property
    def profile(self) -> CloudProfile:
        return self.props.profile

    def register(self, manifest: dict[str, Any]) -> None:
        """Called by `emit` for every object of this environment."""
        self.objects.append(manifest)

    def warn(self, message: str) -> None:
        """A finding worth a line in the synthesis summary, not worth failing for."""
        self.warnings.append(message)

    def note(self, message: str) -> None:
        """A trade-off the environment makes on purpose, stated in the synthesis summary."""
        self.notes.append(message)

    @staticmethod
    def of(scope: Construct) -> Environment:
        """The environment a workload is created in; workloads must be created directly inside one."""
        if isinstance(scope, Environment):
            return scope
        raise ConfigError("scope", f"{type(scope).__name__} is not an Environment",
                          "create LangflowIDE and LangflowRuntime with an Environment as their scope")

    def labels(self, component: str) -> dict[str, str]:
        return standard_labels(instance=f"langflow-{self.name}", component=component)

    def _emit_namespace(self) -> None:
        level = self.props.enforced_pod_security
        labels = {
            **self.labels("namespace"),
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
        }
        emit(self, "namespace", api_version="v1", kind="Namespace", name=self.namespace_name, labels=labels, body={})

    def _emit_network_baseline(self) -> None:
        labels = self.labels("network-policy")
        emit(self, "default-deny", api_version="networking.k8s.io/v1", kind="NetworkPolicy", name="default-deny",
             labels=labels, body={"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
               "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
        emit(self, "allow-dns", api_version="networking.k8s.io/v1", kind="NetworkPolicy", name="allow-dns",
             labels=labels, body={"spec": {
                 "podSelector": {},
                 "policyTypes": ["Egress"],
                 "egress": [{"to": [dns], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}],
             }})

    def _emit_developer_access(self) -> None:
        group = self.props.developer_group
        if group is None:
            return
        labels = self.labels("rbac")
        subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]
        if self.stage is Stage.DEVELOPMENT:
            role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
            binding = "langflow-developers-edit"
        else:
            emit(self, "readonly-role", api_version="rbac.authorization.k8s.io/v1", kind="Role",
                 name="langflow-readonly", labels=labels, body={"rules": READ_ONLY_RULES})
            role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "langflow-readonly"}
            binding = "langflow-developers-readonly"
        emit(self, "developer-binding", api_version="rbac.authorization.k8s.io/v1", kind="RoleBinding",
             name=binding, labels=labels, body={"roleRef": role_ref, "subjects": subjects})

    def _emit_limits(self) -> None:
        labels = self.labels("quota")
        emit(self, "quota", api_version="v1", kind="ResourceQuota", name="langflow-quota", labels=labels,
             body={"spec": {"hard": self.props.quota.hard()}})
        defaults = self.props.container_defaults.to_manifest()
        emit(self, "limit-range", api_version="v1", kind="LimitRange", name="langflow-limits", labels=labels,
             body={"spec": {"limits": [{"type": "Container", "defaultRequest": defaults["requests"],
                                        "default": defaults["limits"]}]}})

    def quota_warnings(self) -> list[str]:
        """Where the workloads at maximum scale (see quota_usage) need more than the quota allows, and by how much."""
        hard = self.props.quota.hard()
        warnings = []
        for key, needed in quota_usage(self.objects).items():
            allowed = Decimal(hard[key]) if key == "pods" else quantity(f"quota.{key}", hard[key])
            if needed > allowed:
                warnings.append(f"quota {key} is {hard[key]} but the workloads need {_human(key, needed)} at maximum "
                                f"scale ({_human(key, needed - allowed)} short)")
        return warnings


def _human(key: str, value: Decimal) -> str:
    if key.endswith("memory"):
        return f"{value / 2**30:.4g}Gi"
    if key.endswith("cpu"):
        return f"{value:.4g}"
    return str(int(value))


READ_ONLY_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "pods/log", "services", "endpoints", "configmaps", "events",
                                      "persistentvolumeclaims", "serviceaccounts"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "networkpolicies"], "verbs": ["get", "list", "watch"]},
]
"""Production's developer Role: read what runs, never Secrets, never exec or port-forward."""

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def quota_usage(objects: Sequence[dict[str, Any]]) -> dict[str, Decimal]:
    """Sums container requests and limits of every workload at its maximum scale (see Environment.quota_usage)."""
    max_replicas = {(o["spec"]["scaleTargetRef"]["kind"], o["spec"]["scaleTargetRef"]["name"]): o["spec"]["maxReplicas"]
                    for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    totals = {"requests.cpu": Decimal(0), "requests.memory": Decimal(0), "limits.cpu": Decimal(0),
              "limits.memory": Decimal(0), "pods": Decimal(0)}
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        spec = obj["spec"]
        replicas = max_replicas.get((obj["kind"], obj["metadata"]["name"]), spec.get("replicas", 1))
        surge = 1 if obj["kind"] == "Deployment" and spec.get("strategy", {}).get("type") != "Recreate" else 0
        pods = replicas + surge
        pod = spec["template"]["spec"]
        # Init containers run before the app containers, so a pod needs the larger of the two.
        for resource in ("requests", "limits"):
            for unit in ("cpu", "memory"):
                main = sum((quantity("container", c["resources"][resource][unit]) for c in pod["containers"]), Decimal(0))
                init = max((quantity("init container", c["resources"][resource][unit]) for c in pod.get("initContainers", [])),
                           default=Decimal(0))
                totals[f"{resource}.{unit}"] += max(main, init) * pods
        totals["pods"] += pods
    return totals
