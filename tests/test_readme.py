"""The README cannot rot: every ```python block runs (each in a fresh namespace with a throwaway
`app`, in a folder whose flows/ holds the template's flows, tests/fixtures/flows/), and the commands
and paths it quotes are what the template's architecture (tests/example_app.py) generates. So the
README stays checked when a team changes main.py and flows/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, example
from example_app import FLOWS

from langflow_cdk8s.tooling.synth import new_app

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")


def snippets() -> list[tuple[str, int, str]]:
    """(nearest heading, first line number in README.md, code) of every ```python block."""
    found = []
    for match in re.finditer(r"^```python\n(.*?)^```", TEXT, re.S | re.M):
        heading = re.findall(r"^#+ (.+)$", TEXT[:match.start()], re.M)[-1]
        found.append((heading, TEXT.count("\n", 0, match.start()) + 2, match.group(1)))
    return found


SNIPPETS = snippets()


def test_the_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 8, "the Customize section lost its examples"


@pytest.mark.parametrize(("heading", "line", "code"), SNIPPETS,
                         ids=[re.sub(r"\W+", "-", h.lower()).strip("-") for h, _, _ in SNIPPETS])
def test_snippet_runs(heading: str, line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FLOWS, tmp_path / "flows")
    monkeypatch.chdir(tmp_path)
    app = new_app(str(tmp_path / "out"))
    # Padding makes a traceback point at the README's own line numbers.
    exec(compile("\n" * (line - 1) + code, str(README), "exec"), {"app": app})
    charts = [chart.node.id for chart in app.charts]
    assert charts or re.search(r"^\s*assert ", code, re.M), f"the snippet under '{heading}' neither synthesizes nor asserts"
    if charts:
        app.synth()
        written = {path.parent.name for path in (tmp_path / "out").rglob("*.k8s.yaml")}
        assert written == set(charts), f"the snippet under '{heading}' wrote {sorted(written)}, not {sorted(charts)}"


def test_quoted_secret_commands_are_the_generated_ones() -> None:
    """A `kubectl create secret` command in the README is a copy from the template's docs/environments/."""
    synthesis = example()
    generated = "\n".join(synthesis.page(folder)
                          for folder in sorted({path.split("/")[0] for path in synthesis.files}))
    commands = re.findall(r"^ *(kubectl -n \S+ create secret .*?)(?<!\\)$", TEXT, re.M | re.S)
    assert commands
    for command in commands:
        assert re.sub(r"\n *", "\n  ", command) in generated, f"README quotes a command docs/ does not generate:\n{command}"


def test_quoted_dist_folders_exist() -> None:
    folders = {path.split("/")[0] for path in example().files}
    quoted = set(re.findall(r"dist/([a-z0-9-]+)/", TEXT)) - {"staging"}   # staging: the add-an-environment example
    assert quoted <= folders, f"README names dist/ folders that synthesis does not write: {sorted(quoted - folders)}"


def test_make_help_lists_every_target() -> None:
    """`make help` has one line per target the Makefile declares phony, so a new target is documented."""
    import subprocess

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.search(r"^\.PHONY: (.+)$", makefile, re.M).group(1).split()  # type: ignore[union-attr]
    shown = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    listed = [line.split()[1] for line in shown]
    assert sorted(listed) == sorted(targets), shown
    assert all(len(line.split(None, 2)) == 3 for line in shown), "each target has its line of description"
