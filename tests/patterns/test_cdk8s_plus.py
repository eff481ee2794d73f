"""The constructs compose cdk8s-plus-27, and what users add through its API is hardened at synthesis."""

from __future__ import annotations

from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import example_app
import pytest
from cdk8s_plus_27 import k8s
from shared_apps import every_option_on
from support import QUOTA, find, main_container, pod, unsynthesized_app

import main
from imports.external_secrets.io.external_secrets import ExternalSecret
from imports.gateway_api_gateway.io.k8s.networking.gateway import Gateway
from imports.gateway_api_httproute.io.k8s.networking.gateway import HttpRoute
from imports.gateway_api_referencegrant.io.k8s.networking.gateway import ReferenceGrant
from imports.prometheus_podmonitor.com.coreos.monitoring import PodMonitor
from imports.prometheus_servicemonitor.com.coreos.monitoring import ServiceMonitor
from langflow_cdk8s import (
    ConfigError,
    Environment,
    EnvironmentProps,
    Flow,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Stage,
)

PLUS_KINDS: dict[str, tuple[type, ...]] = {
    "Deployment": (kplus.Deployment,), "StatefulSet": (kplus.StatefulSet,), "Service": (kplus.Service,),
    "Ingress": (kplus.Ingress,), "HorizontalPodAutoscaler": (kplus.HorizontalPodAutoscaler,),
    "NetworkPolicy": (kplus.NetworkPolicy,), "ConfigMap": (kplus.ConfigMap,), "ServiceAccount": (kplus.ServiceAccount,),
    "Namespace": (kplus.Namespace,), "Role": (kplus.Role,), "RoleBinding": (kplus.RoleBinding,),
}
"""Kind -> the cdk8s-plus construct every object of that kind must come from."""

BINDINGS = {"PodDisruptionBudget": k8s.KubePodDisruptionBudget, "ResourceQuota": k8s.KubeResourceQuota,
            "LimitRange": k8s.KubeLimitRange, "ExternalSecret": ExternalSecret, "PodMonitor": PodMonitor,
            "ServiceMonitor": ServiceMonitor, "HTTPRoute": HttpRoute, "Gateway": Gateway, "ReferenceGrant": ReferenceGrant}
"""Kinds cdk8s-plus lacks -> their typed binding (bundled k8s, or imported from the CRDs in imports/crds/)."""


def producers(env: Environment) -> dict[tuple[str, str], Any]:
    """(kind, name) of every synthesized object -> the construct that made it (the ApiObject's parent)."""
    made = {}
    for child in env.node.find_all():
        if isinstance(child, cdk8s.ApiObject):
            made[(child.kind, child.name)] = child.node.scope
    return made


@pytest.mark.parametrize("variant", ["reference", "every-option"])
def test_every_object_comes_from_its_cdk8s_plus_construct(variant: str) -> None:
    app = unsynthesized_app()
    environments = main.build(app) if variant == "reference" else every_option_on(app)
    seen = set()
    for env in environments:
        for (kind, name), scope in producers(env).items():
            seen.add(kind)
            if kind in PLUS_KINDS:
                assert isinstance(scope, PLUS_KINDS[kind]), f"{env.name}: {kind} {name} comes from {type(scope).__name__}"
            else:
                bindings = BINDINGS
                assert kind in bindings, f"{env.name}: {kind} {name} is neither cdk8s-plus nor a bundled or imported binding"
                made = next(c for c in env.node.find_all() if isinstance(c, cdk8s.ApiObject) and c.name == name
                            and c.kind == kind)
                assert isinstance(made, bindings[kind]), f"{kind} {name} is a {type(made).__name__}"
    if variant == "every-option":
        assert set(PLUS_KINDS) | {kind for kind, binding in BINDINGS.items() if binding.__module__.startswith("cdk8s_plus_27")} <= seen


def runtime_env() -> tuple[Environment, LangflowRuntime]:
    env = Environment(unsynthesized_app(), "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="ext", quota=QUOTA))
    runtime = LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(example_app.FLOWS)))
    return env, runtime


def test_the_objects_are_public_by_unit_name() -> None:
    _, runtime = runtime_env()
    unit = runtime.workloads["support-triage"]
    assert isinstance(unit.workload, kplus.Deployment)
    assert isinstance(unit.service, kplus.Service)
    assert isinstance(unit.autoscaler, kplus.HorizontalPodAutoscaler)
    assert isinstance(unit.container, kplus.Container) and unit.container.name == "langflow"
    assert isinstance(runtime.flow_config_maps["support-triage"], kplus.ConfigMap)
    ide = LangflowIDE(Environment(unsynthesized_app(), "dev", EnvironmentProps(
        stage=Stage.DEVELOPMENT, namespace="ext-dev", quota=QUOTA)), "ide", LangflowIDEProps())
    assert isinstance(ide.backend.workload, kplus.StatefulSet)
    assert ide.frontend is None  # the backend serves the UI


def test_user_extensions_through_the_cdk8s_plus_api_are_hardened_and_admissible() -> None:
    env, runtime = runtime_env()
    unit = runtime.workloads["support-triage"]
    unit.workload.scheduling.attract(kplus.Node.labeled(kplus.NodeLabelQuery.is_("pool", "flows")))
    unit.container.env.add_variable("EXTRA", kplus.EnvValue.from_value("1"))
    cache = kplus.Volume.from_empty_dir(env, "user-cache", "user-cache")
    unit.container.mount("/var/cache/user", cache)
    unit.workload.add_init_container(name="wait", image="busybox:1.36", command=["true"])
    # A sidecar that asks for everything restricted forbids: the environment overrides it.
    unit.workload.add_container(name="sidecar", image="busybox:1.36", security_context=kplus.ContainerSecurityContextProps(
        privileged=True, allow_privilege_escalation=True, read_only_root_filesystem=False, ensure_non_root=False),
        readiness=kplus.Probe.from_command(["true"]), liveness=kplus.Probe.from_command(["true"]))

    deployment = find(env, "Deployment", "langflow-runtime-support-triage")
    spec = pod(deployment)
    affinity = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity["nodeSelectorTerms"][0]["matchExpressions"][0] == {"key": "pool", "operator": "In", "values": ["flows"]}
    assert {"name": "EXTRA", "value": "1"} in main_container(deployment)["env"]
    assert {"name": "user-cache", "emptyDir": {}} in spec["volumes"]
    assert [c["name"] for c in spec["initContainers"]] == ["wait"]
    assert [c["name"] for c in spec["containers"]] == ["langflow", "sidecar"]
    for container in [*spec["initContainers"], *spec["containers"]]:
        context = container["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        assert (context["privileged"], context["allowPrivilegeEscalation"]) == (False, False), container["name"]
        assert (context["readOnlyRootFilesystem"], context["runAsNonRoot"]) == (True, True), container["name"]
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["enableServiceLinks"] is False
    # The volumes this library mounts are still there: the user's additions did not replace the lists.
    assert {"tmp", "home", "config", "flows", "user-cache"} <= {v["name"] for v in spec["volumes"]}


def test_hardening_runs_again_without_adding_patches() -> None:
    env, _ = runtime_env()
    first = find(env, "Deployment", "langflow-runtime-support-triage")
    assert find(env, "Deployment", "langflow-runtime-support-triage") == first


def test_what_no_patch_can_fix_fails_synthesis_by_name() -> None:
    env, runtime = runtime_env()
    runtime.workloads["support-triage"].workload.add_volume(
        kplus.Volume.from_host_path(env, "host", "host", path="/var/run"))
    with pytest.raises(ConfigError, match="volume .host. is of type hostPath"):
        _ = env.objects


def test_derived_data_sees_what_users_add() -> None:
    env, runtime = runtime_env()
    kplus.Secret(env, "user-secret", string_data={"k": "v"}, metadata=cdk8s.ApiObjectMetadata(name="user-secret"))
    assert ("v1", "Secret") in {(o["apiVersion"], o["kind"]) for o in env.objects}
    big = runtime.workloads["support-triage"]
    big.workload.add_container(name="heavy", image="busybox:1.36", resources=kplus.ContainerResources(
        cpu=kplus.CpuResources(request=kplus.Cpu.units(90), limit=kplus.Cpu.units(90)),
        memory=kplus.MemoryResources(request=cdk8s.Size.gibibytes(1), limit=cdk8s.Size.gibibytes(1))),
        readiness=kplus.Probe.from_command(["true"]), liveness=kplus.Probe.from_command(["true"]))
    assert any("requests.cpu" in w for w in env.quota_warnings())


def test_the_cdk8s_plus_address_label_never_enters_a_selector(ref) -> None:
    """cdk8s-plus labels every pod template with `cdk8s.io/metadata.addr` (its construct path): it must
    stay out of selectors, which are immutable, so that renaming a construct id only rolls the pods."""
    def selectors(obj: dict[str, Any]) -> list[dict[str, str]]:
        spec = obj.get("spec", {})
        found = [spec.get("selector", {}).get("matchLabels", {}) if obj["kind"] != "Service" else spec.get("selector", {}),
                 spec.get("podSelector", {}).get("matchLabels", {})]
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])] if obj["kind"] == "NetworkPolicy" else []:
            found += [peer.get("podSelector", {}).get("matchLabels", {}) for peer in [*rule.get("from", []), *rule.get("to", [])]]
        found += [c.get("labelSelector", {}).get("matchLabels", {})
                  for c in spec.get("template", {}).get("spec", {}).get("topologySpreadConstraints", [])]
        return [s for s in found if s]

    checked = 0
    for obj in ref.objects():
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") != "langflow":
            continue  # a team's own cdk8s-plus workload selects as cdk8s-plus does by default: their choice
        for selector in selectors(obj):
            checked += 1
            assert "cdk8s.io/metadata.addr" not in selector, (obj["kind"], obj["metadata"]["name"], selector)
    assert checked > 20


def test_a_workload_the_user_adds_to_the_environment_is_hardened_too() -> None:
    env, _ = runtime_env()
    job = kplus.Job(env, "user-job", metadata=cdk8s.ApiObjectMetadata(name="user-job"),
                    security_context=kplus.PodSecurityContextProps(ensure_non_root=False))
    job.add_container(name="task", image="busybox:1.36", security_context=kplus.ContainerSecurityContextProps(
        privileged=True, ensure_non_root=False))
    spec = pod(find(env, "Job", "user-job"))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = spec["containers"][0]["securityContext"]
    assert context["privileged"] is False and context["capabilities"] == {"drop": ["ALL"]}
