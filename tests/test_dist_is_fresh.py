"""dist/ is committed for Argo CD, so it must always equal a fresh synthesis."""

import os
import tempfile
from pathlib import Path

from conftest import ROOT, Synthesis, read_tree

import main
from langflow_cdk8s.tooling.synth import synth


def test_committed_dist_equals_a_fresh_synth(ref: Synthesis) -> None:
    committed = read_tree(ROOT / "dist") if (ROOT / "dist").is_dir() else {}
    stale = sorted(path for path in set(committed) | set(ref.files) if committed.get(path) != ref.files.get(path))
    assert not stale, (
        f"dist/ is stale in {len(stale)} file(s): {', '.join(stale[:20])}{' …' if len(stale) > 20 else ''}\n"
        "run `make synth` and commit dist/"
    )


def test_synthesis_is_deterministic(ref: Synthesis) -> None:
    with tempfile.TemporaryDirectory() as outdir, open(os.devnull, "w") as quiet:
        assert synth(main.build, outdir=outdir, stream=quiet) == 0
        assert read_tree(Path(outdir)) == ref.files
