"""The bad-input catalogue: each mistake someone will make, run through synthesis as `make synth`
runs it. Each must exit non-zero with a message that names the file or prop and the offending
value and says what to do, in one or two lines without a stack trace, and leave the output
folder as it was.

The catalogue runs in-process (langflow_cdk8s.tooling.synth.synth) for speed; one end-to-end test runs
`make synth` in a copy of the repository to prove the same holds for the real dist/.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s
import pytest
from conftest import ROOT, read_tree
from repo_copy import copy_repository, make
from support import NODE

from langflow_cdk8s import (
    Autoscaling,
    CloudProfile,
    Database,
    Environment,
    EnvironmentProps,
    Flow,
    FlowGroup,
    Frontend,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Quota,
    Resources,
    SecretKey,
    Stage,
)
from langflow_cdk8s.props.flow import CONFIG_MAP_LIMIT
from langflow_cdk8s.tooling.synth import synth

Build = Callable[[cdk8s.App], list[Environment]]
QUOTA = Quota(requests_cpu="100", requests_memory="200Gi", limits_cpu="200", limits_memory="200Gi", pods=500)
STACK_TRACE = re.compile(r"Traceback|jsii|^\s+at .+:\d+:\d+\)?$|File \".+\", line \d+", re.MULTILINE)


def prod(app: cdk8s.App, **props: Any) -> Environment:
    return Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="langflow-prod",
                                                     quota=props.pop("quota", QUOTA), **props))


def dev(app: cdk8s.App, **props: Any) -> Environment:
    return Environment(app, "dev", EnvironmentProps(stage=Stage.DEVELOPMENT, namespace="langflow-dev",
                                                    quota=props.pop("quota", QUOTA), **props))


def runtime(flows: Callable[[], list[Any]], props: Callable[[], dict[str, Any]] = dict) -> Build:
    """A production environment serving `flows()` with `props()`, both called inside the build as
    main.py does, so what they raise goes through synth like in `make synth`."""
    def build(app: cdk8s.App) -> list[Environment]:
        env = prod(app)
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=flows(), **props()))
        return [env]
    return build


def ide(**props: Any) -> Build:
    def build(app: cdk8s.App) -> list[Environment]:
        env = dev(app)
        LangflowIDE(env, "ide", LangflowIDEProps(**props))
        return [env]
    return build


def flow_json(name: str = "Support Triage", *, flow_id: str | None = None, **extra: Any) -> str:
    document = {"id": flow_id or str(uuid.uuid4()), "name": name, "endpoint_name": None, "data": {"nodes": [NODE], "edges": []}}
    return json.dumps({**document, **extra})


def folder(tmp: Path, files: dict[str, str | bytes]) -> Path:
    """A flows folder holding `files` (name -> content)."""
    flows = tmp / "flows"
    flows.mkdir(exist_ok=True)
    for name, content in files.items():
        (flows / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return flows


@dataclass(frozen=True)
class Outcome:
    code: int
    message: str
    untouched: bool


def run(build: Build, tmp: Path) -> Outcome:
    """Synthesizes `build` into an output folder that already holds a previous synthesis."""
    outdir = tmp / "out"
    (outdir / "prod").mkdir(parents=True)
    (outdir / "prod" / "Namespace.langflow-prod.k8s.yaml").write_text("previous: synthesis\n")
    before = read_tree(outdir)
    stream = io.StringIO()
    code = synth(build, outdir=str(outdir), stream=stream)
    return Outcome(code=code, message=stream.getvalue(), untouched=read_tree(outdir) == before)


def assert_readable_failure(outcome: Outcome, *expected: str) -> None:
    """Non-zero, untouched output, `error: <where>: <problem>` and `fix: <what to do>`, nothing else."""
    assert outcome.code != 0, outcome.message
    assert outcome.untouched, "the output folder changed"
    lines = outcome.message.rstrip("\n").split("\n")
    assert len(lines) == 2, outcome.message
    assert lines[0].startswith("error: ") and lines[1].startswith("  fix: ") and len(lines[1]) > len("  fix: ") + 10, lines
    assert not STACK_TRACE.search(outcome.message), outcome.message
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"


# ---- the catalogue ------------------------------------------------------------------------


def test_invalid_flow_json(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"triage.json": '{"id": "0b7e1b8e-8d3c-4b1a-9d55-1f2e3d4c5b6a", "name": '})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: is not valid JSON (line 1 column 56")


def test_a_flow_file_that_is_not_utf8_text(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"triage.json": b"\xff\xfe{"})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: is not valid JSON")


@pytest.mark.parametrize(("content", "kind"), [('["a flow"]', "list"), ('"a flow"', "str"), ("42", "int")])
def test_a_flow_file_that_is_not_a_json_object(tmp_path: Path, content: str, kind: str) -> None:
    flows = folder(tmp_path, {"triage.json": content})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: holds a JSON {kind}, not an object")


def test_a_flow_without_an_id(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"triage.json": json.dumps({"name": "Support Triage", "data": {}})})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: has no id")


def test_a_flow_whose_id_is_not_a_uuid(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"triage.json": flow_json(flow_id="triage-1")})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: id 'triage-1' is not a UUID")


def test_a_starter_flow_exported_without_choosing_its_model(tmp_path: Path) -> None:
    # Langflow 1.13.0's own Basic Prompting, unedited: every run of it fails with "A model selection is required".
    starter = (ROOT / "tests" / "fixtures" / "starter_flows" / "Basic Prompting.json").read_text()
    flows = folder(tmp_path, {"Basic Prompting.json": starter})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'Basic Prompting.json'}: leaves required fields empty",
                            "node 'Language Model' (LanguageModelComponent-FLeYF) field 'model'")
    assert "choose a value for each in Langflow's IDE" in outcome.message


def test_two_flows_with_the_same_id(tmp_path: Path) -> None:
    same = "0b7e1b8e-8d3c-4b1a-9d55-1f2e3d4c5b6a"
    flows = folder(tmp_path, {"a.json": flow_json("Support Triage", flow_id=same),
                              "b.json": flow_json("Release Notes", flow_id=same)})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'b.json'}: has the same id {same} as {flows / 'a.json'}")


def test_two_flows_with_the_same_endpoint_name(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json("Support Triage"), "b.json": flow_json("Support  triage!")})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'b.json'}: has the same endpoint name 'support-triage' as "
                                     f"{flows / 'a.json'}")


def test_two_flows_with_the_same_endpoint_name_in_different_groups(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json("Support Triage"), "b.json": flow_json("Support Triage")})

    def groups() -> list[Any]:
        a, b = Flow.from_file(flows / "a.json"), Flow.from_file(flows / "b.json")
        return [FlowGroup(name="first", flows=[a]), FlowGroup(name="second", flows=[b])]

    outcome = run(runtime(groups), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'b.json'}: has the same endpoint name 'support-triage'")


def test_a_flow_too_large_for_a_config_map(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"big.json": flow_json(data={"nodes": [NODE], "edges": [], "blob": "x" * CONFIG_MAP_LIMIT})})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'big.json'}: is ", f"bytes, too large for a ConfigMap (at most {CONFIG_MAP_LIMIT})")
    assert re.search(r"is 1\d{6} bytes", outcome.message), outcome.message
    assert "FlowDelivery.download" in outcome.message


def test_a_literal_value_in_a_password_field_of_a_flow(tmp_path: Path) -> None:
    """However the file got into flows/ (an export from the browser, an edit), a typed-in credential
    never reaches a ConfigMap: the same rule `make promote` applies."""
    node = {"id": "LanguageModelComponent-FLeYF", "data": {"id": "LanguageModelComponent-FLeYF", "node": {
        "display_name": "Language Model", "template": {"api_key": {"password": True, "load_from_db": False,
                                                                   "value": "sk-live-0123456789abcdef"}}}}}
    flows = folder(tmp_path, {"triage.json": flow_json(data={"nodes": [node], "edges": []})})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows / 'triage.json'}: node 'Language Model' (LanguageModelComponent-FLeYF) "
                                     "has a literal value in password field 'api_key'")
    assert "bind the field to a global variable" in outcome.message and "sk-live" not in outcome.message


@pytest.mark.parametrize(("build", "where"), [
    (ide(replicas=0), "replicas: 0 is below the minimum of 1"),
    (lambda app: ide(frontend=Frontend.nginx(replicas=0))(app),  # noqa: PLW0108 - the bad value must raise in the test, not at collection
     "frontend.replicas: 0 is below the minimum of 1"),
], ids=["ide", "ide-frontend"])
def test_ide_replicas_below_one(tmp_path: Path, build: Build, where: str) -> None:
    assert_readable_failure(run(build, tmp_path), where)


def test_runtime_replicas_below_one(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: Flow.from_folder(flows), lambda: {"replicas": 0, "autoscaling": None}), tmp_path)
    assert_readable_failure(outcome, "replicas: 0 is below the minimum of 1")


@pytest.mark.parametrize("replicas", [0, -1])
def test_a_flow_override_of_replicas_below_one(tmp_path: Path, replicas: int) -> None:
    """`with_overrides(replicas=0)` must not fall back to the default silently."""
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: [f.with_overrides(replicas=replicas) for f in Flow.from_folder(flows)],
                          lambda: {"autoscaling": None}), tmp_path)
    assert_readable_failure(outcome, f"replicas of 'support-triage': {replicas} is below the minimum of 1")


def test_autoscaling_minimum_above_maximum(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: Flow.from_folder(flows),
                          lambda: {"autoscaling": Autoscaling(min_replicas=5, max_replicas=2)}), tmp_path)
    assert_readable_failure(outcome, "autoscaling: min_replicas 5 is above max_replicas 2")


def test_sqlite_with_more_than_one_replica(tmp_path: Path) -> None:
    outcome = run(ide(database=Database.sqlite(), replicas=2), tmp_path)
    assert_readable_failure(outcome, "replicas: 2 with SQLite")
    assert "external_postgres" in outcome.message


@pytest.mark.parametrize(("make", "where"), [
    (lambda: Resources(cpu="two", memory="1Gi"), "resources.cpu: 'two' is not a Kubernetes quantity"),
    (lambda: Resources(cpu="1", memory="2 GB"), "resources.memory: '2 GB' is not a Kubernetes quantity"),
    (lambda: Resources(cpu="1", memory="1Gi", memory_limit="1Gb"), "resources.memory_limit: '1Gb' is not a Kubernetes quantity"),
    (lambda: Resources(cpu="1", memory="1Gi", cpu_limit="-2"), "resources.cpu_limit: '-2' is not a Kubernetes quantity"),
    (lambda: Quota(requests_cpu="8 cores", requests_memory="16Gi", limits_cpu="16", limits_memory="24Gi"),
     "quota.requests_cpu: '8 cores' is not a Kubernetes quantity"),
    (lambda: Database.sqlite(size="ten gigs"), "database.size: 'ten gigs' is not a Kubernetes quantity"),
], ids=["cpu", "memory", "memory-limit", "cpu-limit", "quota", "database-size"])
def test_resource_quantities_that_do_not_parse(tmp_path: Path, make: Callable[[], Any], where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        make()
        return [dev(app)]

    assert_readable_failure(run(build, tmp_path), where)


@pytest.mark.parametrize(("make", "where"), [
    (lambda: IngressOptions(host="flows_example.com"), "ingress.host: 'flows_example.com' is not a DNS host name"),
    (lambda: IngressOptions(host="https://flows.example.com"), "ingress.host: 'https://flows.example.com' is not a DNS"),
    (lambda: IngressOptions(host="Flows.Example.com"), "ingress.host: 'Flows.Example.com' is not a DNS host name"),
    (lambda: Database.external_postgres(host="db host", password=SecretKey(name="db", key="password")),
     "database.host: 'db host' is not a DNS host name"),
], ids=["underscore", "url", "upper-case", "database-host"])
def test_host_names_that_are_not_dns_names(tmp_path: Path, make: Callable[[], Any], where: str) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        env = dev(app)
        make()
        return [env]

    assert_readable_failure(run(build, tmp_path), where)


def test_an_environment_that_expects_flows_with_an_empty_flows_folder(tmp_path: Path) -> None:
    flows = folder(tmp_path, {"README.md": "flows go here"})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert_readable_failure(outcome, f"{flows}: holds no *.json flow files")


def test_a_runtime_without_flows(tmp_path: Path) -> None:
    assert_readable_failure(run(runtime(list), tmp_path), "flows: is empty")


def test_an_unknown_cloud_profile(tmp_path: Path) -> None:
    outcome = run(lambda app: [prod(app, profile=CloudProfile.named("nope"))], tmp_path)
    assert_readable_failure(outcome, "profile: 'nope' is not a known cloud profile")
    assert "use one of: aks, eks, generic, gke, kind" in outcome.message


def test_a_good_build_does_write(tmp_path: Path) -> None:
    """The harness itself: a valid build exits 0 and replaces the output, so `untouched` means something."""
    flows = folder(tmp_path, {"a.json": flow_json()})
    outcome = run(runtime(lambda: Flow.from_folder(flows)), tmp_path)
    assert outcome.code == 0, outcome.message
    assert not outcome.untouched
    assert outcome.message.startswith("prod: ")


# ---- end to end -----------------------------------------------------------------------------


def test_make_synth_with_a_broken_flow_fails_readably_and_keeps_dist(tmp_path: Path) -> None:
    """`make synth` in a copy of the repository: the exit code, the terminal output and dist/."""
    repo = copy_repository(tmp_path / "repo")
    (repo / "flows" / "broken.json").write_text('{"id": "0b7e1b8e-8d3c-4b1a-9d55-1f2e3d4c5b6a",\n  "name": }\n')
    before = read_tree(repo / "dist")
    assert before, "the copy has no dist/"

    done = make(repo, "synth")
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert done.stderr.startswith("error: flows/broken.json: is not valid JSON (line 2 column 11"), output
    assert "fix: export the flow again from Langflow, or fix the JSON" in done.stderr, output
    assert "Traceback" not in output and "jsii" not in output, output
    assert not STACK_TRACE.search(output), output
    assert read_tree(repo / "dist") == before
