"""Ingress: Prefix paths, an explicit class, TLS — the parts the official charts get wrong."""

from __future__ import annotations

import hashlib
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
    """The one Ingress of `options.host` in this environment. Only ingress-nginx merges Ingresses of
    one host; the AWS Load Balancer Controller and GKE give each Ingress its own load balancer, so
    a second Ingress for a host is refused rather than left unreachable."""
    if not routes:
        raise ConfigError(f"ingress {name}", "has no routes", "give at least one path")
    for other in env.objects:
        if other["kind"] == "Ingress" and any(rule.get("host") == options.host for rule in other["spec"]["rules"]):
            raise ConfigError(f"ingress {name}", f"host {options.host!r} already has Ingress {other['metadata']['name']!r} "
                              f"in environment {env.name!r}",
                              "give each workload its own host, or serve these flows from one LangflowRuntime")
    if options.tls_secret is None:
        env.warn(f"Ingress {name} serves {options.host} without TLS")
    spec: dict[str, Any] = {"ingressClassName": options.class_name or env.profile.ingress_class}
    if options.tls_secret:
        spec["tls"] = [{"hosts": [options.host], "secretName": options.tls_secret}]
    spec["rules"] = [{"host": options.host, "http": {"paths": [
        {"path": r.path, "pathType": "Prefix", "backend": {"service": {"name": r.service, "port": {"name": r.port}}}}
        for r in routes]}}]
    annotations = {**env.profile.ingress_annotations, **options.annotations}
    if env.profile.ingress_group_annotation:
        annotations.setdefault(env.profile.ingress_group_annotation, group_name(options.host))
    return emit(env, construct_id, scope=scope, api_version="networking.k8s.io/v1", kind="Ingress", name=name,
                labels=labels, annotations=annotations, body={"spec": spec})


def group_name(host: str) -> str:
    """An ALB group name for a host (lowercase letters, digits, '-' and '.', at most 63 characters)."""
    name = host.replace("*", "wildcard")
    if len(name) <= 63:
        return name
    return f"{name[:52].rstrip('.-')}-{hashlib.sha256(host.encode()).hexdigest()[:10]}"
