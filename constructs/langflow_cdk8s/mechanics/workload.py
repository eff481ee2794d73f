"""One workload and everything around it, composed from cdk8s-plus: ServiceAccount, Deployment or
StatefulSet, Service, autoscaler, disruption budget and NetworkPolicy. Used by the IDE and the runtime."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
from cdk8s_plus_27 import k8s

from constructs import Construct

from ..errors import ConfigError
from ..props.network import NetworkPeer
from ..props.pod import PodOptions
from ..props.scaling import Autoscaling
from ..props.secrets import PULL_KEY
from ..props.server import ServiceType
from ..props.validation import member
from .containers import ContainerSpec, container_props, from_dict
from .hardening import RUN_AS_USER, Gaps, checkov_skips
from .labels import selector_labels, standard_labels
from .networking import Traffic, network_policy, pods
from .secret_refs import SecretReferences
from .site import Site
from .values import seconds
from .waves import metadata, object_meta

SERVICE_TYPES = {ServiceType.CLUSTER_IP: kplus.ServiceType.CLUSTER_IP, ServiceType.LOAD_BALANCER: kplus.ServiceType.LOAD_BALANCER}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
"""The controllers the library builds its workloads with (what quota, docs and cost sums read)."""
REVISION_HISTORY = 5
"""ReplicaSets and revisions kept for `kubectl rollout undo` (Kubernetes keeps 10)."""


class Controller(enum.Enum):
    """The kind of controller that runs a workload's pods."""

    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"


@dataclass(frozen=True, kw_only=True)
class ServicePort:
    """A Service port: `name` is also the name of the container port it targets, on the same number."""

    name: str
    port: int


@dataclass(frozen=True, kw_only=True)
class PodSpec:
    """A pod as data: containers, volumes (dicts, as in a PodSpec) and the user's escape hatches."""

    containers: Sequence[ContainerSpec]
    init_containers: Sequence[ContainerSpec] = ()
    volumes: Sequence[Mapping[str, Any]] = ()
    options: PodOptions = PodOptions()
    termination_grace_period_seconds: int = 30


@dataclass(frozen=True, kw_only=True)
class Workload:
    """Everything needed to build one workload. Internal: IDE and runtime constructs fill it in.

    controller: Controller.DEPLOYMENT or Controller.STATEFUL_SET.
    replicas: the fixed count, or the initial count when `autoscaling` is set.
    spread: spread pods across zones and nodes.
    volume_claim_templates: StatefulSet claims.
    service_annotations / service_type: the Service's annotations and type.
    """

    name: str
    instance: str
    component: str
    version: str
    pod: PodSpec
    ports: Sequence[ServicePort]
    traffic: Traffic
    controller: Controller = Controller.DEPLOYMENT
    replicas: int = 1
    autoscaling: Autoscaling | None = None
    spread: bool = False
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    volume_claim_templates: Sequence[dict[str, Any]] = ()
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    service_type: ServiceType = ServiceType.CLUSTER_IP

    def __post_init__(self) -> None:
        member("controller", self.controller, Controller)
        member("service_type", self.service_type, ServiceType)

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(instance=self.instance, component=self.component)

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(instance=self.instance, component=self.component, version=self.version)


def spread_constraints(selector: Mapping[str, str]) -> list[dict[str, Any]]:
    """Spread across zones first, then nodes; `ScheduleAnyway` so a small cluster still schedules."""
    return [
        {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": {"matchLabels": dict(selector)}}
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


class ServiceWorkload(Construct):
    """A workload's cdk8s-plus objects, built from a `Workload` description. Every attribute is the
    cdk8s-plus object itself: extend it with the cdk8s-plus API (`workload.scheduling.attract(...)`,
    `container.env.add_variable(...)`, `workload.add_container(...)`); the environment hardens what
    you add when it synthesizes.

    service_account, workload (Deployment or StatefulSet), container (the main one), service,
    headless_service (StatefulSets), autoscaler and disruption_budget (when they apply), network_policy,
    monitor (a PodMonitor or ServiceMonitor, when Metrics(monitor=...) asks for one).
    """

    def __init__(self, scope: Construct, id: str, site: Site, spec: Workload) -> None:
        super().__init__(scope, id)
        self.name = spec.name
        self.reader = f"{spec.controller.value}/{spec.name}"
        """How the environment's registry of Secret references names this workload as a reader."""
        self.labels, self.selector = spec.labels, spec.selector
        self.monitor: cdk8s.ApiObject | None = None
        """Its PodMonitor or ServiceMonitor, when Metrics(monitor=...) asks for one (mechanics/monitors.py)."""
        labels, selector = spec.labels, spec.selector

        def meta(kind: str, name: str = spec.name, annotations: Mapping[str, str] | None = None) -> Any:
            return metadata(kind, name, namespace=site.namespace_name, labels=labels, annotations=annotations)

        self.service_account = kplus.ServiceAccount(self, "service-account", metadata=meta("ServiceAccount"),
                                                    automount_token=False)
        ports = [kplus.ServicePort(port=p.port, target_port=p.port, name=p.name, protocol=kplus.Protocol.TCP)
                 for p in spec.ports]
        self.headless_service: kplus.Service | None = None
        if spec.controller is Controller.STATEFUL_SET:
            # The governing Service a StatefulSet needs: stable per-pod DNS names (pod-0.<name>-headless).
            self.headless_service = kplus.Service(self, "headless-service", metadata=meta("Service", f"{spec.name}-headless"),
                                                  cluster_ip="None", ports=ports)
        self.workload = self._controller(site, spec, meta)
        if self.headless_service is not None:
            self.headless_service.select(pods(site.shared, selector))
            headless = Gaps(cdk8s.ApiObject.of(self.headless_service))
            headless.spec("publishNotReadyAddresses", True)
            # cdk8s-plus-27's StatefulSet adds its own address label to its governing Service's selector.
            headless.remove("spec", "selector", "cdk8s.io/metadata.addr")
            headless.apply()

        annotations = dict(spec.service_annotations)
        if spec.service_type is ServiceType.LOAD_BALANCER:
            annotations.update(site.profile.load_balancer_annotations)
        self.service = kplus.Service(self, "service", metadata=meta("Service", annotations=annotations),
                                     type=SERVICE_TYPES[spec.service_type], ports=ports,
                                     selector=pods(site.shared, selector))

        self.autoscaler: kplus.HorizontalPodAutoscaler | None = None
        if spec.autoscaling is not None:
            self.autoscaler = kplus.HorizontalPodAutoscaler(
                self, "autoscaler", metadata=meta("HorizontalPodAutoscaler"), target=self.workload,
                min_replicas=spec.autoscaling.min_replicas, max_replicas=spec.autoscaling.max_replicas,
                metrics=_metrics(spec.autoscaling.cpu_utilization, spec.autoscaling.memory_utilization),
                scale_up=_SCALE_UP(), scale_down=_SCALE_DOWN())
        minimum = spec.autoscaling.min_replicas if spec.autoscaling else spec.replicas
        self.disruption_budget: k8s.KubePodDisruptionBudget | None = None
        if minimum >= 2:
            self.disruption_budget = k8s.KubePodDisruptionBudget(
                self, "disruption-budget", spec=k8s.PodDisruptionBudgetSpec(
                    max_unavailable=_ONE(), selector=k8s.LabelSelector(match_labels=selector),
                    unhealthy_pod_eviction_policy="AlwaysAllow"),
                metadata=object_meta("PodDisruptionBudget", spec.name, namespace=site.namespace_name, labels=labels))

        traffic = spec.traffic
        if spec.service_type is ServiceType.LOAD_BALANCER:
            # The load balancer's clients arrive from anywhere its annotations allow (internal or public).
            clients = NetworkPeer.cidr_blocks(["0.0.0.0/0"], [p.port for p in spec.ports], "load balancer clients")
            traffic = Traffic(ingress=[*traffic.ingress, clients], egress=traffic.egress)
        self.network_policy = network_policy(self, "network-policy", site.shared, metadata=meta("NetworkPolicy"),
                                             selector=selector, traffic=traffic)

    @property
    def container(self) -> kplus.Container:
        """The main container (Langflow, nginx or PostgreSQL): the first of the workload's containers."""
        return self.workload.containers[0]

    def _controller(self, site: Site, spec: Workload, meta: Any) -> kplus.Deployment | kplus.StatefulSet:
        pod = spec.pod
        options = pod.options
        shared = site.shared
        volumes: dict[str, kplus.Volume] = {}
        raw_volumes = []
        consumer = self.reader
        for definition in (*pod.volumes, *options.volumes):
            _record_secret_volume(site.secret_references, definition, consumer)
            volume = shared.volume(definition)
            if volume is not None:
                volumes[definition["name"]] = volume
            else:
                raw_volumes.append(dict(definition))
        claims = {c["metadata"]["name"] for c in spec.volume_claim_templates} | {v["name"] for v in raw_volumes}
        raw_mounts: list[tuple[tuple[str, int], dict[str, Any]]] = []
        built: dict[str, list[kplus.ContainerProps]] = {"containers": [], "initContainers": []}

        extra_inits = [from_dict(f"pod_options.init_containers[{c.get('name', '?')!r}]", c) for c in options.init_containers]
        sidecars = [from_dict(f"pod_options.sidecars[{c.get('name', '?')!r}]", c) for c in options.sidecars]
        for kind, containers in (("initContainers", [*pod.init_containers, *extra_inits]),
                                 ("containers", [*pod.containers, *sidecars])):
            for index, container in enumerate(containers):
                props, unexpressed = container_props(container, shared, volumes, site.secret_references, consumer)
                for mount in unexpressed:
                    if mount["name"] not in claims:
                        raise ConfigError(f"{spec.name}: container {container.name!r}",
                                          f"mounts {mount['name']!r}, which is not a volume of the pod",
                                          "add the volume to pod_options.volumes, or fix the mount's name")
                    raw_mounts.append(((kind, index), mount))
                built[kind].append(props)
        # checkov's skips from the pod as built, so the hardening pass at synthesis (which keeps
        # them current) adds nothing unless a user changed the pod.
        skips = checkov_skips({"securityContext": {"runAsUser": RUN_AS_USER}, "containers": [
            {"name": c.name, "image": c.image.reference, "imagePullPolicy": c.image.pull_policy, "env": list(c.env),
             "envFrom": list(c.env_from)}
            for c in (*pod.init_containers, *extra_inits, *pod.containers, *sidecars)]})
        pull_secrets = [site.secret_references.secret(name, {PULL_KEY}, consumer=consumer, use="imagePullSecrets")
                        for name in options.image_pull_secrets]
        common: dict[str, Any] = dict(
            metadata=meta(spec.controller.value, annotations=skips), select=False, service_account=self.service_account,
            automount_service_account_token=False, security_context=_POD_SECURITY(),
            termination_grace_period=seconds(pod.termination_grace_period_seconds),
            containers=built["containers"], init_containers=built["initContainers"] or None,
            volumes=list(volumes.values()) or None,
            pod_metadata=_pod_metadata({**spec.pod_labels, **spec.labels}, spec.pod_annotations),
            docker_registry_auth=pull_secrets[0] if len(pull_secrets) == 1 else None)
        replicas = None if spec.autoscaling else spec.replicas
        controller: kplus.Deployment | kplus.StatefulSet
        if spec.controller is Controller.STATEFUL_SET:
            assert self.headless_service is not None
            controller = kplus.StatefulSet(self, "statefulset", **common, replicas=replicas, service=self.headless_service,
                                           pod_management_policy=kplus.PodManagementPolicy.ORDERED_READY,
                                           strategy=_STATEFUL_ROLLOUT())
        else:
            controller = kplus.Deployment(self, "deployment", **common, replicas=replicas, strategy=_ROLLOUT())
        controller.select(shared.selector(spec.selector))

        gaps = Gaps(cdk8s.ApiObject.of(controller))
        gaps.spec("revisionHistoryLimit", REVISION_HISTORY)
        if spec.controller is Controller.STATEFUL_SET:
            gaps.spec("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
            if spec.volume_claim_templates:
                gaps.spec("volumeClaimTemplates", list(spec.volume_claim_templates))
        _pod_gaps(gaps, spec, raw_volumes, raw_mounts)
        gaps.apply()
        return controller


def _record_secret_volume(secrets: SecretReferences, volume: Mapping[str, Any], consumer: str) -> None:
    """A Secret volume (or projected source) reads its items' keys, or the whole Secret."""
    for source in [volume, *volume.get("projected", {}).get("sources", [])]:
        if "secret" in source:
            name = source["secret"].get("secretName") or source["secret"]["name"]
            keys = {item["key"] for item in source["secret"].get("items", [])}
            secrets.secret(name, keys or None, consumer=consumer, use="volume", variable=volume["name"])


def _pod_gaps(gaps: Gaps, spec: Workload, raw_volumes: Sequence[dict[str, Any]],
              raw_mounts: Sequence[tuple[tuple[str, int], dict[str, Any]]]) -> None:
    """The pod fields cdk8s-plus-27 cannot write, and the user's dict-defined extras."""
    options = spec.pod.options
    for volume in raw_volumes:
        gaps.append("volumes", volume)
    for where, mount in raw_mounts:
        gaps.append("volumeMounts", mount, container=where)
    if spec.spread:
        gaps.pod("topologySpreadConstraints", spread_constraints(spec.selector))
    if options.node_selector:
        gaps.pod("nodeSelector", dict(sorted(options.node_selector.items())))
    if options.tolerations:
        gaps.pod("tolerations", [dict(t) for t in options.tolerations])
    if options.affinity:
        gaps.pod("affinity", dict(options.affinity))
    if len(options.image_pull_secrets) > 1:
        gaps.pod("imagePullSecrets", [{"name": name} for name in options.image_pull_secrets])
    if options.priority_class_name:
        gaps.pod("priorityClassName", options.priority_class_name)


def _pod_metadata(labels: Mapping[str, str], annotations: Mapping[str, str]) -> cdk8s.ApiObjectMetadata:
    return cdk8s.ApiObjectMetadata(labels=dict(labels), annotations=dict(sorted(annotations.items())) or None)


@functools.cache
def _POD_SECURITY() -> kplus.PodSecurityContextProps:
    return kplus.PodSecurityContextProps(ensure_non_root=True, user=RUN_AS_USER, group=RUN_AS_USER, fs_group=RUN_AS_USER,
                                         fs_group_change_policy=kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH)


@functools.cache
def _ROLLOUT() -> kplus.DeploymentStrategy:
    """One extra pod at a time, never one fewer: capacity holds during a rollout."""
    return kplus.DeploymentStrategy.rolling_update(max_surge=kplus.PercentOrAbsolute.absolute(1),
                                                   max_unavailable=kplus.PercentOrAbsolute.absolute(0))


@functools.cache
def _STATEFUL_ROLLOUT() -> kplus.StatefulSetUpdateStrategy:
    return kplus.StatefulSetUpdateStrategy.rolling_update()


@functools.cache
def _ONE() -> k8s.IntOrString:
    return k8s.IntOrString.from_number(1)


@functools.cache
def _metrics(cpu_percent: int, memory_percent: int | None) -> list[kplus.Metric]:
    metrics = [kplus.Metric.resource_cpu(kplus.MetricTarget.average_utilization(cpu_percent))]
    if memory_percent is not None:
        metrics.append(kplus.Metric.resource_memory(kplus.MetricTarget.average_utilization(memory_percent)))
    return metrics


@functools.cache
def _SCALE_UP() -> kplus.ScalingRules:
    """Kubernetes' own default (double, or 4 pods, every 15 s), written out because cdk8s-plus
    otherwise writes its own: flows are bursty and cold starts are expensive."""
    return kplus.ScalingRules(stabilization_window=seconds(0), strategy=kplus.ScalingStrategy.MAX_CHANGE, policies=[
        kplus.ScalingPolicy(replicas=kplus.Replicas.percent(100), duration=seconds(15)),
        kplus.ScalingPolicy(replicas=kplus.Replicas.absolute(4), duration=seconds(15))])


@functools.cache
def _SCALE_DOWN() -> kplus.ScalingRules:
    """Scale down slowly, one pod a minute after five quiet minutes."""
    return kplus.ScalingRules(stabilization_window=seconds(300), strategy=kplus.ScalingStrategy.MAX_CHANGE, policies=[
        kplus.ScalingPolicy(replicas=kplus.Replicas.absolute(1), duration=seconds(60))])
