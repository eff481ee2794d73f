"""The mistakes a team makes when it edits main.py and flows/, each caught in-process: exit code 2,
two lines naming where (the file, or the user's line, environment and construct, and the prop) and
the value, and what to do, with the output folder untouched. test_bad_input.py holds the older
entries; test_cdk8s_synth.py runs a few of these through `cdk8s synth`."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path

import cdk8s
import cdk8s_plus_27 as kplus
import example_app
import pytest
from test_bad_input import Outcome, assert_readable_failure, dev, flow_json, folder, prod, run, runtime

from langflow_cdk8s import (
    Auth,
    CustomComponents,
    Database,
    Environment,
    Flow,
    FlowDelivery,
    FlowGroup,
    GitOps,
    GitOpsProps,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Metrics,
    NetworkPeer,
    PodOptions,
    Quota,
    RedisCache,
    Resources,
    SecretKey,
    Security,
)

REPO = "https://github.com/example/langflow-k8s.git"


def failure(outcome: Outcome, *expected: str, after_writing: bool = False) -> str:
    """`after_writing`: a check of what cdk8s wrote (hardening, probes), which in-process synthesis
    into an output folder makes there; `make synth` makes it in its staging folder and leaves dist/
    as it was (test_cdk8s_synth.py's test_a_check_after_writing_leaves_dist_and_docs)."""
    assert outcome.code == 2, outcome.message
    assert_readable_failure(replace(outcome, untouched=True) if after_writing else outcome, *expected)
    return outcome.message


def line_of(text: str) -> int:
    """The line of this file that holds `text` (what a user-code error must point at)."""
    return next(n for n, line in enumerate(Path(__file__).read_text().splitlines(), 1) if text in line)


# ---- names and keys -----------------------------------------------------------------------


def test_a_secret_key_kubernetes_rejects(tmp_path: Path) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = dev(app)
        LangflowIDE(env, "ide", LangflowIDEProps(secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="open ai")}))
        return [env]

    message = failure(run(build, tmp_path), "secret 'llm-api-keys' key: 'open ai' is not a valid Secret key")
    assert "letters, digits, '-', '_' and '.'" in message


@pytest.mark.parametrize(("make", "where"), [
    (lambda: SecretKey(name="LLM_keys", key="openai"), "secret.name: 'LLM_keys'"),
    (lambda: IngressOptions(host="flows.example.com", tls_secret="Prod TLS"), "ingress.tls_secret: 'Prod TLS'"),
    (lambda: PodOptions(image_pull_secrets=["registry_credentials"]), "pod.image_pull_secrets: 'registry_credentials'"),
    (lambda: Database.in_cluster_postgres(credentials="pg_creds"), "database.credentials: 'pg_creds'"),
], ids=["secret", "tls-secret", "pull-secret", "database-credentials"])
def test_an_object_name_that_is_not_a_dns_name_gets_a_hint_about_names(tmp_path: Path, make, where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    message = failure(run(build, tmp_path), where, "is not a valid Kubernetes object name")
    assert "such as 'llm-api-keys'" in message and "example.com" not in message.splitlines()[1]


@pytest.mark.parametrize(("make", "where"), [
    (lambda: LangflowIDEProps(secret_env={"OPENAI API KEY": SecretKey(name="llm-api-keys", key="openai")}),
     "secret_env['OPENAI API KEY']"),
    (lambda: PodOptions(env={"1LOG_LEVEL": "debug"}), "pod.env['1LOG_LEVEL']"),
], ids=["secret-env", "pod-env"])
def test_an_environment_variable_name_kubernetes_rejects(tmp_path: Path, make, where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    failure(run(build, tmp_path), where, "is not a valid environment variable name")


# ---- quantities and counts ----------------------------------------------------------------


@pytest.mark.parametrize(("make", "where"), [
    (lambda: Quota(requests_cpu="8", requests_memory="16Gi", limits_cpu="16", limits_memory="24Gi", pods=-1),
     "quota.pods: -1 is below the minimum of 1"),
    (lambda: Quota(requests_cpu="8", requests_memory="16Gi", limits_cpu="16", limits_memory="24Gi",
                   persistent_volume_claims=-2), "quota.persistent_volume_claims: -2 is below the minimum of 0"),
    (lambda: Quota(requests_cpu="-8", requests_memory="16Gi", limits_cpu="16", limits_memory="24Gi"),
     "quota.requests_cpu: '-8' is not a Kubernetes quantity"),
    (lambda: Resources(cpu="-1", memory="1Gi"), "resources.cpu: '-1' is not a Kubernetes quantity"),
    (lambda: Resources(cpu="1", memory="one gig"), "resources.memory: 'one gig' is not a Kubernetes quantity"),
], ids=["pods", "claims", "quota-cpu", "cpu", "memory"])
def test_a_negative_or_unparsable_quantity(tmp_path: Path, make, where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    failure(run(build, tmp_path), where)


def test_an_error_in_a_flows_overrides_names_the_users_line(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: [f.with_overrides(resources=Resources(cpu="2", memory="1Gi", cpu_limit="1"))  # overrides
                                   for f in Flow.from_folder(flows)]), tmp_path)
    failure(outcome, f"test_error_catalogue.py:{line_of('# overrides')}", "resources.cpu_limit: '1' is below the request '2'")


def test_an_error_inside_the_runtime_names_the_environment_and_the_construct(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: [f.with_overrides(replicas=0) for f in Flow.from_folder(flows)],
                          lambda: {"autoscaling": None}), tmp_path)
    failure(outcome, "environment 'prod', LangflowRuntime 'runtime': replicas of 'support-triage': 0 is below")


# ---- flows ---------------------------------------------------------------------------------


def test_a_flow_without_nodes(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": json.dumps({"id": str(uuid.uuid4()), "name": "Triage", "data": {"edges": []}})})
    failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path), f"{flows / 'a.json'}: has no data.nodes list")


def test_a_flow_with_an_edge_to_a_missing_node(tmp_path: Path) -> None:
    data = {"nodes": [{"id": "ChatInput-1"}], "edges": [{"source": "ChatInput-1", "target": "OpenAIModel-9"}]}
    flows = folder(tmp_path, {"a.json": flow_json(data=data)})
    failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path),
            f"{flows / 'a.json'}: has an edge whose target 'OpenAIModel-9' is not a node of the flow")


def test_a_broken_symlink_in_the_flows_folder(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    (flows / "b.json").symlink_to(tmp_path / "gone.json")
    failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path), f"{flows / 'b.json'}: is a broken symbolic link")


def test_an_upper_case_json_suffix(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json(), "Triage.JSON": flow_json("Other")})
    message = failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path),
                      f"{flows / 'Triage.JSON'}: ends in '.JSON', which Langflow's loader does not read")
    assert "rename it to 'Triage.json'" in message


def test_a_subfolder_in_the_flows_folder(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    (flows / "archive").mkdir()
    failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path), f"{flows / 'archive'}: is a folder inside the flows folder")


def test_the_same_flow_in_the_folder_and_in_a_group(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json(), "b.json": flow_json("Release Notes")})

    def both() -> list:
        everything = Flow.from_folder(flows)
        return [*everything, FlowGroup(name="writers", flows=everything[1:])]

    message = failure(run(runtime(both), tmp_path), f"{flows / 'b.json'}: is served twice in environment 'prod'")
    assert "has the same id" not in message


def test_a_shortened_endpoint_name_is_said_in_the_summary(tmp_path: Path) -> None:
    name = "Quarterly Customer Support Escalation Triage And Routing"
    flows = folder(tmp_path, {"a.json": flow_json(name)})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert outcome.code == 0, outcome.message
    assert (f"  warning: {flows / 'a.json'}: endpoint name shortened to 'quarterly-customer-support-escalation-tr' "
            "(40 characters, from 'quarterly-customer-support-escalation-triage-and-routing')") in outcome.message


# ---- secrets by reference -----------------------------------------------------------------


@pytest.mark.parametrize(("make", "where"), [
    (lambda: Database.external_postgres(host="db.internal", password="hunter2"), "database.password: is a str of 7"),
    (lambda: LangflowIDEProps(secret_env={"OPENAI_API_KEY": "sk-abc123"}), "secret_env['OPENAI_API_KEY']: is a str of 9"),
    (lambda: FlowDelivery.download(auth_header="Bearer abc"), "delivery.auth_header: is a str of 10"),
], ids=["database-password", "secret-env", "auth-header"])
def test_a_plain_string_where_a_secret_key_belongs(tmp_path: Path, make, where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    message = failure(run(build, tmp_path), where, "characters (not shown), not a SecretKey")
    assert "hunter2" not in message and "sk-abc123" not in message and "Bearer abc" not in message


# ---- GitOps --------------------------------------------------------------------------------


def test_an_environment_left_out_of_gitops(tmp_path: Path) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        development, production = dev(app), prod(app)
        LangflowIDE(development, "ide")
        LangflowRuntime(production, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(folder(tmp_path, {"a.json": flow_json()}))))
        GitOps(app, "argocd", GitOpsProps(environments=[development], repo_url=REPO))
        return [development, production]

    message = failure(run(build, tmp_path), "environment 'prod': is synthesized into dist/ but not in GitOpsProps")
    assert "Argo CD deploys dist/prod/" in message


# ---- the user's own Python ------------------------------------------------------------------


def test_a_name_error_in_the_users_code_points_at_their_line(tmp_path: Path) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = dev(app)
        LangflowIDE(env, "ide", LangflowIDEProps(database=Databse.sqlite()))  # noqa: F821 - the mistake
        return [env]

    message = failure(run(build, tmp_path), f"test_error_catalogue.py:{line_of('Databse.sqlite()')}: NameError: "
                                            "name 'Databse' is not defined")
    assert "synth.py" not in message and "Traceback" not in message


def test_a_misspelt_keyword_points_at_the_users_line(tmp_path: Path) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = dev(app)
        LangflowIDE(env, "ide", LangflowIDEProps(replica=2))  # the mistake
        return [env]

    message = failure(run(build, tmp_path), f"test_error_catalogue.py:{line_of('replica=2)')}: TypeError: ",
                      "unexpected keyword argument 'replica'")
    assert "docs/reference.md" in message


def test_a_wrong_type_passed_to_the_cdk8s_plus_api_points_at_the_users_line(tmp_path: Path) -> None:
    """Extending the objects through the cdk8s-plus API (README): a value of the wrong type."""
    def build(app: cdk8s.App) -> list[Environment]:
        env = prod(app)
        served = LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(example_app.FLOWS)))
        served.workloads["support-triage"].container.env.add_variable("EXTRA", "1")  # the mistake: an EnvValue
        return [env]

    message = failure(run(build, tmp_path), f"test_error_catalogue.py:{line_of('# the mistake: an EnvValue')}: ",
                      "must be cdk8s_plus_27.EnvValue; got str instead")
    assert "cdk8s-plus-27's API reference" in message and "typeguard" not in message


# ---- values the API server refuses ---------------------------------------------------------------


@pytest.mark.parametrize(("make", "where"), [
    (lambda: Database.external_postgres(host="db.internal", password=SecretKey(name="db", key="password"), port=70000),
     "database.port: 70000 is not a port (1-65535"),
    (lambda: Database.external_postgres_url(SecretKey(name="db", key="url"), port=0), "database.port: 0 is not a port"),
    (lambda: NetworkPeer.cidr_blocks(["10.20.0.0/16"], [5432, 65536], "database subnet"),
     "network_peer.ports: 65536 is not a port"),
    (lambda: NetworkPeer.pods({"app": "redis"}, ["redis_port"], "cache"), "network_peer.ports: 'redis_port' is not a port"),
    (lambda: Metrics(port=99999), "metrics.port: 99999 is not a port"),
    (lambda: RedisCache(url=SecretKey(name="redis", key="url"), signing_key=SecretKey(name="redis", key="key"), port=-1),
     "redis.port: -1 is not a port"),
], ids=["postgres", "postgres-url", "peer", "peer-name", "metrics", "redis"])
def test_a_port_outside_what_the_api_server_accepts(tmp_path: Path, make, where: str) -> None:
    """It would land in NetworkPolicies and Services the API server rejects at sync time."""
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    message = failure(run(build, tmp_path), where)
    assert "such as 5432" in message


# ---- flows the runtime cannot run ----------------------------------------------------------------


def test_a_flow_with_an_empty_node_list(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json(data={"nodes": [], "edges": []})})
    failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path),
            f"{flows / 'a.json'}: has an empty node list (data.nodes is []): every run of it would fail")


CUSTOM = {"id": "CustomComponent-7", "data": {"id": "CustomComponent-7", "type": "CustomComponent", "node": {
    "display_name": "Ticket Scorer", "template": {"code": {"value": "class TicketScorer(Component): ..."}}}}}
EDITED = {"id": "ChatOutput-2", "data": {"id": "ChatOutput-2", "type": "ChatOutput", "node": {
    "display_name": "Chat Output", "edited": True, "template": {"code": {"value": "class ChatOutput(Component): ..."}}}}}
REPL = {"id": "PythonREPLComponent-3", "data": {"id": "PythonREPLComponent-3", "type": "PythonREPLComponent", "node": {
    "display_name": "Python Interpreter", "template": {}}}}


@pytest.mark.parametrize(("node", "expected"), [
    (CUSTOM, "node 'Ticket Scorer' (CustomComponent-7) runs code of its own (a custom or edited component), which this "
             "runtime refuses: security.custom_components is OFF"),
    (EDITED, "node 'Chat Output' (ChatOutput-2) runs code of its own"),
    (REPL, "node 'Python Interpreter' (PythonREPLComponent-3) is a PythonREPLComponent, which runs supplied Python; "
           "this runtime blocks those (security.code_interpreter_components is False)"),
], ids=["custom-component", "edited-component", "code-interpreter"])
def test_a_production_flow_that_its_runtimes_posture_refuses(tmp_path: Path, node: dict, expected: str) -> None:
    """Langflow 1.13 with custom components off refuses (or replaces) a node's own code at every run."""
    flows = folder(tmp_path, {"a.json": flow_json(data={"nodes": [node], "edges": []})})
    message = failure(run(runtime(lambda: Flow.from_folder(flows)), tmp_path), f"{flows / 'a.json'}: {expected}")
    assert "Security(" in message.splitlines()[1]


def test_the_same_flow_passes_where_the_posture_allows_it(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json(data={"nodes": [CUSTOM, REPL], "edges": []})})
    allowed = Security(custom_components=CustomComponents.ADMIN_ONLY, code_interpreter_components=True, tweaks="off",
                       loopback_connectors=False)
    outcome = run(runtime(lambda: Flow.from_folder(flows), lambda: {"security": allowed}), tmp_path)
    assert outcome.code == 0, outcome.message


def test_auto_login_on_a_production_runtime(tmp_path: Path) -> None:
    def auth() -> dict:
        return {"auth": Auth(superuser=SecretKey(name="auth", key="superuser"), secret_key=SecretKey(name="auth", key="key"),
                             superuser_password=SecretKey(name="auth", key="password"), auto_login=True)}

    flows = folder(tmp_path, {"a.json": flow_json()})
    message = failure(run(runtime(lambda: Flow.from_folder(flows), auth), tmp_path),
                      "environment 'prod', LangflowRuntime 'runtime': auth.auto_login: is True in production environment "
                      "'prod'")
    assert "auto_login=False" in message


# ---- what build() returns, and what a user adds through the cdk8s-plus API ----------------------


@pytest.mark.parametrize("returned", [None, "dev"], ids=["nothing", "a-string"])
def test_build_that_does_not_return_its_environments(tmp_path: Path, returned) -> None:
    def build(app: cdk8s.App):
        dev(app)
        return returned

    failure(run(build, tmp_path), f"test_error_catalogue.py:{line_of('def build(app: cdk8s.App):')}, build(): returned "
                                  f"{returned!r}, not the list of the Environments it created")


def test_a_sidecar_without_probes(tmp_path: Path) -> None:
    """The README's sidecar gives its probes; one without gets two lines at synthesis, not a checkov failure later."""
    def build(app: cdk8s.App) -> list[Environment]:
        env = prod(app)
        served = LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(example_app.FLOWS)))
        served.workloads["echo-prompt"].workload.add_container(name="proxy", image="envoyproxy/envoy:v1.31.0")
        return [env]

    message = failure(run(build, tmp_path), "environment 'prod', Deployment langflow-runtime-echo-prompt, container "
                                            "'proxy': has no readinessProbe and no livenessProbe", after_writing=True)
    assert "readiness=kplus.Probe" in message


@pytest.mark.parametrize(("environment", "expected"), [
    (prod, "containers 'tool' runs as uid 0 (root); the restricted profile refuses it"),
    (dev, "containers 'tool' runs as uid 0 (root): with runAsNonRoot, set on every pod here, the kubelet refuses to "
          "start it (environment 'dev' enforces Pod Security 'baseline')"),
], ids=["prod", "dev"])
def test_a_root_running_workload(tmp_path: Path, environment, expected: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = environment(app)
        kplus.Deployment(env, "tool", containers=[kplus.ContainerProps(
            name="tool", image="example/tool:1.0", readiness=kplus.Probe.from_command(["true"]),
            liveness=kplus.Probe.from_command(["true"]),
            security_context=kplus.ContainerSecurityContextProps(user=0, ensure_non_root=False))])
        return [env]

    message = failure(run(build, tmp_path), expected, after_writing=True)
    assert "restricted" not in message or environment is prod
    assert message.splitlines()[1].startswith("  fix: run it as a non-root uid")


@pytest.mark.parametrize(("environment", "expected"), [
    (prod, "volume 'host' is of type hostPath; the restricted profile refuses it"),
    (dev, "volume 'host' is of type hostPath: Pod Security 'baseline', enforced in environment 'dev', refuses it"),
], ids=["prod", "dev"])
def test_a_host_path_volume(tmp_path: Path, environment, expected: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = environment(app)
        deployment = kplus.Deployment(env, "tool", containers=[kplus.ContainerProps(
            name="tool", image="example/tool:1.0", readiness=kplus.Probe.from_command(["true"]),
            liveness=kplus.Probe.from_command(["true"]))])
        deployment.add_volume(kplus.Volume.from_host_path(env, "host", "host", path="/var/run"))
        return [env]

    message = failure(run(build, tmp_path), expected, after_writing=True)
    assert message.splitlines()[1].startswith("  fix: use emptyDir, configMap, secret, projected or a claim")


SIDECAR = {"name": "proxy", "image": "envoyproxy/envoy:v1.31.0", "ports": [{"name": "admin", "containerPort": 9901}],
           "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}}


def test_a_dict_sidecar_without_probes_and_with_them(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    bare = run(runtime(lambda: Flow.from_folder(flows), lambda: {"pod": PodOptions(sidecars=[SIDECAR])}), tmp_path)
    message = failure(bare, "container 'proxy': has no readinessProbe and no livenessProbe", after_writing=True)
    assert "`probes` in a PodOptions.sidecars dict" in message
    probed = {**SIDECAR, "probes": {"httpGet": {"path": "/ready", "port": "admin"}}}
    outcome = run(runtime(lambda: Flow.from_folder(flows), lambda: {"pod": PodOptions(sidecars=[probed])}), tmp_path / "ok")
    assert outcome.code == 0, outcome.message


def test_a_dict_sidecars_probe_on_a_port_it_does_not_declare(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    probed = {**SIDECAR, "probes": {"httpGet": {"path": "/ready", "port": "http"}}}
    failure(run(runtime(lambda: Flow.from_folder(flows), lambda: {"pod": PodOptions(sidecars=[probed])}), tmp_path),
            "pod_options.sidecars['proxy'].probes: {'httpGet': {'path': '/ready', 'port': 'http'}} is not a probe of this "
            "container")
