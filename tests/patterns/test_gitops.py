"""GitOps: every AppProject allows exactly what its environment's dist/ folder holds, every
Application syncs a folder that exists, sync waves put the namespace before RBAC and configuration
and those before workloads, and the Argo CD objects pass their CRD's OpenAPI schema.

The checks read the synthesized files, not what GitOps read (Environment.objects), so an object
that bypasses `emit` still shows up as a mismatch.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import example_app
import pytest
import yaml
from conftest import ROOT, Synthesis, reference
from gates import Manifest, crd_schema_errors
from support import QUOTA, unsynthesized_app

from langflow_cdk8s import (
    ConfigError,
    Environment,
    EnvironmentProps,
    GitOps,
    GitOpsProps,
    LangflowIDE,
    LangflowIDEProps,
    Stage,
    SyncPolicy,
)
from langflow_cdk8s.mechanics.waves import SYNC_WAVE, metadata, sync_wave
from langflow_cdk8s.tooling.synth import summary, synth

REPO = example_app.REPO


def group(obj: dict[str, Any]) -> str:
    return obj["apiVersion"].rpartition("/")[0]


def project_mismatches(project: dict[str, Any], objects: list[dict[str, Any]], server: str) -> list[str]:
    """What Argo CD would refuse to sync from `objects` under `project`, and what the project allows
    that `objects` never use. Namespaced means "has metadata.namespace", as in the files."""
    spec = project["spec"]
    problems = []
    namespaced = {(group(o), o["kind"]) for o in objects if "namespace" in o["metadata"]}
    allowed = {(r["group"], r["kind"]) for r in spec.get("namespaceResourceWhitelist", [])}
    problems += [f"{g}/{k} is emitted but not in namespaceResourceWhitelist" for g, k in sorted(namespaced - allowed)]
    problems += [f"{g}/{k} is allowed but never emitted" for g, k in sorted(allowed - namespaced)]
    cluster = {(group(o), o["kind"], o["metadata"]["name"]) for o in objects if "namespace" not in o["metadata"]}
    allowed_cluster = {(r["group"], r["kind"], r.get("name")) for r in spec.get("clusterResourceWhitelist", [])}
    if cluster != allowed_cluster:
        problems.append(f"cluster-scoped objects {sorted(cluster)} but clusterResourceWhitelist {sorted(allowed_cluster)}")
    namespaces = {o["metadata"]["namespace"] for o in objects if "namespace" in o["metadata"]}
    destinations = {(d["server"], d["namespace"]) for d in spec["destinations"]}
    if destinations != {(server, ns) for ns in namespaces}:
        problems.append(f"objects in namespaces {sorted(namespaces)} but destinations {sorted(destinations)}")
    return problems


def application(ref: Synthesis, name: str) -> dict[str, Any]:
    return ref.get("argocd", "Application", f"langflow-{name}")


def project(ref: Synthesis, name: str) -> dict[str, Any]:
    return ref.get("argocd", "AppProject", f"langflow-{name}")


def wave(obj: dict[str, Any]) -> int:
    return int(obj["metadata"]["annotations"][SYNC_WAVE])


def dev_environment(app: cdk8s.App, namespace: str = "ns-dev") -> Environment:
    env = Environment(app, "dev", EnvironmentProps(stage=Stage.DEVELOPMENT, namespace=namespace, quota=QUOTA))
    LangflowIDE(env, "ide", LangflowIDEProps())
    return env


def config_map(env: Environment) -> kplus.ConfigMap:
    """A ConfigMap a user adds to the environment through the cdk8s-plus API."""
    return kplus.ConfigMap(env, "extra", data={"key": "value"}, metadata=metadata(
        "ConfigMap", "extra", namespace=env.namespace_name, labels=env.labels("extra")))


# --- main.py's app, whatever it holds -------------------------------------------------------------


def environments(synthesis: Synthesis) -> list[str]:
    """The environments GitOps deploys: every Application except the root one."""
    root = root_application(synthesis)
    return sorted(o["metadata"]["name"].removeprefix("langflow-") for o in synthesis.objects(gitops_folder(synthesis))
                  if o["kind"] == "Application" and o != root)


def gitops_folder(synthesis: Synthesis) -> str:
    folders = {path.split("/")[0] for path, text in synthesis.files.items() if "apiVersion: argoproj.io/" in text}
    assert len(folders) == 1, f"expected one folder of Argo CD objects, found {sorted(folders)}"
    return folders.pop()


def root_application(synthesis: Synthesis) -> dict[str, Any]:
    folder = gitops_folder(synthesis)
    return next(o for o in synthesis.objects(folder)
                if o["kind"] == "Application" and o["spec"]["source"]["path"] == f"dist/{folder}")


ENVIRONMENTS = environments(reference())


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_project_allows_exactly_what_its_environment_emits(ref: Synthesis, name: str) -> None:
    server = application(ref, name)["spec"]["destination"]["server"]
    assert project_mismatches(project(ref, name), ref.objects(name), server) == []


def test_the_root_project_allows_exactly_the_argo_cd_objects(ref: Synthesis) -> None:
    folder = gitops_folder(ref)
    objects = ref.objects(folder)
    root = root_application(ref)
    namespace = root["metadata"]["namespace"]
    assert project_mismatches(project(ref, folder), objects, root["spec"]["destination"]["server"]) == []
    assert {o["metadata"]["namespace"] for o in objects} == {namespace}
    assert {(group(o), o["kind"]) for o in objects} == {("argoproj.io", "Application"), ("argoproj.io", "AppProject")}


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_application_syncs_its_existing_dist_folder_into_its_namespace(ref: Synthesis, name: str) -> None:
    spec = application(ref, name)["spec"]
    root = root_application(ref)["spec"]["source"]
    assert spec["source"] == {"repoURL": root["repoURL"], "path": f"dist/{name}", "targetRevision": root["targetRevision"]}
    assert (ROOT / spec["source"]["path"]).is_dir()
    assert any(path.startswith(f"{name}/") for path in ref.files)
    namespace = next(o for o in ref.objects(name) if o["kind"] == "Namespace")["metadata"]["name"]
    assert spec["destination"]["namespace"] == namespace
    assert spec["project"] == project(ref, name)["metadata"]["name"]


def test_the_root_application_syncs_its_own_folder_itself_included(ref: Synthesis) -> None:
    folder = gitops_folder(ref)
    root = root_application(ref)
    spec = root["spec"]
    assert (ROOT / "dist" / folder / f"Application.{root['metadata']['name']}.k8s.yaml").is_file()
    assert spec["destination"]["namespace"] == root["metadata"]["namespace"]
    assert spec["project"] == project(ref, folder)["metadata"]["name"]
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_every_folder_of_dist_has_exactly_one_application(ref: Synthesis) -> None:
    folders = {path.split("/", 1)[0] for path in ref.files}
    paths = [o["spec"]["source"]["path"] for o in ref.objects(gitops_folder(ref)) if o["kind"] == "Application"]
    assert sorted(paths) == sorted(f"dist/{folder}" for folder in folders)


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_sync_waves_put_the_namespace_then_rbac_and_configuration_then_workloads_then_traffic(
        ref: Synthesis, name: str) -> None:
    waves: dict[str, set[int]] = {}
    for obj in ref.objects(name):
        waves.setdefault(obj["kind"], set()).add(wave(obj))
    stages = [("Namespace",),
              ("ServiceAccount", "Role", "RoleBinding", "NetworkPolicy", "ResourceQuota", "LimitRange"),
              ("ConfigMap", "Service", "ReferenceGrant", "ExternalSecret"),
              ("Deployment", "StatefulSet"),
              ("HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "Gateway", "HTTPRoute", "PodMonitor", "ServiceMonitor")]
    assert {kind for kinds in stages for kind in kinds} >= set(waves), "a kind this test does not order"
    present = [stage for kinds in stages if (stage := set().union(*(waves.get(kind, set()) for kind in kinds)))]
    for earlier, later in itertools.pairwise(present):
        assert max(earlier) < min(later)


def test_projects_sync_before_the_applications_that_name_them(ref: Synthesis) -> None:
    objects = ref.objects(gitops_folder(ref))
    projects = [wave(o) for o in objects if o["kind"] == "AppProject"]
    applications = [wave(o) for o in objects if o["kind"] == "Application"]
    assert max(projects) < min(applications)


# --- the example app: values the library promises ----------------------------------------------


def test_the_example_root_application_follows_the_repository(example: Synthesis) -> None:
    spec = application(example, "argocd")["spec"]
    assert spec["source"] == {"repoURL": REPO, "path": "dist/argocd", "targetRevision": "main"}
    assert spec["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "argocd"}
    assert spec["project"] == "langflow-argocd"


def test_every_stage_of_the_sync_waves_is_present_in_the_example(example: Synthesis) -> None:
    kinds = {o["kind"] for name in ("dev", "prod") for o in example.objects(name)}
    assert {"Namespace", "Role", "ConfigMap", "Service", "Deployment", "StatefulSet", "HorizontalPodAutoscaler"} <= kinds


def test_development_prunes_and_self_heals_production_self_heals_without_pruning(example: Synthesis) -> None:
    dev, prod = (application(example, name)["spec"]["syncPolicy"] for name in ("dev", "prod"))
    assert dev["automated"] == {"prune": True, "selfHeal": True}
    assert prod["automated"] == {"prune": False, "selfHeal": True}
    for policy in (dev, prod):
        assert policy["syncOptions"] == ["ServerSideApply=true", "PruneLast=true", "CreateNamespace=false"]
        assert policy["retry"]["limit"] == 5


def test_a_kind_without_a_sync_wave_is_an_error_not_wave_0() -> None:
    with pytest.raises(LookupError, match="no Argo CD sync wave for kind 'CronJob'"):
        sync_wave("CronJob")


# --- the whitelist follows the environment, and the check catches a lagging project -----------


def test_a_new_kind_in_an_environment_is_added_to_its_project() -> None:
    app = unsynthesized_app()
    env = dev_environment(app)
    assert "ConfigMap" not in {o["kind"] for o in env.objects}
    config_map(env)
    gitops = GitOps(app, "argocd", GitOpsProps(environments=[env], repo_url=REPO))
    synthesized = cdk8s.Testing.synth(gitops)
    dev_project = next(o for o in synthesized if o["kind"] == "AppProject" and o["metadata"]["name"] == "langflow-dev")
    assert {"group": "", "kind": "ConfigMap"} in dev_project["spec"]["namespaceResourceWhitelist"]
    assert project_mismatches(dev_project, [*cdk8s.Testing.synth(env)], "https://kubernetes.default.svc") == []


def test_the_check_flags_a_kind_the_project_does_not_allow(example: Synthesis) -> None:
    extra = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "x", "namespace": "langflow-dev"}}
    assert project_mismatches(project(example, "dev"), [*example.objects("dev"), extra],
                              "https://kubernetes.default.svc") == ["batch/CronJob is emitted but not in namespaceResourceWhitelist"]
    assert project_mismatches(project(example, "prod"), example.objects("dev"), "https://kubernetes.default.svc") != []


def test_a_kind_added_after_gitops_was_created_is_whitelisted_at_synthesis() -> None:
    app = unsynthesized_app()
    env = dev_environment(app)
    gitops = GitOps(app, "argocd", GitOpsProps(environments=[env], repo_url=REPO))
    config_map(env)
    dev_project = next(o for o in cdk8s.Testing.synth(gitops) if o["kind"] == "AppProject"
                       and o["metadata"]["name"] == "langflow-dev")
    assert {"group": "", "kind": "ConfigMap"} in dev_project["spec"]["namespaceResourceWhitelist"]
    assert project_mismatches(dev_project, env.objects, "https://kubernetes.default.svc") == []


def test_a_cluster_scoped_kind_added_later_is_a_readable_synthesis_error(tmp_path) -> None:
    def build(app):
        env = dev_environment(app)
        GitOps(app, "argocd", GitOpsProps(environments=[env], repo_url=REPO))
        kplus.ClusterRole(env, "cluster-wide", metadata=cdk8s.ApiObjectMetadata(name="x"))
        return [env]

    out = io.StringIO()
    assert synth(build, outdir=str(tmp_path), stream=out) == 2
    assert out.getvalue().startswith("error: [argocd] environment 'dev' emits cluster-scoped ClusterRole")
    assert len(out.getvalue().splitlines()) == 1, out.getvalue()


# --- props -------------------------------------------------------------------------------------


def test_sync_policies_are_configurable_per_stage() -> None:
    app = unsynthesized_app()
    env = dev_environment(app)
    gitops = GitOps(app, "argocd", GitOpsProps(environments=[env], repo_url=REPO, development_sync=SyncPolicy.manual()))
    dev_app = next(o for o in cdk8s.Testing.synth(gitops) if o["kind"] == "Application"
                   and o["metadata"]["name"] == "langflow-dev")
    assert "automated" not in dev_app["spec"]["syncPolicy"]
    assert SyncPolicy(retries=0).to_spec().retry is None


@pytest.mark.parametrize(("change", "message"), [
    ({"repo_url": "github.com/example/repo"}, "is not a Git repository URL"),
    ({"target_revision": "my branch"}, "is not a Git revision"),
    ({"argocd_namespace": "Argo"}, "is not a DNS-1123 label"),
    ({"argocd_namespace": "ns-dev"}, "is also an environment's namespace"),
    ({"destination_server": "http://cluster"}, "is not an https:// API server URL"),
    ({"environments": []}, "is not a non-empty list of Environments"),
    ({"production_sync": "manual"}, "is not a SyncPolicy"),
])
def test_bad_props_are_refused(change: dict[str, Any], message: str) -> None:
    env = dev_environment(unsynthesized_app())
    with pytest.raises(ConfigError, match=message):
        GitOpsProps(**{"environments": [env], "repo_url": REPO, **change})


def test_repository_urls_in_ssh_form_are_accepted() -> None:
    env = dev_environment(unsynthesized_app())
    for url in ("git@github.com:example/langflow-k8s.git", "ssh://git@github.com/example/langflow-k8s.git"):
        assert GitOpsProps(environments=[env], repo_url=url).repo_url == url


def test_prune_or_self_heal_need_automated_sync() -> None:
    with pytest.raises(ConfigError, match="prune or self_heal without automated sync"):
        SyncPolicy(automated=False, prune=True)


def test_environments_must_not_share_a_namespace() -> None:
    app = unsynthesized_app()
    dev = dev_environment(app, namespace="shared")
    prod = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="shared", quota=QUOTA))
    with pytest.raises(ConfigError, match="two environments share namespace 'shared'"):
        GitOpsProps(environments=[dev, prod], repo_url=REPO)


def test_the_gitops_chart_cannot_take_an_environment_folder() -> None:
    app = unsynthesized_app()
    env = dev_environment(app)
    with pytest.raises(ConfigError, match="'dev' is also an environment's name"):
        GitOps(app, "dev", GitOpsProps(environments=[env], repo_url=REPO))


def test_the_summary_counts_the_argo_cd_objects() -> None:
    app = unsynthesized_app()
    built = example_app.build(app, repo_url="git@example.com:langflow.git", revision="v1")
    assert summary(app, built).splitlines()[-1] == (
        "argocd: 3 AppProjects and 3 Applications in namespace argocd, following git@example.com:langflow.git at v1")


# --- the CRD schema (the generic gate in tests/gates.py) ---------------------------------------


def test_argo_cd_objects_match_their_crd_schema(ref: Synthesis) -> None:
    objects = ref.objects(gitops_folder(ref))
    assert {o["kind"] for o in objects} == {"Application", "AppProject"}
    assert crd_schema_errors([Manifest(f"argocd/{o['kind']}.{o['metadata']['name']}", o) for o in objects]) == []


def test_the_crd_schema_check_catches_a_misspelt_field(example: Synthesis) -> None:
    broken = application(example, "prod")
    broken["spec"]["source"]["repoUrl"] = broken["spec"]["source"].pop("repoURL")
    messages = crd_schema_errors([Manifest("argocd/Application.langflow-prod", broken)])
    assert any("'repoUrl' was unexpected" in m for m in messages) and any("'repoURL' is a required" in m for m in messages)


# --- a cluster per environment --------------------------------------------------------------------


def test_dev_and_prod_on_two_clusters_each_allowed_only_their_own(tmp_path) -> None:
    from langflow_cdk8s import Destination

    def build(app: cdk8s.App) -> list[Environment]:
        return example_app.build(app, destinations={"dev": Destination.cluster_name("dev-eu-1"),
                                                    "prod": Destination.server_url("https://prod.k8s.example.com")})

    assert synth(build, outdir=str(tmp_path), stream=io.StringIO()) == 0
    wanted = {"dev": ({"name": "dev-eu-1", "namespace": "langflow-dev"}, "dev-eu-1"),
              "prod": ({"server": "https://prod.k8s.example.com", "namespace": "langflow-prod"},
                       "https://prod.k8s.example.com")}
    for env, (destination, cluster) in wanted.items():
        app = yaml.safe_load((tmp_path / "argocd" / f"Application.langflow-{env}.k8s.yaml").read_text())
        project = yaml.safe_load((tmp_path / "argocd" / f"AppProject.langflow-{env}.k8s.yaml").read_text())
        assert app["spec"]["destination"] == destination
        assert project["spec"]["destinations"] == [destination], "the project allows exactly its own cluster"
        assert cluster in project["spec"]["description"]
    root = yaml.safe_load((tmp_path / "argocd" / "AppProject.langflow-argocd.k8s.yaml").read_text())
    assert root["spec"]["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "argocd"}]


@pytest.mark.parametrize("destinations, where", [
    ({"staging": "https://x"}, "destinations['staging']"),
    ({"dev": "https://x"}, "destinations['dev']"),
])
def test_bad_destinations_are_refused(destinations: dict, where: str) -> None:
    app = unsynthesized_app()
    with pytest.raises(ConfigError, match=re.escape(where)):
        GitOpsProps(environments=[dev_environment(app)], repo_url=REPO, destinations=destinations)


@pytest.mark.parametrize("make, where", [
    (lambda: __import__("langflow_cdk8s").Destination.server_url("http://insecure"), "destination.server"),
    (lambda: __import__("langflow_cdk8s").Destination.cluster_name("two words"), "destination.name"),
    (lambda: __import__("langflow_cdk8s").Destination(), "destination"),
])
def test_bad_destination_values_are_refused(make, where: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(where)}:"):
        make()
