"""Policy gate: checkov's Kubernetes checks pass over dist/ with zero failures. A check the library
deliberately does not meet is skipped by an annotation on the object, with a reviewed reason;
the list of allowed skips is pinned here, so adding one is a decision someone reads.

checkov takes ~3 s a run, so it runs once over dist/ and once over a probe tree (dist/ without
its skips, plus deliberately broken copies), each per session.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from gates import (
    WORKLOAD_KINDS,
    CheckovReport,
    Manifest,
    load_tree,
    policy_errors,
    skip_annotation_errors,
    start_checkov,
    strip_skips,
    write_tree,
)
from test_variant_snapshots import variant_tree

from langflow_cdk8s.mechanics.hardening import REASONS

DIST = ROOT / "dist"

ALLOWED_SKIPS = {
    "CKV_K8S_15": "Image Pull Policy should be Always",
    "CKV_K8S_35": "Prefer using secrets as files over secrets as environment variables",
    "CKV_K8S_40": "Containers should run as a high UID to avoid host conflict",
    "CKV_K8S_43": "Image should use digest",
}
"""The reviewed skips: check id -> what checkov checks. Change this only with a review."""


@pytest.fixture(scope="session")
def dist() -> list[Manifest]:
    return load_tree(DIST)


# ---- the broken copies: each breaks one thing checkov must catch ---------------------------


def _main_container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]


def _privileged(obj: dict[str, Any]) -> None:
    _main_container(obj)["securityContext"]["privileged"] = True


def _no_liveness_probe(obj: dict[str, Any]) -> None:
    del _main_container(obj)["livenessProbe"]


def _no_readiness_probe(obj: dict[str, Any]) -> None:
    del _main_container(obj)["readinessProbe"]


def _host_network(obj: dict[str, Any]) -> None:
    obj["spec"]["template"]["spec"]["hostNetwork"] = True


def _no_memory_limit(obj: dict[str, Any]) -> None:
    del _main_container(obj)["resources"]["limits"]["memory"]


def _writable_root(obj: dict[str, Any]) -> None:
    _main_container(obj)["securityContext"]["readOnlyRootFilesystem"] = False


def _privilege_escalation(obj: dict[str, Any]) -> None:
    _main_container(obj)["securityContext"]["allowPrivilegeEscalation"] = True


def _privileged_with_an_unreviewed_skip(obj: dict[str, Any]) -> None:
    _privileged(obj)
    obj["metadata"]["annotations"]["checkov.io/skip9"] = "CKV_K8S_16=trust me"


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "privileged": (_privileged, "CKV_K8S_16"),
    "privilege-escalation": (_privilege_escalation, "CKV_K8S_20"),
    "no-liveness-probe": (_no_liveness_probe, "CKV_K8S_8"),
    "no-readiness-probe": (_no_readiness_probe, "CKV_K8S_9"),
    "host-network": (_host_network, "CKV_K8S_19"),
    "no-memory-limit": (_no_memory_limit, "CKV_K8S_13"),
    "writable-root": (_writable_root, "CKV_K8S_22"),
}
"""name -> (what breaks the runtime Deployment, the check that must then fail)."""


@pytest.fixture(scope="session")
def victim(dist: list[Manifest]) -> Manifest:
    """A runtime Deployment if main.py has one (the most hardened object, so any failure is the
    breakage's), otherwise its first Deployment."""
    deployments = [m for m in dist if m.kind == "Deployment"]
    runtime = [m for m in deployments if m.obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "runtime"]
    return (runtime or deployments)[0]


@pytest.fixture(scope="session")
def variants() -> list[Manifest]:
    """The options the reference app does not use (tests/test_variant_snapshots.py), checked in the probe run."""
    return load_tree(variant_tree())


def write_probe(root: Path, dist: list[Manifest], victim: Manifest, variants: list[Manifest]) -> Path:
    """`unskipped/`: dist/ without its skip annotations; `broken/<case>/`: one broken copy each;
    `variants/`: the variant environments as synthesized."""
    write_tree(root, [Manifest(f"unskipped/{m.path}", m.obj) for m in strip_skips(dist)])
    write_tree(root, [Manifest(f"variants/{m.path}", m.obj) for m in variants])
    cases = {**{name: breakage for name, (breakage, _) in BREAKAGES.items()},
             "unreviewed-skip": _privileged_with_an_unreviewed_skip}
    for name, breakage in cases.items():
        obj = copy.deepcopy(victim.obj)
        breakage(obj)
        write_tree(root, [Manifest(f"broken/{name}/{victim.path}", obj)])
    return root


@pytest.fixture(scope="session")
def reports(dist: list[Manifest], victim: Manifest, variants: list[Manifest], tmp_path_factory: pytest.TempPathFactory,
            ) -> tuple[CheckovReport, CheckovReport]:
    """checkov once over dist/ and once over the probe tree, the two runs side by side."""
    started = time.perf_counter()
    probe_tree = write_probe(tmp_path_factory.mktemp("policy-probe"), dist, victim, variants)
    pending = (start_checkov(DIST), start_checkov(probe_tree))
    done = (pending[0](), pending[1]())
    print(f"\ncheckov over dist/ and the probe tree: {time.perf_counter() - started:.1f} s")
    return done


@pytest.fixture(scope="session")
def dist_report(reports: tuple[CheckovReport, CheckovReport]) -> CheckovReport:
    return reports[0]


@pytest.fixture(scope="session")
def probe(reports: tuple[CheckovReport, CheckovReport]) -> CheckovReport:
    return reports[1]


# ---- the gate over dist/ -------------------------------------------------------------------


def test_dist_has_zero_failed_checks(dist_report: CheckovReport) -> None:
    errors = policy_errors(dist_report)
    assert not errors, "\n".join(errors)


def test_checkov_checked_every_workload(dist: list[Manifest], dist_report: CheckovReport) -> None:
    """checkov silently ignores what it cannot read: make sure every pod was in its scope."""
    checked = {r.path for r in [*dist_report.passed, *dist_report.skipped, *dist_report.failed]}
    workloads = {m.path for m in dist if m.kind in WORKLOAD_KINDS}
    assert workloads and workloads <= checked, sorted(workloads - checked)
    assert len(dist_report.passed) > 100


def test_the_allowed_skips_are_pinned() -> None:
    """Adding, removing or renaming a skip in policy.REASONS must change ALLOWED_SKIPS too."""
    assert set(REASONS) == set(ALLOWED_SKIPS)
    for check, reason in REASONS.items():
        assert reason.strip() and "=" not in reason and "\n" not in reason, (check, reason)


def test_skip_annotations_in_dist_use_only_allowed_ids_and_their_exact_reason(dist: list[Manifest]) -> None:
    errors = skip_annotation_errors(dist, REASONS)
    assert not errors, "\n".join(errors)
    annotated = [m for m in dist if any(k.startswith("checkov.io/skip") for k in m.obj["metadata"].get("annotations", {}))]
    assert annotated, "no skip annotation found: the pin above would check nothing"


def test_checkov_skipped_only_allowed_checks_with_their_reason(dist_report: CheckovReport) -> None:
    """What checkov itself reports as skipped, however the skip was expressed."""
    assert dist_report.skipped
    unexpected = {(r.path, r.check_id, r.comment) for r in dist_report.skipped
                  if r.check_id not in ALLOWED_SKIPS or r.comment != REASONS[r.check_id]}
    assert not unexpected, sorted(unexpected)
    assert {r.check_id: r.check_name for r in dist_report.skipped}.items() <= ALLOWED_SKIPS.items()


def test_variants_have_zero_failed_checks_and_only_reviewed_skips(variants: list[Manifest],
                                                                  probe: CheckovReport) -> None:
    """The split nginx frontend and the other options the reference app does not use meet the same gate."""
    errors = [e for e in policy_errors(probe) if e.startswith("variants/")]
    assert not errors, "\n".join(errors)
    checked = {r.path for r in [*probe.passed, *probe.skipped, *probe.failed]}
    workloads = {f"variants/{m.path}" for m in variants if m.kind in WORKLOAD_KINDS}
    assert any("ide-nginx/Deployment.langflow-ide-frontend" in w for w in workloads)
    assert workloads <= checked, sorted(workloads - checked)
    unexpected = {(r.path, r.check_id) for r in probe.skipped if r.path.startswith("variants/")
                  and (r.check_id not in ALLOWED_SKIPS or r.comment != REASONS[r.check_id])}
    assert not unexpected, sorted(unexpected)


def test_every_skip_is_still_needed(dist_report: CheckovReport, probe: CheckovReport) -> None:
    """Without its annotation, each skipped check fails: no skip outlives its cause."""
    stale = sorted((r.path, r.check_id) for r in dist_report.skipped
                   if r.check_id not in probe.failed_ids(f"unskipped/{r.path}"))
    assert not stale, stale
    assert probe.parsing_errors == []


# ---- the gate fails on broken manifests ----------------------------------------------------


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_a_broken_workload_fails_the_gate(case: str, victim: Manifest, probe: CheckovReport) -> None:
    check = BREAKAGES[case][1]
    path = f"broken/{case}/{victim.path}"
    assert check in probe.failed_ids(path), sorted(probe.failed_ids(path))
    assert check not in probe.failed_ids(f"unskipped/{victim.path}"), "the unbroken copy fails it too"
    assert any(e.startswith(f"{path}: {check} ") for e in policy_errors(probe))


def test_an_unreviewed_skip_annotation_fails_the_skip_pin(victim: Manifest, probe: CheckovReport,
                                                          tmp_path: Path) -> None:
    """checkov honours any skip annotation, so the pin is what stops a privileged container."""
    path = f"broken/unreviewed-skip/{victim.path}"
    assert "CKV_K8S_16" in {r.check_id for r in probe.skipped if r.path == path}
    obj = copy.deepcopy(victim.obj)
    _privileged_with_an_unreviewed_skip(obj)
    manifests = load_tree(write_tree(tmp_path, [Manifest(victim.path, obj)]))
    assert skip_annotation_errors(manifests, REASONS) == [
        f"{victim.path}: checkov.io/skip9 skips CKV_K8S_16, which is not an allowed skip"]


def test_a_skip_with_another_reason_or_form_fails_the_skip_pin(victim: Manifest) -> None:
    obj = copy.deepcopy(victim.obj)
    annotations = obj["metadata"]["annotations"]
    annotations["checkov.io/skip1"] = "CKV_K8S_40=because"
    annotations["checkov.io/skip2"] = "CKV_K8S_35"
    annotations["checkov.io/skipped"] = "CKV_K8S_43=x"
    errors = skip_annotation_errors([Manifest(victim.path, obj)], REASONS)
    assert errors == [
        f"{victim.path}: checkov.io/skip1 skips CKV_K8S_40 with 'because', not the reviewed reason {REASONS['CKV_K8S_40']!r}",
        f"{victim.path}: checkov.io/skip2: 'CKV_K8S_35' is not ID=reason",
        f"{victim.path}: annotation 'checkov.io/skipped' is not checkov.io/skipN",
    ]


def test_an_empty_tree_fails_the_gate() -> None:
    report = CheckovReport(passed=[], failed=[], skipped=[], parsing_errors=[], resource_count=0)
    assert policy_errors(report) == ["checkov found no Kubernetes resources to check"]
