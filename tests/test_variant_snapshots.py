"""Snapshots of the options the reference app does not use: each delivery mode, a flow group,
each IDE database mode, the Ingress kind of exposure and Gateways of an environment's own (GKE with
TLS Secrets, EKS with ACM), a platform Gateway reading our certificate Secret (ReferenceGrant), Secrets
from External Secrets Operator, and Prometheus Operator monitors with OpenTelemetry export. The IDE's split nginx frontend. One
environment (folder) per variant, one snapshot per object."""

import functools
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import read_tree
from example_app import FLOWS as EXAMPLE_FLOWS
from support import environment_props
from test_snapshots import YamlSnapshot, assert_no_orphans

from langflow_cdk8s import (
    Certificate,
    CloudProfile,
    Database,
    Environment,
    Exposure,
    Flow,
    FlowDelivery,
    FlowGroup,
    Frontend,
    GatewayRef,
    Image,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Metrics,
    Monitor,
    ObjectStorage,
    OpenTelemetry,
    PodOptions,
    ProductionPreflight,
    RemoteKey,
    SecretKey,
    SecretSource,
    Stage,
    StoreKind,
)
from langflow_cdk8s.tooling.synth import synth

FLOWS = EXAMPLE_FLOWS
INGRESS = IngressOptions(host="flows.example.com", tls_secret="flows-tls")


def build(app) -> list[Environment]:
    def env(name: str, stage: Stage, **props: Any) -> Environment:
        return Environment(app, name, environment_props(stage, name=name, **props))

    download = env("runtime-download", Stage.PRODUCTION)
    LangflowRuntime(download, "runtime", LangflowRuntimeProps(
        flows=[Flow.from_url("https://artifacts.example.com/flows/triage.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f",
                             name="Triage")],
        delivery=FlowDelivery.download(auth_header=SecretKey(name="artifacts", key="header")), exposure=INGRESS))
    baked = env("runtime-baked", Stage.PRODUCTION)
    LangflowRuntime(baked, "runtime", LangflowRuntimeProps(
        flows=[f for f in Flow.from_folder(FLOWS) if f.endpoint_from_file],
        delivery=FlowDelivery.baked_into_image(), image=Image(repository="registry.example.com/flows", tag="2026.11.1")))
    group = env("runtime-group", Stage.PRODUCTION)
    LangflowRuntime(group, "runtime", LangflowRuntimeProps(
        flows=[FlowGroup(name="writers", flows=Flow.from_folder(FLOWS), replicas=2)], autoscaling=None, exposure=INGRESS,
        workers=2, job_queue=SecretKey(name="langflow-redis", key="queue-url")))
    postgres = env("ide-postgres", Stage.DEVELOPMENT)
    LangflowIDE(postgres, "ide", LangflowIDEProps(
        database=Database.in_cluster_postgres(), replicas=2,
        object_storage=ObjectStorage(bucket="langflow-uploads", credentials="langflow-s3"),
        production_preflight=ProductionPreflight(pgvector=SecretKey(name="langflow-pgvector", key="url"))))
    gke = env("gateway-gke", Stage.DEVELOPMENT, profile=CloudProfile.gke())
    LangflowIDE(gke, "ide", LangflowIDEProps(exposure=Exposure.own_gateway(
        "langflow.example.com", certificate=Certificate.secret("langflow-ide-tls"))))
    LangflowRuntime(gke, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS), exposure=Exposure.own_gateway(
        "flows.example.com", certificate=Certificate.secret("langflow-runtime-tls"))))
    eks = env("gateway-eks", Stage.PRODUCTION, profile=CloudProfile.eks())
    LangflowRuntime(eks, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS),
                                                         exposure=Exposure.own_gateway("flows.example.com")))
    grant = env("gateway-grant", Stage.DEVELOPMENT)
    LangflowIDE(grant, "ide", LangflowIDEProps(exposure=Exposure.gateway(
        "langflow.example.com", gateway=GatewayRef(name="shared", namespace="gateway-system", section_name="https"),
        certificate_secret="langflow-tls")))
    external = env("runtime-external", Stage.PRODUCTION, secrets=EXTERNAL)
    LangflowRuntime(external, "runtime", LangflowRuntimeProps(
        flows=[Flow.from_url("https://artifacts.example.com/flows/triage.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f",
                             name="Triage")],
        delivery=FlowDelivery.download(auth_header=SecretKey(name="artifacts", key="header")), exposure=INGRESS,
        database=Database.external_postgres(host="db.internal", password=SecretKey(name="langflow-db", key="password")),
        secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")},
        pod=PodOptions(env_from=[{"secretRef": {"name": "extra-env"}}], image_pull_secrets=["registry"])))
    pod_monitor = env("runtime-monitored", Stage.PRODUCTION, monitoring_namespace="monitoring")
    LangflowRuntime(pod_monitor, "runtime", LangflowRuntimeProps(
        flows=[FlowGroup(name="writers", flows=Flow.from_folder(FLOWS)[:2], replicas=2)], autoscaling=None,
        metrics=Metrics(monitor=Monitor.POD_MONITOR, opentelemetry=OpenTelemetry(
            endpoint="http://otel-collector.observability:4318", resource_attributes={"deployment.environment": "prod"}))))
    service_monitor = env("ide-monitored", Stage.DEVELOPMENT, monitoring_namespace="monitoring")
    LangflowIDE(service_monitor, "ide", LangflowIDEProps(metrics=Metrics(monitor=Monitor.SERVICE_MONITOR, port=9464)))
    split = env("ide-nginx", Stage.DEVELOPMENT)
    LangflowIDE(split, "ide", LangflowIDEProps(
        frontend=Frontend.nginx(), exposure=IngressOptions(host="langflow.example.com", tls_secret="langflow-tls")))
    return [download, baked, group, postgres, gke, eks, grant, external, pod_monitor, service_monitor, split]

@functools.cache
def variant_tree() -> Path:
    """The variants synthesized once per session; the schema, semantic and policy gates read it too."""
    outdir = Path(tempfile.mkdtemp(prefix="langflow-variants-"))
    printed = io.StringIO()
    assert synth(build, outdir=str(outdir), stream=printed) == 0, printed.getvalue()
    return outdir


EXTERNAL = SecretSource.external(store="vault", kind=StoreKind.SECRET_STORE, refresh_interval="15m", remote={
    "langflow-runtime-auth": "langflow/prod/runtime-auth", "llm-api-keys": "langflow/prod/llm",
    "langflow-db/password": RemoteKey(key="databases/langflow", property="password"),
    "artifacts/header": "langflow/prod/artifacts-header", "extra-env": "langflow/prod/extra-env",
    "registry": "platform/registry", "flows-tls": "langflow/prod/tls"})
"""Every way to map a Secret: per Secret (its keys are properties), per key, a key's property, read whole."""


@functools.cache
def variants() -> dict[str, str]:
    return read_tree(variant_tree())


PATHS = sorted(variants())


@pytest.mark.parametrize("path", PATHS, ids=[p.replace("/", "__").removesuffix(".k8s.yaml") for p in PATHS])
def test_variant_object(path: str, snapshot) -> None:
    assert variants()[path] == snapshot.use_extension(YamlSnapshot)


def test_every_variant_snapshot_file_has_its_object() -> None:
    assert_no_orphans("test_variant_snapshots", "test_variant_object", PATHS)
