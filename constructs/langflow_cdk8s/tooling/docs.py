"""Documentation generated from what the library really emits and accepts, so it cannot drift:
per synthesized folder a Mermaid diagram, an isolation summary, the Secrets to create and the
object list (docs/environments/<folder>.md); and the props reference (docs/reference.md).

The generators are pure functions of their input and deterministic, so tests compare the committed
docs/ with a fresh synthesis. `make synth` runs `python -m langflow_cdk8s.tooling.docs <dist-dir> <docs-dir>`
on the new synthesis before it replaces dist/ and docs/.
"""


from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m langflow_cdk8s.tooling.docs",
                                     description="Write docs/environments/*.md and docs/reference.md.")
    parser.add_argument("dist", type=Path, help="a synthesized folder, such as dist/")
    parser.add_argument("docs", type=Path, help="where environments/<folder>.md and reference.md go")
    args = parser.parse_args(argv)
    if not args.dist.is_dir() or not any(p.is_dir() for p in args.dist.iterdir()):
        parser.error(f"{args.dist} holds no synthesized folders")
    write(args.dist, args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
