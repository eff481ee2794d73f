"""An environment: one namespace, one Chart, one dist/<name>/ folder, and what isolates it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import cdk8s
import cdk8s_plus_27 as kplus
import jsii
from cdk8s_plus_27 import k8s

import constructs
from constructs import Construct

from ..errors import ConfigError
from ..mechanics.canonical import quantity_value
from ..mechanics.completion import CompletingChart
from ..mechanics.hardening import Hardening
from ..mechanics.labels import environment_labels, standard_labels
from ..mechanics.networking import pods
from ..mechanics.secret_refs import SecretReferences
from ..mechanics.tree import api_objects, api_version_kind
from ..mechanics.values import SharedConstructs, patch_remove
from ..mechanics.waves import SYNC_WAVE, SYNC_WAVES, metadata, object_meta, sync_wave
from ..mechanics.workload import WORKLOAD_KINDS
from ..props.network import NetworkPeer
from ..props.profiles import CloudProfile
from ..props.resources import Resources
from ..props.secrets import SecretSource, SecretSourceChoice
from ..props.validation import at_least, dns_label, member, quantity

if TYPE_CHECKING:
    from ..props.flow import Flow


class Stage(enum.Enum):
    """What an environment is for; it sets the secure defaults that differ between dev and prod."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class PodSecurityLevel(enum.Enum):
    """The Pod Security Admission levels an environment may enforce (every pod here passes RESTRICTED)."""

    BASELINE = "baseline"
    RESTRICTED = "restricted"


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
    pod_security: Pod Security Admission level enforced: PodSecurityLevel.RESTRICTED or .BASELINE (default
    None: RESTRICTED in production, BASELINE in development; both always warn and audit at restricted).
    secrets: where the Secrets its objects read come from: SecretSource.existing() (default: created
    by hand from the page's checklist) or SecretSource.external(store=..., remote=...) (an
    ExternalSecret per Secret, from External Secrets Operator).
    """

    stage: Stage
    namespace: str
    quota: Quota
    profile: CloudProfile = field(default_factory=CloudProfile.generic)
    developer_group: str | None = "langflow-developers"
    external_apis: Sequence[NetworkPeer] = (NetworkPeer.public_internet(),)
    monitoring_namespace: str | None = None
    container_defaults: Resources = Resources(cpu="100m", memory="128Mi", cpu_limit="500m", memory_limit="256Mi")
    pod_security: PodSecurityLevel | None = None
    secrets: SecretSourceChoice = field(default_factory=SecretSource.existing)

    def __post_init__(self) -> None:
        dns_label("namespace", self.namespace)
        if not isinstance(self.secrets, SecretSourceChoice):
            raise ConfigError("secrets", f"{self.secrets!r} is not a Secret source",
                              "use SecretSource.existing() or SecretSource.external(store=..., remote=...)")
        if self.monitoring_namespace is not None:
            dns_label("monitoring_namespace", self.monitoring_namespace)
        if self.pod_security is not None:
            member("pod_security", self.pod_security, PodSecurityLevel)
        if self.stage is Stage.PRODUCTION and self.pod_security is PodSecurityLevel.BASELINE:
            raise ConfigError("pod_security", "PodSecurityLevel.BASELINE in a production environment",
                              "production enforces 'restricted'; leave pod_security unset")

    @property
    def enforced_pod_security(self) -> PodSecurityLevel:
        if self.pod_security is not None:
            return self.pod_security
        return PodSecurityLevel.RESTRICTED if self.stage is Stage.PRODUCTION else PodSecurityLevel.BASELINE


class Environment(CompletingChart):
    """One environment of the reference architecture: a namespace with Pod Security Admission,
    default-deny networking, a developer Role, a quota and container defaults.

    Workloads (LangflowIDE, LangflowRuntime) are created inside it, directly or inside constructs of
    your own; when the app synthesizes (langflow_cdk8s.App, or `to_json()`), the environment hardens
    every pod in it, also those users added through the cdk8s-plus API (see mechanics/hardening.py),
    and `objects` is what cdk8s writes. The construct id is the environment's name and its dist/ folder.

    Its settings, as others read them (the props are not kept): name, namespace_name, stage, profile,
    monitoring_namespace, external_apis, pod_security (the level enforced).
    Its objects: namespace_object (kplus.Namespace), default_deny and allow_dns (kplus.NetworkPolicy),
    developer_role (kplus.Role, production only), developer_binding (kplus.RoleBinding, unless
    developer_group is None), quota (k8s.KubeResourceQuota), limits (k8s.KubeLimitRange);
    secret_references, the registry of every Secret its objects read (with SecretSource.external, its
    `external_secrets` are the ExternalSecrets producing them).
    """

    def __init__(self, scope: Construct, id: str, props: EnvironmentProps) -> None:
        dns_label("environment id", id)
        # Chart-wide namespace and labels: what a user adds through the cdk8s-plus API lands in this
        # namespace and carries the labels every object here has (ours set them explicitly as well).
        super().__init__(scope, id, disable_resource_name_hashes=True, namespace=props.namespace,
                         labels=environment_labels(id))
        self.name = id
        self.namespace_name = props.namespace
        """The environment's namespace (also the Chart's `namespace`, which cdk8s gives every object
        that names none; the Namespace object itself drops it)."""
        self.stage = props.stage
        self.profile = props.profile
        self.monitoring_namespace = props.monitoring_namespace
        self.external_apis = props.external_apis
        self.pod_security = props.enforced_pod_security
        """The Pod Security level enforced (props.pod_security, or the stage's default)."""
        self._quota_limits = props.quota
        self._container_defaults = props.container_defaults
        self._developer_group = props.developer_group
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.flows: list[Flow] = []
        self.ingress_hosts: dict[str, str] = {}
        self.gateways: dict[str, Any] = {}
        # References that are constructs (Secrets, volumes, peers) under one child of their own, so that
        # stamp_sync_waves passes them over in one step: there are several per flow.
        self.shared = SharedConstructs(constructs.Construct(self, "shared"))
        self.secret_references = SecretReferences(self, self.shared, props.secrets, namespace=self.namespace_name,
                                                  labels=self.labels("secrets"))
        self.hardening = Hardening(id, self.pod_security.value)
        self._completed = False
        self.node.add_validation(_Completed(self))
        self.namespace_object = kplus.Namespace(self, "namespace", metadata=self._metadata(
            "Namespace", self.namespace_name, "namespace", self._pod_security_labels()))
        cdk8s.ApiObject.of(self.namespace_object).add_json_patch(patch_remove("/metadata/namespace"))  # cluster-scoped
        self._network_baseline()
        self._developer_access()
        self._limits()
        self._own = list(self.node.children)
        """The environment's own objects, compared by identity (what it created in Python keeps its object)."""

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Every object of this environment as cdk8s synthesizes it now (hardened, patches applied)."""
        return list(self.to_json())

    def complete(self) -> None:
        """Gives what users added the library's sync waves, then hardens every pod (mechanics/hardening.py)."""
        self.stamp_sync_waves()
        self.hardening.apply(self)
        self._completed = True

    def stamp_sync_waves(self) -> None:
        """Objects a user creates directly in the environment (a cdk8s-plus Deployment of their own)
        get the Argo CD sync wave of their kind, as the library's objects do (a kind without one keeps
        Argo CD's default, 0). Only their subtrees are visited: the library's already carry theirs."""
        for child in self.node.children:
            if type(child).__module__.startswith("langflow_cdk8s.") or any(child is own for own in self._own):
                continue
            for api_object in api_objects(child):
                kind = api_version_kind(api_object)[1]
                if kind in SYNC_WAVES:
                    api_object.metadata.add_annotation(SYNC_WAVE, sync_wave(kind))

    def warn(self, message: str) -> None:
        """A finding worth a line in the synthesis summary, not worth failing for."""
        self.warnings.append(message)

    def note(self, message: str) -> None:
        """A trade-off the environment makes on purpose, stated in the synthesis summary."""
        self.notes.append(message)

    @staticmethod
    def of(scope: constructs.IConstruct) -> Environment:
        """The environment a workload is created in: `scope` or the nearest Environment above it."""
        current: constructs.IConstruct | None = scope
        while current is not None:
            if isinstance(current, Environment):
                return current
            current = current.node.scope
        raise ConfigError("scope", f"{type(scope).__name__} {scope.node.path!r} is in no Environment",
                          "create LangflowIDE and LangflowRuntime inside an Environment (directly or in a construct of yours)")

    def labels(self, component: str) -> dict[str, str]:  # type: ignore[override]  # shadows Chart.labels (a property) on purpose: the library's label set
        return standard_labels(instance=f"langflow-{self.name}", component=component)

    def _metadata(self, kind: str, name: str, component: str, extra: dict[str, str] | None = None) -> cdk8s.ApiObjectMetadata:
        return metadata(kind, name, namespace=self.namespace_name, labels={**self.labels(component), **(extra or {})})

    def _object_meta(self, kind: str, name: str, component: str) -> k8s.ObjectMeta:
        return object_meta(kind, name, namespace=self.namespace_name, labels=self.labels(component))

    def _pod_security_labels(self) -> dict[str, str]:
        level = self.pod_security.value
        return {
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
        }

    def _network_baseline(self) -> None:
        deny = kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY)
        self.default_deny = kplus.NetworkPolicy(self, "default-deny", selector=pods(self.shared, None),
                                                metadata=self._metadata("NetworkPolicy", "default-deny", "network-policy"),
                                                ingress=deny, egress=deny)
        dns = pods(self.shared, {"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
        self.allow_dns = kplus.NetworkPolicy(self, "allow-dns", selector=pods(self.shared, None),
                                             metadata=self._metadata("NetworkPolicy", "allow-dns", "network-policy"),
                                             egress=kplus.NetworkPolicyTraffic(rules=[kplus.NetworkPolicyRule(
                                                 peer=dns, ports=[kplus.NetworkPolicyPort.udp(53),
                                                                  kplus.NetworkPolicyPort.tcp(53)])]))

    def _developer_access(self) -> None:
        self.developer_role: kplus.Role | None = None
        self.developer_binding: kplus.RoleBinding | None = None
        group = self._developer_group
        if group is None:
            return
        role: kplus.IRole
        if self.stage is Stage.DEVELOPMENT:
            role = kplus.ClusterRole.from_cluster_role_name(self, "edit", "edit")
            binding = "langflow-developers-edit"
        else:
            role = self.developer_role = kplus.Role(self, "readonly-role",
                                                    metadata=self._metadata("Role", "langflow-readonly", "rbac"))
            for groups, resources, verbs in READ_ONLY_RULES:
                role.allow(list(verbs), *(kplus.ApiResource.custom(api_group=g, resource_type=r)  # type: ignore[arg-type]  # jsii declares it @jsii.implements(IApiResource), unseen by mypy
                                         for g in groups for r in resources))
            binding = "langflow-developers-readonly"
        self.developer_binding = kplus.RoleBinding(self, "developer-binding", role=role,
                                                   metadata=self._metadata("RoleBinding", binding, "rbac"))
        self.developer_binding.add_subjects(kplus.Group.from_name(self, "developers", group))

    def _limits(self) -> None:
        hard = {key: quantity_value(value) for key, value in self._quota_limits.hard().items()}
        self.quota = k8s.KubeResourceQuota(self, "quota", metadata=self._object_meta("ResourceQuota", "langflow-quota", "quota"),
                                           spec=k8s.ResourceQuotaSpec(hard=hard))
        defaults = self._container_defaults.to_manifest()

        def quantities(values: dict[str, str]) -> dict[str, k8s.Quantity]:
            return {key: quantity_value(value) for key, value in values.items()}

        self.limits = k8s.KubeLimitRange(self, "limit-range", metadata=self._object_meta("LimitRange", "langflow-limits", "quota"),
                                         spec=k8s.LimitRangeSpec(limits=[k8s.LimitRangeItem(
                                             type="Container", default_request=quantities(defaults["requests"]),
                                             default=quantities(defaults["limits"]))]))

    def quota_warnings(self, objects: Sequence[dict[str, Any]] | None = None) -> list[str]:
        """Where the workloads at maximum scale (see quota_usage) need more than the quota allows, and by how
        much; `objects` are this environment's synthesized objects (default: synthesized now)."""
        hard = self._quota_limits.hard()
        warnings = []
        usage = quota_usage(self.objects if objects is None else objects, self._container_defaults.to_manifest())
        for key, needed in usage.items():
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


@jsii.implements(constructs.IValidation)
class _Completed:
    """Reports an environment synthesized without being completed, by a cdk8s.App's own synth():
    its users' additions would be written unhardened."""

    def __init__(self, env: Environment) -> None:
        self._env = env

    def validate(self) -> list[str]:
        if self._env._completed:
            return []
        return [f"environment {self._env.name!r} was synthesized by a plain cdk8s.App, which does not harden what users "
                "add; create the app with langflow_cdk8s.App (tooling.synth.new_app does)"]


READ_ONLY_RULES: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    (("",), ("pods", "pods/log", "services", "endpoints", "configmaps", "events", "persistentvolumeclaims",
             "serviceaccounts"), ("get", "list", "watch")),
    (("apps",), ("deployments", "statefulsets", "replicasets"), ("get", "list", "watch")),
    (("autoscaling",), ("horizontalpodautoscalers",), ("get", "list", "watch")),
    (("policy",), ("poddisruptionbudgets",), ("get", "list", "watch")),
    (("networking.k8s.io",), ("ingresses", "networkpolicies"), ("get", "list", "watch")),
]
"""Production's developer Role: read what runs, never Secrets, never exec or port-forward."""



def quota_usage(objects: Sequence[dict[str, Any]], defaults: dict[str, dict[str, str]] | None = None) -> dict[str, Decimal]:
    """Sums container requests and limits of every workload at its maximum scale (see Environment.quota_usage).
    A container that leaves a request or limit unset counts the environment's LimitRange default for
    it (`defaults`; without them, nothing)."""
    fallback = defaults or {"requests": {}, "limits": {}}

    def amount(container: dict[str, Any], resource: str, unit: str) -> Decimal:
        value = container.get("resources", {}).get(resource, {}).get(unit, fallback[resource].get(unit, "0"))
        return quantity("container", value)

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
                main = sum((amount(c, resource, unit) for c in pod["containers"]), Decimal(0))
                init = max((amount(c, resource, unit) for c in pod.get("initContainers", [])), default=Decimal(0))
                totals[f"{resource}.{unit}"] += max(main, init) * pods
        totals["pods"] += pods
    return totals
