"""Documentation generated from what the library really emits and accepts, so it cannot drift:
per synthesized folder a Mermaid diagram, an isolation summary, the Secrets to create and the
object list (docs/environments/<folder>.md); and the props reference (docs/reference.md).

The generators are pure functions of their input and deterministic, so tests compare the committed
docs/ with a fresh synthesis. `make synth` writes them from the new synthesis and its environments
(tooling/publish.py) before it replaces dist/ and docs/.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..mechanics.secret_refs import SecretReferences
from .diagram import read_folder
from .pages import environment_markdown
from .reference import reference_markdown


def write(dist: Path, docs: Path, registries: Mapping[str, SecretReferences]) -> list[Path]:
    """Writes docs/environments/<folder>.md for every folder of `dist` (the Secrets each environment
    reads from its registry of Secret references, by environment name; the rest from the synthesized
    objects), and docs/reference.md."""
    (docs / "environments").mkdir(parents=True, exist_ok=True)
    written = []
    for folder in sorted(p for p in dist.iterdir() if p.is_dir()):
        target = docs / "environments" / f"{folder.name}.md"
        target.write_text(environment_markdown(folder.name, read_folder(folder), registries.get(folder.name)),
                          encoding="utf-8")
        written.append(target)
    (docs / "reference.md").write_text(reference_markdown(), encoding="utf-8")
    return [*written, docs / "reference.md"]
