"""docs/ is generated: the committed pages must equal what the generator makes from a fresh synthesis,
the diagrams must show what dist/ holds, and every prop must be described."""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

import example_app
import pytest
from conftest import ROOT, Synthesis, environment_folders, example, reference

from langflow_cdk8s.mechanics.workload import WORKLOAD_KINDS
from langflow_cdk8s.props.secrets import ExternalSecrets
from langflow_cdk8s.tooling import docs, pages
from langflow_cdk8s.tooling import reference as props_reference
from langflow_cdk8s.tooling.inventory import required_secrets

DOCS = ROOT / "docs"
REGENERATE = "run `make synth` and commit docs/"
FOLDERS = sorted({path.split("/")[0] for path in reference().files})


@functools.cache
def objects(folder: str) -> list[dict]:
    """The session synthesis' objects of one folder, parsed once for this module."""
    return reference().objects(folder)


def page(folder: str) -> str:
    path = DOCS / "environments" / f"{folder}.md"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {REGENERATE}"
    return path.read_text(encoding="utf-8")


def mermaid(text: str) -> str:
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert len(blocks) == 1, f"expected one Mermaid diagram, found {len(blocks)}"
    return blocks[0]


def labelled(diagram: str, text: str) -> bool:
    """`text` begins a node label or one of its lines, and is not merely a prefix of a longer name."""
    return re.search(rf'[">]{re.escape(text)}(<br/>|")', diagram) is not None


def test_committed_environment_pages_equal_a_fresh_generation() -> None:
    expected = {f"{folder}.md": reference().page(folder) for folder in FOLDERS}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (DOCS / "environments").glob("*.md")}
    stale = sorted(name for name in set(expected) | set(committed) if expected.get(name) != committed.get(name))
    assert not stale, f"docs/environments/ is stale in {', '.join(stale)}: {REGENERATE}"


def test_committed_reference_equals_a_fresh_generation() -> None:
    assert (DOCS / "reference.md").read_text(encoding="utf-8") == props_reference.reference_markdown(), \
        f"docs/reference.md is stale: {REGENERATE}"


def test_write_makes_one_page_per_folder_and_the_reference(ref: Synthesis, tmp_path: Path) -> None:
    written = docs.write(ref.outdir, tmp_path, ref.registries)
    assert sorted(p.name for p in (tmp_path / "environments").iterdir()) == [f"{f}.md" for f in FOLDERS]
    for folder in FOLDERS:
        assert (tmp_path / "environments" / f"{folder}.md").read_text(encoding="utf-8") == ref.page(folder)
    assert tmp_path / "reference.md" in written


@pytest.mark.parametrize("folder", FOLDERS)
def test_output_does_not_depend_on_object_order(folder: str) -> None:
    found = objects(folder)
    registry = reference().registries.get(folder)
    assert pages.environment_markdown(folder, found[::-1], registry) == pages.environment_markdown(folder, found, registry)


@pytest.mark.parametrize("folder", FOLDERS)
def test_diagram_shows_every_service_workload_host_and_secret(folder: str) -> None:
    found = objects(folder)
    diagram = mermaid(page(folder))
    expected = [f"{o['kind']} {o['metadata']['name']}" for o in found
                if o["kind"] in ("Service", "Ingress", *WORKLOAD_KINDS)]
    expected += [f"HPA {o['metadata']['name']}" for o in found if o["kind"] == "HorizontalPodAutoscaler"]
    expected += [f"https://{host}" for o in found if o["kind"] == "Ingress"
                 for tls in o["spec"].get("tls", []) for host in tls["hosts"]]
    expected += [f"Secret {name}" for name in required_secrets(found)]
    expected += [f"Application {o['metadata']['name']}" for o in found if o["kind"] == "Application"]
    missing = [text for text in expected if not labelled(diagram, text)]
    assert not missing, f"docs/environments/{folder}.md does not draw {missing}: {REGENERATE}"


@pytest.mark.parametrize("folder", environment_folders(reference()))
def test_diagram_draws_the_network_boundary(folder: str) -> None:
    found = objects(folder)
    diagram = mermaid(page(folder))
    assert re.search(r'subgraph \S+\["namespace [^"]*default-deny ingress and egress"\]', diagram)
    for policy in (o for o in found if o["kind"] == "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            ports = ", ".join(f"{p['port']}/{p['protocol']}" for p in rule["ports"])
            assert re.search(rf'-\.->\|"{re.escape(ports)}', diagram), f"no dotted edge for egress {ports}"
    for hpa in (o for o in found if o["kind"] == "HorizontalPodAutoscaler"):
        assert f"{hpa['spec']['minReplicas']}..{hpa['spec']['maxReplicas']} replicas" in diagram


def test_prod_egress_names_database_https_and_dns() -> None:
    prod = example().objects("prod")
    edges = [line for line in mermaid(example().page("prod")).splitlines() if "-.->" in line]
    database = any(port.get("port") == 5432 for o in prod if o["kind"] == "NetworkPolicy"
                   for rule in o["spec"].get("egress", []) for port in rule.get("ports", []))
    for name in ("PostgreSQL", "HTTPS", "DNS") if database else ("HTTPS", "DNS"):  # lfx units have no database
        assert any(name in edge for edge in edges), f"no allowed {name} egress drawn"


def from_a_store(folder: str) -> bool:
    """Whether the environment of `folder` takes its Secrets from a store (SecretSource.external)."""
    registry = reference().registries.get(folder)
    return registry is not None and isinstance(registry.source, ExternalSecrets)


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_required_secret_has_a_create_command(folder: str) -> None:
    if from_a_store(folder):
        section = page(folder).split("## Secrets from the store", 1)[1].split("\n## ", 1)[0]
        assert "kubectl" not in section, f"docs/environments/{folder}.md tells to create Secrets that a store provides"
        for name in required_secrets(objects(folder)):
            assert f"| `{name}` |" in section, f"no store path for {name} in docs/environments/{folder}.md"
        return
    commands = re.findall(r"```sh\n(.*?)```", page(folder), re.S)
    text = commands[0].split("\n\n") if commands else []
    for name, keys in required_secrets(objects(folder)).items():
        command = next((c for c in text if re.search(rf"create secret \S+ {re.escape(name)}( |$)", c)), None)
        assert command, f"no `kubectl create secret` for {name} in docs/environments/{folder}.md"
        if keys == {"tls.crt", "tls.key"}:
            assert f"create secret tls {name} " in command
        else:
            assert all(f"--from-literal={key}=" in command for key in keys), command


@pytest.mark.parametrize("cls", [c for c in props_reference.REFERENCE if dataclasses.is_dataclass(c)], ids=lambda c: c.__name__)
def test_every_prop_is_described(cls: type) -> None:
    missing = props_reference.undocumented(cls)
    assert not missing, f"{cls.__name__}'s docstring has no `name: description` line for {missing}"


def test_an_undescribed_prop_is_found() -> None:
    @dataclasses.dataclass
    class Props:
        """Example props.

        shared, other: described together, over
        two lines.
        """

        shared: int = 1
        other: str = ""
        forgotten: bool = False

    assert props_reference.undocumented(Props) == ["forgotten"]
    assert props_reference.field_descriptions(Props)["other"] == "described together, over two lines."


def test_reference_states_evaluated_defaults_as_a_user_writes_them() -> None:
    text = props_reference.reference_markdown()
    assert '| `auth` | `Auth` | `Auth.from_secret("langflow-runtime-auth", api_key=True)` |' in text
    assert "| `profile` | `CloudProfile` | `CloudProfile.generic()` |" in text
    assert "| `stage` | `Stage` | required |" in text


def generated_values(command: str) -> dict[str, str]:
    """key -> the value the shell gives each generated `--from-literal` of a create command."""
    import subprocess

    values = {}
    for key, expression in re.findall(r'--from-literal=([\w.-]+)="(\$\(.*?\))"', command):
        values[key] = subprocess.run(["sh", "-c", f'printf %s "{expression}"'], check=True, capture_output=True,
                                     text=True).stdout
    return values


@pytest.mark.parametrize("folder", ["dev", "prod"])
def test_generated_secret_values_are_what_langflow_accepts(folder: str) -> None:
    """The secret key decodes as a Fernet key (32 bytes, url-safe base64); passwords stay URL-safe."""
    import base64

    commands = re.findall(r"```sh\n(.*?)```", example().page(folder) if folder == "dev" else existing_prod_page(),
                          re.S)[0].split("\n\n")
    values = {key: value for command in commands for key, value in generated_values(command).items()}
    assert values, f"docs/environments/{folder}.md generates no Secret value"
    if "secret-key" in values or "LANGFLOW_SECRET_KEY" in page(folder):  # an lfx-only runtime has none
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}=", values["secret-key"])
        assert len(base64.urlsafe_b64decode(values["secret-key"])) == 32
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for k, v in values.items() if k != "secret-key")


def existing_prod_page() -> str:
    """The Secrets section of the example's prod with SecretSource.existing(): commands, not store paths."""
    from support import environment

    from langflow_cdk8s import Database, Flow, LangflowRuntime, LangflowRuntimeProps, SecretKey, Stage

    env = environment(Stage.PRODUCTION, name="prod")
    LangflowRuntime(env, "runtime", LangflowRuntimeProps(
        flows=Flow.from_folder(example_app.FLOWS), secret_env=example_app.LLM_KEYS,
        database=Database.external_postgres(host="db.internal", password=SecretKey(name="langflow-prod-db", key="password"))))
    return pages.secrets_section(env.namespace_name, env.secret_references)


def test_an_existing_database_password_is_asked_for_not_generated() -> None:
    commands = [c for c in re.findall(r"```sh\n(.*?)```", existing_prod_page(), re.S)[0].split("\n\n") if "prod-db" in c]
    for command in commands:  # none when every runtime unit is stateless (Engine.lfx())
        assert "--from-literal=password='<the existing password of the database user>'" in command
    # An in-cluster PostgreSQL initializes itself from the same Secret key, so there a new one is right.
    from support import environment

    from langflow_cdk8s import Database, LangflowIDE, LangflowIDEProps, Stage

    env = environment(Stage.DEVELOPMENT)
    LangflowIDE(env, "ide", LangflowIDEProps(database=Database.in_cluster_postgres()))
    assert '--from-literal=password="$(openssl rand -hex 32)"' in pages.secrets_section(env.namespace_name,
                                                                                      env.secret_references)


def test_the_state_section_says_where_each_workload_keeps_state_and_which_flows_read_memory() -> None:
    from conftest import runnable_starters
    from support import environment

    from langflow_cdk8s import Database, Flow, LangflowRuntime, LangflowRuntimeProps, SecretKey, Stage
    from langflow_cdk8s.tooling.state import state_section

    per_pod = environment(Stage.PRODUCTION)
    LangflowRuntime(per_pod, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(runnable_starters())))
    rows = {line.split("|")[1].strip(): line for line in state_section(per_pod.objects).splitlines()
            if line.startswith("| `")}
    assert "per pod (SQLite" in rows["`langflow-runtime-memory-chatbot`"]
    assert rows["`langflow-runtime-memory-chatbot`"].rstrip(" |").endswith("Memory Chatbot")
    assert rows["`langflow-runtime-basic-prompting`"].rstrip(" |").endswith("none")
    assert "authenticates as the superuser" in state_section(per_pod.objects)

    shared = environment(Stage.PRODUCTION, name="pg")
    LangflowRuntime(shared, "runtime", LangflowRuntimeProps(
        flows=Flow.from_folder(runnable_starters()),
        database=Database.external_postgres(host="db.internal", password=SecretKey(name="db", key="password"))))
    assert "per revision: database `langflow_basic_prompting_" in state_section(shared.objects)
