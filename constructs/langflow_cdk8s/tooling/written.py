"""What cdk8s wrote for each environment, read once for the synthesis summary: the count per kind
(from the `Kind.name.k8s.yaml` file names) and the objects that run pods or scale them, which the
summary's quota check sums. It only reads: what is written is final."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..mechanics.hardening import POD_PATHS
from ..patterns.environment import Environment
from .inventory import read_manifest

READ_KINDS = frozenset({*POD_PATHS, "HorizontalPodAutoscaler"})
"""Workloads and how far they scale (quota)."""


@dataclass(frozen=True)
class Written:
    kinds: Counter[str]
    objects: list[dict[str, Any]]
    """The objects of READ_KINDS, as written."""


def read(outdir: Path, env: Environment) -> Written:
    files = sorted((outdir / env.name).glob("*.k8s.yaml"))
    kinds = Counter(path.name.split(".", 1)[0] for path in files)
    return Written(kinds, [read_manifest(path) for path in files if path.name.split(".", 1)[0] in READ_KINDS])
