"""What a kubelet derives from a pod template before it starts anything: env with secret and
ConfigMap references resolved and `$(VAR)` expanded, volume contents, mounts, user and command.

Pure functions over manifests, so they are unit-tested in `make test` without Langflow.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# What `docker inspect langflowai/langflow:1.13.0` reports for the image.
LANGFLOW_IMAGE = {
    "command": ["langflow", "run"],
    "workdir": "/app",
    "env": {"PATH": "/app/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/app/data", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"},
}

_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class PodSpecError(Exception):
    """The pod could not start as the kubelet would start it; the message names object and cause."""


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' dependent-variable expansion: `$(VAR)` becomes VAR's value when VAR is defined
    earlier, `$$` becomes `$`, and an undefined reference stays as written."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _REFERENCE.sub(replace, value)


@dataclass
class Objects:
    """The ConfigMaps of one dist/ folder and the test-only Secrets fixture."""

    config_maps: dict[str, dict[str, str]]
    secrets: Mapping[str, Mapping[str, str]]

    @staticmethod
    def load(folder: Path, secrets: Mapping[str, Mapping[str, str]]) -> Objects:
        maps = {}
        for path in sorted(folder.glob("ConfigMap.*.yaml")):
            doc = yaml.safe_load(path.read_text())
            maps[doc["metadata"]["name"]] = dict(doc.get("data") or {})
        return Objects(config_maps=maps, secrets=secrets)

    def config_map(self, owner: str, name: str) -> dict[str, str]:
        if name not in self.config_maps:
            raise PodSpecError(f"{owner}: ConfigMap {name!r} is not in dist/ (the pod would stay in ContainerCreating)")
        return self.config_maps[name]

    def secret(self, owner: str, name: str) -> Mapping[str, str]:
        if name not in self.secrets:
            raise PodSpecError(f"{owner}: Secret {name!r} is not in the test secrets (CreateContainerConfigError)")
        return self.secrets[name]


def _key(owner: str, source: Mapping[str, str], kind: str, name: str, key: str, optional: bool) -> str | None:
    if key not in source:
        if optional:
            return None
        raise PodSpecError(f"{owner}: {kind} {name!r} has no key {key!r} (CreateContainerConfigError)")
    return source[key]


def container_env(owner: str, container: Mapping[str, Any], objects: Objects,
                  base: Mapping[str, str]) -> dict[str, str]:
    """The process environment: image env, then envFrom, then env in order, each `$(VAR)`-expanded
    against what came before (as the kubelet does)."""
    env = dict(base)
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref = source["configMapRef"]
            data = objects.config_map(owner, ref["name"])
        else:
            ref = source["secretRef"]
            data = objects.secret(owner, ref["name"])
        env.update({prefix + k: v for k, v in data.items()})
    for entry in container.get("env", []):
        name = entry["name"]
        if "value" in entry:
            env[name] = expand(str(entry["value"]), env)
            continue
        ref = entry.get("valueFrom", {})
        if "secretKeyRef" in ref:
            r = ref["secretKeyRef"]
            value = _key(owner, objects.secret(owner, r["name"]), "Secret", r["name"], r["key"], r.get("optional", False))
        elif "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            value = _key(owner, objects.config_map(owner, r["name"]), "ConfigMap", r["name"], r["key"],
                         r.get("optional", False))
        else:
            raise PodSpecError(f"{owner}: env {name} uses {sorted(ref)}, which this runner does not emulate")
        if value is not None:
            env[name] = value
        elif name not in env:
            env[name] = ""
    return env


@dataclass
class Mount:
    """One bind of a materialized volume into the container."""

    source: Path
    target: str
    read_only: bool


@dataclass
class Volumes:
    """Volumes written to disk the way the kubelet lays them out."""

    root: Path
    fs_group: int | None
    claims: Mapping[str, Path] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)

    def materialize(self, owner: str, volumes: Sequence[Mapping[str, Any]], objects: Objects) -> None:
        for volume in volumes:
            name = volume["name"]
            if "emptyDir" in volume:
                self.paths[name] = self._dir(name, mode=0o777)
            elif "persistentVolumeClaim" in volume or name in self.claims:
                claim = self.claims.get(name)
                if claim is None:
                    raise PodSpecError(f"{owner}: volume {name!r} names a claim the runner was not given")
                claim.mkdir(parents=True, exist_ok=True)
                self._own(claim, 0o2775)
                self.paths[name] = claim
            elif "configMap" in volume:
                spec = volume["configMap"]
                self.paths[name] = self._files(name, self._items(spec, objects.config_map(owner, spec["name"])),
                                               spec.get("defaultMode", 0o644))
            elif "secret" in volume:
                spec = volume["secret"]
                self.paths[name] = self._files(name, self._items(spec, objects.secret(owner, spec["secretName"])),
                                               spec.get("defaultMode", 0o644))
            elif "projected" in volume:
                files: dict[str, tuple[str, int | None]] = {}
                for source in volume["projected"]["sources"]:
                    if "configMap" in source:
                        spec = source["configMap"]
                        data = objects.config_map(owner, spec["name"])
                    elif "secret" in source:
                        spec = source["secret"]
                        data = objects.secret(owner, spec["name"])
                    else:
                        raise PodSpecError(f"{owner}: projected source {sorted(source)} is not emulated")
                    files.update(self._items(spec, data))
                self.paths[name] = self._files(name, files, volume["projected"].get("defaultMode", 0o644))
            else:
                raise PodSpecError(f"{owner}: volume {name!r} of type {sorted(set(volume) - {'name'})} is not emulated")
        for name, claim in self.claims.items():  # a StatefulSet's volumeClaimTemplates
            if name not in self.paths:
                claim.mkdir(parents=True, exist_ok=True)
                self._own(claim, 0o2775)
                self.paths[name] = claim

    @staticmethod
    def _items(spec: Mapping[str, Any], data: Mapping[str, str]) -> dict[str, tuple[str, int | None]]:
        if "items" in spec:
            return {item["path"]: (data[item["key"]], item.get("mode")) for item in spec["items"]}
        return {key: (value, None) for key, value in data.items()}

    def _dir(self, name: str, mode: int) -> Path:
        path = self.root / "volumes" / name
        path.mkdir(parents=True, exist_ok=True)
        self._own(path, mode)
        return path

    def _own(self, path: Path, mode: int) -> None:
        if self.fs_group is not None:
            os.chown(path, 0, self.fs_group)
        os.chmod(path, mode)

    def _files(self, name: str, files: Mapping[str, tuple[str, int | None]], default_mode: int) -> Path:
        """The kubelet's atomic-writer layout: a timestamped data dir behind `..data`, and each key
        a symlink `key -> ..data/key`, so readers see what a real pod sees."""
        top = self._dir(name, 0o755 if self.fs_group is None else 0o2755)
        data = top / "..2026_12_01_00_00_00.000000000"
        data.mkdir()
        for rel, (content, mode) in files.items():
            target = data / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            os.chmod(target, mode if mode is not None else default_mode)
            if self.fs_group is not None:
                os.chown(target, 0, self.fs_group)
        (top / "..data").symlink_to(data.name)
        for rel in {r.split("/")[0] for r in files}:
            (top / rel).symlink_to(f"..data/{rel}")
        return top

    def mounts(self, owner: str, container: Mapping[str, Any]) -> list[Mount]:
        result = []
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in self.paths:
                raise PodSpecError(f"{owner}: volumeMount {mount['name']!r} names no volume of the pod")
            source = self.paths[mount["name"]]
            if mount.get("subPath"):
                source = source / mount["subPath"]
                if not source.exists() and not mount.get("readOnly"):
                    source.mkdir(parents=True)
                    self._own(source, 0o2775)
            result.append(Mount(source=source, target=mount["mountPath"], read_only=bool(mount.get("readOnly"))))
        return result


def identity(pod: Mapping[str, Any], container: Mapping[str, Any]) -> tuple[int, int, list[int]]:
    """uid, gid and supplementary groups (fsGroup) the kubelet runs the container with."""
    pod_ctx = pod.get("securityContext", {})
    ctx = {**pod_ctx, **container.get("securityContext", {})}
    uid = ctx.get("runAsUser", 1000)
    gid = ctx.get("runAsGroup", 0)
    groups = [pod_ctx["fsGroup"]] if "fsGroup" in pod_ctx else []
    return uid, gid, groups


def command(container: Mapping[str, Any], env: Mapping[str, str], image: Mapping[str, Any]) -> list[str]:
    """command/args as Kubernetes combines them with the image's CMD, `$(VAR)`-expanded."""
    if container.get("command"):
        argv = [*container["command"], *container.get("args", [])]
    else:  # the image has a CMD and no ENTRYPOINT: args replace the CMD
        argv = container.get("args") or image["command"]
    return [expand(str(part), env) for part in argv]


def memory_limit(container: Mapping[str, Any]) -> int | None:
    """The memory limit in bytes, from a Kubernetes quantity."""
    value = container.get("resources", {}).get("limits", {}).get("memory")
    if value is None:
        return None
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if str(value).endswith(suffix):
            return int(float(str(value)[: -len(suffix)]) * factor)
    return int(value)
