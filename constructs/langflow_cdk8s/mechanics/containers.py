"""Containers as data first (so they can be checked and compared), then as cdk8s-plus containers."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cdk8s_plus_27 as kplus

from ..errors import ConfigError
from ..props.image import Image
from ..props.resources import Resources
from ..props.secrets import SecretKey
from .secret_refs import SecretReferences
from .values import SharedConstructs, command_probe, cpu, env_value, http_probe, mebibytes

PULL_POLICIES = {"IfNotPresent": kplus.ImagePullPolicy.IF_NOT_PRESENT, "Always": kplus.ImagePullPolicy.ALWAYS,
                 "Never": kplus.ImagePullPolicy.NEVER}


@dataclass(frozen=True, kw_only=True)
class HttpProbes:
    """Startup, readiness and liveness probes on one named container port.

    startup_path / readiness_path / liveness_path: HTTP paths probed.
    startup_timeout_seconds: how long a first start may take before the kubelet gives up
    (default 300: Langflow migrates its database and loads components on first start).
    """

    port: str
    startup_path: str
    readiness_path: str
    liveness_path: str
    startup_timeout_seconds: int = 300

    def to_kplus(self, ports: Mapping[str, int]) -> dict[str, kplus.Probe]:
        number = ports[self.port]
        period = 5
        return {
            "startup": http_probe(self.startup_path, number, period=period, timeout=3,
                                  failures=max(1, self.startup_timeout_seconds // period)),
            "readiness": http_probe(self.readiness_path, number, period=10, timeout=5, failures=3),
            "liveness": http_probe(self.liveness_path, number, period=20, timeout=5, failures=3),
        }


@dataclass(frozen=True, kw_only=True)
class CommandProbes:
    """Startup, readiness and liveness probes that run one command (for servers without HTTP)."""

    command: tuple[str, ...]

    def to_kplus(self, ports: Mapping[str, int]) -> dict[str, kplus.Probe]:
        return {
            "startup": command_probe(self.command, period=5, failures=60),
            "readiness": command_probe(self.command, period=10, timeout=5),
            "liveness": command_probe(self.command, period=20, timeout=5, failures=6),
        }


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    """One container: `ports` maps port names to numbers; `env` holds {name, value} or
    {name, valueFrom: {secretKeyRef}} entries; `mounts` are volumeMount dicts."""

    name: str
    image: Image
    resources: Resources
    ports: Mapping[str, int]
    env: Sequence[Mapping[str, Any]] = ()
    env_from: Sequence[Mapping[str, Any]] = ()
    probes: HttpProbes | CommandProbes | None = None
    mounts: Sequence[Mapping[str, Any]] = ()
    command: Sequence[str] | None = None
    args: Sequence[str] | None = None


def env_list(plain: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in plain.items()]


def empty_dir(name: str, size_limit: str | None = None) -> dict[str, Any]:
    """A writable scratch volume (bounded, so a runaway cache cannot fill the node's disk)."""
    return {"name": name, "emptyDir": {"sizeLimit": size_limit} if size_limit else {}}


def volume_claim(name: str, size: str, storage_class: str | None) -> dict[str, Any]:
    """A ReadWriteOnce claim template; `storage_class` None leaves the cluster's default."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


@functools.cache
def resources(value: Resources) -> kplus.ContainerResources:
    limits = value.to_manifest()["limits"]
    return kplus.ContainerResources(
        cpu=kplus.CpuResources(request=cpu(value.cpu), limit=cpu(limits["cpu"])),
        memory=kplus.MemoryResources(request=mebibytes(value.memory), limit=mebibytes(limits["memory"])))


def container_props(spec: ContainerSpec, shared: SharedConstructs, volumes: Mapping[str, kplus.Volume],
                    secrets: SecretReferences, consumer: str) -> tuple[kplus.ContainerProps, list[dict[str, Any]]]:
    """The cdk8s-plus props of `spec`, and the mounts it cannot express (of volumes that are not
    cdk8s-plus Volumes: claim templates and other volume types), to append as patches. Every Secret
    it reads is recorded in `secrets` as read by `consumer` (`Kind/name` of its workload)."""
    variables: dict[str, kplus.EnvValue] = {}
    for entry in spec.env:
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if isinstance(ref, SecretKey):
            variables[entry["name"]] = secrets.env_value(ref, consumer=consumer, variable=entry["name"])
        elif ref is not None:  # a dict-defined container's own entry (PodOptions.sidecars, init_containers)
            variables[entry["name"]] = secrets.env_value(SecretKey(name=ref["name"], key=ref["key"]), consumer=consumer,
                                                         variable=entry["name"])
        elif "value" in entry:
            variables[entry["name"]] = env_value(entry["value"])
        else:
            raise ConfigError(f"container {spec.name!r} env {entry['name']!r}", f"{entry!r} is neither a value nor a Secret key",
                              "use a plain value, or a SecretKey through secret_env")
    mounts, raw_mounts = [], []
    for mount in spec.mounts:
        volume = volumes.get(mount["name"])
        if volume is None:
            raw_mounts.append(dict(mount))
            continue
        mounts.append(kplus.VolumeMount(volume=volume, path=mount["mountPath"], read_only=mount.get("readOnly"),
                                        sub_path=mount.get("subPath")))
    probes = spec.probes.to_kplus(spec.ports) if spec.probes else {}
    props = kplus.ContainerProps(
        name=spec.name, image=spec.image.reference, image_pull_policy=PULL_POLICIES[spec.image.pull_policy],
        command=list(spec.command) if spec.command else None, args=list(spec.args) if spec.args else None,
        ports=[kplus.ContainerPort(number=number, name=name, protocol=kplus.Protocol.TCP)
               for name, number in spec.ports.items()] or None,
        env_variables=variables or None, env_from=[env_from(entry, shared, secrets, consumer) for entry in spec.env_from] or None,
        resources=resources(spec.resources), volume_mounts=mounts or None,
        startup=probes.get("startup"), readiness=probes.get("readiness"), liveness=probes.get("liveness"))
    return props, raw_mounts


def env_from(entry: Mapping[str, Any], shared: SharedConstructs, secrets: SecretReferences, consumer: str) -> kplus.EnvFrom:
    """An `envFrom` dict ({secretRef: {name}} or {configMapRef: {name}, prefix}) as cdk8s-plus EnvFrom."""
    if set(entry) == {"secretRef"}:
        return kplus.Env.from_secret(secrets.secret(entry["secretRef"]["name"], None, consumer=consumer, use="envFrom"))
    if set(entry) <= {"configMapRef", "prefix"} and "configMapRef" in entry:
        return kplus.Env.from_config_map(shared.config_map(entry["configMapRef"]["name"]), entry.get("prefix"))
    raise ConfigError("pod_options.env_from", f"{dict(entry)!r} is not a secretRef or configMapRef entry",
                      "use {'secretRef': {'name': ...}} or {'configMapRef': {'name': ...}, 'prefix': ...}")


_DICT_KEYS = {"name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "ports", "resources",
              "volumeMounts", "securityContext", "probes"}


def _dict_probes(where: str, probes: Any, ports: Mapping[str, int]) -> HttpProbes | CommandProbes | None:
    """A dict container's `probes`: {"httpGet": {"path": ..., "port": <a port name>}} or
    {"exec": {"command": [...]}}, used for its startup, readiness and liveness probes."""
    if probes is None:
        return None
    if isinstance(probes, Mapping) and set(probes) == {"httpGet"} and probes["httpGet"].get("port") in ports:
        path = probes["httpGet"].get("path", "/")
        return HttpProbes(port=probes["httpGet"]["port"], startup_path=path, readiness_path=path, liveness_path=path,
                          startup_timeout_seconds=60)
    if isinstance(probes, Mapping) and set(probes) == {"exec"} and probes["exec"].get("command"):
        return CommandProbes(command=tuple(probes["exec"]["command"]))
    raise ConfigError(f"{where}.probes", f"{probes!r} is not a probe of this container",
                      "use {'httpGet': {'path': '/ready', 'port': '<one of its port names>'}} or "
                      "{'exec': {'command': ['...']}}")


def from_dict(where: str, container: Mapping[str, Any]) -> ContainerSpec:
    """A container given as a dict (PodOptions.sidecars, init_containers) as a ContainerSpec, so it is
    built with cdk8s-plus like every other; its securityContext is replaced by the hardened one."""
    unknown = sorted(set(container) - _DICT_KEYS)
    if unknown:
        raise ConfigError(where, f"has {', '.join(unknown)}, which a dict-defined container cannot set",
                          "add the container through the cdk8s-plus API instead (workload.add_container(...))")
    reference = container.get("image")
    if not isinstance(reference, str) or not reference:
        raise ConfigError(where, f"image {reference!r} is not an image reference", "set image: 'repository:tag'")
    name_part, _, digest = reference.partition("@")
    repository, _, tag = name_part.rpartition(":") if ":" in name_part.rsplit("/", 1)[-1] else (name_part, "", "")
    image = Image(repository=repository, tag=tag, digest=digest or None,
                  pull_policy=container.get("imagePullPolicy", "IfNotPresent"))
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    ports = {}
    for port in container.get("ports", []):
        if "name" not in port:
            raise ConfigError(where, f"port {port!r} has no name", "name every port (ports: [{name: ..., containerPort: ...}])")
        ports[port["name"]] = port["containerPort"]
    return ContainerSpec(name=container["name"], image=image, ports=ports, env=container.get("env", ()),
                         env_from=container.get("envFrom", ()), mounts=container.get("volumeMounts", ()),
                         resources=Resources(cpu=requests["cpu"], memory=requests["memory"], cpu_limit=limits["cpu"],
                                             memory_limit=limits["memory"]),
                         command=container.get("command"), args=container.get("args"),
                         probes=_dict_probes(where, container.get("probes"), ports))
