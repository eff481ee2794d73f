"""Routes, and the Ingress kind of exposure with cdk8s-plus: Prefix paths, an explicit class, TLS — the
parts the official charts get wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cdk8s_plus_27 as kplus

from constructs import Construct

from ..errors import ConfigError
from ..props.ingress import IngressOptions
from .site import Site
from .waves import metadata


@dataclass(frozen=True)
class Route:
    """One Prefix path to a port of a Service: what a workload hands to its exposure, whatever its kind."""

    path: str
    service: kplus.Service
    port: int

    def __post_init__(self) -> None:
        if not self.path.startswith("/") or " " in self.path:
            raise ConfigError("ingress path", f"{self.path!r} is not an absolute URL path", "start it with '/'")


def claim_host(site: Site, kind: str, name: str, host: str, routes: Sequence[Route]) -> None:
    """Records that `name` serves `host`: one workload per host and environment. Only ingress-nginx
    merges Ingresses of one host; the AWS Load Balancer Controller and GKE give each Ingress its own
    load balancer, and two HTTPRoutes with the same paths conflict, so a second claim is refused."""
    if not routes:
        raise ConfigError(f"{kind} {name}", "has no routes", "give at least one path")
    other = site.ingress_hosts.get(host)
    if other is not None:
        raise ConfigError(f"{kind} {name}", f"host {host!r} is already served by {other!r} "
                          f"in environment {site.name!r}",
                          "give each workload its own host, or serve these flows from one LangflowRuntime")
    site.ingress_hosts[host] = name


def ingress(site: Site, scope: Construct, ingress_id: str, *, name: str, labels: Mapping[str, str],
            options: IngressOptions, routes: Sequence[Route]) -> kplus.Ingress:
    """The one Ingress of `options.host` in this environment (cdk8s-plus orders its paths). With ACM
    (EKS) its TLS names the host and no Secret: the ALB attaches the ACM certificate for the host."""
    claim_host(site, "ingress", name, options.host, routes)
    acm = options.acm(site.profile)
    if options.tls_secret is None and not acm:
        site.warn(f"Ingress {name} serves {options.host} without TLS")
    backends: dict[tuple[int, int], kplus.IngressBackend] = {}
    rules = []
    for route in routes:
        key = (id(route.service), route.port)
        if key not in backends:
            backends[key] = kplus.IngressBackend.from_service(route.service, port=route.port)
        rules.append(kplus.IngressRule(backend=backends[key], host=options.host, path=route.path,
                                       path_type=kplus.HttpIngressPathType.PREFIX))
    annotations = {**site.profile.ingress_annotations, **options.annotations}
    if site.profile.ingress_group_annotation:
        annotations.setdefault(site.profile.ingress_group_annotation, group_name(options.host))
    tls = ([kplus.IngressTls(hosts=[options.host], secret=site.secret_references.secret(
        options.tls_secret, {"tls.crt", "tls.key"}, consumer=f"Ingress/{name}", use="tls"))] if options.tls_secret
           else [kplus.IngressTls(hosts=[options.host])] if acm else None)
    return kplus.Ingress(scope, ingress_id, metadata=metadata(
        "Ingress", name, namespace=site.namespace_name, labels=labels,
        annotations=annotations),
        class_name=options.class_name or site.profile.ingress_class, rules=rules, tls=tls)


def group_name(host: str) -> str:
    """An ALB group name for a host (lowercase letters, digits, '-' and '.', at most 63 characters)."""
    name = host.replace("*", "wildcard")
    if len(name) <= 63:
        return name
    return f"{name[:52].rstrip('.-')}-{hashlib.sha256(host.encode()).hexdigest()[:10]}"
