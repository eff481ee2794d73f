"""What cdk8s wrote for each environment, read back once: the count per kind (from the
`Kind.name.k8s.yaml` file names) and the objects that run pods or scale them, which the hardening
check and the summary's quota check read. Reading a few files costs less than asking Node to render
the objects again (docs/benchmarks.md)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s

from ..mechanics.hardening import POD_PATHS, needs_correction, verified_after_writing
from ..mechanics.tree import api_objects, api_version_kind
from ..patterns.environment import Environment
from .inventory import read_manifest
from .report import VALIDATION_FAILED

READ_KINDS = frozenset({*POD_PATHS, "HorizontalPodAutoscaler"})
"""Workloads (hardening, quota) and how far they scale (quota)."""


@dataclass(frozen=True)
class Written:
    kinds: Counter[str]
    objects: list[dict[str, Any]]
    """The objects of READ_KINDS, as written."""


def read(outdir: Path, env: Environment) -> Written:
    files = sorted((outdir / env.name).glob("*.k8s.yaml"))
    kinds = Counter(path.name.split(".", 1)[0] for path in files)
    return Written(kinds, [read_manifest(path) for path in files if path.name.split(".", 1)[0] in READ_KINDS])


def write_hardened(app: cdk8s.App, environments: list[Environment]) -> dict[str, Written]:
    """`app.synth()` with each environment's hardening checked on the written files instead of on
    objects rendered for it (see mechanics/hardening.py): a pod a user changed is corrected and
    the app written again; what no patch can fix fails as the validation would. Every environment
    of the app is checked, also one that `build` did not return."""
    outdir = Path(app.outdir)
    environments = [*environments, *(child for child in app.node.children
                                     if isinstance(child, Environment) and child not in environments)]
    with verified_after_writing():
        app.synth()
        written = {env.name: read(outdir, env) for env in environments}
        errors, corrected = _correct(environments, written)
        if errors:
            raise RuntimeError("\n  ".join([VALIDATION_FAILED, *errors]))
        if corrected:
            app.synth()
            written = {env.name: read(outdir, env) for env in environments}
            left = [f"{env.name}/{kind}.{name}" for env in environments for kind, name in _needing(written[env.name])]
            if left:
                raise AssertionError(f"hardening patched, yet the written objects still need it: {', '.join(left)}")
    return written


def _correct(environments: list[Environment], written: dict[str, Written]) -> tuple[list[str], bool]:
    errors, corrected = [], False
    for env in environments:
        needing = _needing(written[env.name])
        if not needing:
            continue
        for api_object in api_objects(env):
            kind = api_version_kind(api_object)[1]
            manifest = needing.get((kind, api_object.name)) if kind in POD_PATHS else None
            if manifest is None:
                continue
            errors += [f"[{env.node.path}] {problem}" for problem in env.hardening.correct(api_object, manifest)]
            corrected = True
    return errors, corrected


def _needing(written: Written) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> the written objects that hardening would still patch or refuse."""
    return {(m["kind"], m["metadata"]["name"]): m for m in written.objects if needs_correction(m)}
