"""Shared fixtures: the reference app is synthesized once per session, into a temporary folder."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
        for name, field in node["data"].get("node", {}).get("template", {}).items():
            if name in CHOICES and isinstance(field, dict) and field.get("value") in ("", None, []):
                field["value"] = CHOICES[name]
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
    from langflow_cdk8s.synth import synth

    outdir = Path(tempfile.mkdtemp(prefix="langflow-reference-"))
    with open(os.devnull, "w") as quiet:
        code = synth(main.build, outdir=str(outdir), stream=quiet)
    assert code == 0, "the reference app failed to synthesize: run `make synth` to see why"
    return Synthesis(outdir=outdir, files=read_tree(outdir))


@pytest.fixture(scope="session")
def ref() -> Synthesis:
    return reference()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if reference.cache_info().currsize:
        shutil.rmtree(reference().outdir, ignore_errors=True)
    if runnable_starters.cache_info().currsize:
        shutil.rmtree(runnable_starters(), ignore_errors=True)
