"""The mistakes a team makes when it edits main.py and flows/, each caught in-process: exit code 2,
two lines naming where (the file, or the user's line, environment and construct, and the prop) and
the value, and what to do, with the output folder untouched. test_bad_input.py holds the older
entries; test_cdk8s_synth.py runs a few of these through `cdk8s synth`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import cdk8s
import pytest

import example_app
from langflow_cdk8s import (
    Database, Environment, Flow, FlowDelivery, FlowGroup, GitOps, GitOpsProps, IngressOptions, LangflowIDE,
    LangflowIDEProps, LangflowRuntime, LangflowRuntimeProps, PodOptions, Quota, Resources, SecretKey,
)
from test_bad_input import Outcome, assert_readable_failure, dev, flow_json, folder, prod, run, runtime

REPO = "https://github.com/example/langflow-k8s.git"


def failure(outcome: Outcome, *expected: str) -> str:
    assert outcome.code == 2, outcome.message
    assert_readable_failure(outcome, *expected)
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
