"""`make promote` against a loopback stand-in for the IDE (tests/fake_langflow.py): what it writes,
that promoting twice changes no byte, and its error catalogue. Every error is two lines, exit code 2,
names what is wrong, and leaves flows/ exactly as it was. The same command against real Langflow
1.13.0 started from dist/dev is in tests/e2e/."""

from __future__ import annotations

import copy
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import STARTERS, read_tree, with_choices_made
from fake_langflow import API_KEY, FakeIDE, fake_ide

from langflow_cdk8s import Flow
from langflow_cdk8s.tooling.promote import PER_INSTALLATION, main

STARTER = with_choices_made(json.loads((STARTERS / "Basic Prompting.json").read_text()))
"""Langflow's Basic Prompting starter with its model chosen, as a user saves it in the IDE."""
STACK_TRACE = re.compile(r"Traceback|jsii|File \".+\", line \d+")
SECRET = "sk-proj-typed-into-the-ide-0123456789"

# The user's main.py is theirs to change: these tests build a repository of their own, with a
# runtime that serves flows/ and provides OPENAI_API_KEY, as the README's main.py does.
MAIN = '''
from pathlib import Path
from langflow_cdk8s import (Environment, EnvironmentProps, Flow, LangflowRuntime, LangflowRuntimeProps, Quota,
                            SecretKey, Stage)

FLOWS = Path(__file__).parent / "flows"


def build(app):
    prod = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="langflow-prod", quota=Quota(
        requests_cpu="100", requests_memory="200Gi", limits_cpu="200", limits_memory="200Gi", pods=500)))
    LangflowRuntime(prod, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS), name=NAME,
                    secret_env={"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}))
    return [prod]
'''


def flow(name: str = "Basic Prompting", *, endpoint: str | None = None, api_key: Any = "", bound: bool = False,
         flow_id: str | None = None) -> dict[str, Any]:
    """The Basic Prompting starter, renamed, with its Language Model's api_key field set."""
    document = copy.deepcopy(STARTER)
    document.update(id=flow_id or str(uuid.uuid4()), name=name, endpoint_name=endpoint)
    for node in document["data"]["nodes"]:
        template = node["data"]["node"].get("template", {})
        if "api_key" in template:
            template["api_key"].update(value=api_key, load_from_db=bound)
    return document


@dataclass
class Repo:
    root: Path
    ide: FakeIDE

    @property
    def flows(self) -> Path:
        return self.root / "flows"

    def file(self, name: str, document: dict[str, Any]) -> Path:
        path = self.flows / name
        path.write_text(json.dumps(document, indent=2))
        return path

    def promote(self, *args: str, key: str | None = API_KEY, url: str | None = None) -> tuple[int, str, str]:
        environ = {"LANGFLOW_IDE_URL": url or self.ide.url, **({"LANGFLOW_IDE_API_KEY": key} if key is not None else {})}
        out, err = io.StringIO(), io.StringIO()
        code = main([*args, "--repo", str(self.root)], environ=environ, out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    def refused(self, *args: str, key: str | None = API_KEY, url: str | None = None) -> list[str]:
        """Runs a promote that must fail: exit 2, two lines, flows/ untouched, no key or secret shown."""
        before = read_tree(self.flows)
        code, out, err = self.promote(*args, key=key, url=url)
        assert code == 2, out + err
        assert out == "" and read_tree(self.flows) == before, "flows/ changed"
        lines = err.rstrip("\n").split("\n")
        assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("  fix: "), err
        assert not STACK_TRACE.search(err), err
        assert API_KEY not in err and SECRET not in err, err
        return lines


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    (tmp_path / "main.py").write_text(MAIN.replace("NAME", '"langflow-runtime"'))
    (tmp_path / "flows").mkdir()
    with fake_ide() as ide:
        r = Repo(tmp_path, ide)
        r.file("support-triage.json", flow("Support Triage", endpoint="support-triage",
                                            flow_id="5f0c2f1e-8d3a-4b7e-9c61-2a4d8e7b1c03"))
        yield r


# ---- what it writes -------------------------------------------------------------------------


def test_a_new_flow_is_written_normalized_with_its_id_and_endpoint(repo: Repo) -> None:
    stored = repo.ide.add(flow("Basic Prompting"))
    code, out, err = repo.promote("--flow", "Basic Prompting")
    assert code == 0, err
    path = repo.flows / "basic-prompting.json"
    assert out.splitlines()[0].split() == ["new", str(path), "'Basic", "Prompting'", f"({stored['id']})"]
    assert "make synth" in out.splitlines()[-1]
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["id"] == stored["id"] and document["endpoint_name"] == "basic-prompting"
    assert not set(PER_INSTALLATION) & set(document), "per-installation fields were kept"
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert all("selected" not in item for item in document["data"]["nodes"] + document["data"]["edges"])
    assert document["data"]["nodes"] and document["access_type"] == "PRIVATE"   # everything else is kept
    assert Flow.from_file(path).endpoint_name == "basic-prompting"
    assert API_KEY not in text


def test_promoting_an_unchanged_flow_again_changes_no_byte(repo: Repo) -> None:
    stored = repo.ide.add(flow("Basic Prompting"))
    assert repo.promote("--flow", "Basic Prompting")[0] == 0
    before = read_tree(repo.flows)
    stored.update(updated_at="2026-12-02T08:00:00+00:00", version_token=str(uuid.uuid4()))  # opened and saved
    stored["data"]["nodes"][0]["selected"] = True
    code, out, _ = repo.promote("--flow", "Basic Prompting")
    assert code == 0 and out.split()[0] == "unchanged", out
    assert "already up to date" in out
    assert read_tree(repo.flows) == before


def test_a_changed_flow_is_updated_with_a_diff_of_what_changed(repo: Repo) -> None:
    stored = repo.ide.add(flow("Basic Prompting"))
    repo.promote("--flow", "Basic Prompting")
    before = (repo.flows / "basic-prompting.json").read_text().splitlines()
    prompt = next(n for n in stored["data"]["nodes"] if n["id"].startswith("Prompt"))
    prompt["data"]["node"]["template"]["template"]["value"] = "Answer in French."
    code, out, _ = repo.promote("--flow", "Basic Prompting")
    after = (repo.flows / "basic-prompting.json").read_text().splitlines()
    assert code == 0 and out.split()[0] == "updated", out
    changed = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    assert len(before) == len(after) and len(changed) == 1 and "Answer in French." in changed[0][1]


@pytest.mark.parametrize("selector", ["id", "ID", "endpoint"])
def test_a_flow_by_id_or_endpoint_name(repo: Repo, selector: str) -> None:
    stored = repo.ide.add(flow("Basic Prompting", endpoint="prompting"))
    value = {"id": stored["id"], "ID": stored["id"].upper(), "endpoint": "prompting"}[selector]
    code, _, err = repo.promote("--flow", value)
    assert code == 0, err
    assert json.loads((repo.flows / "prompting.json").read_text())["endpoint_name"] == "prompting"


def test_every_flow_of_a_project(repo: Repo) -> None:
    project = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    repo.ide.projects.append({"id": project, "name": "Support"})
    repo.ide.add(flow("Basic Prompting"), folder_id=project)
    repo.ide.add(flow("Writer", bound=True, api_key="OPENAI_API_KEY"), folder_id=project)
    repo.ide.add(flow("Elsewhere"))
    code, out, err = repo.promote("--project", "Support")
    assert code == 0, err
    assert [line.split()[:2] for line in out.splitlines()[:2]] == [
        ["new", str(repo.flows / "basic-prompting.json")], ["new", str(repo.flows / "writer.json")]]
    assert sorted(p.name for p in repo.flows.iterdir()) == ["basic-prompting.json", "support-triage.json", "writer.json"]


def test_a_flow_exported_under_another_file_name_moves_to_its_endpoint_name(repo: Repo) -> None:
    stored = repo.ide.add(flow("Basic Prompting"))
    repo.file("Basic Prompting.json", {k: v for k, v in stored.items() if k not in PER_INSTALLATION})
    code, out, err = repo.promote("--flow", "Basic Prompting")
    assert code == 0, err
    assert out.split()[0] == "updated" and f"replaces {repo.flows / 'Basic Prompting.json'}" in out
    assert sorted(p.name for p in repo.flows.iterdir()) == ["basic-prompting.json", "support-triage.json"]


def test_a_global_variable_the_runtime_provides_is_accepted(repo: Repo) -> None:
    repo.ide.add(flow("Basic Prompting", api_key="OPENAI_API_KEY", bound=True))
    code, _, err = repo.promote("--flow", "Basic Prompting")
    assert code == 0, err
    assert Flow.from_file(repo.flows / "basic-prompting.json").global_variables == {"OPENAI_API_KEY"}


# ---- the error catalogue ----------------------------------------------------------------------


def test_the_ide_is_unreachable(repo: Repo, unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}"
    lines = repo.refused("--flow", "x", url=url)
    assert lines[0].startswith(f"error: LANGFLOW_IDE_URL {url}: cannot be reached (")
    assert "port-forward" in lines[1]


@pytest.mark.parametrize(("status", "key"), [(403, "wrong-key"), (403, ""), (401, API_KEY)])
def test_a_wrong_or_missing_api_key(repo: Repo, status: int, key: str) -> None:
    if status == 401:
        repo.ide.overrides["/api/v1/"] = (401, b'{"detail":"Could not validate credentials"}', "application/json")
    lines = repo.refused("--flow", "x", key=key)
    if key == "":
        assert lines[0] == "error: LANGFLOW_IDE_API_KEY: is not set"
    else:
        assert lines[0].startswith(f"error: LANGFLOW_IDE_API_KEY: was refused by the IDE at {repo.ide.url} (HTTP {status}")
        assert "create a new API key" in lines[1]
        assert repo.ide.requests[-1][1] == key   # sent as x-api-key


def test_the_ide_url_is_not_set(repo: Repo) -> None:
    assert repo.refused("--flow", "x", url=" ")[0] == "error: LANGFLOW_IDE_URL: is not set"


def test_no_flow_of_that_name(repo: Repo) -> None:
    repo.ide.add(flow("Basic Prompting"))
    lines = repo.refused("--flow", "Basic Promting")
    assert lines[0] == f"error: flow 'Basic Promting': is not the name, id or endpoint name of a flow in the IDE at {repo.ide.url}"
    assert "'Basic Prompting'" in lines[1]


def test_two_flows_of_that_name(repo: Repo) -> None:
    """Langflow keeps names unique per user, but a name can equal another flow's endpoint name,
    and flows shared by other users can carry the same name."""
    first = repo.ide.add(flow("triage"))
    second = repo.ide.add(flow("Support Bot", endpoint="triage"))
    lines = repo.refused("--flow", "triage")
    assert lines[0] == (f"error: flow 'triage': matches 2 flows in the IDE at {repo.ide.url} "
                        f"(ids {first['id']}, {second['id']})")
    assert "by its id" in lines[1]


def test_an_endpoint_name_another_file_in_flows_uses(repo: Repo) -> None:
    repo.ide.add(flow("Triage v2", endpoint="support-triage"))
    lines = repo.refused("--flow", "Triage v2")
    assert lines[0] == (f"error: flow 'Triage v2': has endpoint name 'support-triage', which {repo.flows / 'support-triage.json'} "
                        "(flow 'Support Triage', id 5f0c2f1e-8d3a-4b7e-9c61-2a4d8e7b1c03) already uses")


def test_an_endpoint_name_a_file_of_another_name_uses(repo: Repo) -> None:
    repo.file("triage-export.json", flow("Old Triage", endpoint="triage"))
    repo.ide.add(flow("Triage", endpoint="triage"))
    assert f"which {repo.flows / 'triage-export.json'} (flow 'Old Triage'" in repo.refused("--flow", "Triage")[0]


def test_an_endpoint_renamed_in_the_ide(repo: Repo) -> None:
    repo.ide.add(flow("Support Triage", endpoint="triage", flow_id="5f0c2f1e-8d3a-4b7e-9c61-2a4d8e7b1c03"))
    lines = repo.refused("--flow", "Support Triage")
    assert lines[0] == (f"error: flow 'Support Triage': is already in {repo.flows / 'support-triage.json'} with endpoint "
                        "name 'support-triage', but the IDE now names its endpoint 'triage'")
    assert "/api/v1/run/support-triage will break" in lines[1]


@pytest.mark.parametrize(("body", "content_type", "problem"), [
    (b"<!doctype html><html><body>Langflow</body></html>", "text/html", "a response that is not JSON (text/html, 49 bytes)"),
    (b'{"detail": "maintenance"}', "application/json", "JSON that is not this Langflow flow"),
    (b'[{"id": "x"}]', "application/json", "JSON that is not this Langflow flow"),
])
def test_a_response_that_is_not_a_flow(repo: Repo, body: bytes, content_type: str, problem: str) -> None:
    stored = repo.ide.add(flow("Basic Prompting"))
    repo.ide.overrides[f"/api/v1/flows/{stored['id']}"] = (200, body, content_type)
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[0] == f"error: GET {repo.ide.url}/api/v1/flows/{stored['id']}: answered with {problem}" + (
        " (an object with its id, a name and data.nodes)" if "JSON that" in problem else "")


def test_a_listing_that_is_not_langflows(repo: Repo) -> None:
    repo.ide.overrides["/api/v1/flows/?"] = (200, b"<html>sign in</html>", "text/html; charset=utf-8")
    assert "answered with a response that is not JSON (text/html" in repo.refused("--flow", "x")[0]


def test_a_literal_value_in_a_password_field(repo: Repo) -> None:
    repo.ide.add(flow("Basic Prompting", api_key=SECRET))
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[0] == ("error: flow 'Basic Prompting': node 'Language Model' (LanguageModelComponent-FLeYF) has a "
                        "literal value in password field 'api_key'")
    assert "global variable" in lines[1]


def test_a_global_variable_the_target_environment_does_not_provide(repo: Repo) -> None:
    repo.ide.add(flow("Basic Prompting", api_key="ANTHROPIC_API_KEY", bound=True))
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[0] == ("error: flow 'Basic Prompting': reads global variable(s) ANTHROPIC_API_KEY, which environment "
                        "'prod' does not provide")
    assert lines[1] == ('  fix: add "ANTHROPIC_API_KEY": SecretKey(name="...", key="...") to secret_env of '
                        "LangflowRuntime 'runtime' in main.py, and create that Secret in langflow-prod")


def test_a_variable_any_secret_reference_of_the_pods_provides_is_enough(repo: Repo) -> None:
    """The check reads the environment's registry of Secret references: a variable the pods read from
    a Secret through another option (here the runtime's auth) counts, not only secret_env."""
    repo.ide.add(flow("Basic Prompting", api_key="LANGFLOW_API_KEY", bound=True))
    code, _, err = repo.promote("--flow", "Basic Prompting")
    assert code == 0, err


def test_with_secrets_from_a_store_the_fix_names_the_remote_mapping(repo: Repo) -> None:
    (repo.root / "main.py").write_text(MAIN.replace("NAME", '"langflow-runtime"').replace(
        'namespace="langflow-prod",', 'namespace="langflow-prod", secrets=SecretSource.external(store="vault", '
        'remote={"llm-api-keys": "llm", "langflow-runtime-auth": "auth"}),').replace("SecretKey, Stage)",
                                                                                  "SecretKey, SecretSource, Stage)"))
    repo.ide.add(flow("Basic Prompting", api_key="ANTHROPIC_API_KEY", bound=True))
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[1].endswith("in main.py, and map it in SecretSource.external(remote=...) of environment 'prod' "
                             "(store 'vault')")


def test_a_check_of_synthesis_fails_promote_with_its_own_message(repo: Repo) -> None:
    """main.py's build() runs over the new flows/: a runtime name that leaves no room for this
    endpoint fails promote exactly as it would fail make synth."""
    (repo.root / "main.py").write_text(MAIN.replace("NAME", '"langflow-runtime-of-the-platform-team"'))
    repo.flows.joinpath("support-triage.json").unlink()
    repo.file("a.json", flow("A", endpoint="a"))
    repo.ide.add(flow("Basic Prompting", endpoint="basic-prompting-for-the-support"))
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[0] == ("error: flow 'basic-prompting-for-the-support': object name 'langflow-runtime-of-the-"
                        "platform-team-basic-prompting-for-the-support' is longer than 63 characters")


def test_a_flow_synthesis_would_refuse_is_refused_by_promote_with_the_same_message(repo: Repo) -> None:
    """Langflow's starter saved without choosing its model: the required-field check of Flow.from_file
    names the file it would be in flows/, as make synth would."""
    unchosen = json.loads((STARTERS / "Basic Prompting.json").read_text())
    repo.ide.add({**unchosen, "id": str(uuid.uuid4())})
    lines = repo.refused("--flow", "Basic Prompting")
    assert lines[0].startswith(f"error: {repo.flows / 'basic-prompting.json'}: leaves required fields empty with no "
                               "edge feeding them, so every run fails: node 'Language Model' (LanguageModelComponent-FLeYF) "
                               "field 'model'")


def test_a_main_py_without_a_flows_global_still_gets_every_check(repo: Repo) -> None:
    """main.py names its folder inline: the new files are checked on their own, the variables
    against the runtime that serves flows/ as it is."""
    inline = MAIN.replace("NAME", '"langflow-runtime"').replace("Flow.from_folder(FLOWS)",
                                                              'Flow.from_folder(Path(__file__).parent / "flows")')
    (repo.root / "main.py").write_text(inline.replace('FLOWS = Path(__file__).parent / "flows"', ""))
    repo.ide.add(flow("Basic Prompting", api_key="ANTHROPIC_API_KEY", bound=True))
    assert "reads global variable(s) ANTHROPIC_API_KEY" in repo.refused("--flow", "Basic Prompting")[0]
    repo.ide.add(flow("Writer"))
    code, out, err = repo.promote("--flow", "Writer")
    assert code == 0 and out.split()[:2] == ["new", str(repo.flows / "writer.json")], out + err


def test_no_flow_named(repo: Repo) -> None:
    assert repo.refused()[0] == "error: make promote: names no flow"


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_main_py_whose_runtimes_serve_other_folders_says_variables_were_not_checked(repo: Repo) -> None:
    elsewhere = repo.root / "other-flows"
    elsewhere.mkdir()
    (elsewhere / "a.json").write_text(json.dumps(flow("A", endpoint="a")))
    (repo.root / "main.py").write_text(MAIN.replace("NAME", '"langflow-runtime"').replace(
        'FLOWS = Path(__file__).parent / "flows"', 'FLOWS = Path(__file__).parent / "other-flows"'))
    repo.ide.add(flow("Basic Prompting", api_key="ANTHROPIC_API_KEY", bound=True))
    code, out, err = repo.promote("--flow", "Basic Prompting")
    assert code == 0, err
    assert f"note: no LangflowRuntime in {repo.root / 'main.py'} serves {repo.flows}/" in out
