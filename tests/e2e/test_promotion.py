"""Promotion from dev to prod with real Langflow: a flow built through the API of dist/dev's IDE
backend is pulled by `make promote` into a copy of the repository, `make synth` turns it into
dist/prod objects, and a runtime pod started from that new dist/prod serves it at its route.
Promoting again changes no byte; a literal API key is refused by promote and by synthesis."""

from __future__ import annotations

import copy
import json
import os
import re
import secrets as random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import STARTERS, with_choices_made

from .conftest import ROOT, PodFactory, record
from .exposure import routes
from .flows import output_text, run
from .pod import Pod
from .podspec import Objects
from .test_dev_ide import login

STARTER = with_choices_made(json.loads((STARTERS / "Basic Prompting.json").read_text()))
ECHO, LEAKY, UNPROVIDED = "E2E Promoted Echo", "E2E Leaky Triage", "E2E Unprovided Variable"
LITERAL = "sk-e2e-typed-into-the-ide-0123456789"
MAKE = ["make", "-s", "-o", ".venv/.installed", "-o", "node_modules/.installed"]  # never reinstall the shared venv


def node(node_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(n for n in STARTER["data"]["nodes"] if n["id"] == node_id))


def echo_flow() -> dict[str, Any]:
    """Chat Input wired to Chat Output, as the IDE saves it: a flow that runs without any network."""
    chat_in, chat_out = node("ChatInput-b6UCc"), node("ChatOutput-yK0AU")
    source = {"dataType": "ChatInput", "id": chat_in["id"], "name": "message", "output_types": ["Message"]}
    target = {"fieldName": "input_value", "id": chat_out["id"], "type": "str",
              "inputTypes": ["Data", "JSON", "DataFrame", "Table", "Message"]}

    def handle(value: dict[str, Any]) -> str:
        return json.dumps(value, separators=(", ", ": ")).replace('"', "œ")

    edge = {"animated": False, "className": "", "data": {"sourceHandle": source, "targetHandle": target},
            "id": f"reactflow__edge-{chat_in['id']}{handle(source)}-{chat_out['id']}{handle(target)}",
            "source": chat_in["id"], "sourceHandle": handle(source), "target": chat_out["id"], "targetHandle": handle(target)}
    return {"name": ECHO, "description": "Answers with what it is told.", "endpoint_name": None,
            "data": {"nodes": [chat_in, chat_out], "edges": [edge], "viewport": {"x": 0, "y": 0, "zoom": 1}}}


def bound_flow() -> dict[str, Any]:
    """The echo flow with Chat Output's sender name bound to a global variable no runtime provides."""
    document = echo_flow()
    document["name"] = UNPROVIDED
    sender = document["data"]["nodes"][1]["data"]["node"]["template"]["sender_name"]
    sender.update(value="E2E_NOT_PROVIDED", load_from_db=True)
    return document


def leaky_flow() -> dict[str, Any]:
    """Langflow's Basic Prompting, its model chosen and an OpenAI key typed into its password field."""
    document = {k: copy.deepcopy(v) for k, v in STARTER.items() if k != "id"}
    document.update(name=LEAKY, endpoint_name=None)
    for item in document["data"]["nodes"]:
        template = item["data"]["node"].get("template", {})
        if "api_key" in template:
            template["api_key"].update(value=LITERAL, load_from_db=False)
    return document


@pytest.fixture(scope="module")
def built(ide: Pod, secrets: dict) -> dict[str, Any]:
    """What a flow builder does: log in, save flows, create an API key for promotion."""
    name = next(e for e in ide.main["env"] if e["name"] == "LANGFLOW_SUPERUSER")["valueFrom"]["secretKeyRef"]["name"]
    _, token = login(ide, secrets[name]["superuser"], secrets[name]["superuser-password"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ids = {}
    for document in (echo_flow(), leaky_flow(), bound_flow()):
        saved = ide.request("POST", "/api/v1/flows/", headers=headers, body=json.dumps(document).encode())
        assert saved.status == 201, f"saving {document['name']!r}: {saved.status} {saved.text()[:300]}"
        ids[document["name"]] = json.loads(saved.body)["id"]
    key = ide.request("POST", "/api/v1/api_key/", headers=headers, body=b'{"name": "promotion"}')
    assert key.status == 200, f"creating an API key: {key.status} {key.text()[:300]}"
    return {"ids": ids, "env": {"LANGFLOW_IDE_URL": f"http://{ide.address}:{ide.port('http')}",
                                "LANGFLOW_IDE_API_KEY": json.loads(key.body)["api_key"]}}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository as a user's clone: tracked and new files, the shared venv and CLI."""
    copy_root = tmp_path_factory.mktemp("promotion") / "repo"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (copy_root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy_root / name)
    for shared in ("node_modules", ".venv"):
        (copy_root / shared).symlink_to(ROOT / shared)
    return copy_root


def make(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`make` in the copy as a user's shell runs it (not as a sub-make of `make e2e`)."""
    shell = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    return subprocess.run([*MAKE, *args], cwd=repo, capture_output=True, text=True, timeout=300,
                          env={**shell, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", **(env or {})})


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The command's own message, without make's closing `make: *** [...] Error 2` line."""
    return [line for line in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: \*\*\* ", line)]


@pytest.fixture(scope="module")
def promoted(repo: Path, built: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return make(repo, "promote", f"FLOW={ECHO}", env=built["env"])


def test_promote_pulls_the_flow_built_in_the_ide(repo: Path, promoted: subprocess.CompletedProcess[str],
                                                 built: dict[str, Any]) -> None:
    first = promoted.stdout.splitlines()[0].split() if promoted.stdout else []
    record("make promote of a flow saved through the IDE's API", "new flows/e2e-promoted-echo.json",
           " ".join(first[:2]) or promoted.stderr.strip()[:60], ok=first[:2] == ["new", "flows/e2e-promoted-echo.json"])
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert first[:2] == ["new", "flows/e2e-promoted-echo.json"], promoted.stdout
    document = json.loads((repo / "flows" / "e2e-promoted-echo.json").read_text())
    assert document["id"] == built["ids"][ECHO] and document["endpoint_name"] == "e2e-promoted-echo"
    assert not {"user_id", "folder_id", "updated_at", "version_token"} & set(document)
    assert built["env"]["LANGFLOW_IDE_API_KEY"] not in promoted.stdout + promoted.stderr


def test_promoting_again_changes_no_byte(repo: Path, promoted: subprocess.CompletedProcess[str],
                                         built: dict[str, Any]) -> None:
    before = files(repo / "flows")
    again = make(repo, "promote", f"FLOW={built['ids'][ECHO]}", env=built["env"])   # by id this time
    status, same = (again.stdout.split() or ["?"])[0], files(repo / "flows") == before
    record("make promote of the same flow again", "unchanged, flows/ byte-identical",
           f"{status}, {'identical' if same else 'CHANGED'}", ok=status == "unchanged" and same)
    assert again.returncode == 0 and again.stdout.split()[0] == "unchanged", again.stdout + again.stderr
    assert files(repo / "flows") == before


def serving(prod: Path, flow_id: str) -> tuple[dict[str, Any], str]:
    """The Deployment that mounts the flow's ConfigMap, and the flow's run route (by endpoint name,
    or by id under lfx serve), found by content rather than by name, so any runtime name in main.py works."""
    load = lambda kind: [yaml.safe_load(p.read_text()) for p in sorted(prod.glob(f"{kind}.*.k8s.yaml"))]  # noqa: E731
    config_map = next(c["metadata"]["name"] for c in load("ConfigMap") if f"{flow_id}.json" in (c.get("data") or {}))
    workload = next(w for w in load("Deployment") if any(
        source.get("configMap", {}).get("name") == config_map
        for volume in w["spec"]["template"]["spec"].get("volumes", [])
        for source in volume.get("projected", {}).get("sources", [])))
    endpoint = json.loads(next(c for c in load("ConfigMap") if c["metadata"]["name"] == config_map)["data"][
        f"{flow_id}.json"])["endpoint_name"]
    route = next(path for _, path, _ in routes(load("HTTPRoute") + load("Ingress"))
                 if path.rstrip("/").endswith(f"/run/{endpoint}") or path == f"/flows/{flow_id}/run")
    return workload, route


def test_a_runtime_pod_from_the_new_dist_prod_serves_the_promoted_flow(
        repo: Path, promoted: subprocess.CompletedProcess[str], start_pod: PodFactory, secrets: dict,
        built: dict[str, Any]) -> None:
    assert promoted.returncode == 0, promoted.stderr
    synthesized = make(repo, "synth")
    assert synthesized.returncode == 0, synthesized.stderr
    prod = repo / "dist" / "prod"
    workload, route = serving(prod, built["ids"][ECHO])
    pod = start_pod(workload, prod, objects=Objects.load(prod, secrets))
    token = f"e2e-{random.token_hex(4)}"
    anonymous = run(pod, route, token, None)
    key_ref = next(e for e in pod.main["env"] if e["name"] == "LANGFLOW_API_KEY")["valueFrom"]["secretKeyRef"]
    answer = run(pod, route, token, secrets[key_ref["name"]][key_ref["key"]])
    text = output_text(answer) if answer.status == 200 else answer.text()[:200]
    record(f"promoted flow at {route} (new dist/prod)", f"401/403 without key; 200, output contains {token}",
           f"{anonymous.status}; {answer.status}: {text[:40]!r}",
           ok=anonymous.status in (401, 403) and answer.status == 200 and token in text)
    assert anonymous.status in (401, 403), anonymous.text()[:300]
    assert answer.status == 200 and token in text, answer.text()[:500]


def assert_refused(done: subprocess.CompletedProcess[str], check: str, expected: str, first_line: str) -> None:
    """Non-zero, exactly our two lines (make's closing line aside), the first as given, no secret."""
    lines = error_lines(done)
    ok = done.returncode != 0 and len(lines) == 2 and lines[0] == first_line and LITERAL not in done.stdout + done.stderr
    record(check, expected, lines[0][:70] if lines else f"exit {done.returncode}", ok=ok)
    assert ok, f"exit {done.returncode}, expected {first_line!r}:\n{done.stderr}"


def test_a_literal_api_key_is_refused_by_promote(repo: Path, built: dict[str, Any]) -> None:
    before = files(repo / "flows")
    refused = make(repo, "promote", f"FLOW={LEAKY}", env=built["env"])
    assert_refused(refused, "make promote of a flow with a literal API key", "refused, names flow, node and field",
                   f"error: flow {LEAKY!r}: node 'Language Model' (LanguageModelComponent-FLeYF) has a literal value "
                   "in password field 'api_key'")
    assert files(repo / "flows") == before


def test_a_literal_api_key_is_refused_by_synthesis(repo: Path, ide: Pod, built: dict[str, Any]) -> None:
    """The same flow put into flows/ another way (the IDE's JSON, saved by hand) fails make synth."""
    fetched = ide.request("GET", f"/api/v1/flows/{built['ids'][LEAKY]}",
                          headers={"x-api-key": built["env"]["LANGFLOW_IDE_API_KEY"]})
    assert fetched.status == 200 and LITERAL.encode() in fetched.body, "the IDE no longer returns the typed key"
    path = repo / "flows" / "leaky.json"
    path.write_bytes(fetched.body)
    before = files(repo / "dist")
    try:
        done = make(repo, "synth")
    finally:
        path.unlink()
    assert_refused(done, "make synth with a literal API key in flows/", "fails, names file, node and field",
                   f"error: {path.relative_to(repo)}: node 'Language Model' (LanguageModelComponent-FLeYF) has a literal value in "
                   "password field 'api_key'")
    assert files(repo / "dist") == before


def test_a_global_variable_no_runtime_provides_is_refused_by_promote(repo: Path, built: dict[str, Any]) -> None:
    before = files(repo / "flows")
    refused = make(repo, "promote", f"FLOW={UNPROVIDED}", env=built["env"])
    lines = error_lines(refused)
    ok = (refused.returncode != 0 and len(lines) == 2 and lines[0].startswith(
        f"error: flow {UNPROVIDED!r}: reads global variable(s) E2E_NOT_PROVIDED, which environment ")
        and '"E2E_NOT_PROVIDED": SecretKey(' in lines[1] and "main.py" in lines[1])
    record("make promote of a flow reading an unprovided global variable", "refused, says what to add to main.py",
           lines[0][:70] if lines else f"exit {refused.returncode}", ok=ok)
    assert ok, refused.stderr
    assert files(repo / "flows") == before
