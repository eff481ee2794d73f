"""Documentation generated from what the library really emits and accepts, so it cannot drift:
per synthesized folder a Mermaid diagram, an isolation summary, the Secrets to create and the
object list (docs/environments/<folder>.md); and the props reference (docs/reference.md).

The generators are pure functions of their input and deterministic, so tests compare the committed
docs/ with a fresh synthesis. The app's synthesis writes them from the staged output before it
replaces dist/ and docs/ (publish.py).
"""

from __future__ import annotations

from pathlib import Path

from .diagram import read_folder
from .pages import environment_markdown
from .reference import reference_markdown


def write(dist: Path, docs: Path) -> list[Path]:
    """Writes docs/environments/<folder>.md for every folder of `dist`, and docs/reference.md."""
    (docs / "environments").mkdir(parents=True, exist_ok=True)
    written = []
    for folder in sorted(p for p in dist.iterdir() if p.is_dir()):
        target = docs / "environments" / f"{folder.name}.md"
        target.write_text(environment_markdown(folder.name, read_folder(folder)), encoding="utf-8")
        written.append(target)
    (docs / "reference.md").write_text(reference_markdown(), encoding="utf-8")
    return [*written, docs / "reference.md"]
