"""What an environment's objects expect to find in the cluster: the Secrets (and keys) that must
be created by hand, because secret values never enter dist/."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def read_manifest(path: Path) -> dict[str, Any]:
    """One object as cdk8s wrote it (one object per file); as `yaml.safe_load` reads it, faster."""
    loader = _Loader(path.read_text(encoding="utf-8"))
    try:
        node = loader.get_single_node()
        return _build(loader, node) if node is not None else None  # type: ignore[return-value]
    finally:
        loader.dispose()


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR, _MAP, _MERGE = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:merge"
_TAGS: dict[str, str] = {}
_SCALARS: dict[tuple[str, str], Any] = {}


class _Loader(_Base):
    """libyaml's parser (where PyYAML has it) with each plain scalar's type looked up once per value.
    Reading back the workloads is part of every synthesis (tooling/written.py): this takes it from
    about 1 ms to 0.5 ms per Deployment."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = _TAGS.get(value)
            if tag is None:
                tag = _TAGS[value] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)


def _build(loader: _Loader, node: yaml.Node) -> Any:
    """The value of a node, as SafeConstructor makes it; strings directly, other scalars once per value."""
    kind = type(node)
    if kind is yaml.MappingNode:
        if node.tag != _MAP or any(key.tag == _MERGE for key, _ in node.value):
            return loader.construct_object(node, deep=True)
        return {_build(loader, key): _build(loader, value) for key, value in node.value}
    if kind is yaml.SequenceNode:
        return [_build(loader, item) for item in node.value]
    if node.tag == _STR:
        return node.value
    key = (node.tag, node.value)
    if key not in _SCALARS:
        _SCALARS[key] = loader.construct_object(node, deep=True)
    return _SCALARS[key]


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
