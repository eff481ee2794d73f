"""The Gateway API kinds of exposure: HTTPRoutes on the platform's Gateway or on one of the
environment's own, from the bindings `cdk8s import` generated from the vendored CRDs (imports/crds/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cdk8s

from constructs import Construct
from imports.gateway_api_gateway.io.k8s.networking.gateway import (
    Gateway,
    GatewaySpec,
    GatewaySpecListeners,
    GatewaySpecListenersAllowedRoutes,
    GatewaySpecListenersAllowedRoutesNamespaces,
    GatewaySpecListenersAllowedRoutesNamespacesFrom,
    GatewaySpecListenersTls,
    GatewaySpecListenersTlsCertificateRefs,
    GatewaySpecListenersTlsMode,
)
from imports.gateway_api_httproute.io.k8s.networking.gateway import (
    HttpRoute,
    HttpRouteSpec,
    HttpRouteSpecParentRefs,
    HttpRouteSpecRules,
    HttpRouteSpecRulesBackendRefs,
    HttpRouteSpecRulesMatches,
    HttpRouteSpecRulesMatchesPath,
    HttpRouteSpecRulesMatchesPathType,
)
from imports.gateway_api_referencegrant.io.k8s.networking.gateway import (
    ReferenceGrant,
    ReferenceGrantSpec,
    ReferenceGrantSpecFrom,
    ReferenceGrantSpecTo,
)

from ..errors import ConfigError
from ..props.exposure import CertificateSource, GatewayRoute, OwnGateway
from .labels import standard_labels
from .routes import Route, claim_host
from .site import Site
from .waves import metadata

GROUP = "gateway.networking.k8s.io"
GATEWAY_NAME = "langflow"
"""The environment's own Gateway (one per environment, a listener per host)."""
MAX_RULES, MAX_MATCHES_PER_RULE, MAX_MATCHES = 16, 64, 128
"""Gateway API v1's limits on one HTTPRoute (the CRD's maxItems and its CEL rule on all matches)."""
CERTMAP = "networking.gke.io/certmap"


def _rules(routes: Sequence[Route]) -> list[tuple[str, int, list[str]]]:
    """(Service, port, paths) per backend, in the order the workload gave them, at most
    MAX_MATCHES_PER_RULE paths each. Path precedence is the longest prefix, whatever the order."""
    grouped: dict[tuple[str, int], list[str]] = {}
    for route in routes:
        grouped.setdefault((route.service.name, route.port), []).append(route.path)
    return [(service, port, paths[i:i + MAX_MATCHES_PER_RULE])
            for (service, port), paths in grouped.items() for i in range(0, len(paths), MAX_MATCHES_PER_RULE)]


def _packed(rules: list[tuple[str, int, list[str]]]) -> list[list[tuple[str, int, list[str]]]]:
    """The rules in as few HTTPRoutes as Gateway API's per-route limits allow (one, up to 16 backends
    and 128 paths: 32 runtime flows), each further route merged by the Gateway into the same host."""
    packs: list[list[tuple[str, int, list[str]]]] = [[]]
    for rule in rules:
        pack = packs[-1]
        if len(pack) == MAX_RULES or sum(len(r[2]) for r in pack) + len(rule[2]) > MAX_MATCHES:
            packs.append(pack := [])
        pack.append(rule)
    return packs


def http_routes(site: Site, scope: Construct, route_id: str, *, name: str, labels: Mapping[str, str], host: str,
                parent: HttpRouteSpecParentRefs, routes: Sequence[Route]) -> list[HttpRoute]:
    """The HTTPRoute(s) of one host: a rule per backend Service port, PathPrefix matches."""
    claim_host(site, "route", name, host, routes)
    made = []
    for index, pack in enumerate(_packed(_rules(routes))):
        suffix = "" if index == 0 else f"-{index + 1}"
        rules = [HttpRouteSpecRules(
            matches=[HttpRouteSpecRulesMatches(path=HttpRouteSpecRulesMatchesPath(
                type=HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value=path)) for path in paths],
            backend_refs=[HttpRouteSpecRulesBackendRefs(name=service, port=port)]) for service, port, paths in pack]
        made.append(HttpRoute(scope, route_id + suffix, metadata=metadata(
            "HTTPRoute", name + suffix, namespace=site.namespace_name, labels=labels),
            spec=HttpRouteSpec(parent_refs=[parent], hostnames=[host], rules=rules)))
    return made


def attached_routes(site: Site, scope: Construct, route_id: str, *, name: str, labels: Mapping[str, str],
                    options: GatewayRoute, routes: Sequence[Route]) -> list[cdk8s.ApiObject]:
    """HTTPRoutes on the platform's Gateway, and the ReferenceGrant that lets that Gateway read our
    certificate Secret when its listener names one. Attaching across namespaces needs no grant (the
    Gateway's allowedRoutes decide), and every backend is a Service of this namespace."""
    ref = options.parent
    same = ref.namespace == site.namespace_name
    parent = HttpRouteSpecParentRefs(name=ref.name, namespace=None if same else ref.namespace,
                                     section_name=ref.section_name)
    made: list[cdk8s.ApiObject] = list(http_routes(site, scope, route_id, name=name, labels=labels, host=options.host,
                                                   parent=parent, routes=routes))
    if options.certificate_secret is not None:
        if CertificateSource.SECRET not in site.profile.certificates:
            raise ConfigError("gateway.certificate_secret", f"{options.certificate_secret!r}: profile "
                              f"{site.profile.name!r} takes certificates from AWS Certificate Manager, not Secrets",
                              "drop certificate_secret: the platform's Gateway uses the ACM certificate for the host")
        site.secret_references.secret(options.certificate_secret, {"tls.crt", "tls.key"},
                                      consumer=f"Gateway {ref.namespace}/{ref.name} (ReferenceGrant {name}-certificate)"
                                      if not same else f"Gateway/{ref.name}", use="tls")
        if not same:
            made.append(ReferenceGrant(scope, f"{route_id}-certificate", metadata=metadata(
                "ReferenceGrant", f"{name}-certificate", namespace=site.namespace_name, labels=labels),
                spec=ReferenceGrantSpec(
                    from_=[ReferenceGrantSpecFrom(group=GROUP, kind="Gateway", namespace=ref.namespace)],
                    to=[ReferenceGrantSpecTo(group="", kind="Secret", name=options.certificate_secret)])))
    return made


def _listener(options: OwnGateway, site: Site) -> tuple[dict[str, Any], dict[str, str]]:
    """The host's listener as plain JSON (patched onto a shared Gateway) and the annotations it needs."""
    certificate = options.certificate_for(site.profile)
    host = options.host
    if certificate is None:
        site.warn(f"Gateway {GATEWAY_NAME} serves {host} without TLS (plain HTTP on port 80)")
        return {"name": f"http-{_label(host)}", "hostname": host, "port": 80, "protocol": "HTTP"}, {}
    listener: dict[str, Any] = {"name": f"https-{_label(host)}", "hostname": host, "port": 443, "protocol": "HTTPS"}
    if certificate.source is CertificateSource.SECRET:
        assert certificate.name is not None
        site.secret_references.secret(certificate.name, {"tls.crt", "tls.key"}, consumer=f"Gateway/{GATEWAY_NAME}", use="tls")
        listener["tls"] = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": certificate.name}]}
    if certificate.source is CertificateSource.GOOGLE_MANAGED:
        assert certificate.name is not None
        return listener, {CERTMAP: certificate.name}
    return listener, {}


def _label(host: str) -> str:
    return host.replace("*", "wildcard")


def own_gateway_routes(site: Site, scope: Construct, route_id: str, *, name: str, labels: Mapping[str, str],
                       options: OwnGateway, routes: Sequence[Route]) -> list[cdk8s.ApiObject]:
    """The environment's Gateway (created by its first host, a listener added by each further one)
    and the host's HTTPRoutes on it. Routes attach from this namespace only."""
    listener, annotations = _listener(options, site)
    class_name = options.class_for(site.profile)
    annotations = {**annotations, **options.annotations}
    made: list[cdk8s.ApiObject] = []
    gateway = site.gateways.get(GATEWAY_NAME)
    if gateway is None:
        tls = listener.get("tls")
        gateway = Gateway(cdk8s.Chart.of(scope), "gateway", metadata=metadata(
            "Gateway", GATEWAY_NAME, namespace=site.namespace_name, annotations=annotations,
            labels=standard_labels(instance=f"langflow-{site.name}", component="gateway")),
            spec=GatewaySpec(gateway_class_name=class_name, listeners=[GatewaySpecListeners(
                name=listener["name"], hostname=listener["hostname"], port=listener["port"], protocol=listener["protocol"],
                allowed_routes=GatewaySpecListenersAllowedRoutes(namespaces=GatewaySpecListenersAllowedRoutesNamespaces(
                    from_=GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME)),
                tls=GatewaySpecListenersTls(mode=GatewaySpecListenersTlsMode.TERMINATE, certificate_refs=[
                    GatewaySpecListenersTlsCertificateRefs(kind="Secret", name=ref["name"])
                    for ref in tls["certificateRefs"]]) if tls else None)]))
        site.gateways[GATEWAY_NAME] = (gateway, class_name, annotations)
        made.append(gateway)
    else:
        gateway, first_class, first_annotations = gateway
        if (first_class, first_annotations) != (class_name, annotations):
            raise ConfigError(f"own_gateway of {name}", f"class {class_name!r} and annotations {dict(annotations)} differ "
                              f"from those of Gateway {GATEWAY_NAME!r} ({first_class!r}, {dict(first_annotations)})",
                              "give every own_gateway of an environment the same class, annotations and certificate map")
        gateway.add_json_patch(cdk8s.JsonPatch.add("/spec/listeners/-", {
            **listener, "allowedRoutes": {"namespaces": {"from": "Same"}}}))
    parent = HttpRouteSpecParentRefs(name=GATEWAY_NAME, section_name=listener["name"])
    made += http_routes(site, scope, route_id, name=name, labels=labels, host=options.host, parent=parent, routes=routes)
    return made
