"""Semantic gate: what the schemas cannot see. Selectors that miss their pods, Services without
endpoints, references to ConfigMaps, Secrets and claims that do not exist, autoscalers and
disruption budgets aimed at nothing, names Kubernetes refuses, containers without requests, and
images that are not pinned. Each is checked over dist/ and shown to fail on a broken copy.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from gates import Manifest, load_tree, parse_quantity, selector_matches, semantic_errors, write_tree
from test_variant_snapshots import variant_tree

DIST = ROOT / "dist"

Objects = dict[str, dict[str, Any]]
"""A tree being broken: path -> object."""


@pytest.fixture(scope="module")
def dist() -> list[Manifest]:
    return load_tree(DIST)


def test_dist_passes_every_semantic_check(dist: list[Manifest]) -> None:
    errors = semantic_errors(dist)
    assert not errors, "\n".join(errors)


def test_variants_pass_every_semantic_check() -> None:
    """The options the reference app does not use (tests/test_variant_snapshots.py), the split frontend among them."""
    variants = load_tree(variant_tree())
    assert any(m.path.startswith("ide-nginx/") for m in variants)
    errors = semantic_errors(variants)
    assert not errors, "\n".join(errors)


def test_the_example_has_what_the_checks_look_at(sample: list[Manifest]) -> None:
    """Each check below would pass vacuously on a tree without its kind of object."""
    kinds = {m.kind for m in sample}
    assert {"Deployment", "StatefulSet", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap",
            "HTTPRoute", "ServiceAccount"} <= kinds
    projected = [s for m in sample if m.kind == "Deployment" for v in m.obj["spec"]["template"]["spec"].get("volumes", [])
                 for s in v.get("projected", {}).get("sources", []) if "configMap" in s]
    assert projected, "no ConfigMap in a projected volume: the reference check would not see one"


# ---- helpers to break a copy of dist/ ------------------------------------------------------


def _path(objects: Objects, kind: str, env: str = "prod", name_contains: str = "") -> str:
    return next(p for p, o in sorted(objects.items())
                if p.startswith(f"{env}/") and o["kind"] == kind and name_contains in o["metadata"]["name"])


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def _broken_errors(dist: list[Manifest], tmp_path: Path, breakage: Callable[[Objects], str],
                   **gate: Any) -> tuple[str, list[str]]:
    """Breaks a copy of dist/, writes it to files, runs the gate on them; returns the broken path."""
    objects = {m.path: copy.deepcopy(m.obj) for m in dist}
    path = breakage(objects)
    manifests = load_tree(write_tree(tmp_path, [Manifest(p, o) for p, o in objects.items()]))
    return path, semantic_errors(manifests, **gate)


def _selector_mismatch(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    objects[path]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] = "api"
    return path


def _service_selects_nothing(objects: Objects) -> str:
    path = _path(objects, "Service")
    objects[path]["spec"]["selector"]["app.kubernetes.io/instance"] = "langflow-runtime-gone"
    return path


def _service_without_selector(objects: Objects) -> str:
    path = _path(objects, "Service")
    del objects[path]["spec"]["selector"]
    return path


def _service_targets_an_unexposed_port(objects: Objects) -> str:
    path = _path(objects, "Service")
    objects[path]["spec"]["ports"][0]["targetPort"] = "web"
    return path


def _missing_config_map(objects: Objects) -> str:
    flow = _path(objects, "ConfigMap", name_contains="flow-")
    name = objects.pop(flow)["metadata"]["name"]
    return next(p for p, o in objects.items() if o["kind"] == "Deployment" and name in str(o))


def _missing_config_map_key(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    volume = _pod(objects[path])["volumes"][-1]["projected"]["sources"][0]["configMap"]
    volume["items"] = [{"key": "no-such-flow.json", "path": "flow.json"}]
    return path


def _missing_claim(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["volumes"].append({"name": "data", "persistentVolumeClaim": {"claimName": "langflow-data"}})
    return path


def _mount_without_volume(objects: Objects) -> str:
    """The StatefulSet's claim template renamed: its mount now names nothing."""
    path = _path(objects, "StatefulSet", env="dev")
    objects[path]["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] = "state"
    return path


def _missing_service_account(objects: Objects) -> str:
    account = _path(objects, "ServiceAccount", env="dev", name_contains="backend")
    del objects[account]
    return _path(objects, "StatefulSet", env="dev", name_contains="backend")


def _probe_on_an_undeclared_port(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["containers"][0]["livenessProbe"]["httpGet"]["port"] = "health"
    return path


def _route_to_a_missing_service(objects: Objects) -> str:
    path = _path(objects, "HTTPRoute", env="dev")
    objects[path]["spec"]["rules"][0]["backendRefs"][0]["name"] = "langflow-ide-api"
    return path


def _route_to_a_missing_port(objects: Objects) -> str:
    path = _path(objects, "HTTPRoute", env="dev")
    objects[path]["spec"]["rules"][0]["backendRefs"][0]["port"] = 443
    return path


def _route_to_another_namespace(objects: Objects) -> str:
    path = _path(objects, "HTTPRoute", env="dev")
    objects[path]["spec"]["rules"][0]["backendRefs"][0]["namespace"] = "langflow-prod"
    return path


def _statefulset_without_its_service(objects: Objects) -> str:
    path = _path(objects, "StatefulSet", env="dev")
    objects[path]["spec"]["serviceName"] = "langflow-ide-headless"
    return path


def _statefulset_governed_by_a_clusterip_service(objects: Objects) -> str:
    path = _path(objects, "StatefulSet", env="dev")
    objects[path]["spec"]["serviceName"] = "langflow-ide-backend"
    return path


def _hpa_targets_nothing(objects: Objects) -> str:
    path = _path(objects, "HorizontalPodAutoscaler")
    objects[path]["spec"]["scaleTargetRef"]["name"] = "langflow-runtime-gone"
    return path


def _hpa_targets_the_wrong_kind(objects: Objects) -> str:
    path = _path(objects, "HorizontalPodAutoscaler")
    objects[path]["spec"]["scaleTargetRef"]["kind"] = "StatefulSet"
    return path


def _hpa_and_fixed_replicas(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    objects[path]["spec"]["replicas"] = 3
    return path


def _hpa_min_above_max(objects: Objects) -> str:
    path = _path(objects, "HorizontalPodAutoscaler")
    objects[path]["spec"]["minReplicas"] = 7
    return path


def _pdb_selects_nothing(objects: Objects) -> str:
    path = _path(objects, "PodDisruptionBudget")
    objects[path]["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] = "worker"
    return path


def _name_too_long(objects: Objects) -> str:
    path = _path(objects, "ConfigMap")
    objects[path]["metadata"]["name"] = "flow-" + "x" * 59
    return path


def _name_not_dns(objects: Objects) -> str:
    path = _path(objects, "Service")
    objects[path]["metadata"]["name"] = "Langflow_Runtime"
    return path


def _port_name_too_long(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["containers"][0]["ports"][0]["name"] = "http-for-the-flows"
    return path


def _no_memory_limit(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    del _pod(objects[path])["containers"][0]["resources"]["limits"]["memory"]
    return path


def _init_container_without_requests(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    main = _pod(objects[path])["containers"][0]
    _pod(objects[path])["initContainers"] = [{"name": "migrate", "image": main["image"],
                                                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]
    return path


def _request_above_limit(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["containers"][0]["resources"]["requests"]["memory"] = "4Gi"
    return path


def _unparsable_quantity(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["containers"][0]["resources"]["requests"]["cpu"] = "1 core"
    return path


def _latest_image(objects: Objects) -> str:
    path = _path(objects, "Deployment")
    _pod(objects[path])["containers"][0]["image"] = "langflowai/langflow:latest"
    return path


def _untagged_image(objects: Objects) -> str:
    path = _path(objects, "StatefulSet", env="dev")
    _pod(objects[path])["containers"][0]["image"] = "registry.example.com:5000/langflowai/langflow"
    return path


def _without_namespace(objects: Objects) -> str:
    path = _path(objects, "Service")
    del objects[path]["metadata"]["namespace"]
    return path


def _without_labels(objects: Objects) -> str:
    path = _path(objects, "StatefulSet", env="dev")
    del objects[path]["metadata"]["labels"]
    return path


BREAKAGES: dict[str, tuple[Callable[[Objects], str], str]] = {
    "object-without-namespace": (_without_namespace, "namespace None is not the environment's 'langflow-prod'"),
    "object-without-labels": (_without_labels, "has no label app.kubernetes.io/instance, app.kubernetes.io/part-of"),
    "selector-mismatch": (_selector_mismatch, "does not match its pod template labels"),
    "service-selects-nothing": (_service_selects_nothing, "selects no pods of any workload in prod/"),
    "service-without-selector": (_service_without_selector, "selector null selects no pods"),
    "service-targets-unexposed-port": (_service_targets_an_unexposed_port, "targets 'web', which the selected pods"),
    "missing-config-map": (_missing_config_map, "ConfigMap 'flow-"),
    "missing-config-map-key": (_missing_config_map_key, "has no key 'no-such-flow.json'"),
    "missing-claim": (_missing_claim, "PersistentVolumeClaim 'langflow-data' does not exist in prod/"),
    "mount-without-volume": (_mount_without_volume, "mounts 'config', which is neither a volume nor a volumeClaimTemplate"),
    "missing-service-account": (_missing_service_account, "ServiceAccount 'langflow-ide-backend' does not exist"),
    "probe-on-undeclared-port": (_probe_on_an_undeclared_port, "targets port 'health', which the container does not declare"),
    "route-to-missing-service": (_route_to_a_missing_service, "backend Service 'langflow-ide-api' does not exist"),
    "route-to-missing-port": (_route_to_a_missing_port, "backend port 443 is not a port"),
    "route-to-another-namespace": (_route_to_another_namespace, "is in namespace 'langflow-prod'"),
    "statefulset-without-service": (_statefulset_without_its_service, "serviceName 'langflow-ide-headless' is not a Service"),
    "statefulset-not-headless": (_statefulset_governed_by_a_clusterip_service,
                                 "serviceName 'langflow-ide-backend' is not headless"),
    "hpa-targets-nothing": (_hpa_targets_nothing, "scaleTargetRef Deployment/langflow-runtime-gone is not a workload"),
    "hpa-targets-wrong-kind": (_hpa_targets_the_wrong_kind, "scaleTargetRef StatefulSet/"),
    "hpa-and-fixed-replicas": (_hpa_and_fixed_replicas, "sets replicas although prod/HorizontalPodAutoscaler."),
    "hpa-min-above-max": (_hpa_min_above_max, "minReplicas 7 is above maxReplicas 6"),
    "pdb-selects-nothing": (_pdb_selects_nothing, "selects no pods of any workload in prod/"),
    "name-too-long": (_name_too_long, "is not a DNS-1123 label of at most 63 characters"),
    "name-not-dns": (_name_not_dns, "name 'Langflow_Runtime' is not a DNS-1123 label"),
    "port-name-too-long": (_port_name_too_long, "port name 'http-for-the-flows'"),
    "no-memory-limit": (_no_memory_limit, "has no limits.memory"),
    "init-container-without-requests": (_init_container_without_requests, "container 'migrate' has no requests.cpu"),
    "request-above-limit": (_request_above_limit, "requests.memory '4Gi' is above the limit '"),
    "unparsable-quantity": (_unparsable_quantity, "requests.cpu '1 core' is not a quantity"),
    "latest-image": (_latest_image, "image 'langflowai/langflow:latest' is not pinned"),
    "untagged-image": (_untagged_image, "image 'registry.example.com:5000/langflowai/langflow' is not pinned"),
}
"""name -> (what breaks a copy of dist/ and returns the file it broke, what the error says)."""


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_a_broken_tree_fails_the_gate(case: str, sample: list[Manifest], tmp_path: Path) -> None:
    breakage, expected = BREAKAGES[case]
    path, errors = _broken_errors(sample, tmp_path, breakage)
    assert any(e.startswith(f"{path}: ") and expected in e for e in errors), "\n".join(errors) or "no error"


def test_a_secret_that_is_not_documented_fails(sample: list[Manifest], tmp_path: Path) -> None:
    """inventory.required_secrets is the list of Secrets to create by hand: a pod may use no other."""
    documented = {"langflow-runtime-auth": {"secret-key", "superuser", "superuser-password", "api-key"}}
    path, errors = _broken_errors(sample, tmp_path, lambda objects: _path(objects, "Deployment"),
                                  documented_secrets=documented)
    assert any(e.startswith(f"{path}: Secret 'llm-api-keys' neither exists in prod/ nor is a documented external "
                            "Secret") for e in errors), errors
    assert any(e.startswith(f"{path}: Secret 'astra-db'") for e in errors), errors


def test_an_undocumented_key_of_a_documented_secret_fails(sample: list[Manifest], tmp_path: Path) -> None:
    path, errors = _broken_errors(sample, tmp_path, lambda objects: _path(objects, "Deployment"),
                                  documented_secrets={"llm-api-keys": {"anthropic"}})
    assert any(e.startswith(f"{path}: key 'openai' of Secret 'llm-api-keys' is not documented") for e in errors), errors


def test_a_digest_pinned_image_passes(sample: list[Manifest], tmp_path: Path) -> None:
    """A digest pins the content even without a tag; the gate must not demand more."""
    def pin(objects: Objects) -> str:
        path = _path(objects, "Deployment")
        _pod(objects[path])["containers"][0]["image"] = "registry.example.com:5000/langflow@sha256:" + "a" * 64
        return path

    _, errors = _broken_errors(sample, tmp_path, pin)
    assert errors == []


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1", "c": "3"}}, {"a": "1", "b": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["2"]}]}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"b": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"b": "1"}, True),
    ({}, {"a": "1"}, False),
    (None, {"a": "1"}, False),
])
def test_selector_matching(selector: dict[str, Any] | None, labels: dict[str, str], matches: bool) -> None:
    """An empty selector counts as matching nothing: selecting every pod is never what was meant."""
    assert selector_matches(selector, labels) is matches


@pytest.mark.parametrize(("value", "parsed"), [
    ("500m", "0.5"), ("2", "2"), ("1Gi", str(2**30)), ("1.5G", "1500000000"), ("1e3", "1000"), (2, "2"),
    ("1 core", None), ("", None), ("Gi", None), ("-1", None),
])
def test_quantity_parsing(value: object, parsed: str | None) -> None:
    result = parse_quantity(value)
    assert (None if result is None else result.normalize()) == (None if parsed is None else type(result)(parsed).normalize())
