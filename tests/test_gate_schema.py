"""Schema gate: every object in dist/ validates strictly (unknown fields are errors) against the
OpenAPI schemas of Kubernetes 1.27, the oldest cluster we support, and of the newest version
kubernetes-validate bundles, so removed API versions and typos fail here rather than at sync.

Objects of CRD groups (a CRD file in imports/crds/: Argo CD, Gateway API, External Secrets, Prometheus
Operator) have no bundled schema; they are skipped here and validated against their CRD (gates.crd_schema_errors).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from gates import CRD_GROUPS, OLDEST_VERSION, Manifest, crd_schema_errors, load_tree, newest_version, schema_errors, write_tree
from test_variant_snapshots import variant_tree, variants

DIST = ROOT / "dist"
VERSIONS = (OLDEST_VERSION, newest_version())


@pytest.fixture(scope="module")
def dist() -> list[Manifest]:
    return load_tree(DIST)


def test_the_gate_reads_every_file_in_dist(dist: list[Manifest]) -> None:
    """A gate over an empty or half-read tree would pass for nothing."""
    files = {p.relative_to(DIST).as_posix() for p in DIST.rglob("*.yaml")}
    assert files, "dist/ holds no YAML: run `make synth`"
    assert {m.path for m in dist} == files


def test_two_distinct_versions_are_checked() -> None:
    """The newest bundled schemas (1.37 with the locked kubernetes-validate) differ from 1.27."""
    major, minor = (int(part) for part in newest_version().split(".")[:2])
    assert (major, minor) >= (1, 37)
    assert OLDEST_VERSION == "1.27.0"


@pytest.mark.parametrize("version", VERSIONS)
def test_dist_validates_strictly(dist: list[Manifest], version: str) -> None:
    errors = schema_errors(dist, version)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("version", VERSIONS)
def test_variants_validate_strictly(version: str) -> None:
    """The options the reference app does not use (tests/test_variant_snapshots.py) pass the same gate."""
    variants = load_tree(variant_tree())
    assert any(m.path.startswith("ide-nginx/") for m in variants)
    errors = schema_errors(variants, version)
    assert not errors, "\n".join(errors)


def test_crd_groups_are_exactly_the_groups_of_the_vendored_crds() -> None:
    """Skipping a group here is safe only because crd_schema_errors checks it: a CRD file says so."""
    assert {"argoproj.io", "gateway.networking.k8s.io", "external-secrets.io", "monitoring.coreos.com"} <= CRD_GROUPS
    assert "networking.k8s.io" not in CRD_GROUPS and "" not in CRD_GROUPS


# ---- the gate fails on broken manifests ----------------------------------------------------


def _dist_object(dist: list[Manifest], kind: str) -> Manifest:
    return next(m for m in dist if m.kind == kind)


def _broken(tmp_path: Path, manifest: Manifest, obj: dict[str, Any]) -> list[Manifest]:
    """Writes the broken copy to a file and reads it back, as the gate reads dist/."""
    return load_tree(write_tree(tmp_path, [Manifest(manifest.path, obj)]))


@pytest.mark.parametrize("version", VERSIONS)
def test_an_unknown_field_fails(sample: list[Manifest], tmp_path: Path, version: str) -> None:
    original = _dist_object(sample, "Deployment")
    obj = copy.deepcopy(original.obj)
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"  # a typo
    errors = schema_errors(_broken(tmp_path, original, obj), version)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{original.path}: spec.template.spec.containers.0:")
    assert "imagePullPolcy" in errors[0]


def test_a_wrong_type_fails(sample: list[Manifest], tmp_path: Path) -> None:
    original = _dist_object(sample, "Service")
    obj = copy.deepcopy(original.obj)
    obj["spec"]["ports"][0]["port"] = "http"
    errors = schema_errors(_broken(tmp_path, original, obj), OLDEST_VERSION)
    assert len(errors) == 1 and errors[0].startswith(f"{original.path}: spec.ports.0.port:"), errors


def test_a_misplaced_field_fails(sample: list[Manifest], tmp_path: Path) -> None:
    """`replicas` under the pod template instead of the Deployment spec."""
    original = _dist_object(sample, "Deployment")
    obj = copy.deepcopy(original.obj)
    obj["spec"]["template"]["replicas"] = 2
    errors = schema_errors(_broken(tmp_path, original, obj), newest_version())
    assert len(errors) == 1 and "'replicas' was unexpected" in errors[0], errors


@pytest.mark.parametrize(("kind", "removed"), [("PodDisruptionBudget", "policy/v1beta1"),
                                               ("HorizontalPodAutoscaler", "autoscaling/v2beta2")])
def test_a_removed_api_version_fails_rather_than_warns(sample: list[Manifest], tmp_path: Path, kind: str,
                                                       removed: str) -> None:
    original = _dist_object(sample, kind)
    obj = {**copy.deepcopy(original.obj), "apiVersion": removed}
    for version in VERSIONS:
        errors = schema_errors(_broken(tmp_path, original, obj), version)
        assert errors == [f"{original.path}: Kubernetes {version} has no {kind} in {removed} (a removed API version, "
                          "a typo, or a CRD group missing from CRD_GROUPS)"]


def test_an_unknown_group_fails_but_argo_cd_is_skipped(tmp_path: Path) -> None:
    metadata = {"name": "langflow-prod", "namespace": "argocd"}
    argo = Manifest("argocd/Application.langflow-prod.k8s.yaml",
                    {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": metadata,
                     "spec": {"anything": "goes"}})
    other = Manifest("argocd/Widget.langflow-prod.k8s.yaml",
                     {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": metadata})
    manifests = load_tree(write_tree(tmp_path, [argo, other]))
    assert [e.split(":")[0] for e in schema_errors(manifests, OLDEST_VERSION)] == [other.path]


def test_an_object_without_kind_fails(tmp_path: Path) -> None:
    manifests = load_tree(write_tree(tmp_path, [Manifest("dev/thing.yaml", {"apiVersion": "v1", "metadata": {"name": "x"}})]))
    assert schema_errors(manifests, OLDEST_VERSION) == ["dev/thing.yaml: no apiVersion or kind"]


def test_custom_resources_validate_strictly_against_their_vendored_crd(dist: list[Manifest]) -> None:
    """Every object of a group with a CRD in imports/crds/ (Argo CD, External Secrets, Prometheus Operator) in dist/ and in
    the variant apps, against the CRD version of its apiVersion."""
    variant = [Manifest(path, yaml.safe_load(text)) for path, text in variants().items()]
    checked = [m for m in [*dist, *variant] if m.obj["apiVersion"].split("/")[0] in CRD_GROUPS]
    assert {m.kind for m in checked} >= {"Application", "AppProject", "ExternalSecret", "PodMonitor", "ServiceMonitor"}
    assert crd_schema_errors([*dist, *variant]) == []


def test_the_crd_gate_refuses_an_unserved_version_and_an_unknown_kind() -> None:
    old = {"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret", "metadata": {"name": "x"}, "spec": {}}
    unknown = {"apiVersion": "external-secrets.io/v1", "kind": "PushSecret", "metadata": {"name": "x"}, "spec": {}}
    assert crd_schema_errors([Manifest("a/old.yaml", old), Manifest("a/unknown.yaml", unknown)]) == [
        "a/old.yaml: ExternalSecret external-secrets.io/v1beta1 is not served by its CRD (imports/crds/)",
        "a/unknown.yaml: the CRDs in imports/crds/ define no PushSecret in external-secrets.io/v1"]
