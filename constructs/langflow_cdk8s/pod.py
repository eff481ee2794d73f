"""Pod hardening, probes and escape hatches, shared by every workload this library emits.

This is the one place that closes cdk8s-plus-27's gaps (seccomp, dropping ALL capabilities):
every pod passes the Pod Security Standards' `restricted` profile because it is built here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .image import Image
from .resources import Resources
from .validation import env_names, object_name

RUN_AS_USER = 1000
"""The uid/gid of the official Langflow images (and the official charts)."""

POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "fsGroup": RUN_AS_USER,
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}

CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True, kw_only=True)
class HttpProbes:
    """Startup, readiness and liveness probes on one named port.

    startup_path / readiness_path / liveness_path: HTTP paths probed.
    startup_timeout_seconds: how long a first start may take before the kubelet gives up
    (default 300: Langflow migrates its database and loads components on first start).
    """

    port: str
    startup_path: str
    readiness_path: str
    liveness_path: str
    startup_timeout_seconds: int = 300

    def to_manifest(self) -> dict[str, dict]:
        def probe(path: str, **timing: int) -> dict:
            return {"httpGet": {"path": path, "port": self.port}, **timing}

        period = 5
        return {
            "startupProbe": probe(self.startup_path, periodSeconds=period, timeoutSeconds=3,
                                  failureThreshold=max(1, self.startup_timeout_seconds // period)),
            "readinessProbe": probe(self.readiness_path, periodSeconds=10, timeoutSeconds=5, failureThreshold=3),
            "livenessProbe": probe(self.liveness_path, periodSeconds=20, timeoutSeconds=5, failureThreshold=3),
        }


@dataclass(frozen=True, kw_only=True)
class PodOptions:
    """Escape hatches for one component's pods. Every default is empty.

    node_selector, tolerations, affinity: scheduling, as in a PodSpec.
    annotations, labels: added to the pod template (labels never to selectors).
    env: extra plain env vars (not for secrets: use secret_env).
    env_from: extra `envFrom` entries, e.g. ``{"secretRef": {"name": "llm-keys"}}``.
    volumes, volume_mounts: extra volumes and where the main container mounts them.
    init_containers, sidecars: extra containers; each must state CPU and memory requests and
    limits (the namespace quota counts them), and each is
    hardened like the main container.
    image_pull_secrets: names of docker-registry Secrets for private images.
    priority_class_name: optional PriorityClass.
    """

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Mapping[str, Any]] = ()
    affinity: Mapping[str, Any] | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    env_from: Sequence[Mapping[str, Any]] = ()
    volumes: Sequence[Mapping[str, Any]] = ()
    volume_mounts: Sequence[Mapping[str, Any]] = ()
    init_containers: Sequence[Mapping[str, Any]] = ()
    sidecars: Sequence[Mapping[str, Any]] = ()
    image_pull_secrets: Sequence[str] = ()
    priority_class_name: str | None = None

    def __post_init__(self) -> None:
        for name in self.image_pull_secrets:
            object_name("pod.image_pull_secrets", name)
        env_names("pod.env", self.env)
        for kind, containers in (("init_containers", self.init_containers), ("sidecars", self.sidecars)):
            for container in containers:
                resources = container.get("resources", {})
                if not all({"cpu", "memory"} <= set(resources.get(part, {})) for part in ("requests", "limits")):
                    raise ConfigError(f"pod_options.{kind}[{container.get('name', '?')!r}]",
                                      "does not state CPU and memory requests and limits",
                                      "add resources: {requests: {cpu, memory}, limits: {cpu, memory}}")


def harden(container: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `container` whose security context meets the restricted profile, whatever it asked for."""
    return {**container, "securityContext": {**container.get("securityContext", {}), **CONTAINER_SECURITY_CONTEXT}}


def env_list(plain: Mapping[str, str]) -> list[dict]:
    return [{"name": name, "value": value} for name, value in plain.items()]


def container(*, name: str, image: Image, ports: Mapping[str, int], env: Sequence[dict] = (),
              env_from: Sequence[Mapping[str, Any]] = (), resources: Resources,
              probes: HttpProbes | None = None, mounts: Sequence[Mapping[str, Any]] = (),
              command: Sequence[str] | None = None, args: Sequence[str] | None = None) -> dict[str, Any]:
    """A hardened container; `ports` maps port names to container ports."""
    spec: dict[str, Any] = {"name": name, "image": image.reference, "imagePullPolicy": image.pull_policy}
    if command:
        spec["command"] = list(command)
    if args:
        spec["args"] = list(args)
    if ports:
        spec["ports"] = [{"name": port_name, "containerPort": number, "protocol": "TCP"}
                         for port_name, number in ports.items()]
    if env:
        spec["env"] = list(env)
    if env_from:
        spec["envFrom"] = [dict(entry) for entry in env_from]
    spec["resources"] = resources.to_manifest()
    if probes:
        spec.update(probes.to_manifest())
    if mounts:
        spec["volumeMounts"] = [dict(mount) for mount in mounts]
    return harden(spec)


def pod_spec(*, service_account: str, containers: Sequence[dict], volumes: Sequence[Mapping[str, Any]] = (),
             init_containers: Sequence[Mapping[str, Any]] = (), options: PodOptions = PodOptions(),
             termination_grace_period_seconds: int = 30,
             topology_spread: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A restricted-profile PodSpec. Service links are off: a Service named `langflow` would
    otherwise inject LANGFLOW_PORT=tcp://… and crash Langflow."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": dict(POD_SECURITY_CONTEXT),
        "terminationGracePeriodSeconds": termination_grace_period_seconds,
    }
    inits = [harden(c) for c in (*init_containers, *options.init_containers)]
    if inits:
        spec["initContainers"] = inits
    spec["containers"] = [*containers, *(harden(c) for c in options.sidecars)]
    all_volumes = [dict(v) for v in (*volumes, *options.volumes)]
    if all_volumes:
        spec["volumes"] = all_volumes
    if options.node_selector:
        spec["nodeSelector"] = dict(sorted(options.node_selector.items()))
    if options.tolerations:
        spec["tolerations"] = [dict(t) for t in options.tolerations]
    if options.affinity:
        spec["affinity"] = dict(options.affinity)
    if topology_spread:
        spec["topologySpreadConstraints"] = [dict(t) for t in topology_spread]
    if options.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in options.image_pull_secrets]
    if options.priority_class_name:
        spec["priorityClassName"] = options.priority_class_name
    return spec


def empty_dir(name: str, size_limit: str | None = None) -> dict[str, Any]:
    """A writable scratch volume (bounded, so a runaway cache cannot fill the node's disk)."""
    return {"name": name, "emptyDir": {"sizeLimit": size_limit} if size_limit else {}}


def volume_claim(name: str, size: str, storage_class: str | None) -> dict[str, Any]:
    """A ReadWriteOnce claim template; `storage_class` None leaves the cluster's default."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}
