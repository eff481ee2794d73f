"""Secrets from a store: with SecretSource.external(...), every Secret an environment's pods (and its
Ingress) read has exactly one ExternalSecret producing it, with every key read; the two sides are
derived independently, the readers from the pods as written, the producers from the ExternalSecrets."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from gates import Manifest, crd_schema_errors
from support import environment, environment_props
from test_variant_snapshots import FLOWS, variants

from langflow_cdk8s import (
    ConfigError,
    Environment,
    Flow,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    RemoteKey,
    SecretKey,
    SecretSource,
    Stage,
    StoreKind,
)
from langflow_cdk8s.mechanics.waves import SYNC_WAVE
from langflow_cdk8s.tooling.pages import secrets_section
from langflow_cdk8s.tooling.synth import synth

FOLDER = "runtime-external"


def objects(folder: str = FOLDER) -> list[dict[str, Any]]:
    return [yaml.safe_load(text) for path, text in sorted(variants().items()) if path.startswith(f"{folder}/")]


def read_by_pods(objs: list[dict[str, Any]]) -> dict[str, set[str] | None]:
    """Secret -> keys the pods read (None: every key), from the pod templates as written."""
    read: dict[str, set[str] | None] = {}

    def add(name: str, key: str | None) -> None:
        if key is None or read.get(name, set()) is None:
            read[name] = None
        else:
            read.setdefault(name, set()).add(key)  # type: ignore[union-attr]

    for obj in objs:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        if pod is None:
            continue
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    add(ref["name"], ref["key"])
            for entry in container.get("envFrom", []):
                if "secretRef" in entry:
                    add(entry["secretRef"]["name"], None)
        for volume in pod.get("volumes", []):
            for source in [volume, *volume.get("projected", {}).get("sources", [])]:
                if "secret" in source:
                    name = source["secret"].get("secretName") or source["secret"].get("name")
                    for item in source["secret"].get("items") or [{"key": None}]:
                        add(name, item["key"])
        for pull in pod.get("imagePullSecrets", []):
            add(pull["name"], ".dockerconfigjson")
    return read


def produced(objs: list[dict[str, Any]]) -> Counter[str]:
    """Secret name -> how many ExternalSecrets produce it."""
    return Counter(o["spec"]["target"].get("name", o["metadata"]["name"]) for o in objs if o["kind"] == "ExternalSecret")


def produced_keys(external_secret: dict[str, Any]) -> set[str] | None:
    """The keys an ExternalSecret writes (None: whatever its dataFrom extracts, every key)."""
    if external_secret["spec"].get("dataFrom"):
        return None
    return {entry["secretKey"] for entry in external_secret["spec"].get("data", [])}


def external_folders() -> list[tuple[str, list[dict[str, Any]]]]:
    """The variant's folder, and every folder of main.py's app whose environment uses a store."""
    from conftest import reference

    from langflow_cdk8s.props.secrets import ExternalSecrets

    ref = reference()
    return [(FOLDER, objects()), *((name, ref.objects(name)) for name, registry in ref.registries.items()
                                   if isinstance(registry.source, ExternalSecrets))]


@pytest.mark.parametrize("folder", [name for name, _ in external_folders()])
def test_every_secret_a_pod_reads_has_exactly_one_external_secret_with_its_keys(folder: str) -> None:
    objs = dict(external_folders())[folder]
    read, made = read_by_pods(objs), produced(objs)
    tls = {t["secretName"] for o in objs if o["kind"] == "Ingress" for t in o["spec"].get("tls", [])}
    assert read and set(made) == set(read) | tls
    assert all(count == 1 for count in made.values()), made
    for obj in (o for o in objs if o["kind"] == "ExternalSecret"):
        keys, wanted = produced_keys(obj), read.get(obj["spec"]["target"]["name"], {"tls.crt", "tls.key"})
        assert keys is None or (wanted is not None and wanted <= keys), (obj["metadata"]["name"], keys, wanted)
        assert obj["spec"]["target"]["creationPolicy"] == "Owner"


def test_external_secrets_sync_before_every_workload() -> None:
    objs = objects()
    waves = {o["kind"]: int(o["metadata"]["annotations"][SYNC_WAVE]) for o in objs}
    assert waves["ExternalSecret"] < min(waves["Deployment"], waves["Ingress"])


def test_external_secrets_match_the_vendored_crd() -> None:
    manifests = [Manifest(f"{FOLDER}/{o['kind']}.{o['metadata']['name']}.k8s.yaml", o) for o in objects()]
    assert [m for m in manifests if m.kind == "ExternalSecret"]
    assert crd_schema_errors(manifests) == []


def test_the_crd_check_refuses_a_misspelt_field() -> None:
    external = next(o for o in objects() if o["kind"] == "ExternalSecret")
    external["spec"]["secretStoreRef"]["Kind"] = external["spec"]["secretStoreRef"].pop("kind")
    external["spec"]["target"]["creationPolicy"] = "Owned"
    errors = crd_schema_errors([Manifest("x/ExternalSecret.yaml", external)])
    assert any("'Kind' was unexpected" in e for e in errors) and any("'Owned' is not one of" in e for e in errors)


def test_no_kubectl_create_secret_with_external_secrets() -> None:
    env = runtime_env(SecretSource.external(store="vault", remote=REMOTE))
    page = secrets_section(env.namespace_name, env.secret_references)
    assert "kubectl" not in page and "create secret" not in page
    assert "| `llm-api-keys` | `openai` | `langflow/llm`, a property per key |" in page
    mixed = runtime_env(SecretSource.external(store="vault", remote={
        "langflow-runtime-auth": "langflow/auth", "llm-api-keys/openai": RemoteKey(key="shared/openai", property="key")}))
    assert "| `llm-api-keys` | `openai` | `openai` ← `shared/openai` property `key` |" in secrets_section(
        mixed.namespace_name, mixed.secret_references)
    existing = runtime_env(SecretSource.existing())
    assert "kubectl -n ns-test create secret generic llm-api-keys" in secrets_section(
        existing.namespace_name, existing.secret_references)


REMOTE = {"llm-api-keys": "langflow/llm", "langflow-runtime-auth": "langflow/auth"}


def runtime_env(source: Any, **props: Any) -> Environment:
    env = environment(secrets=source)
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)[:1], **{
        "secret_env": {"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}, **props}))
    return env


def test_a_key_without_a_remote_mapping_is_a_two_line_error_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        runtime_env(SecretSource.external(store="vault", remote={"langflow-runtime-auth": "langflow/auth"}))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("environment 'test': Secret 'llm-api-keys' key 'openai': is read by "
                               "Deployment/langflow-runtime-")
    assert "as OPENAI_API_KEY but has no remote key mapping in SecretSource.external(remote=...)" in lines[0]
    assert '"llm-api-keys/openai": "<path>"' in lines[1]


def test_a_mapping_nothing_reads_is_named_in_the_summary(tmp_path: Path) -> None:
    """A typo, or a Secret no unit reads now (a database password while every flow runs on lfx):
    synthesis goes on and the summary names it."""
    def build(app: Any) -> list[Environment]:
        env = Environment(app, "test", environment_props(secrets=SecretSource.external(
            store="vault", remote={**REMOTE, "llm-api-key": "typo", "llm-api-keys/anthropic": "unused"})))
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS)[:1], secret_env={
            "OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}))
        return [env]

    stream = io.StringIO()
    assert synth(build, outdir=str(tmp_path), stream=stream) == 0, stream.getvalue()
    assert "note: SecretSource.external(remote=...) maps 'llm-api-key', which no object reads now" in stream.getvalue()
    assert "maps 'llm-api-keys/anthropic'" in stream.getvalue()
    assert not list((tmp_path / "test").glob("ExternalSecret.llm-api-key.*"))


def test_a_per_key_mapping_wins_over_the_secrets_path() -> None:
    env = runtime_env(SecretSource.external(store="vault", kind=StoreKind.SECRET_STORE, remote={
        **REMOTE, "llm-api-keys/openai": RemoteKey(key="shared/openai", property="token")}))
    spec = env.secret_references.produced["llm-api-keys"].to_json()["spec"]
    assert spec["data"] == [{"secretKey": "openai", "remoteRef": {"key": "shared/openai", "property": "token"}}]
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "vault"}


def test_the_registry_records_each_reference_with_its_consumer() -> None:
    env = environment(Stage.DEVELOPMENT)
    LangflowIDE(env, "ide", LangflowIDEProps(secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}))
    registry = env.secret_references
    assert registry.secrets() == {"langflow-ide-auth": {"secret-key", "superuser", "superuser-password"},
                                  "llm-api-keys": {"openai"}}
    assert registry.readers("llm-api-keys") == ["StatefulSet/langflow-ide-backend"]
    assert "OPENAI_API_KEY" in registry.variables("StatefulSet/langflow-ide-backend")
    assert registry.produced == {}


@pytest.mark.parametrize("bad, where", [
    (lambda: SecretSource.external(store="Vault Store", remote={}), "secrets.store"),
    (lambda: SecretSource.external(store="vault", remote={}, refresh_interval="hourly"), "secrets.refresh_interval"),
    (lambda: SecretSource.external(store="vault", remote={"db": RemoteKey(key="x")}), "secrets.remote['db']"),
    (lambda: SecretSource.external(store="vault", remote={"db/pw": 3}), "secrets.remote['db/pw']"),
])
def test_bad_secret_sources_are_refused(bad: Any, where: str) -> None:
    with pytest.raises(ConfigError, match=f"^{where.replace('[', '.').replace(']', '.')}"):
        bad()


@pytest.mark.parametrize("which", ["reference", "example"])
def test_the_registry_lists_exactly_what_the_written_objects_read(which: str) -> None:
    """Every path by which the library makes a reference records it: the registry equals what the
    written pods and Ingresses read (read back here, by the test, never by the library)."""
    from conftest import example, reference

    from langflow_cdk8s.tooling.inventory import required_secrets

    synthesis = reference() if which == "reference" else example()
    assert synthesis.registries
    for name, registry in synthesis.registries.items():
        assert registry.secrets() == required_secrets(synthesis.objects(name)), name


def test_the_diagram_draws_each_external_secret_reading_its_store_and_creating_its_secret() -> None:
    from langflow_cdk8s.tooling.diagram import diagram

    drawn = diagram(objects())
    assert '"Secrets External Secrets Operator creates (never in dist/)"' in drawn
    store = next(line.split(">")[0].strip() for line in drawn.splitlines() if '"SecretStore vault"' in line)
    for name in (o["metadata"]["name"] for o in objects() if o["kind"] == "ExternalSecret"):
        node = f"es_{name.replace('-', '_')}"
        assert f'{node}[/"ExternalSecret {name}<br/>refresh 15m"/]' in drawn
        assert f'{store} -->|"reads"| {node}' in drawn and f'{node} -->|"creates"| secret_{name.replace("-", "_")}' in drawn


def test_every_secret_source_is_registered():
    """A new kind of SecretSource joins the union, the producers and the page sections (README, "Extend the library")."""
    import typing

    from langflow_cdk8s.mechanics.secret_refs import PRODUCERS
    from langflow_cdk8s.props.secrets import SecretSourceChoice
    from langflow_cdk8s.tooling.pages import SECRET_SECTIONS

    kinds = set(typing.get_args(SecretSourceChoice))
    assert set(PRODUCERS) == kinds
    assert set(SECRET_SECTIONS) == kinds
