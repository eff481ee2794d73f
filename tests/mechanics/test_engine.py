"""The runtime engine seam: Engine.langflow() keeps today's runtime, Engine.lfx() serves a unit
statelessly with `lfx serve`, per runtime with a per-group/flow override; a flow that cannot work
on its engine fails synthesis naming file, component and reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import runnable_starters
from support import all_of, env_of, environment, environment_props, find, main_container

from langflow_cdk8s import (
    Auth,
    Autoscaling,
    ConfigError,
    Database,
    Engine,
    Flow,
    FlowGroup,
    IngressOptions,
    LangflowRuntime,
    LangflowRuntimeProps,
    Resources,
    SecretKey,
    Stage,
)
from langflow_cdk8s.patterns.environment import Environment
from langflow_cdk8s.props.validation import quantity
from langflow_cdk8s.tooling.cost import idle_reservations
from langflow_cdk8s.tooling.synth import synth

STARTERS = runnable_starters()
BASIC, MEMORY = Flow.from_file(STARTERS / "Basic Prompting.json"), Flow.from_file(STARTERS / "Memory Chatbot.json")
INGRESS = IngressOptions(host="flows.example.com", tls_secret="flows-tls")
DATABASE = Database.external_postgres(host="db.internal", password=SecretKey(name="db", key="password"))


def runtime(**props) -> Environment:
    env = environment(Stage.PRODUCTION, monitoring_namespace="monitoring")
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(**props))
    return env


def test_an_lfx_unit_runs_lfx_serve_with_a_read_only_root_and_only_tmp_writable() -> None:
    env = runtime(flows=[BASIC], engine=Engine.lfx(), exposure=INGRESS, database=DATABASE)
    deployment = find(env, "Deployment", "langflow-runtime-basic-prompting")
    pod = deployment["spec"]["template"]["spec"]
    container = main_container(deployment)
    assert container["command"] == ["lfx"]
    assert container["args"][:2] == ["serve", "/app/flows"] and "--host" in container["args"]
    writable = [m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")]
    assert writable == ["/tmp"] and container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsUser"] == 1000 and "initContainers" not in pod
    variables = env_of(container)
    assert variables["DO_NOT_TRACK"] == "true" and variables["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert variables["LANGFLOW_CONFIG_DIR"].startswith("/tmp/")
    assert container["env"][[e["name"] for e in container["env"]].index("LANGFLOW_API_KEY")]["valueFrom"] == {
        "secretKeyRef": {"name": "langflow-runtime-auth", "key": "api-key"}}
    # No database, superuser or secret key: nothing of the runtime's PostgreSQL reaches an lfx unit.
    assert not {"LANGFLOW_DATABASE_URL", "LANGFLOW_SUPERUSER", "LANGFLOW_SECRET_KEY"} & set(variables)
    assert not [c for c in all_of(env, "ConfigMap") if "prepare_database.py" in c.get("data", {})]
    assert {p["httpGet"]["path"] for p in (container["startupProbe"], container["readinessProbe"])} == {"/health"}


def test_an_lfx_unit_routes_only_its_flows_run_and_stream_paths() -> None:
    env = runtime(flows=[BASIC], engine=Engine.lfx(), exposure=INGRESS)
    paths = [p["path"] for rule in find(env, "Ingress", "langflow-runtime")["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == [f"/flows/{BASIC.id}/run", f"/flows/{BASIC.id}/stream"]


def test_an_lfx_unit_admits_only_the_ingress_and_the_monitoring_namespace() -> None:
    env = runtime(flows=[BASIC], engine=Engine.lfx(), exposure=INGRESS)
    policy = find(env, "NetworkPolicy", "langflow-runtime-basic-prompting")
    sources = [peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sources == ["ingress-nginx", "monitoring"]
    assert all(port["port"] == 7860 for rule in policy["spec"]["ingress"] for port in rule["ports"])


def test_lfx_sizing_and_autoscaling_default_to_the_engines_with_a_disruption_budget() -> None:
    env = runtime(flows=[BASIC], engine=Engine.lfx())
    resources = main_container(find(env, "Deployment", "langflow-runtime-basic-prompting"))["resources"]
    assert resources["requests"] == {"cpu": "250m", "memory": "768Mi"} and resources["limits"]["cpu"] == "1"
    assert quantity("limit", resources["limits"]["memory"]) == 2**30
    assert find(env, "HorizontalPodAutoscaler", "langflow-runtime-basic-prompting")["spec"]["minReplicas"] == 2
    assert find(env, "PodDisruptionBudget", "langflow-runtime-basic-prompting")["spec"]["maxUnavailable"] == 1
    explicit = runtime(flows=[BASIC], engine=Engine.lfx(), resources=Resources(cpu="500m", memory="1Gi"),
                       autoscaling=Autoscaling(min_replicas=3, max_replicas=4))
    requests = main_container(find(explicit, "Deployment", "langflow-runtime-basic-prompting"))["resources"]["requests"]
    assert requests["cpu"] == "500m" and quantity("request", requests["memory"]) == 2**30
    assert find(explicit, "HorizontalPodAutoscaler", "langflow-runtime-basic-prompting")["spec"]["minReplicas"] == 3


def test_workers_and_timeout_become_lfx_flags() -> None:
    env = runtime(flows=[BASIC], engine=Engine.lfx(workers=3, timeout=300))
    args = main_container(find(env, "Deployment", "langflow-runtime-basic-prompting"))["args"]
    assert args[args.index("--workers") + 1] == "3" and args[args.index("--timeout") + 1] == "300"
    assert "--use-sync-workers" in args
    with pytest.raises(ConfigError, match="engine.workers"):
        Engine.lfx(workers=0)


def test_a_flow_with_chat_memory_on_lfx_fails_synthesis_naming_file_and_component(tmp_path: Path) -> None:
    def build(app):
        env = Environment(app, "prod", environment_props(Stage.PRODUCTION))
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=[MEMORY], engine=Engine.lfx()))
        return [env]

    stream = io.StringIO()
    assert synth(build, outdir=str(tmp_path / "out"), stream=stream) == 2
    first, fix = stream.getvalue().strip().splitlines()[-2:]
    assert "Memory Chatbot.json" in first and "component Agent (" in first and "chat memory" in first
    assert "Engine.langflow()" in fix


def test_the_same_flow_on_a_langflow_unit_works_as_before() -> None:
    env = runtime(flows=[BASIC, MEMORY.with_overrides(engine=Engine.langflow())], engine=Engine.lfx(),
                  database=DATABASE, exposure=INGRESS)
    memory = main_container(find(env, "Deployment", "langflow-runtime-memory-chatbot"))
    assert "command" not in memory and "LANGFLOW_DATABASE_URL" in env_of(memory)
    assert find(env, "Deployment", "langflow-runtime-memory-chatbot")["spec"]["template"]["spec"]["initContainers"]
    paths = {p["path"] for rule in find(env, "Ingress", "langflow-runtime")["spec"]["rules"] for p in rule["http"]["paths"]}
    assert f"/api/v1/webhook/{MEMORY.endpoint_name}" in paths and f"/flows/{BASIC.id}/run" in paths


def test_a_webhook_or_custom_code_on_lfx_is_refused(tmp_path: Path) -> None:
    document = json.loads(BASIC.content or b"{}")
    document["id"], document["name"], document["endpoint_name"] = "2b1e0c8e-7f5d-4a43-9f0e-0c9a1d6e5b21", "Hooked", None
    hook = json.loads(json.dumps(document["data"]["nodes"][0]))
    hook["id"] = hook["data"]["id"] = "Webhook-abc12"
    hook["data"]["type"] = "Webhook"
    hook["data"]["node"]["display_name"] = "Webhook"
    document["data"]["nodes"].append(hook)
    (tmp_path / "hooked.json").write_text(json.dumps(document))
    hooked = Flow.from_file(tmp_path / "hooked.json")
    with pytest.raises(ConfigError, match=r"component Webhook \(Webhook-abc12\) is a webhook trigger"):
        runtime(flows=[hooked], engine=Engine.lfx())
    hook["data"]["type"], hook["data"]["node"]["edited"] = "ChatInput", True
    hook["data"]["node"]["display_name"] = "Edited Input"
    (tmp_path / "hooked.json").write_text(json.dumps(document))
    with pytest.raises(ConfigError, match="runs code of its own"):
        runtime(flows=[Flow.from_file(tmp_path / "hooked.json")], engine=Engine.lfx())


def test_a_group_takes_one_engine_and_lfx_needs_an_api_key() -> None:
    with pytest.raises(ConfigError, match="a group's flows share one server"):
        runtime(flows=[FlowGroup(name="both", flows=[BASIC, MEMORY.with_overrides(engine=Engine.langflow())])],
                engine=Engine.lfx())
    group = runtime(flows=[FlowGroup(name="both", flows=[BASIC, MEMORY], engine=Engine.langflow())], engine=Engine.lfx())
    assert "command" not in main_container(find(group, "Deployment", "langflow-runtime-both"))
    keyless = Auth(superuser=SecretKey(name="a", key="u"), superuser_password=SecretKey(name="a", key="p"),
                   secret_key=SecretKey(name="a", key="s"))
    with pytest.raises(ConfigError, match="auth.api_key"):
        runtime(flows=[BASIC], engine=Engine.lfx(), auth=keyless)
    with pytest.raises(ConfigError, match="not a runtime engine"):
        LangflowRuntimeProps(flows=[BASIC], engine="lfx")  # type: ignore[arg-type]


def test_idle_reservation_of_lfx_is_at_most_a_third_of_langflow() -> None:
    def reserved(env: Environment) -> tuple[int, float, float]:
        found = idle_reservations(env.objects)
        return (sum(r.pods for r in found), float(sum(r.total_cpu for r in found)),
                float(sum(r.total_memory for r in found)))

    langflow = reserved(runtime(flows=[BASIC]))
    lfx = reserved(runtime(flows=[BASIC], engine=Engine.lfx()))
    assert langflow == (3, 3.0, 3 * 2 * 2**30)
    assert lfx == (2, 0.5, 2 * 768 * 2**20)
    assert lfx[1] * 3 <= langflow[1] and lfx[2] * 3 <= langflow[2]
    mixed = reserved(runtime(flows=[BASIC, MEMORY.with_overrides(engine=Engine.langflow())], engine=Engine.lfx()))
    assert mixed == (lfx[0] + langflow[0], lfx[1] + langflow[1], lfx[2] + langflow[2])


def test_a_lean_image_refuses_a_flow_whose_packages_it_lacks(tmp_path: Path) -> None:
    """Engine.lfx(requirements=...) names the lean image's requirements (make images); a component
    that loads a package missing from it fails synthesis, naming the component and the package."""
    llm = Flow.from_file(Path(__file__).parents[1] / "fixtures" / "flows" / "support-triage.json")
    lean = tmp_path / "requirements.txt"
    lean.write_text("lfx==1.13.0 \\\n    --hash=sha256:00\nfastapi==0.165.0\norjson==3.11.0\n")
    with pytest.raises(ConfigError, match=r"component Language Model \(.*\) needs the package langchain-openai"):
        runtime(flows=[llm], engine=Engine.lfx(requirements=lean))
    lean.write_text(lean.read_text() + "langchain-openai==1.7.4\n")
    assert main_container(find(runtime(flows=[llm], engine=Engine.lfx(requirements=lean)),
                               "Deployment", "langflow-runtime-support-triage"))["command"] == ["lfx"]
    with pytest.raises(ConfigError, match="cannot be read"):
        runtime(flows=[llm], engine=Engine.lfx(requirements=tmp_path / "missing.txt"))


def test_the_cost_table_is_what_the_engine_defaults_reserve() -> None:
    """docs/cost.md's 1/10/100-flow table, recomputed from the engines' defaults (and the lean sizing it names)."""
    lean = Resources(cpu="250m", memory="320Mi", cpu_limit="1", memory_limit="512Mi")
    text = (Path(__file__).parents[2] / "docs" / "cost.md").read_text(encoding="utf-8")
    assert 'Resources(cpu="250m", memory="320Mi", cpu_limit="1", memory_limit="512Mi")' in text
    engines = [(Engine.langflow().autoscaling.min_replicas, Engine.langflow().resources),
               (Engine.lfx().autoscaling.min_replicas, Engine.lfx().resources), (Engine.lfx().autoscaling.min_replicas, lean)]

    def cell(flows: int, replicas: int, resources: Resources) -> str:
        cpu = resources.cpu_millis * flows * replicas / 1000
        memory = resources.memory_bytes * flows * replicas / 2**30
        return f"{flows * replicas} pods, {cpu.normalize():f} CPU, {memory.normalize():f} GiB"

    for flows in (1, 10, 100):
        row = f"| {flows} | " + " | ".join(cell(flows, replicas, resources) for replicas, resources in engines) + " |"
        assert row in text, row
