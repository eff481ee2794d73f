"""Prometheus Operator monitors: each PodMonitor or ServiceMonitor selects exactly the pods that serve
metrics, on the port the NetworkPolicy opens to the monitoring namespace; both sides are derived from
the written objects independently. And Langflow's OpenTelemetry settings per workload."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from support import all_of, env_of, environment, main_container
from test_variant_snapshots import FLOWS, variants

from langflow_cdk8s import (
    ConfigError,
    Flow,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Metrics,
    Monitor,
    OpenTelemetry,
    Stage,
)


def objects(folder: str) -> list[dict[str, Any]]:
    """A variant's folder, or `main:<folder>` of main.py's app."""
    if folder.startswith("main:"):
        from conftest import reference
        return reference().objects(folder.removeprefix("main:"))
    return [yaml.safe_load(text) for path, text in sorted(variants().items()) if path.startswith(f"{folder}/")]


def monitored() -> list[tuple[str, str]]:
    """(folder, monitor kind) of the variants, and of main.py's folders that have monitors."""
    from conftest import reference
    ref = reference()
    found = {(f"main:{path.split('/')[0]}", path.split("/")[1].split(".")[0]) for path in ref.files
             if path.split("/")[1].split(".")[0] in ("PodMonitor", "ServiceMonitor")}
    return [("runtime-monitored", "PodMonitor"), ("ide-monitored", "ServiceMonitor"), *sorted(found)]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_templates(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] in ("Deployment", "StatefulSet")]


def metrics_port(workload: dict[str, Any]) -> int | None:
    """The number of the container port named `metrics`: the pods that serve metrics declare one."""
    ports = [p for c in workload["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])]
    return next((p["containerPort"] for p in ports if p.get("name") == "metrics"), None)


def admitted_from(objs: list[dict[str, Any]], workload: dict[str, Any], namespace: str) -> set[int]:
    """TCP ports the NetworkPolicies selecting `workload`'s pods admit from pods of `namespace`."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    admitted = set()
    for policy in (o for o in objs if o["kind"] == "NetworkPolicy"):
        if not matches(policy["spec"]["podSelector"].get("matchLabels", {}), labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            if any(peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": namespace}
                   for peer in rule.get("from", [])):
                admitted |= {p["port"] for p in rule.get("ports", [])}
    return admitted


@pytest.mark.parametrize("folder, kind", monitored())
def test_each_monitor_selects_exactly_the_metric_pods_on_a_port_the_policy_admits(folder: str, kind: str) -> None:
    objs = objects(folder)
    monitors = [o for o in objs if o["kind"] == kind]
    serving = {o["metadata"]["name"] for o in pod_templates(objs) if metrics_port(o)}
    assert monitors and serving
    services = [o for o in objs if o["kind"] == "Service"]
    selected: list[str] = []
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        if kind == "PodMonitor":
            [endpoint] = monitor["spec"]["podMetricsEndpoints"]
            pods = [w for w in pod_templates(objs) if matches(selector, w["spec"]["template"]["metadata"]["labels"])]
            numbers = {metrics_port(w) for w in pods} if endpoint["port"] == "metrics" else set()
        else:
            [endpoint] = monitor["spec"]["endpoints"]
            chosen = [s for s in services if matches(selector, s["metadata"]["labels"])
                      and any(p.get("name") == endpoint["port"] for p in s["spec"]["ports"])]
            assert len(chosen) == 1, "one selected Service carries the metrics port (not its headless twin too)"
            targets = {p["targetPort"] for s in chosen for p in s["spec"]["ports"] if p.get("name") == endpoint["port"]}
            pods = [w for w in pod_templates(objs) for s in chosen if matches(s["spec"]["selector"],
                                                                           w["spec"]["template"]["metadata"]["labels"])]
            numbers = targets
        assert endpoint["path"] == "/metrics"
        for pod in pods:
            assert numbers == {metrics_port(pod)}, "the monitor scrapes the pods' own metrics port"
            assert metrics_port(pod) in admitted_from(objs, pod, "monitoring"), "the NetworkPolicy admits Prometheus"
        selected += [w["metadata"]["name"] for w in pods]
    assert sorted(selected) == sorted(serving), "the monitors together select exactly the pods serving metrics"
    assert not any("prometheus.io/scrape" in w["spec"]["template"]["metadata"].get("annotations", {})
                   for w in pod_templates(objs))


def runtime_env(metrics: Metrics, monitoring: str | None = "monitoring"):
    env = environment(monitoring_namespace=monitoring)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)[:1], metrics=metrics))
    return env


@pytest.mark.parametrize("monitor, annotated, kinds", [
    (Monitor.ANNOTATIONS, True, set()),
    (Monitor.NONE, False, set()),
    (Monitor.POD_MONITOR, False, {"PodMonitor"}),
    (Monitor.SERVICE_MONITOR, False, {"ServiceMonitor"}),
])
def test_each_monitor_choice(monitor: Monitor, annotated: bool, kinds: set[str]) -> None:
    env = runtime_env(Metrics(monitor=monitor))
    [deployment] = all_of(env, "Deployment")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert ("prometheus.io/scrape" in annotations) is annotated
    assert {o["kind"] for o in env.objects if o["kind"].endswith("Monitor")} == kinds
    [policy] = [p for p in all_of(env, "NetworkPolicy") if p["metadata"]["name"] == deployment["metadata"]["name"]]
    assert 9090 in admitted_from(env.objects, deployment, "monitoring"), "every choice leaves the port open to Prometheus"
    del policy


def test_no_monitor_without_a_monitoring_namespace_nor_without_metrics() -> None:
    assert not [o for o in runtime_env(Metrics(monitor=Monitor.POD_MONITOR), None).objects if o["kind"] == "PodMonitor"]
    assert not [o for o in runtime_env(Metrics(enabled=False, monitor=Monitor.POD_MONITOR)).objects
                if o["kind"] == "PodMonitor"]


def test_opentelemetry_reports_each_workload_as_its_own_service_and_may_reach_the_collector() -> None:
    telemetry = OpenTelemetry(endpoint="http://otel.observability:4317", protocol="grpc",
                              resource_attributes={"deployment.environment": "prod"})
    env = runtime_env(Metrics(opentelemetry=telemetry))
    [deployment] = all_of(env, "Deployment")
    variables = env_of(main_container(deployment))
    assert variables["OTEL_SERVICE_NAME"] == deployment["metadata"]["name"]
    assert variables["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel.observability:4317"
    assert variables["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc"
    assert variables["OTEL_RESOURCE_ATTRIBUTES"] == "deployment.environment=prod"
    [policy] = [p for p in all_of(env, "NetworkPolicy") if p["metadata"]["name"] == deployment["metadata"]["name"]]
    assert any(p["port"] == 4317 for rule in policy["spec"]["egress"] for p in rule["ports"])

    ide = environment(Stage.DEVELOPMENT)
    LangflowIDE(ide, "ide", LangflowIDEProps(metrics=Metrics(opentelemetry=OpenTelemetry(endpoint="https://otel.example.com"))))
    [backend] = all_of(ide, "StatefulSet")
    assert env_of(main_container(backend))["OTEL_SERVICE_NAME"] == "langflow-ide-backend"
    assert not any("OTEL_SERVICE_NAME" in env_of(main_container(d)) for d in all_of(ide, "Deployment"))


@pytest.mark.parametrize("bad, where", [
    (lambda: OpenTelemetry(endpoint="otel:4318"), "metrics.opentelemetry.endpoint"),
    (lambda: OpenTelemetry(endpoint="http://otel:4318", protocol="http/json"), "metrics.opentelemetry.protocol"),
    (lambda: OpenTelemetry(endpoint="http://otel:4318", resource_attributes={"team": "a,b"}),
     "metrics.opentelemetry.resource_attributes['team']"),
    (lambda: Metrics(monitor="PodMonitor"), "metrics.monitor"),
])
def test_bad_telemetry_settings_are_refused(bad: Any, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        bad()
    assert str(caught.value).startswith(f"{where}: ") and len(str(caught.value).splitlines()) == 2


@pytest.mark.parametrize("folder, kind, target", [
    ("runtime-monitored", "PodMonitor", "wl_langflow_runtime_writers"),
    ("ide-monitored", "ServiceMonitor", "svc_langflow_ide_backend"),
])
def test_the_diagram_draws_each_monitor_and_what_it_scrapes(folder: str, kind: str, target: str) -> None:
    from langflow_cdk8s.tooling.diagram import diagram

    drawn = diagram(objects(folder))
    [monitor] = [o for o in objects(folder) if o["kind"] == kind]
    node = f"mon_{kind}_{monitor['metadata']['name']}".replace("-", "_")
    assert f'{node}[["{kind} {monitor["metadata"]["name"]}<br/>port metrics /metrics"]]' in drawn
    assert f'{node} -->|"scrapes"| {target}' in drawn
