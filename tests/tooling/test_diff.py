"""`make diff`: real before/after apps in a temporary git repository.

The repository is a copy of this one whose main.py is the tests' own app (tests/example_app.py) and
whose flows/ are the test-owned flows (tests/fixtures/flows/), committed once as "before". The base
revision is synthesized once per module through the tool's own worktree path; each scenario edits
the working tree, synthesizes it the way `make diff` does, and compares. `make diff` itself runs
end to end for the issue's "Done when" (one flow edited), for no changes and for a bad BASE.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT
from repo_copy import NESTED, SET_UP, copy_repository, run, tree

from langflow_cdk8s.errors import ConfigError
from langflow_cdk8s.props.image import LANGFLOW_VERSION
from langflow_cdk8s.tooling import diff, review
from langflow_cdk8s.tooling.argocd_sync import Sync, applications
from langflow_cdk8s.tooling.semantic_diff import MISSING, Key, Manifest, changes, pair_renames

pytestmark = pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside a copy of the repository")

FIXTURE_FLOWS = ROOT / "tests" / "fixtures" / "flows"
GIT = ["git", "-c", "user.name=make diff test", "-c", "user.email=diff@example.com"]


def _test_app() -> str:
    """tests/example_app.py as a repository's main.py, reading flows/ next to it."""
    source = (ROOT / "tests" / "example_app.py").read_text(encoding="utf-8")
    source, count = re.subn(r'^FLOWS = .*$', 'FLOWS = Path(__file__).parent / "flows"', source, count=1, flags=re.MULTILINE)
    assert count == 1, "tests/example_app.py no longer defines FLOWS"
    return source


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_repository(tmp_path_factory.mktemp("diff") / "repo")
    shutil.rmtree(root / "flows")
    shutil.copytree(FIXTURE_FLOWS, root / "flows")
    (root / "main.py").write_text(_test_app(), encoding="utf-8")
    # The shared set-up is linked in, not part of the revision (a symlink escapes `.venv/` in .gitignore).
    (root / ".git" / "info" / "exclude").write_text("/.venv\n/.venv-checkov\n/node_modules\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "before")
    return root


@pytest.fixture(scope="module")
def before(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[Key, Manifest]]:
    """HEAD synthesized once, as `make diff` synthesizes a base: in a temporary worktree, with its locks."""
    scratch = tmp_path_factory.mktemp("base")
    sha = diff.resolve(repo, "HEAD")
    with diff.base_checkout(repo, sha, "HEAD", scratch) as checkout:
        python = diff.prepare_base(checkout, repo, scratch, io.StringIO())
        assert python == sys.executable, "the copy's locks are the working tree's: its .venv is reused"
        diff.finish_synthesis(diff.start_synthesis(python, checkout, scratch / "out"), "HEAD")
    assert git(repo, "worktree", "list").count("\n") == 1, "the temporary worktree is removed"
    return diff.read_output(scratch / "out")


def compare_edited(repo: Path, before: dict, outdir: Path, edit: Callable[[Path], object]) -> review.Report:
    """The working tree after `edit`, synthesized as `make diff` does and compared with HEAD; the tree
    is put back before this returns, so every scenario starts from HEAD."""
    try:
        edit(repo)
        diff.finish_synthesis(diff.start_synthesis(sys.executable, repo, outdir), "the working tree")
    finally:
        git(repo, "checkout", "-q", "--", ".")
        git(repo, "clean", "-q", "-f", "--", "flows")
    return review.compare(before, diff.read_output(outdir), "HEAD")


def edit_main(repo: Path, pattern: str, replacement: str) -> None:
    main = repo / "main.py"
    text, count = re.subn(pattern, replacement, main.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"tests/example_app.py has no {pattern!r} any more"
    main.write_text(text, encoding="utf-8")


def edit_prompt(repo: Path, text: Callable[[str], str]) -> tuple[str, str, str]:
    """Changes the prompt template of flows/echo-prompt.json: (node id, old value, new value)."""
    path = repo / "flows" / "echo-prompt.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    node = next(n for n in document["data"]["nodes"] if "template" in n["data"]["node"].get("template", {}))
    field = node["data"]["node"]["template"]["template"]
    old = field["value"]
    field["value"] = text(old)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return node["id"], old, field["value"]


def deployments(objects: dict[Key, Manifest]) -> list[str]:
    return sorted(m.name for m in objects.values() if m.kind == "Deployment")


def only(report: review.Report, name: str) -> review.EnvironmentDiff:
    assert [env.name for env in report.environments] == [name], diff.render_text(report)
    return report.environments[0]


def rollouts(env: review.EnvironmentDiff) -> list[str]:
    return [effect for effect in env.effects if " rolls its pods " in effect]


# ---------------------------------------------------------------------- `make diff` end to end


def test_an_unchanged_tree_has_no_changes(repo: Path, before: dict, tmp_path: Path) -> None:
    report = compare_edited(repo, before, tmp_path, lambda _: None)
    assert not report.environments and report.unchanged == sorted(before)
    assert diff.render_text(report) == "no changes: HEAD and the working tree synthesize to the same objects\n"
    assert "no changes" in diff.render_markdown(report)


def test_make_diff_of_one_flow_edit_rolls_exactly_that_unit(repo: Path) -> None:
    """The issue's "Done when": one flow's JSON edited, `make diff BASE=HEAD` says that exactly that
    unit's Deployment rolls because its flow content changed, shows the changed fields, and nothing else."""
    dist = tree(repo / "dist")
    node, old, new = edit_prompt(repo, lambda value: value + " (edited)")
    try:
        done = make_diff(repo, "BASE=HEAD")
    finally:
        git(repo, "checkout", "-q", "--", "flows")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    effects = re.findall(r"^  - (.*)$", out, re.MULTILINE)
    assert len(effects) == 2, out
    assert re.fullmatch(r"Deployment \S*echo-prompt rolls its pods \(\d+ or more\): flow content changed \('Echo Prompt'\)"
                        r"(; content-derived names follow \(.*\))?", effects[0]), out
    assert re.match(r"ConfigMap \S*echo-prompt-[0-9a-f]+ is created in place of \S*echo-prompt-[0-9a-f]+, which stays in "
                    r"the cluster: prune is off; left out of the sync status \(IgnoreExtraneous\)", effects[1]), out
    changed = re.findall(r"^    [~+-] (.*)$", out, re.MULTILINE)
    assert len(changed) == 2 and changed[0].startswith("Deployment ") and "(flow 'Echo Prompt')" in changed[1], out
    assert f"data.nodes[{node}].data.node.template.template.value: {json.dumps(old)} → {json.dumps(new)}" in out, out
    assert out.rstrip().endswith("unchanged: argocd, dev"), out
    assert tree(repo / "dist") == dist, "make diff wrote into the repository's dist/"
    assert git(repo, "worktree", "list").count("\n") == 1, "the temporary worktree is removed"


def test_a_bad_base_is_two_lines_and_exit_2(repo: Path) -> None:
    done = make_diff(repo, "BASE=no-such-branch")
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == "error: BASE=no-such-branch: is not a commit, branch or tag of this repository", done.stderr
    assert lines[1].startswith("  fix: ") and len(lines) == 3 and lines[2].startswith("make: ***"), done.stderr
    assert not done.stdout


def make_diff(repo: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    return run(repo, "make", "-s", *SET_UP, "diff", *variables, timeout=600)


# ---------------------------------------------------------------------- scenarios, each against HEAD


NEW_FLOW = {"id": "3c9e1f7a-0b2d-4e6f-8a1c-5d7e9f0b2c4d", "name": "Echo Again", "endpoint_name": "echo-again"}


def add_and_remove_flows_and_raise_quota(repo: Path) -> None:
    """One working tree for three independent changes in prod: a new flow, a removed flow, a quota."""
    document = json.loads((repo / "flows" / "echo-prompt.json").read_text(encoding="utf-8"))
    (repo / "flows" / "echo-again.json").write_text(json.dumps({**document, **NEW_FLOW}), encoding="utf-8")
    (repo / "flows" / "support-triage.json").unlink()
    edit_main(repo, r'requests_memory="64Gi"', 'requests_memory="96Gi"')


@pytest.fixture(scope="module")
def changed_flows(repo: Path, before: dict, tmp_path_factory: pytest.TempPathFactory) -> review.Report:
    return compare_edited(repo, before, tmp_path_factory.mktemp("flows"), add_and_remove_flows_and_raise_quota)


def test_a_new_flow_adds_its_objects_and_routes(changed_flows: review.Report) -> None:
    prod = only(changed_flows, "prod")
    added = {m.label for m in prod.added}
    assert {"Deployment langflow-runtime-echo-again", "Service langflow-runtime-echo-again"} <= added
    assert any(label.startswith("ConfigMap flow-echo-again-") for label in added)
    assert any(re.fullmatch(r"Deployment langflow-runtime-echo-again is created and starts \d+ pod\(s\)", effect)
               for effect in prod.effects), prod.effects
    route = next(found for old, _, found in prod.changed if old.kind in ("Ingress", "HTTPRoute"))
    added_paths = " ".join(str(c.path[-1][1]) for c in route if c.old is MISSING) + " ".join(
        str(c.new) for c in route if c.old is MISSING)
    assert NEW_FLOW["id"] in added_paths, added_paths  # its run path, by id (lfx) or by id and endpoint (langflow)
    assert not rollouts(prod), "no running unit changes when flows are added or removed"


def test_a_removed_flow_stays_running_with_prune_off(changed_flows: review.Report, before: dict) -> None:
    prod = only(changed_flows, "prod")
    assert prod.sync.application and not prod.sync.prune
    removed = {m.label for m in prod.removed}
    assert "Deployment langflow-runtime-support-triage" in removed
    assert {m.kind for m in prod.removed} >= {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler"}
    gone = [effect for effect in prod.effects if effect.startswith("no longer in Git: ")]
    workload = next(effect for effect in gone if "Deployment langflow-runtime-support-triage" in effect)
    assert "stays in the cluster: prune is off; the Application shows OutOfSync until someone syncs with prune" in workload
    assert workload.endswith("the pods of Deployment langflow-runtime-support-triage keep running")
    config = next(effect for effect in gone if "ConfigMap flow-support-triage-" in effect)
    assert "left out of the sync status (IgnoreExtraneous)" in config
    text = diff.render_text(changed_flows)
    triage = json.loads((ROOT / "tests" / "fixtures" / "flows" / "support-triage.json").read_text(encoding="utf-8"))["id"]
    assert re.search(rf"(paths|rules)\[[^\]]*({triage}|/api/v1/run/support-triage)[^\]]*\]: removed", text), text


def test_a_quota_change_is_shown_before_and_after(changed_flows: review.Report) -> None:
    prod = only(changed_flows, "prod")
    quota = [effect for effect in prod.effects if effect.startswith("quota: ")]
    assert len(quota) == 1 and re.fullmatch(
        r"quota: requests.memory 64Gi → 96Gi, the workloads need [\d.]+Gi at maximum scale", quota[0]), prod.effects
    assert any(new.kind == "ResourceQuota" for _, new, _ in prod.changed)


def test_markdown_is_a_pull_request_comment(changed_flows: review.Report) -> None:
    text = diff.render_markdown(changed_flows)
    assert text.startswith("### `make diff`: HEAD → this branch\n")
    assert "#### prod: `dist/prod/`" in text and "**When Argo CD syncs**" in text
    assert "+ Deployment langflow-runtime-echo-again" in text and "<details><summary>Changed fields</summary>" in text
    assert text.count("```") % 2 == 0


def test_an_image_bump_rolls_every_runtime_deployment(repo: Path, before: dict, tmp_path: Path) -> None:
    def bump(root: Path) -> None:
        edit_main(root, r"LangflowRuntimeProps\(\n", "LangflowRuntimeProps(\n        image=Image.langflow('99.0.0'),\n")
        edit_main(root, r"from langflow_cdk8s import \(", "from langflow_cdk8s import (Image, ")

    report = compare_edited(repo, before, tmp_path, bump)
    prod = only(report, "prod")
    rolled = rollouts(prod)
    assert sorted(re.match(r"Deployment (\S+) ", line).group(1) for line in rolled) == deployments(before["prod"])
    image = f"image (langflowai/langflow:{LANGFLOW_VERSION} → langflowai/langflow:99.0.0)"
    assert all(image in line for line in rolled), rolled
    assert not prod.added and not prod.removed and not prod.renamed


# ---------------------------------------------------------------------- the parts, on small objects


def manifest(kind: str, name: str, body: dict | None = None, annotations: dict | None = None) -> Manifest:
    meta = {"name": name, "namespace": "ns", **({"annotations": annotations} if annotations else {})}
    return Manifest(kind, name, "ns", {"apiVersion": "v1", "kind": kind, "metadata": meta, **(body or {})})


def test_key_order_is_no_change_and_lists_match_by_identity() -> None:
    old = {"b": 1, "a": {"env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}}
    new = {"a": {"env": [{"name": "Z", "value": "0"}, {"value": "2", "name": "Y"}, {"name": "X", "value": "1"}]}, "b": 1}
    found = changes(old, new)
    assert [(c.where, c.old, c.new) for c in found] == [("a.env[Z]", MISSING, {"name": "Z", "value": "0"})]


def test_json_in_a_string_is_compared_field_by_field() -> None:
    old = {"data": {"f.json": json.dumps({"nodes": [{"id": "n1", "v": "a"}, {"id": "n2", "v": "b"}]})}}
    new = {"data": {"f.json": json.dumps({"nodes": [{"id": "n2", "v": "b"}, {"id": "n1", "v": "c"}]}, indent=2)}}
    assert [(c.where, c.old, c.new) for c in changes(old, new)] == [('data["f.json"].nodes[n1].v', "a", "c")]


def test_scalar_lists_show_what_was_added_and_removed() -> None:
    found = changes({"o": ["A=1", "B=2"]}, {"o": ["B=2", "C=3"]})
    assert [(c.where, c.old, c.new) for c in found] == [("o[C=3]", MISSING, "C=3"), ("o[A=1]", "A=1", MISSING)]


def test_content_hashed_names_pair_up_only_when_unique() -> None:
    old = [manifest("ConfigMap", "flow-a-6dfdaddd9e"), manifest("ConfigMap", "flow-b-abcdef0123")]
    new = [manifest("ConfigMap", "flow-a-2a3992ba54"), manifest("ConfigMap", "flow-c-abcdef0123"),
           manifest("ConfigMap", "settings")]
    assert [(o.name, n.name) for o, n in pair_renames(new, old)] == [("flow-a-6dfdaddd9e", "flow-a-2a3992ba54")]
    assert pair_renames([manifest("Service", "flow-a-2a3992ba54")], old[:1]) == []


@pytest.mark.parametrize(("sync", "annotations", "fate"), [
    (Sync("app", automated=True, prune=True, prune_last=True), {},
     "is deleted by Argo CD (prune on, last, once the rest is synced and healthy: PruneLast)"),
    (Sync("app", automated=True, prune=True), {"argocd.argoproj.io/sync-options": "Prune=false"},
     "stays in the cluster: it has Prune=false (the Application shows it as needing pruning)"),
    (Sync("app", automated=True, prune=True), {"argocd.argoproj.io/sync-options": "ServerSideApply=true, Prune=confirm"},
     "is deleted once someone confirms the pruning (Prune=confirm)"),
    (Sync("app", automated=True, prune=False), {},
     "stays in the cluster: prune is off; the Application shows OutOfSync until someone syncs with prune"),
    (Sync("app", automated=True, prune=False), {"argocd.argoproj.io/compare-options": "IgnoreExtraneous"},
     "stays in the cluster: prune is off; left out of the sync status (IgnoreExtraneous)"),
    (Sync("app", automated=True, prune=True, no_prune=True), {},
     "stays in the cluster: prune is off; the Application shows OutOfSync until someone syncs with prune"),
    (Sync(None), {}, "stays in the cluster: nothing syncs this folder"),
])
def test_what_argo_cd_does_with_an_object_git_no_longer_has(sync: Sync, annotations: dict, fate: str) -> None:
    assert sync.fate(manifest("Service", "web", annotations=annotations)) == fate


def test_the_application_of_a_folder_is_read_from_the_synthesis() -> None:
    app = Manifest("Application", "team-prod", "argocd", {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "team-prod"},
        "spec": {"source": {"path": "dist/prod"}, "syncPolicy": {"automated": {"prune": True},
                                                                   "syncOptions": ["PruneLast=true"]}}})
    syncs = applications({"argocd": {("Application", "argocd", "team-prod"): app}})
    assert syncs == {"prod": Sync("team-prod", automated=True, prune=True, prune_last=True)}
    assert syncs["prod"].words == "Application team-prod (automated sync, prune on)"


def pod(*containers: dict, volumes: list | None = None) -> dict:
    return {"spec": {"replicas": 2, "selector": {"matchLabels": {"app": "w"}},
                     "template": {"metadata": {"labels": {"app": "w"}},
                                  "spec": {"containers": list(containers), **({"volumes": volumes} if volumes else {})}}}}


def environment(old: list[Manifest], new: list[Manifest]) -> review.EnvironmentDiff:
    report = review.compare({"e": {(m.kind, m.namespace, m.name): m for m in old}},
                          {"e": {(m.kind, m.namespace, m.name): m for m in new}}, "base")
    return only(report, "e")


def test_why_a_workload_rolls() -> None:
    app = {"name": "app", "image": "img:1", "env": [{"name": "A", "value": "1"}],
           "readinessProbe": {"httpGet": {"path": "/ready"}}}
    changed = {**app, "image": "img:2", "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "x"}],
               "readinessProbe": {"httpGet": {"path": "/health"}}}
    env = environment([manifest("Deployment", "w", pod(app))], [manifest("Deployment", "w", pod(changed))])
    assert env.effects == ["Deployment w rolls its pods (2 or more): image (img:1 → img:2); env (A, B); probes (app)"]


def test_the_update_strategy_says_how_pods_are_replaced() -> None:
    app = {"name": "app", "image": "img:1"}
    old, new = pod(app), pod({**app, "image": "img:2"})
    for body in (old, new):
        body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    env = environment([manifest("StatefulSet", "s", old)], [manifest("StatefulSet", "s", new)])
    assert env.effects == [("StatefulSet s gets a new pod template, which its pods take only when someone deletes them "
                            "(OnDelete): image (img:1 → img:2)")]


def test_a_workload_whose_template_is_unchanged_keeps_its_pods() -> None:
    app = {"name": "app", "image": "img:1"}
    scaled = pod(app)
    scaled["spec"]["replicas"] = 4
    env = environment([manifest("Deployment", "w", pod(app))], [manifest("Deployment", "w", scaled)])
    assert env.effects == ["updated in place: Deployment w (its pods keep running): spec.replicas 2 → 4"]


def test_immutable_fields_and_new_secrets_are_called_out() -> None:
    app = {"name": "app", "image": "img:1"}
    reads = {**app, "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]}
    moved = pod(reads)
    moved["spec"]["selector"] = {"matchLabels": {"app": "w2"}}
    env = environment([manifest("Deployment", "w", pod(app))], [manifest("Deployment", "w", moved)])
    assert ("warning: Deployment w: the API server refuses to change spec.selector in place: the sync fails until "
            "the object is deleted and created again") in env.effects
    assert "Secret api must exist in namespace ns with key(s) token before this syncs (pods that read it do not start " \
           "without it)" in env.effects


def test_the_lock_files_decide_whether_the_base_reuses_the_installation(tmp_path: Path) -> None:
    base, work = tmp_path / "base", tmp_path / "work"
    for folder in (base, work):
        folder.mkdir()
        (folder / "requirements.lock").write_text("cdk8s==2.70.0 \\\n    --hash=sha256:00\n")
    (work / "package-lock.json").write_text("{}")
    assert diff.same_locks(base, work) == {"requirements.lock": True, "package-lock.json": False}
    (base / "package-lock.json").write_text("{}")
    (base / "requirements.lock").write_text("cdk8s==2.71.0 \\\n    --hash=sha256:01\n")
    assert diff.same_locks(base, work) == {"requirements.lock": False, "package-lock.json": True}


def test_quota_use_is_compared_where_there_is_a_quota() -> None:
    quota = manifest("ResourceQuota", "q", {"spec": {"hard": {"pods": "10", "requests.cpu": "4"}}})
    app = {"name": "app", "image": "img:1", "resources": {"requests": {"cpu": "500m"}}}
    scaled = pod(app)
    scaled["spec"]["replicas"] = 4
    env = environment([quota, manifest("Deployment", "w", pod(app))], [quota, manifest("Deployment", "w", scaled)])
    assert env.effects[-1] == ("quota: pods 10 (unchanged), the workloads need 3 → 5 at maximum scale; "
                               "requests.cpu 4 (unchanged), the workloads need 1.5 → 2.5 at maximum scale")


def test_a_tree_that_does_not_synthesize_is_two_lines_naming_it(repo: Path, tmp_path: Path) -> None:
    try:
        edit_main(repo, r"\bFlow\.from_folder\(FLOWS\)", "Flow.from_folder(FLOWS / 'missing')")
        with pytest.raises(ConfigError) as raised:
            diff.finish_synthesis(diff.start_synthesis(sys.executable, repo, tmp_path / "out"), "the working tree")
    finally:
        git(repo, "checkout", "-q", "--", "main.py")
    assert raised.value.where == "the working tree does not synthesize"
    assert "flows/missing" in raised.value.problem and "is not a folder" in raised.value.problem
    assert "Flow.from_folder" in raised.value.fix
