"""Writing the repository's dist/ and docs/: into a staging folder first, swapped in only on success.

Every way of starting the app ends here: `make synth`, `cdk8s synth` (npx or the locked CLI, both
through cdk8s.yaml's `app`) and `python main.py`. cdk8s-cli empties its output folder before it runs
the app, so cdk8s.yaml points that folder at `.build/cdk8s.out`, never at dist/.

On failure under cdk8s-cli the app itself exits 0 and leaves `synthesis-failed.yaml` in the CLI's
output folder; the validation plugin `scripts/cdk8s-synthesis-status` (listed in cdk8s.yaml) then
ends the CLI with the app's exit code. Exiting non-zero here would make cdk8s-cli print a Node stack
under the two-line error.
"""

from __future__ import annotations

import inspect
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..patterns.environment import Environment
from . import docs

FAILED_MARKER = "synthesis-failed.yaml"
STATUS_PLUGIN = "./scripts/cdk8s-synthesis-status"


def repository_of(build: Callable[..., object]) -> Path:
    """The folder of the file that defines `build` (main.py): where dist/ and docs/ are, whatever the cwd."""
    return Path(inspect.getfile(build)).resolve().parent


def staging_folder(root: Path) -> Path:
    """cdk8s-cli's output folder when it runs the app (CDK8S_OUTDIR), otherwise .build/dist."""
    outdir = os.environ.get("CDK8S_OUTDIR")
    return Path(outdir).resolve() if outdir else root / ".build" / "dist"


def cli_reports_failures() -> bool:
    """Whether cdk8s-cli runs the app and will run our status plugin after it: it sets
    CDK8S_RECORD_CONSTRUCT_METADATA=true exactly when validation plugins will run, and cdk8s.yaml
    (in its working directory) must list ours."""
    if not os.environ.get("CDK8S_OUTDIR") or os.environ.get("CDK8S_RECORD_CONSTRUCT_METADATA") != "true":
        return False
    config = Path("cdk8s.yaml")
    return config.is_file() and STATUS_PLUGIN in config.read_text(encoding="utf-8")


def report_failure(staging: Path, code: int) -> int:
    """The process exit code for a failed synthesis (see the module docstring)."""
    if not cli_reports_failures():
        return code
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / FAILED_MARKER).write_text(f"# written by langflow_cdk8s when synthesis fails\nexitCode: {code}\n")
    return 0


def _swap(new: Path, target: Path, old: Path) -> None:
    """Replaces `target` with `new`; `old` holds the previous one for the moment in between."""
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def publish(root: Path, staging: Path, environments: Sequence[Environment]) -> None:
    """Generates the docs from the synthesized `staging` folder, then replaces dist/,
    docs/environments/ and docs/reference.md. Nothing is replaced if the docs fail."""
    build = root / ".build"
    new_dist, new_docs = build / "dist.new", build / "docs.new"
    for folder in (new_dist, new_docs):
        shutil.rmtree(folder, ignore_errors=True)
    docs.write(staging, new_docs, {env.name: env.secret_references for env in environments})
    # cdk8s-cli lists (and validation plugins read) its output folder after the app: keep it.
    shutil.copytree(staging, new_dist)
    (root / "docs").mkdir(exist_ok=True)
    _swap(new_dist, root / "dist", build / "dist.old")
    _swap(new_docs / "environments", root / "docs" / "environments", build / "docs.old")
    os.replace(new_docs / "reference.md", root / "docs" / "reference.md")
    shutil.rmtree(new_docs, ignore_errors=True)


def misplaced_output(root: Path, staging: Path) -> bool:
    """cdk8s-cli pointed at dist/ itself has already emptied it: nothing left to protect."""
    return staging == (root / "dist").resolve()


def print_lines(lines: list[str], stream: TextIO) -> None:
    for line in lines:
        print(line, file=stream)
