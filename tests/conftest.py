"""Shared fixtures, each synthesized once per session into a temporary folder:

- `ref`: main.py's app, whatever the team made of it. Tests on it are generic: gates, freshness,
  determinism, invariants that hold for every configuration.
- `example`: tests/example_app.py, the template's architecture owned by the tests: library
  behaviour with expected values (snapshots, names, sync policies).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
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
    registries: dict[str, Any] = field(default_factory=dict)
    """Environment name -> its registry of Secret references (Environment.secret_references)."""

    def objects(self, folder: str | None = None) -> list[dict]:
        return [yaml.safe_load(text) for path, text in sorted(self.files.items())
                if folder is None or path.startswith(f"{folder}/")]

    def page(self, folder: str) -> str:
        """docs/environments/<folder>.md as `make synth` generates it from this synthesis."""
        from langflow_cdk8s.tooling import pages
        return pages.environment_markdown(folder, self.objects(folder), self.registries.get(folder))

    def get(self, folder: str, kind: str, name: str) -> dict:
        return yaml.safe_load(self.files[f"{folder}/{kind}.{name}.k8s.yaml"])


def read_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def _synthesize(build: Callable[[Any], Any], what: str) -> Synthesis:
    from langflow_cdk8s import Environment
    from langflow_cdk8s.tooling.synth import synth

    outdir = Path(tempfile.mkdtemp(prefix=f"langflow-{what}-"))
    apps = []

    def kept(app: Any) -> Any:
        apps.append(app)
        return build(app)

    with open(os.devnull, "w") as quiet:
        code = synth(kept, outdir=str(outdir), stream=quiet)
    assert code == 0, f"the {what} app failed to synthesize: run `make synth` to see why"
    registries = {env.name: env.secret_references for env in apps[0].node.children if isinstance(env, Environment)}
    return Synthesis(outdir=outdir, files=read_tree(outdir), registries=registries)


STARTERS = ROOT / "tests" / "fixtures" / "starter_flows"
"""Langflow 1.13.0's own starter projects, exported unedited: their required choices are left empty."""

OPENAI_MODEL = [{"name": "gpt-5.4-mini", "icon": "OpenAI", "provider": "OpenAI", "metadata": {
    "context_length": 128000, "model_class": "ChatOpenAI", "model_name_param": "model", "api_key_param": "api_key",
    "max_tokens_field_name": "max_tokens", "reasoning": True, "reasoning_models": ["gpt-5.4-mini"]}}]
"""A model chosen the way Langflow 1.13's IDE stores it: the one option picked from the `model` dropdown."""

CHOICES = {"model": OPENAI_MODEL, "memory_base": "support-memory", "knowledge_base": "product-docs"}
"""What a user picks in the IDE before exporting a starter: the fields every starter leaves empty."""


def with_choices_made(document: dict) -> dict:
    """The starter as exported after the user chose a value for each empty field in CHOICES."""
    for node in document["data"]["nodes"]:
        for name, entry in node["data"].get("node", {}).get("template", {}).items():
            if name in CHOICES and isinstance(entry, dict) and entry.get("value") in ("", None, []):
                entry["value"] = CHOICES[name]
    return document


@functools.cache
def runnable_starters() -> Path:
    """A folder with every starter, its required choices made (also used at collection time)."""
    folder = Path(tempfile.mkdtemp(prefix="langflow-starters-"))
    for path in sorted(STARTERS.glob("*.json")):
        (folder / path.name).write_text(json.dumps(with_choices_made(json.loads(path.read_text()))))
    return folder


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


def pytest_sessionstart(session: pytest.Session) -> None:
    """Most gates read the committed dist/: without it, say so once instead of failing each of them."""
    if not any((ROOT / "dist").glob("*/*.k8s.yaml")):
        pytest.exit("error: dist/: is missing or empty, so the gates have nothing to check\n"
                    "  fix: run `make synth` (and commit dist/ and docs/), then `make test`", returncode=2)


ADOPTION_ROOT: list[Path] = []


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: start it only when it will run
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The customization test runs a whole `make test` in a copy: start it now, in the background,
    and run its test last, so the two overlap."""
    from repo_copy import NESTED

    adopting = [item for item in items if item.nodeid.startswith("tests/test_customization.py::")]
    if not adopting or os.environ.get(NESTED) == "1":
        return
    items[:] = [item for item in items if item not in adopting] + adopting
    import test_customization
    ADOPTION_ROOT.append(Path(tempfile.mkdtemp(prefix="langflow-adoption-")))
    test_customization.start(ADOPTION_ROOT[0])


def pytest_sessionfinish(session: pytest.Session) -> None:
    for root in ADOPTION_ROOT:
        shutil.rmtree(root, ignore_errors=True)
    for cached in (reference, example):
        if cached.cache_info().currsize:
            shutil.rmtree(cached().outdir, ignore_errors=True)
    if runnable_starters.cache_info().currsize:
        shutil.rmtree(runnable_starters(), ignore_errors=True)
