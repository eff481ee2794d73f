"""Shared fixtures, each synthesized once per session into a temporary folder:

- `ref`: main.py's app, whatever the team made of it. Tests on it are generic: gates, freshness,
  determinism, invariants that hold for every configuration.
- `example`: tests/example_app.py, the template's architecture owned by the tests: library
  behaviour with expected values (snapshots, names, sync policies).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# The e2e tier runs real Langflow as root-created pods: only `make e2e` (LANGFLOW_E2E=1) collects it.
collect_ignore = [] if os.environ.get("LANGFLOW_E2E") else ["e2e"]


@dataclass(frozen=True)
class Synthesis:
    """A synthesized app: the files cdk8s wrote, by path relative to the output folder."""

    outdir: Path
    files: dict[str, str]

    def objects(self, folder: str | None = None) -> list[dict]:
        return [yaml.safe_load(text) for path, text in sorted(self.files.items())
                if folder is None or path.startswith(f"{folder}/")]

    def get(self, folder: str, kind: str, name: str) -> dict:
        return yaml.safe_load(self.files[f"{folder}/{kind}.{name}.k8s.yaml"])


def read_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _synthesize(build: Callable[[Any], Any], what: str) -> Synthesis:
    from langflow_cdk8s.synth import synth

    outdir = Path(tempfile.mkdtemp(prefix=f"langflow-{what}-"))
    with open(os.devnull, "w") as quiet:
        code = synth(build, outdir=str(outdir), stream=quiet)
    assert code == 0, f"the {what} app failed to synthesize: run `make synth` to see why"
    return Synthesis(outdir=outdir, files=read_tree(outdir))


@functools.cache
def reference() -> Synthesis:
    """main.py's app, synthesized like `make synth` does (also used at collection time)."""
    import main
    return _synthesize(main.build, "reference")


@functools.cache
def example() -> Synthesis:
    """tests/example_app.py's app (also used at collection time)."""
    import example_app
    return _synthesize(example_app.build, "example")


@pytest.fixture(scope="session")
def ref() -> Synthesis:
    return reference()


@pytest.fixture(scope="session", name="example")
def example_fixture() -> Synthesis:
    return example()


@pytest.fixture(scope="session")
def sample() -> list:
    """The example app's files as the gates read them: what the gate tests break copies of."""
    from gates import load_tree
    return load_tree(example().outdir)


def environment_folders(synthesis: Synthesis) -> list[str]:
    """Folders of a synthesis that hold an environment (a Namespace), not Argo CD's objects."""
    return sorted({path.split("/")[0] for path in synthesis.files if path.split("/")[1].startswith("Namespace.")})


def pytest_sessionfinish(session: pytest.Session) -> None:
    for cached in (reference, example):
        if cached.cache_info().currsize:
            shutil.rmtree(cached().outdir, ignore_errors=True)
