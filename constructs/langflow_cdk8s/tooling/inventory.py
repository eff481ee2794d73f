"""What an environment's objects expect to find in the cluster: the Secrets (and keys) that must
be created by hand, because secret values never enter dist/."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ..mechanics.workload import WORKLOAD_KINDS


def read_manifest(path: Path) -> dict[str, Any]:
    """One object as cdk8s wrote it (one object per file), with libyaml where PyYAML has it."""
    with path.open("rb") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=_LOADER)  # a safe loader
    return document


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def pod_specs(objects: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(object, pod spec) for every workload."""
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            yield obj, obj["spec"]["template"]["spec"]


def required_secrets(objects: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Secret name -> keys the objects read from it (an empty set: the whole Secret is used,
    as by envFrom, TLS or image pull secrets)."""
    objects = list(objects)
    needed: dict[str, set[str]] = {}
    for _, pod in pod_specs(objects):
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    needed.setdefault(ref["name"], set()).add(ref["key"])
            for entry in container.get("envFrom", []):
                if "secretRef" in entry:
                    needed.setdefault(entry["secretRef"]["name"], set())
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                keys = {item["key"] for item in volume["secret"].get("items", [])}
                needed.setdefault(volume["secret"]["secretName"], set()).update(keys)
            for source in volume.get("projected", {}).get("sources", []):
                if "secret" in source:
                    needed.setdefault(source["secret"]["name"], set())
        for pull in pod.get("imagePullSecrets", []):
            needed.setdefault(pull["name"], set()).add(".dockerconfigjson")
    for obj in objects:
        if obj["kind"] == "Ingress":
            for tls in obj["spec"].get("tls", []):
                if "secretName" in tls:   # none on EKS: the ALB takes the host's ACM certificate
                    needed.setdefault(tls["secretName"], set()).update({"tls.crt", "tls.key"})
    return dict(sorted(needed.items()))
