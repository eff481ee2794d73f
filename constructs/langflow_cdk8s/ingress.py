"""Ingress: Prefix paths, an explicit class, TLS — the parts the official charts get wrong."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from .environment import Environment
from .errors import ConfigError
from .manifest import emit
from .validation import dns_name, object_name


@dataclass(frozen=True, kw_only=True)
class IngressOptions:
    """How a workload is reached from outside the cluster.

    host: the DNS name (required).
    tls_secret: the Secret with the certificate (kubernetes.io/tls); None serves plain HTTP and is
    reported as a warning in the synthesis summary.
    class_name: `ingressClassName`; default: the environment profile's class.
    annotations: added to the profile's controller annotations (for example cert-manager's issuer).
    """

    host: str
    tls_secret: str | None = None
    class_name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        dns_name("ingress.host", self.host)
        if self.tls_secret is not None:
            object_name("ingress.tls_secret", self.tls_secret)


@dataclass(frozen=True, kw_only=True)
class Route:
    """One Prefix path to a Service port (by name)."""

    path: str
    service: str
    port: str

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or " " in self.path:
            raise ConfigError("ingress path", f"{self.path!r} is not an absolute URL path", "start it with '/'")


def emit_ingress(env: Environment, scope: Construct, construct_id: str, *, name: str, labels: dict[str, str],
                 options: IngressOptions, routes: Sequence[Route]) -> dict[str, Any]:
    """One Ingress for `options.host`; controllers merge Ingresses of the same host, so each
    workload can own its routes."""
    if not routes:
        raise ConfigError(f"ingress {name}", "has no routes", "give at least one path")
    if options.tls_secret is None:
        env.warn(f"Ingress {name} serves {options.host} without TLS")
    spec: dict[str, Any] = {"ingressClassName": options.class_name or env.profile.ingress_class}
    if options.tls_secret:
        spec["tls"] = [{"hosts": [options.host], "secretName": options.tls_secret}]
    spec["rules"] = [{"host": options.host, "http": {"paths": [
        {"path": r.path, "pathType": "Prefix", "backend": {"service": {"name": r.service, "port": {"name": r.port}}}}
        for r in routes]}}]
    annotations = {**env.profile.ingress_annotations, **options.annotations}
    return emit(env, construct_id, scope=scope, api_version="networking.k8s.io/v1", kind="Ingress", name=name,
                labels=labels, annotations=annotations, body={"spec": spec})
