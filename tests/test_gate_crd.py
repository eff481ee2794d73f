"""CRD schema gate: every custom resource in dist/ and in the variant apps validates strictly
(unknown fields are errors) against the CRD in imports/crds/ that matches its group, kind and
version, and an object of a group that neither has a CRD there nor is a Kubernetes kind fails."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
from conftest import ROOT
from gates import CRD_GROUPS, CRDS, Manifest, crd_schema_errors, crd_schemas, load_tree
from test_variant_snapshots import variants

DIST = ROOT / "dist"


@pytest.fixture(scope="module")
def dist() -> list[Manifest]:
    return load_tree(DIST)


@pytest.fixture(scope="module")
def variant_manifests() -> list[Manifest]:
    root = Path(tempfile.mkdtemp(prefix="langflow-variant-crds-"))
    for path, text in variants().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return load_tree(root)


def test_dist_custom_resources_match_their_crds(dist: list[Manifest]) -> None:
    assert {m.obj["apiVersion"].rpartition("/")[0] for m in dist} & CRD_GROUPS, "dist/ has no custom resource to check"
    assert crd_schema_errors(dist) == []


def test_variant_custom_resources_match_their_crds(variant_manifests: list[Manifest]) -> None:
    kinds = {m.kind for m in variant_manifests}
    assert {"HTTPRoute", "Gateway", "ReferenceGrant", "Ingress"} <= kinds
    assert crd_schema_errors(variant_manifests) == []


def test_every_crd_file_is_read_with_each_version() -> None:
    kinds = {(group, kind) for group, _, kind in crd_schemas()}
    assert {("argoproj.io", "Application"), ("argoproj.io", "AppProject"), ("gateway.networking.k8s.io", "HTTPRoute"),
            ("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "ReferenceGrant")} <= kinds
    assert len({path.name for path in CRDS.glob("*.yaml")}) <= len(kinds)


def _route(dist: list[Manifest]) -> Manifest:
    return next(m for m in dist if m.kind == "HTTPRoute")


def test_a_misspelt_field_of_a_custom_resource_fails(dist: list[Manifest]) -> None:
    route = _route(dist)
    obj = copy.deepcopy(route.obj)
    obj["spec"]["parentRefs"][0]["sectionname"] = obj["spec"]["parentRefs"][0].pop("sectionName")
    errors = crd_schema_errors([Manifest(route.path, obj)])
    assert len(errors) == 1 and errors[0].startswith(f"{route.path}: spec.parentRefs.0: ")
    assert "'sectionname' was unexpected" in errors[0]


def test_a_value_the_crd_refuses_fails(dist: list[Manifest]) -> None:
    route = _route(dist)
    obj = copy.deepcopy(route.obj)
    obj["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"   # the Ingress spelling
    errors = crd_schema_errors([Manifest(route.path, obj)])
    assert len(errors) == 1 and "'Prefix' is not one of" in errors[0]


def test_a_version_the_crd_does_not_define_or_serve_fails(dist: list[Manifest]) -> None:
    route = _route(dist)
    undefined = {**copy.deepcopy(route.obj), "apiVersion": "gateway.networking.k8s.io/v2"}
    assert crd_schema_errors([Manifest(route.path, undefined)]) == [
        f"{route.path}: the CRDs in imports/crds/ define no HTTPRoute in gateway.networking.k8s.io/v2"]
    unserved = [(group, version, kind) for (group, version, kind), schema in crd_schemas().items() if schema is None]
    for group, version, kind in unserved[:1]:
        obj = {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": {"name": "x"}}
        assert crd_schema_errors([Manifest("x.yaml", obj)]) == [
            f"x.yaml: {kind} {group}/{version} is not served by its CRD (imports/crds/)"]


def test_an_unknown_group_fails_and_a_kubernetes_kind_passes() -> None:
    widget = Manifest("dev/Widget.x.k8s.yaml", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}})
    config = Manifest("dev/ConfigMap.x.k8s.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert crd_schema_errors([widget, config]) == [
        "dev/Widget.x.k8s.yaml: Widget of example.com/v1 is neither a Kubernetes kind nor has a CRD in imports/crds/ "
        "(add the CRD file, byte for byte upstream)"]
