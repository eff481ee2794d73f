"""The fork's CI (.github/workflows/ci.yml) stays runnable: it parses, calls only make targets the
Makefile has, pins every action to a commit, asks for write access only where it comments, and its
freshness step fails on a stale dist/."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from repo_copy import NESTED, SET_UP, copy_repository, run

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
TEXT = WORKFLOW.read_text(encoding="utf-8")
DOCUMENT: dict[Any, Any] = yaml.load(TEXT, Loader=yaml.CSafeLoader)
JOBS: dict[str, dict[str, Any]] = DOCUMENT["jobs"]
STEPS = [(name, step) for name, job in JOBS.items() for step in job["steps"]]
MAKE = re.compile(r"(?:^|[;&|(]\s*|\s)make((?:\s+-\S+)*)\s+([A-Za-z_][\w.-]*)")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {target for line in re.findall(r"^([A-Za-z_][\w./ -]*?):(?!=)", text, re.MULTILINE) for target in line.split()}


def calls() -> list[tuple[str, str]]:
    """(job, target) of every `make <target>` the workflow's steps run."""
    return [(job, match.group(2)) for job, step in STEPS for match in MAKE.finditer(step.get("run", ""))]


def test_the_workflow_parses_and_runs_on_pull_requests() -> None:
    triggers = DOCUMENT.get("on", DOCUMENT.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and "pull_request_target" not in triggers
    assert all(job.get("runs-on") and job.get("timeout-minutes") for job in JOBS.values())


def test_every_make_target_it_calls_exists() -> None:
    called = calls()
    assert {target for _, target in called} >= {"test", "synth", "diff"}
    missing = sorted({target for _, target in called} - makefile_targets())
    assert not missing, f"{WORKFLOW.relative_to(ROOT)} calls make targets the Makefile lacks: {missing}"


def test_the_diff_is_markdown_against_the_base_branch() -> None:
    diff_steps = [step["run"] for _, step in STEPS if re.search(r"\bmake diff\b", step.get("run", ""))]
    assert len(diff_steps) == 1 and "FORMAT=markdown" in diff_steps[0] and 'BASE="origin/$BASE_REF"' in diff_steps[0]


def test_actions_are_pinned_to_commits() -> None:
    uses = re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", TEXT, re.MULTILINE)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), f"{action} is not pinned to a full commit SHA"
        assert re.fullmatch(r"\s+# v\d+(\.\d+)*", comment), f"{action} has no `# vX.Y.Z` comment naming its release"


def test_only_the_commenting_job_may_write() -> None:
    assert DOCUMENT["permissions"] == {"contents": "read"}
    writers = {name for name, job in JOBS.items() if "write" in (job.get("permissions") or {}).values()}
    assert writers == {"diff"} and JOBS["diff"]["permissions"] == {"contents": "read", "pull-requests": "write"}


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside a copy of the repository")
def test_the_freshness_step_fails_on_a_stale_dist(tmp_path: Path) -> None:
    step = next(step["run"] for _, step in STEPS if "git status --porcelain -- dist docs" in step.get("run", ""))
    repo = copy_repository(tmp_path / "repo")
    (repo / ".git" / "info" / "exclude").write_text("/.venv\n/.venv-checkov\n/node_modules\n")
    stale = min((repo / "dist").rglob("Deployment.*.k8s.yaml"))
    stale.write_text(stale.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    git = ["git", "-c", "user.name=ci test", "-c", "user.email=ci@example.com"]
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a hand edit of dist/"], cwd=repo, check=True)
    # `make` as the step runs it, told (as repo_copy's make does) that the linked set-up is done.
    done = run(repo, "bash", "-eo", "pipefail", "-c", step.replace("make synth", f"make -s {' '.join(SET_UP)} synth"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::error::dist/ or docs/ differ from a fresh synthesis" in done.stdout
    assert str(stale.relative_to(repo)) in done.stdout
