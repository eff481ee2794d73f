"""A temporary copy of the repository, to run `make` and `cdk8s synth` in as a user would.

The copy holds the tracked files plus new ones not yet committed (but not ignored), with their
mtimes, and shares the set-up (.venv, .venv-checkov, node_modules) by symlink; `make` is told
never to redo that set-up there (it would reinstall into the shared folders).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT

SHARED = (".venv", ".venv-checkov", "node_modules")
SET_UP = [f"--old-file={target}" for target in (".venv/.installed", "node_modules/.installed", ".venv-checkov/.installed")]
NESTED = "LANGFLOW_CDK8S_NESTED_TEST_RUN"
"""Set in a `make test` run inside a copy, so the tests that make copies do not recurse."""


def copy_repository(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)  # keeps mtimes, so make sees the set-up as done
    for shared in SHARED:
        if (ROOT / shared).exists():
            (target / shared).symlink_to(ROOT / shared)
    # A clone is a Git work tree: tests that copy the repository again list its files with git.
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    return target


def user_env() -> dict[str, str]:
    """The environment of a user's shell: no jsii silencing or CLI settings inherited from this run."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JSII_", "CDK8S_", "PYTEST_", "MAKE", "MFLAGS"))}
    # PYTHONPATH: run() points it at the copy's own library, not the editable install (this checkout).
    # CDK8S_CHECK_UPGRADE: without it the CLI asks npm for a newer version (offline here: a Node stack).
    return {**env, "PYTHONPATH": "", NESTED: "1", "CDK8S_CHECK_UPGRADE": "false"}


def run(repo: Path, *command: str, timeout: int = 300, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = user_env()
    env["PYTHONPATH"] = f"{repo / 'constructs'}{os.pathsep}{repo}"
    return subprocess.run(list(command), cwd=cwd or repo, capture_output=True, text=True, timeout=timeout, env=env)


def make(repo: Path, target: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return run(repo, "make", "-s", *SET_UP, target, timeout=timeout)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
