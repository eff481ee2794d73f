"""One load balancer per host on every cloud profile: the IDE's host and the runtime's host each get
one Ingress (and, on EKS, one ALB group), and a new flow adds routes, never a load balancer.

`load_balancers` counts what each profile's controller makes, as its documentation describes it:
the AWS Load Balancer Controller one ALB per `group.name` (one per Ingress without it), GKE's `gce`
one load balancer per Ingress, and ingress-nginx (also AKS's application routing) one controller
Service for every Ingress of its class.
"""

from __future__ import annotations

import pytest
from shared_apps import STARTER_FLOWS as FLOWS
from support import all_of, environment

from langflow_cdk8s import (
    CloudProfile,
    ConfigError,
    Database,
    Flow,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Stage,
)
from langflow_cdk8s.mechanics.routes import group_name
from langflow_cdk8s.patterns.environment import Environment

PROFILES = ("generic", "kind", "eks", "gke", "aks")
GROUP = "alb.ingress.kubernetes.io/group.name"


def load_balancers(profile: str, ingresses: list[dict]) -> dict[str, set[str]]:
    """Load balancer -> the hosts it serves."""
    balancers: dict[str, set[str]] = {}
    for ingress in ingresses:
        name = ingress["metadata"]["name"]
        if profile == "eks":
            balancer = ingress["metadata"]["annotations"].get(GROUP, f"ingress/{name}")
        elif profile == "gke":
            balancer = f"ingress/{name}"
        else:
            balancer = f"class/{ingress['spec']['ingressClassName']}"
        balancers.setdefault(balancer, set()).update(rule["host"] for rule in ingress["spec"]["rules"])
    return balancers


def runtime_env(profile: str, flows: list[Flow]) -> Environment:
    env = environment(Stage.PRODUCTION, profile=CloudProfile.named(profile))
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=flows, exposure=IngressOptions(host="flows.example.com")))
    return env


@pytest.mark.parametrize("profile", PROFILES)
def test_every_flow_of_a_host_is_behind_one_ingress_and_one_load_balancer(profile: str) -> None:
    env = runtime_env(profile, FLOWS)
    [ingress] = all_of(env, "Ingress")
    services = {p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert services == {f"langflow-runtime-{flow.endpoint_name}" for flow in FLOWS}
    assert list(load_balancers(profile, [ingress]).values()) == [{"flows.example.com"}]


@pytest.mark.parametrize("profile", PROFILES)
def test_adding_a_flow_changes_routes_not_load_balancers(profile: str) -> None:
    fewer = all_of(runtime_env(profile, FLOWS[:1]), "Ingress")
    more = all_of(runtime_env(profile, FLOWS), "Ingress")
    assert [i["metadata"]["name"] for i in fewer] == [i["metadata"]["name"] for i in more] == ["langflow-runtime"]
    assert load_balancers(profile, fewer).keys() == load_balancers(profile, more).keys()


@pytest.mark.parametrize("profile", PROFILES)
def test_the_ide_host_is_one_ingress_too(profile: str) -> None:
    env = environment(Stage.DEVELOPMENT, profile=CloudProfile.named(profile))
    tls = None if profile == "eks" else "tls"   # EKS: the ALB takes the ACM certificate for the host
    LangflowIDE(env, "ide", LangflowIDEProps(exposure=IngressOptions(host="langflow.example.com", tls_secret=tls)))
    [ingress] = all_of(env, "Ingress")
    assert {p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]} == {"/", "/api"}
    assert list(load_balancers(profile, [ingress]).values()) == [{"langflow.example.com"}]


def test_eks_names_one_alb_group_per_host() -> None:
    [ingress] = all_of(runtime_env("eks", FLOWS), "Ingress")
    assert ingress["metadata"]["annotations"][GROUP] == "flows.example.com"
    assert all(GROUP not in i["metadata"]["annotations"]
               for i in all_of(runtime_env("generic", FLOWS), "Ingress"))


def test_alb_group_names_stay_within_the_controllers_limits() -> None:
    long_host = ".".join(["a" * 20] * 5) + ".example.com"
    name = group_name(long_host)
    assert len(name) <= 63 and name[0].isalnum() and name[-1].isalnum()
    assert name != group_name(long_host.replace("a", "b", 1))
    assert group_name("*.example.com") == "wildcard.example.com"


def test_a_second_ingress_for_a_host_is_refused_with_both_names() -> None:
    env = runtime_env("gke", FLOWS[:1])
    with pytest.raises(ConfigError, match="host 'flows.example.com' is already served by 'langflow-runtime'"):
        LangflowRuntime(env, "more", LangflowRuntimeProps(name="langflow-more", flows=FLOWS[1:],
                                                          exposure=IngressOptions(host="flows.example.com"),
                                                          database=Database.sqlite_ephemeral()))
