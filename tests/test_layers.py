"""The package's folders are layers: each imports only from the layers below it, so there is no cycle.

tooling (synthesis wrapper, docs) -> patterns (public constructs) -> mechanics (cdk8s-plus composition)
-> props (plain value types) -> errors.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "constructs" / "langflow_cdk8s"
ORDER = ["errors", "props", "mechanics", "patterns", "tooling"]
"""Lowest first; a module may import its own layer and any lower one."""

MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent.relative_to(PACKAGE).parts[: len(path.parent.relative_to(PACKAGE).parts) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            if target:
                found.add(target[0] if target[0] in ORDER else layer(path))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("langflow_cdk8s."):
            found.add(node.module.split(".")[1])
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    own = ORDER.index(layer(path))
    above = sorted(name for name in imported_layers(path) if name in ORDER and ORDER.index(name) > own)
    assert not above, f"{path.relative_to(PACKAGE)} ({layer(path)}) imports {', '.join(above)}"


def test_every_layer_is_a_folder_or_the_error_type() -> None:
    assert {layer(p) for p in MODULES} == set(ORDER)


def test_no_library_file_is_over_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_unit_tests_follow_the_layers() -> None:
    """tests/<layer>/ holds the unit tests of that layer of the package; what holds for the whole
    repository (gates, snapshots, README, adoption) stays at the top of tests/, real Langflow in tests/e2e/."""
    tests = ROOT / "tests"
    folders = {p.name for p in tests.iterdir() if p.is_dir() and any(p.glob("test_*.py"))} - {"e2e"}
    assert folders, "no unit-test folder: tests/<layer>/ mirrors constructs/langflow_cdk8s/<layer>/"
    assert folders <= set(ORDER), f"{sorted(folders - set(ORDER))} is no layer of the package ({ORDER})"
