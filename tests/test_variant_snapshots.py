"""Snapshots of the options the reference app does not use: each delivery mode, a flow group,
each IDE database mode and the IDE's split nginx frontend. One environment (folder) per variant,
one snapshot per object."""

import functools
import io
import tempfile
from pathlib import Path

import pytest

from conftest import read_tree
from example_app import FLOWS as EXAMPLE_FLOWS
from langflow_cdk8s import (
    Database, Environment, Flow, FlowDelivery, FlowGroup, Frontend, Image, IngressOptions, LangflowIDE,
    LangflowIDEProps, LangflowRuntime, LangflowRuntimeProps, ObjectStorage, ProductionPreflight, SecretKey, Stage,
)
from langflow_cdk8s.tooling.synth import synth
from support import environment
from test_snapshots import YamlSnapshot

FLOWS = EXAMPLE_FLOWS
INGRESS = IngressOptions(host="flows.example.com", tls_secret="flows-tls")


def build(app) -> list[Environment]:
    def env(name: str, stage: Stage) -> Environment:
        return Environment(app, name, environment(stage, name=name).props)

    download = env("runtime-download", Stage.PRODUCTION)
    LangflowRuntime(download, "runtime", LangflowRuntimeProps(
        flows=[Flow.from_url("https://artifacts.example.com/flows/triage.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f",
                             name="Triage")],
        delivery=FlowDelivery.download(auth_header=SecretKey(name="artifacts", key="header")), ingress=INGRESS))
    baked = env("runtime-baked", Stage.PRODUCTION)
    LangflowRuntime(baked, "runtime", LangflowRuntimeProps(
        flows=[f for f in Flow.from_folder(FLOWS) if f.endpoint_from_file],
        delivery=FlowDelivery.baked_into_image(), image=Image(repository="registry.example.com/flows", tag="2026.11.1")))
    group = env("runtime-group", Stage.PRODUCTION)
    LangflowRuntime(group, "runtime", LangflowRuntimeProps(
        flows=[FlowGroup(name="writers", flows=Flow.from_folder(FLOWS), replicas=2)], autoscaling=None, ingress=INGRESS,
        workers=2, job_queue=SecretKey(name="langflow-redis", key="queue-url")))
    postgres = env("ide-postgres", Stage.DEVELOPMENT)
    LangflowIDE(postgres, "ide", LangflowIDEProps(
        database=Database.in_cluster_postgres(), replicas=2,
        object_storage=ObjectStorage(bucket="langflow-uploads", credentials="langflow-s3"),
        production_preflight=ProductionPreflight(pgvector=SecretKey(name="langflow-pgvector", key="url"))))
    split = env("ide-nginx", Stage.DEVELOPMENT)
    LangflowIDE(split, "ide", LangflowIDEProps(
        frontend=Frontend.nginx(), ingress=IngressOptions(host="langflow.example.com", tls_secret="langflow-tls")))
    return [download, baked, group, postgres, split]


@functools.cache
def variant_tree() -> Path:
    """The variants synthesized once per session; the schema, semantic and policy gates read it too."""
    outdir = Path(tempfile.mkdtemp(prefix="langflow-variants-"))
    assert synth(build, outdir=str(outdir), stream=io.StringIO()) == 0
    return outdir


@functools.cache
def variants() -> dict[str, str]:
    return read_tree(variant_tree())


PATHS = sorted(variants())


@pytest.mark.parametrize("path", PATHS, ids=[p.replace("/", "__").removesuffix(".k8s.yaml") for p in PATHS])
def test_variant_object(path: str, snapshot) -> None:
    assert variants()[path] == snapshot.use_extension(YamlSnapshot)
