"""One workload and everything around it: ServiceAccount, controller, Service, autoscaler,
disruption budget and NetworkPolicy. Used by the IDE and the runtime alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from .environment import Environment
from .errors import ConfigError
from .labels import selector_labels, standard_labels
from .manifest import emit
from .network import NetworkPeer, Traffic
from .policy import checkov_skips
from .validation import at_least


@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """A HorizontalPodAutoscaler (autoscaling/v2).

    min_replicas: floor (default 2, so one pod can fail or be evicted without an outage).
    max_replicas: ceiling (default 6).
    cpu_utilization: target average CPU, percent of requests (default 70).
    memory_utilization: optional target average memory, percent of requests (default None).
    """

    min_replicas: int = 2
    max_replicas: int = 6
    cpu_utilization: int = 70
    memory_utilization: int | None = None

    def __post_init__(self) -> None:
        at_least("autoscaling.min_replicas", self.min_replicas, 1)
        at_least("autoscaling.max_replicas", self.max_replicas, 1)
        if self.min_replicas > self.max_replicas:
            raise ConfigError("autoscaling", f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}",
                              "make min_replicas at most max_replicas")
        for prop in ("cpu_utilization", "memory_utilization"):
            value = getattr(self, prop)
            if value is not None and (isinstance(value, bool) or not 1 <= value <= 100):
                raise ConfigError(f"autoscaling.{prop}", f"{value!r} is not a percentage", "use 1 to 100")

    def spec(self, kind: str, name: str) -> dict[str, Any]:
        def target(resource: str, percent: int) -> dict[str, Any]:
            return {"type": "Resource", "resource": {"name": resource,
                                                     "target": {"type": "Utilization", "averageUtilization": percent}}}

        metrics = [target("cpu", self.cpu_utilization)]
        if self.memory_utilization is not None:
            metrics.append(target("memory", self.memory_utilization))
        return {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
            "minReplicas": self.min_replicas,
            "maxReplicas": self.max_replicas,
            "metrics": metrics,
            # Scale up at once, scale down slowly: flows are bursty and cold starts are expensive.
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300,
                                       "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}},
        }


@dataclass(frozen=True, kw_only=True)
class ServicePort:
    """A Service port: `name` is also the name of the container port it targets."""

    name: str
    port: int


SERVICE_TYPES = ("ClusterIP", "LoadBalancer")

REVISION_HISTORY = 5
"""ReplicaSets (and, for the runtime on PostgreSQL, revision databases) kept for rollbacks."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    """Everything needed to emit one workload. Internal: IDE and runtime constructs fill it in.

    controller: "Deployment" or "StatefulSet".
    replicas: the fixed count, or the initial count when `autoscaling` is set.
    spread: spread pods across zones and nodes.
    volume_claim_templates: StatefulSet claims.
    service_annotations / service_type: the Service's annotations and type.
    """

    name: str
    instance: str
    component: str
    version: str
    pod: dict[str, Any]
    ports: Sequence[ServicePort]
    traffic: Traffic
    controller: str = "Deployment"
    replicas: int = 1
    autoscaling: Autoscaling | None = None
    spread: bool = False
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    volume_claim_templates: Sequence[dict[str, Any]] = ()
    service_annotations: Mapping[str, str] = field(default_factory=dict)
    service_type: str = "ClusterIP"

    def __post_init__(self) -> None:
        if self.service_type not in SERVICE_TYPES:
            raise ConfigError("service_type", f"{self.service_type!r} is not a Service type this library emits",
                              f"use one of {', '.join(SERVICE_TYPES)}")

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


def emit_workload(env: Environment, scope: Construct, workload: Workload) -> None:
    """Emits the workload's ServiceAccount, controller, Service, NetworkPolicy and, where they
    apply, its HorizontalPodAutoscaler, PodDisruptionBudget and (StatefulSets) headless Service."""
    name, labels, selector = workload.name, workload.labels, workload.selector
    emit(env, f"{name}-sa", scope=scope, api_version="v1", kind="ServiceAccount", name=name, labels=labels,
         body={"automountServiceAccountToken": False})

    pod = dict(workload.pod)
    if workload.spread:
        pod["topologySpreadConstraints"] = spread_constraints(selector)
    template_metadata: dict[str, Any] = {"labels": {**workload.pod_labels, **labels}}
    if workload.pod_annotations:
        template_metadata["annotations"] = dict(sorted(workload.pod_annotations.items()))
    spec: dict[str, Any] = {}
    if workload.autoscaling is None:
        spec["replicas"] = workload.replicas
    spec["revisionHistoryLimit"] = REVISION_HISTORY
    spec["selector"] = {"matchLabels": selector}
    if workload.controller == "StatefulSet":
        spec["serviceName"] = f"{name}-headless"
        spec["podManagementPolicy"] = "OrderedReady"
        spec["updateStrategy"] = {"type": "RollingUpdate"}
        spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Retain", "whenScaled": "Retain"}
    else:
        spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    spec["template"] = {"metadata": template_metadata, "spec": pod}
    if workload.volume_claim_templates:
        spec["volumeClaimTemplates"] = list(workload.volume_claim_templates)
    emit(env, f"{name}-{workload.controller.lower()}", scope=scope, api_version="apps/v1", kind=workload.controller,
         name=name, labels=labels, annotations=checkov_skips(pod), body={"spec": spec})

    service_spec: dict[str, Any] = {
        "type": workload.service_type,
        "selector": selector,
        "ports": [{"name": p.name, "port": p.port, "targetPort": p.name, "protocol": "TCP"} for p in workload.ports],
    }
    annotations = dict(workload.service_annotations)
    if workload.service_type == "LoadBalancer":
        annotations.update(env.profile.load_balancer_annotations)
    emit(env, f"{name}-service", scope=scope, api_version="v1", kind="Service", name=name, labels=labels,
         annotations=annotations, body={"spec": service_spec})
    if workload.controller == "StatefulSet":
        # The governing Service a StatefulSet needs: stable per-pod DNS names (pod-0.<name>-headless).
        emit(env, f"{name}-headless", scope=scope, api_version="v1", kind="Service", name=f"{name}-headless",
             labels=labels, body={"spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": selector,
                                           "ports": service_spec["ports"]}})

    if workload.autoscaling is not None:
        emit(env, f"{name}-hpa", scope=scope, api_version="autoscaling/v2", kind="HorizontalPodAutoscaler",
             name=name, labels=labels, body={"spec": workload.autoscaling.spec(workload.controller, name)})
    minimum = workload.autoscaling.min_replicas if workload.autoscaling else workload.replicas
    if minimum >= 2:
        emit(env, f"{name}-pdb", scope=scope, api_version="policy/v1", kind="PodDisruptionBudget", name=name,
             labels=labels, body={"spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector},
                                           "unhealthyPodEvictionPolicy": "AlwaysAllow"}})

    traffic = workload.traffic
    if workload.service_type == "LoadBalancer":
        # The load balancer's clients arrive from anywhere its annotations allow (internal or public).
        ports = [p.port for p in workload.ports]
        traffic = Traffic(ingress=[*traffic.ingress, NetworkPeer.cidr_blocks(["0.0.0.0/0"], ports, "load balancer clients")],
                          egress=traffic.egress)
    emit(env, f"{name}-netpol", scope=scope, api_version="networking.k8s.io/v1", kind="NetworkPolicy", name=name,
         labels=labels, body={"spec": traffic.policy_spec(selector)})
