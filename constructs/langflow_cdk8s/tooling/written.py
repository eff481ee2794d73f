"""What cdk8s wrote for each environment, read once for the synthesis summary: the count per kind
(from the `Kind.name.k8s.yaml` file names) and the objects that run pods or scale them, which the
summary's quota check sums. It only reads: what is written is final."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..mechanics.hardening import POD_PATHS, pod_spec
from ..patterns.environment import Environment
from .inventory import read_manifest

READ_KINDS = frozenset({*POD_PATHS, "HorizontalPodAutoscaler"})
"""Workloads and how far they scale (quota)."""


@dataclass(frozen=True)
class Written:
    kinds: Counter[str]
    objects: list[dict[str, Any]]
    """The objects of READ_KINDS, as written, with only what the summary reads (`essentials`)."""


def read(outdir: Path, env: Environment) -> Written:
    files = sorted((outdir / env.name).glob("*.k8s.yaml"))
    kinds = Counter(path.name.split(".", 1)[0] for path in files)
    return Written(kinds, [essentials(read_manifest(path)) for path in files if path.name.split(".", 1)[0] in READ_KINDS])


def essentials(manifest: dict[str, Any]) -> dict[str, Any]:
    """A workload with only its name, scale, strategy and its containers' names and resources (what
    the idle line and the quota check read); an autoscaler whole. Env vars, probes and volumes are
    most of a workload, and a summary of 500 flows would otherwise hold them all at once."""
    path = POD_PATHS.get(manifest["kind"])
    if path is None:
        return manifest
    pod = pod_spec(manifest, path)
    lean: Any = {kind: [{"name": c["name"], "resources": c.get("resources", {})} for c in pod.get(kind, [])]
            for kind in ("initContainers", "containers")}
    spec = {key: manifest["spec"].get(key) for key in ("replicas", "strategy") if key in manifest["spec"]}
    for part in reversed(path[1:]):
        lean = {part: lean}
    return {"kind": manifest["kind"], "metadata": {"name": manifest["metadata"]["name"]}, "spec": {**spec, **lean}}
