"""Escape hatches for one component's pods, given as props (the cdk8s-plus objects are the other way)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .validation import env_names, object_name


@dataclass(frozen=True, kw_only=True)
class PodOptions:
    """Escape hatches for one component's pods. Every default is empty.

    node_selector, tolerations, affinity: scheduling, as in a PodSpec (tolerations and affinity replace what
    the cdk8s-plus scheduling API, `workload.scheduling`, would write: use one or the other).
    annotations, labels: added to the pod template (labels never to selectors).
    env: extra plain env vars (not for secrets: use secret_env).
    env_from: extra `envFrom` entries, e.g. ``{"secretRef": {"name": "llm-keys"}}``.
    volumes, volume_mounts: extra volumes and where the main container mounts them.
    init_containers, sidecars: extra containers as dicts (name, image, command, args, env, envFrom,
    ports, resources, volumeMounts, probes); each must state CPU and memory requests and limits (the
    namespace quota counts them), and each is built with cdk8s-plus and hardened like the main
    container. A sidecar needs `probes` ({"httpGet": {"path": ..., "port": <port name>}} or
    {"exec": {"command": [...]}}: startup, readiness and liveness), or synthesis refuses it.
    For anything else, use the cdk8s-plus API on the construct's workload.
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
