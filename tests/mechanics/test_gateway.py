"""Gateway API as an exposure: the HTTPRoutes route exactly what the Ingress routes, one route object
per host; a Gateway of the environment's own uses each cloud's GatewayClass and TLS mechanism;
ReferenceGrants appear exactly where a cross-namespace reference needs one; every object validates
against the vendored Gateway API CRDs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from gates import Manifest, crd_schema_errors
from shared_apps import STARTER_FLOWS as FLOWS
from support import all_of, environment

from langflow_cdk8s import (
    Certificate,
    CloudProfile,
    ConfigError,
    Environment,
    Exposure,
    FlowGroup,
    GatewayRef,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    NetworkPeer,
    Stage,
)
from langflow_cdk8s.mechanics.gateway import MAX_MATCHES, MAX_RULES

PLATFORM = GatewayRef(name="shared", namespace="gateway-system", section_name="https")
HOST = "flows.example.com"


def routed_by_ingress(objects: list[dict]) -> set[tuple[str, str, str, int]]:
    """(host, path, Service, port) for every path of every Ingress."""
    return {(rule["host"], p["path"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
            for o in objects if o["kind"] == "Ingress" for rule in o["spec"]["rules"] for p in rule["http"]["paths"]
            if p["pathType"] == "Prefix"}


def routed_by_http_routes(objects: list[dict]) -> set[tuple[str, str, str, int]]:
    """(host, path, Service, port) for every PathPrefix match of every HTTPRoute (single-backend rules)."""
    found = set()
    for o in objects:
        if o["kind"] != "HTTPRoute":
            continue
        for rule in o["spec"]["rules"]:
            [backend] = rule["backendRefs"]
            for match in rule["matches"]:
                assert match["path"]["type"] == "PathPrefix"
                found |= {(host, match["path"]["value"], backend["name"], backend["port"]) for host in o["spec"]["hostnames"]}
    return found


def manifests(objects: list[dict]) -> list[Manifest]:
    return [Manifest(f"test/{o['kind']}.{o['metadata']['name']}", o) for o in objects]


def runtime(exposure, profile: CloudProfile | None = None, flows=FLOWS) -> list[dict]:
    env = environment(Stage.PRODUCTION, profile=profile)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=flows, exposure=exposure))
    return env.objects


def ide(exposure, profile: CloudProfile | None = None) -> list[dict]:
    env = environment(Stage.DEVELOPMENT, profile=profile)
    LangflowIDE(env, "ide", LangflowIDEProps(exposure=exposure))
    return env.objects


@pytest.mark.parametrize("exposure", [
    Exposure.gateway(HOST, gateway=PLATFORM),
    Exposure.own_gateway(HOST, class_name="eg", peer=NetworkPeer.namespace("envoy-gateway-system", [], "proxies")),
], ids=["platform", "own"])
def test_the_runtime_routes_exactly_what_its_ingress_routes(exposure) -> None:
    ingress = routed_by_ingress(runtime(Exposure.ingress(HOST, tls_secret="tls")))
    objects = runtime(exposure)
    assert routed_by_http_routes(objects) == ingress
    assert len(ingress) == 4 * len(FLOWS)   # run and webhook, by endpoint name and by id
    assert not all_of_kind(objects, "Ingress") and len(all_of_kind(objects, "HTTPRoute")) == 1
    assert crd_schema_errors(manifests(objects)) == []


def test_the_ide_routes_exactly_what_its_ingress_routes() -> None:
    ingress = routed_by_ingress(ide(Exposure.ingress("ide.example.com", tls_secret="tls")))
    objects = ide(Exposure.gateway("ide.example.com", gateway=PLATFORM))
    assert routed_by_http_routes(objects) == ingress == {
        ("ide.example.com", "/api", "langflow-ide-backend", 7860), ("ide.example.com", "/", "langflow-ide-backend", 7860)}


def all_of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def test_a_platform_gateway_in_another_namespace_needs_no_reference_grant() -> None:
    """Attaching to another namespace's Gateway is allowed by that Gateway's allowedRoutes, and every
    backend is a Service of the route's own namespace: a ReferenceGrant would be noise."""
    objects = runtime(Exposure.gateway(HOST, gateway=PLATFORM))
    [route] = all_of_kind(objects, "HTTPRoute")
    assert route["spec"]["parentRefs"] == [{"name": "shared", "namespace": "gateway-system", "sectionName": "https"}]
    assert all("namespace" not in ref for rule in route["spec"]["rules"] for ref in rule["backendRefs"])
    assert not all_of_kind(objects, "ReferenceGrant")


def test_a_platform_gateway_reading_our_certificate_gets_exactly_that_grant() -> None:
    objects = ide(Exposure.gateway("ide.example.com", gateway=PLATFORM, certificate_secret="ide-tls"))
    [grant] = all_of_kind(objects, "ReferenceGrant")
    assert grant["metadata"]["namespace"] == "ns-test"   # the grant lives with the Secret it opens
    assert grant["spec"] == {"from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "gateway-system"}],
                             "to": [{"group": "", "kind": "Secret", "name": "ide-tls"}]}
    assert crd_schema_errors(manifests(objects)) == []


def test_a_gateway_in_the_same_namespace_needs_no_grant_and_no_namespace() -> None:
    local = GatewayRef(name="local", namespace="ns-test")
    objects = ide(Exposure.gateway("ide.example.com", gateway=local, certificate_secret="ide-tls"))
    assert not all_of_kind(objects, "ReferenceGrant")
    assert all_of_kind(objects, "HTTPRoute")[0]["spec"]["parentRefs"] == [{"name": "local"}]


def test_an_own_gateway_is_one_per_environment_with_a_listener_per_host() -> None:
    env = environment(Stage.DEVELOPMENT, profile=CloudProfile.gke())
    LangflowIDE(env, "ide", LangflowIDEProps(exposure=Exposure.own_gateway("ide.example.com",
                                                                           certificate=Certificate.secret("ide-tls"))))
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=FLOWS, exposure=Exposure.own_gateway(
        HOST, certificate=Certificate.secret("flows-tls"))))
    [gateway] = all_of(env, "Gateway")
    listeners = {listener["hostname"]: listener for listener in gateway["spec"]["listeners"]}
    assert listeners[HOST]["tls"] == {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "flows-tls"}]}
    assert listeners["ide.example.com"]["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "ide-tls"}]
    assert all(listener["allowedRoutes"] == {"namespaces": {"from": "Same"}} for listener in listeners.values())
    routes = {r["spec"]["hostnames"][0]: r for r in all_of(env, "HTTPRoute")}
    for host, route in routes.items():
        assert route["spec"]["parentRefs"] == [{"name": "langflow", "sectionName": listeners[host]["name"]}]
    assert not all_of(env, "ReferenceGrant")   # certificateRefs to Secrets of the Gateway's own namespace
    assert crd_schema_errors(manifests(env.objects)) == []


@pytest.mark.parametrize(("profile", "certificate", "gateway_class", "tls", "annotation"), [
    (CloudProfile.generic(), Certificate.secret("tls"), "eg",
     {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "tls"}]}, None),
    (CloudProfile.kind(), Certificate.secret("tls"), "eg",
     {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "tls"}]}, None),
    (CloudProfile.eks(), None, "aws-alb-gateway-class", None, None),       # ACM: found by host, no Secret
    (CloudProfile.gke(), Certificate.google_managed("langflow-map"), "gke-l7-global-external-managed", None,
     ("networking.gke.io/certmap", "langflow-map")),
    (CloudProfile.gke(), Certificate.secret("tls"), "gke-l7-global-external-managed",
     {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "tls"}]}, None),
    (CloudProfile.aks(), Certificate.secret("tls"), "azure-alb-external",
     {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "tls"}]}, None),
], ids=["generic", "kind", "eks-acm", "gke-google-managed", "gke-secret", "aks"])
def test_each_profile_wires_its_gateway_class_and_tls(profile, certificate, gateway_class, tls, annotation) -> None:
    peer = None if profile.gateway_source_cidrs else NetworkPeer.namespace("envoy-gateway-system", [], "proxies")
    objects = runtime(Exposure.own_gateway(HOST, certificate=certificate, peer=peer,
                                           class_name="eg" if profile.gateway_class is None else None), profile)
    [gateway] = all_of_kind(objects, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == gateway_class
    [listener] = gateway["spec"]["listeners"]
    assert (listener["protocol"], listener["port"], listener.get("tls")) == ("HTTPS", 443, tls)
    annotations = gateway["metadata"]["annotations"]
    assert (annotation is None and set(annotations) == {"argocd.argoproj.io/sync-wave"}) or \
        annotations[annotation[0]] == annotation[1]
    env = {e["name"]: e.get("value") for o in all_of_kind(objects, "Deployment")
           for e in o["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["LANGFLOW_CORS_ORIGINS"] == f"https://{HOST}"
    assert crd_schema_errors(manifests(objects)) == []


@pytest.mark.parametrize("profile", [CloudProfile.eks(), CloudProfile.gke(), CloudProfile.aks()], ids=lambda p: p.name)
def test_cloud_gateways_reach_pods_from_their_load_balancer_ranges(profile: CloudProfile) -> None:
    objects = runtime(Exposure.gateway(HOST, gateway=PLATFORM), profile)
    policy = next(o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"].startswith("langflow-runtime-"))
    sources = {p["ipBlock"]["cidr"] for rule in policy["spec"]["ingress"] for p in rule["from"] if "ipBlock" in p}
    assert sources == set(profile.gateway_source_cidrs)


def test_an_in_cluster_gateway_is_reached_from_its_namespace_or_the_given_peer() -> None:
    def sources(exposure) -> list[dict]:
        objects = runtime(exposure)
        policy = next(o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"].startswith("langflow-runtime-"))
        return [p for rule in policy["spec"]["ingress"] for p in rule["from"] if "namespaceSelector" in p]

    assert [p["namespaceSelector"]["matchLabels"] for p in sources(Exposure.gateway(HOST, gateway=PLATFORM))] == [
        {"kubernetes.io/metadata.name": "gateway-system"}]
    given = Exposure.gateway(HOST, gateway=PLATFORM, peer=NetworkPeer.namespace("envoy-gateway-system", [], "Envoy"))
    assert [p["namespaceSelector"]["matchLabels"] for p in sources(given)] == [
        {"kubernetes.io/metadata.name": "envoy-gateway-system"}]


def test_eks_takes_certificates_from_acm_never_from_a_secret() -> None:
    with pytest.raises(ConfigError, match="AWS Certificate Manager"):
        runtime(Exposure.own_gateway(HOST, certificate=Certificate.secret("tls")), CloudProfile.eks())
    with pytest.raises(ConfigError, match="AWS Certificate Manager"):
        runtime(Exposure.gateway(HOST, gateway=PLATFORM, certificate_secret="tls"), CloudProfile.eks())
    with pytest.raises(ConfigError, match="AWS Certificate Manager"):
        runtime(Exposure.ingress(HOST, tls_secret="tls"), CloudProfile.eks())
    [ingress] = all_of_kind(runtime(Exposure.ingress(HOST), CloudProfile.eks()), "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": [HOST]}]   # HTTPS with the ACM certificate the ALB finds for the host


@pytest.mark.parametrize(("profile", "certificate"), [(CloudProfile.generic(), Certificate.acm()),
                                                      (CloudProfile.aks(), Certificate.google_managed("map"))])
def test_a_certificate_the_profile_cannot_use_is_refused(profile: CloudProfile, certificate: Certificate) -> None:
    with pytest.raises(ConfigError, match=f"does not work with profile '{profile.name}'"):
        runtime(Exposure.own_gateway(HOST, certificate=certificate, class_name="x",
                                     peer=NetworkPeer.namespace("gw", [], "gw")), profile)


def test_own_gateway_without_a_class_or_peer_on_generic_is_a_readable_error() -> None:
    with pytest.raises(ConfigError, match="own_gateway.class_name: profile 'generic' names no GatewayClass"):
        runtime(Exposure.own_gateway(HOST, peer=NetworkPeer.namespace("gw", [], "gw")))
    with pytest.raises(ConfigError, match="own_gateway.peer: profile 'generic' runs Gateway proxies in the cluster"):
        runtime(Exposure.own_gateway(HOST, class_name="eg"))


def test_a_plain_http_gateway_listener_is_a_warning() -> None:
    env = environment(Stage.PRODUCTION, profile=CloudProfile.gke())
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=FLOWS, exposure=Exposure.own_gateway(HOST)))
    [listener] = all_of(env, "Gateway")[0]["spec"]["listeners"]
    assert (listener["protocol"], listener["port"]) == ("HTTP", 80)
    assert any("without TLS" in w for w in env.warnings)


def test_past_gateway_api_limits_a_host_gets_further_routes_that_route_every_path() -> None:
    """16 rules and 128 matches per HTTPRoute: 40 single-flow units need three routes, each within limits."""
    base = FLOWS[0]
    flows = [dataclasses.replace(base, id=f"00000000-0000-4000-8000-{i:012d}", endpoint_name=f"flow-{i}", name=f"Flow {i}")
             for i in range(40)]
    objects = runtime(Exposure.gateway(HOST, gateway=PLATFORM), flows=flows)
    routes = all_of_kind(objects, "HTTPRoute")
    assert [r["metadata"]["name"] for r in routes] == ["langflow-runtime", "langflow-runtime-2", "langflow-runtime-3"]
    for route in routes:
        assert len(route["spec"]["rules"]) <= MAX_RULES
        assert sum(len(rule["matches"]) for rule in route["spec"]["rules"]) <= MAX_MATCHES
    assert len(routed_by_http_routes(objects)) == 160
    assert crd_schema_errors(manifests(objects)) == []


def test_a_flow_group_of_many_flows_splits_its_rule_within_the_per_rule_limit() -> None:
    base = FLOWS[0]
    flows = [dataclasses.replace(base, id=f"00000000-0000-4000-8000-{i:012d}", endpoint_name=f"flow-{i}", name=f"Flow {i}")
             for i in range(20)]
    objects = runtime(Exposure.gateway(HOST, gateway=PLATFORM), flows=[FlowGroup(name="all", flows=flows)])
    [route] = all_of_kind(objects, "HTTPRoute")
    assert [len(rule["matches"]) for rule in route["spec"]["rules"]] == [64, 16]
    assert crd_schema_errors(manifests(objects)) == []


def test_a_second_route_object_for_a_host_is_refused() -> None:
    env = environment(Stage.PRODUCTION)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=FLOWS[:1], exposure=Exposure.gateway(HOST, gateway=PLATFORM)))
    with pytest.raises(ConfigError, match="host 'flows.example.com' is already served by 'langflow-runtime'"):
        LangflowRuntime(env, "more", LangflowRuntimeProps(name="langflow-more", flows=FLOWS[1:],
                                                          exposure=Exposure.gateway(HOST, gateway=PLATFORM)))


def test_the_factories_build_the_kinds_with_their_defaults() -> None:
    assert Exposure.ingress(HOST) == IngressOptions(host=HOST)
    route = Exposure.gateway(HOST, gateway=PLATFORM)
    assert (route.parent, route.certificate_secret, route.peer) == (PLATFORM, None, None)
    own = Exposure.own_gateway(HOST)
    assert (own.certificate, own.class_name, dict(own.annotations), own.peer) == (None, None, {}, None)
    with pytest.raises(ConfigError, match="gateway.host"):
        Exposure.gateway("Not A Host", gateway=PLATFORM)
    with pytest.raises(ConfigError, match="gateway.namespace"):
        GatewayRef(name="x", namespace="Bad_NS")


def test_eks_pages_ask_for_no_tls_secret_and_secret_gateways_list_theirs() -> None:
    """The environment page's checklist: on EKS (ACM) no TLS Secret, with a Gateway or an Ingress;
    a Gateway with a Secret certificate, or a ReferenceGrant to one, lists it with `create secret tls`."""
    from langflow_cdk8s.tooling.pages import environment_markdown

    def page(stage: Stage, build: Callable[[Environment], object], profile: CloudProfile | None = None) -> str:
        env = environment(stage, profile=profile)
        build(env)
        return environment_markdown(env.name, env.objects, env.secret_references)

    for exposure in (Exposure.own_gateway(HOST), Exposure.ingress(HOST)):
        eks = page(Stage.PRODUCTION, lambda env, e=exposure: LangflowRuntime(env, "runtime", LangflowRuntimeProps(
            flows=FLOWS, exposure=e)), CloudProfile.eks())
        assert "create secret tls" not in eks and "tls.crt" not in eks
    gke = page(Stage.PRODUCTION, lambda env: LangflowRuntime(env, "runtime", LangflowRuntimeProps(
        flows=FLOWS, exposure=Exposure.own_gateway(HOST, certificate=Certificate.secret("flows-tls")))), CloudProfile.gke())
    assert "kubectl -n ns-test create secret tls flows-tls --cert=tls.crt --key=tls.key" in gke
    assert "| `flows-tls` | `tls.crt`, `tls.key` | Gateway/langflow |" in gke
    granted = page(Stage.DEVELOPMENT, lambda env: LangflowIDE(env, "ide", LangflowIDEProps(exposure=Exposure.gateway(
        "ide.example.com", gateway=PLATFORM, certificate_secret="ide-tls"))))
    assert "create secret tls ide-tls" in granted and "Gateway gateway-system/" in granted
