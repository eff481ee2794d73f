"""Environment: namespace, Pod Security Admission, default-deny networking, RBAC, quota, profiles."""

from decimal import Decimal

import cdk8s
import pytest
from conftest import Synthesis
from example_app import FLOWS
from support import all_of, environment, find, unsynthesized_app

from langflow_cdk8s import (
    CloudProfile,
    ConfigError,
    Database,
    EnvironmentProps,
    Flow,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    NetworkPeer,
    PodSecurityLevel,
    Quota,
    SecretKey,
    ServiceType,
    Stage,
)
from langflow_cdk8s.mechanics.hardening import REASONS
from langflow_cdk8s.patterns.environment import quota_usage
from langflow_cdk8s.props.validation import quantity

PSA = "pod-security.kubernetes.io"


def test_production_enforces_restricted_and_development_baseline_both_warn_and_audit_restricted() -> None:
    prod = find(environment(Stage.PRODUCTION), "Namespace")["metadata"]["labels"]
    dev = find(environment(Stage.DEVELOPMENT), "Namespace")["metadata"]["labels"]
    assert prod[f"{PSA}/enforce"] == "restricted"
    assert dev[f"{PSA}/enforce"] == "baseline"
    for labels in (prod, dev):
        assert labels[f"{PSA}/warn"] == labels[f"{PSA}/audit"] == "restricted"


def test_production_cannot_be_relaxed_to_baseline() -> None:
    with pytest.raises(ConfigError, match="PodSecurityLevel.BASELINE in a production environment"):
        environment(Stage.PRODUCTION, pod_security=PodSecurityLevel.BASELINE)


def test_a_pod_security_level_given_as_a_string_names_the_enum_member_to_use() -> None:
    with pytest.raises(ConfigError) as raised:
        environment(Stage.DEVELOPMENT, pod_security="baseline")
    assert str(raised.value) == ("pod_security: 'baseline' is not a PodSecurityLevel\n"
                                 "  fix: use PodSecurityLevel.BASELINE")
    with pytest.raises(ConfigError, match="use one of PodSecurityLevel.BASELINE, PodSecurityLevel.RESTRICTED"):
        environment(Stage.DEVELOPMENT, pod_security="privileged")


def test_default_deny_then_dns() -> None:
    env = environment()
    deny = find(env, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Egress", "Ingress"]}
    dns = find(env, "NetworkPolicy", "allow-dns")["spec"]
    assert dns["policyTypes"] == ["Egress"]
    assert dns["egress"][0]["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    assert dns["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}


def test_external_apis_default_to_public_https_without_private_or_metadata_ranges() -> None:
    env = environment()
    LangflowRuntime(env, "rt", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)))
    egress = find(env, "NetworkPolicy", "langflow-runtime-support-triage")["spec"]["egress"]
    rule = next(r for r in egress if r["to"][0].get("ipBlock", {}).get("cidr") == "0.0.0.0/0")
    block = rule["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(block["except"])
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]


def test_production_egress_can_be_narrowed_to_explicit_cidrs() -> None:
    env = environment(Stage.PRODUCTION, external_apis=(NetworkPeer.cidr_blocks(["203.0.113.0/24"], [443], "LLM gateway"),))
    LangflowRuntime(env, "rt", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)))
    for policy in all_of(env, "NetworkPolicy"):
        blocks = [peer["ipBlock"]["cidr"] for rule in policy["spec"].get("egress", []) for peer in rule["to"] if "ipBlock" in peer]
        assert "0.0.0.0/0" not in blocks


def test_bad_cidr_is_refused() -> None:
    with pytest.raises(ConfigError, match="'10.0.0.1/8' is not a CIDR block"):
        NetworkPeer.cidr_blocks(["10.0.0.1/8"], [443], "x")


def test_developers_edit_in_development_through_a_namespaced_binding() -> None:
    env = environment(Stage.DEVELOPMENT, developer_group="ml-team")
    binding = find(env, "RoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-team"}]
    assert binding["metadata"]["namespace"] == "ns-test"
    assert not all_of(env, "ClusterRoleBinding") and not all_of(env, "ClusterRole")


def test_developers_only_read_in_production_no_secrets_no_exec() -> None:
    env = environment(Stage.PRODUCTION)
    rules = find(env, "Role", "langflow-readonly")["rules"]
    resources = {r for rule in rules for r in rule["resources"]}
    verbs = {v for rule in rules for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    assert "secrets" not in resources and "pods/exec" not in resources and "pods/portforward" not in resources
    assert find(env, "RoleBinding")["roleRef"]["name"] == "langflow-readonly"


def test_no_developer_group_means_no_binding() -> None:
    assert not all_of(environment(developer_group=None), "RoleBinding")


def test_quota_and_limit_range_follow_the_props() -> None:
    env = environment(quota=Quota(requests_cpu="4", requests_memory="8Gi", limits_cpu="8", limits_memory="8Gi", pods=20))
    hard = find(env, "ResourceQuota")["spec"]["hard"]
    assert hard["requests.cpu"] == "4" and hard["limits.memory"] == "8Gi" and hard["pods"] == "20"
    limits = find(env, "LimitRange")["spec"]["limits"][0]
    assert limits["type"] == "Container"
    assert limits["defaultRequest"] == {"cpu": "100m", "memory": "128Mi"}


def test_quota_with_a_bad_quantity_is_refused() -> None:
    with pytest.raises(ConfigError, match="quota.requests_memory: '8 GB'"):
        Quota(requests_cpu="4", requests_memory="8 GB", limits_cpu="8", limits_memory="8Gi")


def test_quota_usage_counts_maximum_scale_and_the_rolling_surge() -> None:
    env = environment()
    flows = Flow.from_folder(FLOWS)
    LangflowRuntime(env, "rt", LangflowRuntimeProps(flows=flows))
    usage = quota_usage(env.objects)
    # each flow x (6 autoscaled + 1 surge) pods x 1 CPU / 2Gi requested, 2 CPU / 2Gi limit.
    pods = len(flows) * 7
    assert usage["pods"] == pods
    assert usage["requests.cpu"] == pods and usage["limits.cpu"] == 2 * pods
    assert usage["requests.memory"] == pods * 2 * 2**30


@pytest.mark.parametrize("folder", ["dev", "prod"])
def test_each_example_quota_fits_its_environment_at_maximum_scale(example: Synthesis, folder: str) -> None:
    objects = example.objects(folder)
    hard = next(o for o in objects if o["kind"] == "ResourceQuota")["spec"]["hard"]
    usage = quota_usage(objects)
    short = {key: f"needs {value}, quota {hard[key]}" for key, value in usage.items()
             if value > (Decimal(hard[key]) if key == "pods" else quantity(key, hard[key]))}
    assert not short, f"the {folder} quota is too small at maximum scale: {short}"


def test_a_quota_too_small_is_reported_at_synthesis() -> None:
    env = environment(quota=Quota(requests_cpu="1", requests_memory="1Gi", limits_cpu="1", limits_memory="1Gi"))
    LangflowRuntime(env, "rt", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)))
    assert any("quota" in w and "requests.cpu" in w for w in env.quota_warnings())


def profile_env(profile: CloudProfile):
    env = environment(Stage.DEVELOPMENT, profile=profile)
    tls = None if profile.name == "eks" else "tls"   # EKS: ACM, never a Secret
    LangflowIDE(env, "ide", LangflowIDEProps(exposure=IngressOptions(host="lf.example.com", tls_secret=tls),
                                             service_type=ServiceType.LOAD_BALANCER))
    return env


def differences(a, b, path=""):
    """Paths where two manifests differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in differences(a.get(key), b.get(key), f"{path}/{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}/{i}")]
    return [] if a == b else [path]


def test_switching_profile_changes_only_storage_ingress_and_load_balancer_details() -> None:
    eks = {(o["kind"], o["metadata"]["name"]): o for o in profile_env(CloudProfile.eks()).objects}
    gke = {(o["kind"], o["metadata"]["name"]): o for o in profile_env(CloudProfile.gke()).objects}
    assert set(eks) == set(gke)
    changed = {key: differences(eks[key], gke[key]) for key in eks if eks[key] != gke[key]}
    allowed = ("/metadata/annotations", "/spec/ingressClassName", "/spec/volumeClaimTemplates/0/spec/storageClassName",
               "/spec/ingress", "/spec/tls/0/secretName")
    for key, paths in changed.items():
        assert all(any(p.startswith(a) for a in allowed) for p in paths), (key, paths)
    assert ("Ingress", "langflow-ide") in changed
    assert ("Service", "langflow-ide-backend") in changed
    assert ("StatefulSet", "langflow-ide-backend") in changed


@pytest.mark.parametrize("factory, storage, ingress_class", [
    (CloudProfile.generic, None, "nginx"), (CloudProfile.kind, "standard", "nginx"), (CloudProfile.eks, "gp2", "alb"),
    (CloudProfile.gke, "standard-rwo", "gce"), (CloudProfile.aks, "managed-csi", "webapprouting.kubernetes.azure.com"),
])
def test_profiles_use_what_each_cluster_ships(factory, storage, ingress_class) -> None:
    env = profile_env(factory())
    claim = find(env, "StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim.get("storageClassName") == storage
    assert find(env, "Ingress")["spec"]["ingressClassName"] == ingress_class
    service = find(env, "Service", "langflow-ide-backend")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {**factory().load_balancer_annotations, "argocd.argoproj.io/sync-wave": "0"}


def test_cloud_load_balancers_reach_pods_from_their_documented_ranges() -> None:
    rules = find(profile_env(CloudProfile.gke()), "NetworkPolicy", "langflow-ide-backend")["spec"]["ingress"]
    blocks = {peer["ipBlock"]["cidr"] for rule in rules for peer in rule["from"] if "ipBlock" in peer}
    assert {"35.191.0.0/16", "130.211.0.0/22"} <= blocks


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ConfigError, match="'openshift' is not a known cloud profile"):
        CloudProfile.named("openshift")


def test_workloads_must_live_in_an_environment() -> None:
    with pytest.raises(ConfigError, match="is in no Environment"):
        LangflowIDE(cdk8s.Chart(unsynthesized_app(), "plain"), "ide", LangflowIDEProps())


def test_environment_props_validate_the_namespace() -> None:
    with pytest.raises(ConfigError, match="namespace: 'Langflow_Prod'"):
        EnvironmentProps(stage=Stage.PRODUCTION, namespace="Langflow_Prod", quota=Quota(
            requests_cpu="1", requests_memory="1Gi", limits_cpu="1", limits_memory="1Gi"))


def test_database_egress_follows_the_database_choice() -> None:
    env = environment()
    LangflowRuntime(env, "rt", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS), database=Database.external_postgres(
        host="db.internal", password=SecretKey(name="db", key="pw"),
        reachable_at=NetworkPeer.namespace("databases", [5432], "shared PostgreSQL"))))
    egress = find(env, "NetworkPolicy", "langflow-runtime-support-triage")["spec"]["egress"]
    assert {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "databases"}}, "podSelector": {}}],
            "ports": [{"protocol": "TCP", "port": 5432}]} in egress


def test_a_users_own_workload_lands_in_the_namespace_with_the_labels_and_only_true_checkov_skips() -> None:
    import cdk8s_plus_27 as kplus

    PROBES = {"readiness": kplus.Probe.from_command(["true"]), "liveness": kplus.Probe.from_command(["true"])}
    env = environment()
    kplus.Deployment(env, "echo", security_context=kplus.PodSecurityContextProps(user=10001, group=10001), containers=[
        kplus.ContainerProps(name="echo", image="hashicorp/http-echo:1.0.0", port_number=5678, **PROBES,
                             env_variables={"TOKEN": kplus.EnvValue.from_secret_value(kplus.SecretValue(
                                 secret=kplus.Secret.from_secret_name(env, "token", "echo-token"), key="token"))})])
    kplus.Deployment(env, "moving", containers=[kplus.ContainerProps(name="moving", image="example/app:latest", **PROBES,
                                                                     image_pull_policy=kplus.ImagePullPolicy.IF_NOT_PRESENT)])
    echo, moving = find(env, "Deployment", "test-echo"), find(env, "Deployment", "test-moving")
    for deployment in (echo, moving):
        assert deployment["metadata"]["namespace"] == "ns-test"
        assert deployment["metadata"]["labels"] == {"app.kubernetes.io/instance": "langflow-test",
                                                    "app.kubernetes.io/managed-by": "cdk8s",
                                                    "app.kubernetes.io/part-of": "langflow"}
    # uid 10001 and a secret read by a container that is not Langflow's: no uid or env skip; a release tag
    # pulled Always: CKV_K8S_43's reason holds, CKV_K8S_15's does not apply. `latest`: no reason holds.
    assert echo["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "1",
                                               "checkov.io/skip1": f"CKV_K8S_43={REASONS['CKV_K8S_43']}"}
    assert moving["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": "1"}  # as the library's workloads
    assert "namespace" not in find(env, "Namespace")["metadata"]
