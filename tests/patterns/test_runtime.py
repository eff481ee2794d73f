"""LangflowRuntime: each flow a standalone, independently scaled and routed service."""

import io
import json
from pathlib import Path

import pytest
from conftest import Synthesis, environment_folders, read_tree, runnable_starters
from example_app import FLOWS as EXAMPLE_FLOWS
from support import NODE, all_of, env_of, environment, environment_props, find, main_container, pod

from langflow_cdk8s import (
    Autoscaling,
    ConfigError,
    Database,
    Flow,
    FlowDelivery,
    FlowGroup,
    Image,
    IngressOptions,
    LangflowRuntime,
    LangflowRuntimeProps,
    PodOptions,
    Resources,
    SecretKey,
    Stage,
)
from langflow_cdk8s.patterns.environment import Environment
from langflow_cdk8s.tooling.synth import synth

STARTERS = runnable_starters()
FLOWS = Flow.from_folder(STARTERS)
INGRESS = IngressOptions(host="flows.example.com", tls_secret="flows-tls")


def runtime(stage: Stage = Stage.PRODUCTION, **props) -> Environment:
    env = environment(stage)
    props.setdefault("flows", FLOWS)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(**props))
    return env


def names(env: Environment, kind: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in all_of(env, kind))


def test_each_flow_gets_its_own_deployment_service_autoscaler_budget_policy_and_routes() -> None:
    env = runtime(exposure=INGRESS)
    units = ["langflow-runtime-basic-prompting", "langflow-runtime-memory-chatbot", "langflow-runtime-vector-store-rag"]
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount"):
        assert names(env, kind) == units, kind
    assert names(env, "Ingress") == ["langflow-runtime"]
    assert [n for n in names(env, "NetworkPolicy") if n.startswith("langflow-runtime")] == units
    assert len(all_of(env, "ConfigMap")) == 3


def test_the_runtime_is_headless_locked_down_and_loads_its_flows_from_a_read_only_mount() -> None:
    env = runtime()
    deployment = find(env, "Deployment", "langflow-runtime-basic-prompting")
    container = main_container(deployment)
    variables = env_of(container)
    assert variables["LANGFLOW_BACKEND_ONLY"] == "true"
    assert variables["LANGFLOW_LOAD_FLOWS_PATH"] == "/app/flows"
    assert variables["LANGFLOW_CREATE_STARTER_PROJECTS"] == "false"
    assert variables["LANGFLOW_ENABLE_SIGNUP"] == "false"
    assert variables["LANGFLOW_MCP_SERVER_ENABLED"] == "false"
    assert variables["LANGFLOW_API_KEY_SOURCE"] == "env"
    assert variables["LANGFLOW_API_KEY"] == {"secretKeyRef": {"name": "langflow-runtime-auth", "key": "api-key"}}
    assert variables["LANGFLOW_SUPERUSER_PASSWORD"] == {
        "secretKeyRef": {"name": "langflow-runtime-auth", "key": "superuser-password"}}
    assert {"name": "flows", "mountPath": "/app/flows", "readOnly": True} in container["volumeMounts"]
    assert [p["containerPort"] for p in container["ports"]] == [7860, 9090]


def test_the_runtimes_login_settings_are_those_of_a_production_service() -> None:
    """Asserted here, not only in snapshots (which --snapshot-update accepts): with auto-login every
    caller is the superuser; an active sign-up is a new account; and without overwrite on a name
    match, a flow renamed in Git would load as a second flow beside the first in a revision's database."""
    env = runtime()
    for deployment in all_of(env, "Deployment"):
        variables = env_of(main_container(deployment))
        assert variables["LANGFLOW_AUTO_LOGIN"] == "false", deployment["metadata"]["name"]
        assert variables["LANGFLOW_NEW_USER_IS_ACTIVE"] == "false", deployment["metadata"]["name"]
        assert variables["LANGFLOW_LOAD_FLOWS_OVERWRITE_ON_NAME_MATCH"] == "true", deployment["metadata"]["name"]
        assert variables["LANGFLOW_SUPERUSER"] == {"secretKeyRef": {"name": "langflow-runtime-auth", "key": "superuser"}}


def restricted(ref: Synthesis, folder: str) -> bool:
    namespace = next(o for o in ref.objects(folder) if o["kind"] == "Namespace")
    return bool(namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted")


def test_every_production_langflow_container_keeps_auto_login_and_sign_up_off(ref: Synthesis) -> None:
    """Whatever main.py builds: in an environment that enforces `restricted` (production), no Langflow
    container logs callers in automatically or activates new users."""
    checked = 0
    for folder in environment_folders(ref):
        objects = ref.objects(folder)
        if not restricted(ref, folder):
            continue
        for workload in (o for o in objects if o["kind"] in ("Deployment", "StatefulSet")):
            for container in pod(workload)["containers"]:
                variables = env_of(container)
                if "LANGFLOW_AUTO_LOGIN" in variables:
                    checked += 1
                    where = f"{folder}/{workload['metadata']['name']}"
                    assert variables["LANGFLOW_AUTO_LOGIN"] == "false", where
                    assert variables.get("LANGFLOW_NEW_USER_IS_ACTIVE") == "false", where
    servers = [c for folder in environment_folders(ref) for o in ref.objects(folder)
               if o["kind"] in ("Deployment", "StatefulSet") and restricted(ref, folder) for c in pod(o)["containers"]
               if c["name"] == "langflow"]  # the full server (an Engine.lfx() container is `lfx`: no users at all)
    assert checked or not servers, "a Langflow server container without LANGFLOW_AUTO_LOGIN"


def test_a_flow_configmap_is_immutable_named_by_content_and_keyed_by_flow_id() -> None:
    env = runtime()
    flow = FLOWS[0]
    config_map = find(env, "ConfigMap", f"flow-basic-prompting-{flow.content_hash}")
    assert config_map["immutable"] is True
    assert list(config_map["data"]) == [f"{flow.id}.json"]
    delivered = json.loads(config_map["data"][f"{flow.id}.json"])
    assert delivered["endpoint_name"] == "basic-prompting"
    volume = next(v for v in pod(find(env, "Deployment", "langflow-runtime-basic-prompting"))["volumes"] if v["name"] == "flows")
    assert volume["projected"]["sources"] == [{"configMap": {"name": config_map["metadata"]["name"]}}]


def test_a_changed_flow_renames_its_configmap_so_its_pods_roll(tmp_path: Path) -> None:
    document = json.loads((STARTERS / "Basic Prompting.json").read_text())
    before = Flow.from_file(STARTERS / "Basic Prompting.json")
    document["description"] = "changed"
    (tmp_path / "changed.json").write_text(json.dumps(document))
    after = Flow.from_file(tmp_path / "changed.json")
    old = pod(find(runtime(flows=[before]), "Deployment"))["volumes"]
    new = pod(find(runtime(flows=[after]), "Deployment"))["volumes"]
    assert old != new and before.content_hash != after.content_hash


def test_availability_defaults_spread_budget_autoscaling_and_zero_downtime_rollouts() -> None:
    env = runtime()
    deployment = find(env, "Deployment", "langflow-runtime-memory-chatbot")
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    spread = pod(deployment)["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert all(c["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"] for c in spread)
    assert pod(deployment)["terminationGracePeriodSeconds"] == 60
    hpa = find(env, "HorizontalPodAutoscaler", "langflow-runtime-memory-chatbot")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 6)
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "langflow-runtime-memory-chatbot"}
    assert hpa["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    pdb = find(env, "PodDisruptionBudget", "langflow-runtime-memory-chatbot")["spec"]
    assert pdb["maxUnavailable"] == 1 and pdb["selector"] == deployment["spec"]["selector"]
    assert main_container(deployment)["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                                                       "limits": {"cpu": "2", "memory": "2Gi"}}


def test_fixed_replicas_without_autoscaling() -> None:
    env = runtime(autoscaling=None, replicas=2)
    assert find(env, "Deployment", "langflow-runtime-basic-prompting")["spec"]["replicas"] == 2
    assert not all_of(env, "HorizontalPodAutoscaler")
    assert len(all_of(env, "PodDisruptionBudget")) == 3


def test_memory_target_when_asked() -> None:
    env = runtime(autoscaling=Autoscaling(min_replicas=2, max_replicas=10, memory_utilization=80))
    metrics = find(env, "HorizontalPodAutoscaler", "langflow-runtime-basic-prompting")["spec"]["metrics"]
    assert [m["resource"]["name"] for m in metrics] == ["cpu", "memory"]


def test_per_flow_overrides_touch_only_that_flow() -> None:
    big = FLOWS[2].with_overrides(resources=Resources(cpu="2", memory="4Gi"), autoscaling=Autoscaling(max_replicas=12),
                                  env={"LANGFLOW_LOG_LEVEL": "debug"})
    env = runtime(flows=[FLOWS[0], big])
    rag = find(env, "Deployment", "langflow-runtime-vector-store-rag")
    assert main_container(rag)["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}
    assert env_of(main_container(rag))["LANGFLOW_LOG_LEVEL"] == "debug"
    assert find(env, "HorizontalPodAutoscaler", "langflow-runtime-vector-store-rag")["spec"]["maxReplicas"] == 12
    basic = find(env, "Deployment", "langflow-runtime-basic-prompting")
    assert main_container(basic)["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert "LANGFLOW_LOG_LEVEL" not in env_of(main_container(basic))


def test_a_group_shares_one_deployment_and_mounts_all_its_flows() -> None:
    env = runtime(flows=[FlowGroup(name="chat", flows=FLOWS[:2], replicas=2), FLOWS[2]], exposure=INGRESS, autoscaling=None)
    assert names(env, "Deployment") == ["langflow-runtime-chat", "langflow-runtime-vector-store-rag"]
    group = find(env, "Deployment", "langflow-runtime-chat")
    assert group["spec"]["replicas"] == 2
    sources = next(v for v in pod(group)["volumes"] if v["name"] == "flows")["projected"]["sources"]
    assert len(sources) == 2
    paths = {p["path"]: p["backend"]["service"]["name"]
             for p in find(env, "Ingress", "langflow-runtime")["spec"]["rules"][0]["http"]["paths"]}
    assert paths["/api/v1/run/basic-prompting"] == "langflow-runtime-chat"
    assert paths["/api/v1/run/vector-store-rag"] == "langflow-runtime-vector-store-rag"
    assert paths["/api/v1/webhook/memory-chatbot"] == "langflow-runtime-chat"
    assert paths[f"/api/v1/run/{FLOWS[0].id}"] == "langflow-runtime-chat"


def test_routes_use_langflows_own_urls_with_prefix_paths_and_no_rewrites() -> None:
    env = runtime(exposure=INGRESS)
    ingress = find(env, "Ingress", "langflow-runtime")
    assert ingress["spec"]["tls"] == [{"hosts": ["flows.example.com"], "secretName": "flows-tls"}]
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "flows.example.com"
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert {path: service for path, service in routes.items() if service == "langflow-runtime-basic-prompting"} == dict.fromkeys(("/api/v1/run/basic-prompting", "/api/v1/webhook/basic-prompting", f"/api/v1/run/{FLOWS[0].id}", f"/api/v1/webhook/{FLOWS[0].id}"), "langflow-runtime-basic-prompting")
    assert len(routes) == 4 * len(FLOWS)
    assert {p["pathType"] for p in rule["http"]["paths"]} == {"Prefix"}
    assert not any("rewrite" in key for key in ingress["metadata"].get("annotations", {}))


def test_download_delivery_fetches_in_an_init_container_with_the_credential_in_a_file() -> None:
    remote = Flow.from_url("https://artifacts.example.com/flows/triage.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f",
                           name="Triage")
    env = runtime(flows=[remote], delivery=FlowDelivery.download(auth_header=SecretKey(name="artifacts", key="header")))
    spec = pod(find(env, "Deployment", "langflow-runtime-triage"))
    init = spec["initContainers"][0]
    assert init["command"] == ["python", "/opt/fetch/fetch_flows.py"]
    variables = env_of(init)
    assert json.loads(variables["FLOWS"]) == [{"id": remote.id, "url": remote.url, "endpoint_name": "triage"}]
    assert variables["AUTH_HEADER_FILE"] == "/etc/flow-auth/header"
    assert not any("secretKeyRef" in str(v) for v in variables.values())
    assert "args" not in init
    auth = next(v for v in spec["volumes"] if v["name"] == "auth")["secret"]
    assert auth["secretName"] == "artifacts" and auth["items"] == [{"key": "header", "path": "header"}]
    script = next(o for o in all_of(env, "ConfigMap"))
    assert script["metadata"]["name"].startswith("langflow-runtime-fetch-") and script["immutable"] is True
    assert "urllib.request" in script["data"]["fetch_flows.py"]


def test_baked_flows_mount_nothing_over_the_image() -> None:
    explicit = [f for f in Flow.from_folder(EXAMPLE_FLOWS) if f.endpoint_from_file]
    env = runtime(flows=explicit, delivery=FlowDelivery.baked_into_image(path="/opt/flows"),
                  image=Image(repository="registry.example.com/flows", tag="2026.11.1"))
    spec = pod(find(env, "Deployment", "langflow-runtime-support-triage"))
    assert "flows" not in {v["name"] for v in spec["volumes"]}
    assert env_of(spec["containers"][0])["LANGFLOW_LOAD_FLOWS_PATH"] == "/opt/flows"
    assert not all_of(env, "ConfigMap")


def test_baking_a_flow_without_an_endpoint_name_is_an_error() -> None:
    with pytest.raises(ConfigError, match="has no endpoint_name, and a baked image"):
        runtime(flows=FLOWS[:1], delivery=FlowDelivery.baked_into_image())


def test_a_flow_too_large_for_a_configmap_suggests_another_delivery(tmp_path: Path) -> None:
    document = {"id": "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", "name": "Huge", "data": {"nodes": [NODE], "edges": []},
                "description": "x" * 1_100_000}
    (tmp_path / "huge.json").write_text(json.dumps(document))
    with pytest.raises(ConfigError, match="too large for a ConfigMap") as error:
        runtime(flows=Flow.from_folder(tmp_path))
    assert "FlowDelivery.download" in str(error.value)


PG = Database.external_postgres(host="10.0.0.5", password=SecretKey(name="db", key="password"))


def database_url(env: Environment, unit: str) -> str:
    return env_of(main_container(find(env, "Deployment", unit)))["LANGFLOW_DATABASE_URL"]


def test_on_postgres_each_unit_and_revision_gets_its_own_database_prepared_by_an_init_container() -> None:
    env = runtime(database=PG)
    urls = {name: database_url(env, name) for name in names(env, "Deployment")}
    databases = {url.split("/")[-1].split("?")[0] for url in urls.values()}
    assert len(databases) == len(urls) == 3, urls
    deployment = find(env, "Deployment", "langflow-runtime-basic-prompting")
    init = pod(deployment)["initContainers"][0]
    variables = env_of(init)
    assert init["name"] == "prepare-database" and init["command"] == ["python", "/opt/langflow-db/prepare_database.py"]
    assert variables["PGPASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert variables["PGDATABASE"] == "langflow" and variables["KEEP"] == "5"
    target = variables["TARGET_DATABASE"]
    assert target.startswith(variables["UNIT_PREFIX"]) and f"/{target}?sslmode=require" in database_url(
        env, "langflow-runtime-basic-prompting")
    volumes = {v["name"]: v for v in pod(deployment)["volumes"]}
    script = find(env, "ConfigMap", volumes["db-script"]["configMap"]["name"])
    assert script["immutable"] is True and "pg_advisory_lock" in script["data"]["prepare_database.py"]
    assert any("state per unit and revision" in note for note in env.notes)


def test_a_changed_flow_or_image_is_a_new_revision_database(tmp_path: Path) -> None:
    source = json.loads((STARTERS / "Basic Prompting.json").read_text())
    (tmp_path / "flow.json").write_text(json.dumps(source))
    before = database_url(runtime(database=PG, flows=[Flow.from_file(tmp_path / "flow.json")]),
                          "langflow-runtime-basic-prompting")
    again = database_url(runtime(database=PG, flows=[Flow.from_file(tmp_path / "flow.json")]),
                         "langflow-runtime-basic-prompting")
    source["description"] = "changed"
    (tmp_path / "flow.json").write_text(json.dumps(source))
    changed = database_url(runtime(database=PG, flows=[Flow.from_file(tmp_path / "flow.json")]),
                           "langflow-runtime-basic-prompting")
    upgraded = database_url(runtime(database=PG, flows=[Flow.from_file(tmp_path / "flow.json")],
                                    image=Image(repository="langflowai/langflow", tag="1.13.1")),
                            "langflow-runtime-basic-prompting")
    assert before == again and len({before, changed, upgraded}) == 3


def test_revision_database_names_fit_postgres_and_never_share_a_prefix() -> None:
    from langflow_cdk8s.mechanics.postgres import revision_database

    long = "a" * 40
    prefix, name = revision_database("langflow", long, "img", [])
    assert len(name) <= 63 and name.startswith(prefix)
    other, _ = revision_database("langflow", long + "b", "img", [])
    assert prefix != other


def test_the_url_form_of_postgres_is_refused_on_the_runtime() -> None:
    with pytest.raises(ConfigError, match="external_postgres_url"):
        LangflowRuntimeProps(flows=FLOWS, database=Database.external_postgres_url(SecretKey(name="db", key="url")))


def test_per_pod_state_is_stated_and_memory_flows_with_several_replicas_are_named() -> None:
    env = runtime()
    assert any("state per pod" in note for note in env.notes)
    memory = sorted(w for w in env.warnings if "reads chat memory" in w)
    assert [w.split(":")[0] for w in memory] == ["langflow-runtime-memory-chatbot", "langflow-runtime-vector-store-rag"]
    assert "'Memory Chatbot'" in memory[0] and "Memory Chatbot.json" in memory[0] and "up to 6 replicas" in memory[0]
    assert not [w for w in runtime(database=PG).warnings if "chat memory" in w]
    assert not [w for w in runtime(autoscaling=None, replicas=1).warnings if "chat memory" in w]


def test_scraping_is_announced_only_where_prometheus_may_reach_the_metrics_port() -> None:
    from support import environment

    closed = runtime()
    annotations = pod_template(find(closed, "Deployment", "langflow-runtime-basic-prompting"))
    assert "prometheus.io/scrape" not in annotations
    env = environment(Stage.PRODUCTION, monitoring_namespace="monitoring")
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=FLOWS))
    deployment = find(env, "Deployment", "langflow-runtime-basic-prompting")
    assert pod_template(deployment)["prometheus.io/port"] == "9090"
    policy = find(env, "NetworkPolicy", "langflow-runtime-basic-prompting")
    assert any(rule["ports"] == [{"port": 9090, "protocol": "TCP"}] and
               rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
               for rule in policy["spec"]["ingress"]), policy["spec"]["ingress"]


def pod_template(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"].get("annotations", {})


@pytest.mark.parametrize("props, message", [
    ({"replicas": 0}, "replicas: 0 is below the minimum of 1"),
    ({"flows": []}, "flows: is empty"),
    ({"database": Database.sqlite()}, "does not fit a stateless runtime"),
])
def test_invalid_props(props, message) -> None:
    with pytest.raises(ConfigError, match=message):
        LangflowRuntimeProps(**{"flows": FLOWS, **props})


def test_autoscaling_minimum_above_maximum_is_refused() -> None:
    with pytest.raises(ConfigError, match="min_replicas 5 is above max_replicas 2"):
        Autoscaling(min_replicas=5, max_replicas=2)


def test_a_group_name_colliding_with_a_flow_endpoint_is_refused() -> None:
    with pytest.raises(ConfigError, match="both named 'langflow-runtime-basic-prompting'"):
        runtime(flows=[FlowGroup(name="basic-prompting", flows=FLOWS[1:2]), FLOWS[0]])


def synthesize(tmp_path: Path, name: str, flows: list[Flow]) -> dict[str, str]:
    """Writes an app with one production environment serving `flows`, as `make synth` would."""
    def build(app):
        env = Environment(app, "prod", environment_props())
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=flows, exposure=INGRESS))
        return [env]

    outdir = tmp_path / name
    assert synth(build, outdir=str(outdir), stream=io.StringIO()) == 0
    return read_tree(outdir)


def test_adding_a_flow_file_adds_exactly_its_files_and_changes_no_other(tmp_path: Path) -> None:
    before = synthesize(tmp_path, "before", FLOWS[:2])
    after = synthesize(tmp_path, "after", FLOWS)
    # The host's one Ingress gains the flow's routes; nothing else that existed changes.
    assert [path for path, text in before.items() if after[path] != text] == ["prod/Ingress.langflow-runtime.k8s.yaml"]
    unit = "langflow-runtime-vector-store-rag"
    assert sorted(set(after) - set(before)) == sorted([
        f"prod/ConfigMap.flow-vector-store-rag-{FLOWS[2].content_hash}.k8s.yaml",
        *(f"prod/{kind}.{unit}.k8s.yaml" for kind in (
            "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PodDisruptionBudget", "Service",
            "ServiceAccount")),
    ])


def _bound(tmp_path: Path, variable: str) -> Flow:
    document = json.loads((STARTERS / "Basic Prompting.json").read_text())
    for node in document["data"]["nodes"]:
        if "api_key" in node["data"]["node"].get("template", {}):
            node["data"]["node"]["template"]["api_key"].update(load_from_db=True, value=variable)
    (tmp_path / "bound.json").write_text(json.dumps(document))
    return Flow.from_file(tmp_path / "bound.json")


def test_a_global_variable_no_env_var_provides_is_reported(tmp_path: Path) -> None:
    flow = _bound(tmp_path, "ANTHROPIC_API_KEY")
    env = runtime(flows=[flow])
    assert [w for w in env.warnings if "global variable" in w] == [
        f"{flow.source} reads global variable(s) ANTHROPIC_API_KEY, which no env var of langflow-runtime's pods "
        "sets: add them to its secret_env in main.py"]


@pytest.mark.parametrize("props", [
    {"secret_env": {"ANTHROPIC_API_KEY": SecretKey(name="llm", key="anthropic")}},
    {"pod": PodOptions(env_from=[{"secretRef": {"name": "llm-keys"}}])},   # names not visible: not reported
], ids=["secret-env", "env-from"])
def test_a_global_variable_the_pods_provide_is_not_reported(tmp_path: Path, props: dict) -> None:
    env = runtime(flows=[_bound(tmp_path, "ANTHROPIC_API_KEY")], **props)
    assert not [w for w in env.warnings if "global variable" in w]
