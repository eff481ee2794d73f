"""Langflow 1.13's production settings: security pinned on, CORS from the hosts, object storage,
the job queue and the `prod` profile only when what it checks is declared."""

from __future__ import annotations

import pytest
from shared_apps import STARTER_FLOWS as FLOWS
from support import env_of, environment, find, main_container

from langflow_cdk8s import (
    ConfigError,
    CustomComponents,
    Database,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    ObjectStorage,
    ProductionPreflight,
    SecretKey,
    Security,
    Stage,
)

STORAGE = ObjectStorage(bucket="uploads", credentials="langflow-s3", endpoint="https://minio.storage.svc:9000")
PGVECTOR = ProductionPreflight(pgvector=SecretKey(name="pgvector", key="url"))
POSTGRES = Database.external_postgres(host="db.internal", password=SecretKey(name="db", key="password"))
PINNED = {
    "LANGFLOW_WEBHOOK_AUTH_ENABLE": "true", "LANGFLOW_ENABLE_SUPERUSER_CLI": "false",
    "LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS": "true", "LANGFLOW_SSRF_PROTECTION_ENABLED": "true",
    "LANGFLOW_RATE_LIMIT_ENABLED": "true", "LANGFLOW_MCP_SERVER_DOCKER_HARDENING": "true",
}


def runtime_env(**props) -> dict:
    env = environment(Stage.PRODUCTION)
    props.setdefault("flows", FLOWS[:1])
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(**props))
    return env_of(main_container(find(env, "Deployment")))


def ide_env(**props) -> dict:
    env = environment(Stage.DEVELOPMENT)
    LangflowIDE(env, "ide", LangflowIDEProps(**props))
    return env_of(main_container(find(env, "Deployment" if props.get("database") else "StatefulSet",
                                      "langflow-ide-backend")))


def test_the_runtime_runs_only_the_servers_own_components_without_code_interpreters_or_tweaks() -> None:
    variables = runtime_env()
    assert variables.items() >= {
        **PINNED, "LANGFLOW_ALLOW_CUSTOM_COMPONENTS": "false", "LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS": "true",
        "LANGFLOW_TWEAKS_POLICY": "off", "LANGFLOW_WORKERS": "1", "LANGFLOW_CONNECTOR_SSRF_ALLOW_LOOPBACK": "false",
    }.items()


def test_the_ide_keeps_custom_component_code_to_admins() -> None:
    variables = ide_env()
    assert variables.items() >= {
        **PINNED, "LANGFLOW_ALLOW_CUSTOM_COMPONENTS": "true", "LANGFLOW_CUSTOM_COMPONENT_ADMIN_ONLY": "true",
        "LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS": "false", "LANGFLOW_TWEAKS_POLICY": "permissive",
        "LANGFLOW_CONNECTOR_SSRF_ALLOW_LOOPBACK": "true"}.items()
    opened = ide_env(security=Security(custom_components=CustomComponents.ALLOWED, code_interpreter_components=True,
                                       tweaks="permissive", loopback_connectors=True))
    assert opened["LANGFLOW_CUSTOM_COMPONENT_ADMIN_ONLY"] == "false"


def test_cors_allows_the_hosts_origin_and_in_cluster_callers_otherwise() -> None:
    assert runtime_env(exposure=IngressOptions(host="flows.example.com", tls_secret="tls"))["LANGFLOW_CORS_ORIGINS"] == (
        "https://flows.example.com")
    assert ide_env(exposure=IngressOptions(host="ide.example.com"))["LANGFLOW_CORS_ORIGINS"] == "http://ide.example.com"
    assert runtime_env()["LANGFLOW_CORS_ORIGINS"] == (
        "http://langflow-runtime-basic-prompting.ns-test.svc.cluster.local:7860")
    extra = Security(**{**vars(Security.runtime()), "extra_cors_origins": ("https://app.example.com",)})
    assert runtime_env(security=extra, exposure=IngressOptions(host="flows.example.com", tls_secret="tls"))[
        "LANGFLOW_CORS_ORIGINS"] == "https://flows.example.com,https://app.example.com"


def test_forwarded_client_addresses_are_trusted_only_behind_an_ingress() -> None:
    """Rate limits count per client: behind an ingress every request would otherwise share its address."""
    assert runtime_env(exposure=IngressOptions(host="flows.example.com"))["LANGFLOW_RATE_LIMIT_TRUST_PROXY"] == "true"
    assert runtime_env()["LANGFLOW_RATE_LIMIT_TRUST_PROXY"] == "false"


@pytest.mark.parametrize("security, message", [
    ({"tweaks": "none"}, "security.tweaks: 'none' is not a tweaks policy"),
    ({"extra_cors_origins": ("*",)}, "security.extra_cors_origins: '\\*' is not a browser origin"),
    ({"extra_cors_origins": ("https://app.example.com/path",)}, "is not a browser origin"),
    ({"custom_components": "off"}, "is not a CustomComponents"),
])
def test_bad_security_options_are_refused(security: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Security(**{**vars(Security.runtime()), **security})


def test_object_storage_settings_and_credentials_by_reference() -> None:
    variables = ide_env(database=Database.in_cluster_postgres(), replicas=2, object_storage=STORAGE)
    assert variables.items() >= {
        "LANGFLOW_STORAGE_TYPE": "s3", "LANGFLOW_OBJECT_STORAGE_BUCKET_NAME": "uploads",
        "LANGFLOW_OBJECT_STORAGE_PREFIX": "files", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": "https://minio.storage.svc:9000"}.items()
    assert variables["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "langflow-s3", "key": "secret-access-key"}}
    workload_identity = runtime_env(object_storage=ObjectStorage(bucket="uploads"))
    assert "AWS_ACCESS_KEY_ID" not in workload_identity and workload_identity["LANGFLOW_STORAGE_TYPE"] == "s3"


def test_several_ide_replicas_need_object_storage() -> None:
    with pytest.raises(ConfigError, match="replicas: 2 replicas without object storage"):
        LangflowIDEProps(database=Database.in_cluster_postgres(), replicas=2)


def test_the_prod_profile_is_set_only_with_everything_its_preflight_checks() -> None:
    variables = runtime_env(database=POSTGRES, object_storage=STORAGE, production_preflight=PGVECTOR)
    assert variables["LANGFLOW_DEPLOYMENT_PROFILE"] == "prod"
    assert variables["PGVECTOR_CONNECTION_STRING"] == {"secretKeyRef": {"name": "pgvector", "key": "url"}}
    assert "LANGFLOW_DEPLOYMENT_PROFILE" not in runtime_env(database=POSTGRES, object_storage=STORAGE)


@pytest.mark.parametrize("props, message", [
    ({"object_storage": STORAGE}, "production_preflight: Langflow's prod profile refuses to boot on SqliteEphemeral"),
    ({"database": POSTGRES}, "production_preflight: Langflow's prod profile refuses to boot on local file storage"),
])
def test_the_prod_profile_without_its_requirements_is_refused(props: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LangflowRuntimeProps(flows=FLOWS, production_preflight=PGVECTOR, **props)


def test_the_prod_profile_opens_egress_to_pgvector() -> None:
    env = environment(Stage.PRODUCTION)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=FLOWS[:1], database=POSTGRES, object_storage=STORAGE,
                                                         production_preflight=PGVECTOR))
    egress = find(env, "NetworkPolicy", "langflow-runtime-basic-prompting")["spec"]["egress"]
    # database and pgvector, each on the three private ranges: cdk8s-plus writes one rule per IP block
    assert sum(rule.get("ports") == [{"protocol": "TCP", "port": 5432}] for rule in egress) == 6


def test_several_workers_need_the_redis_job_queue() -> None:
    with pytest.raises(ConfigError, match="workers: 2 workers per pod without a shared job queue"):
        LangflowRuntimeProps(flows=FLOWS, workers=2)
    variables = runtime_env(workers=2, job_queue=SecretKey(name="redis", key="queue-url"))
    assert variables["LANGFLOW_WORKERS"] == "2"
    assert variables["LANGFLOW_JOB_QUEUE_TYPE"] == "redis"
    assert variables["LANGFLOW_REDIS_QUEUE_URL"] == {"secretKeyRef": {"name": "redis", "key": "queue-url"}}


def test_a_managed_variable_in_secret_env_is_refused() -> None:
    with pytest.raises(ConfigError, match="PGVECTOR_CONNECTION_STRING is set twice"):
        runtime_env(database=POSTGRES, object_storage=STORAGE, production_preflight=PGVECTOR,
                    secret_env={"PGVECTOR_CONNECTION_STRING": SecretKey(name="other", key="url")})
