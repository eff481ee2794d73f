"""Flow files: validated at synthesis, endpoint names derived the way a Langflow export needs."""

import json
from pathlib import Path

import pytest

from conftest import ROOT
from langflow_cdk8s import ConfigError, Flow, FlowGroup
from langflow_cdk8s.flow import check_unique, slugify

STARTERS = ROOT / "tests" / "fixtures" / "starter_flows"


def write(tmp_path: Path, name: str, document) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def flow_doc(**fields):
    return {"id": "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", "name": "My Flow", "data": {"nodes": [], "edges": []}, **fields}


@pytest.mark.parametrize("name, slug", [
    ("Basic Prompting", "basic-prompting"),
    ("  Vector Store RAG (v2)!", "vector-store-rag-v2"),
    ("Résumé screener", "resume-screener"),
    ("42 answers", "answers"),
    ("x" * 80, "x" * 40),
])
def test_slugify_makes_dns_safe_endpoint_names(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_langflow_starter_flows_load_as_exported() -> None:
    flows = Flow.from_folder(STARTERS)
    assert [f.endpoint_name for f in flows] == ["basic-prompting", "memory-chatbot", "vector-store-rag"]
    for flow in flows:
        delivered = json.loads(flow.content)
        assert delivered["endpoint_name"] == flow.endpoint_name
        assert delivered["id"] == flow.id
        assert flow.file_name == f"{flow.id}.json"
        assert not flow.endpoint_from_file


def test_an_explicit_endpoint_name_is_kept(tmp_path: Path) -> None:
    flow = Flow.from_file(write(tmp_path, "a.json", flow_doc(endpoint_name="triage")))
    assert flow.endpoint_name == "triage" and flow.endpoint_from_file


def test_an_uppercase_id_is_normalised_in_the_delivered_json(tmp_path: Path) -> None:
    flow = Flow.from_file(write(tmp_path, "a.json", flow_doc(id="3F2B3A4E-1D2C-4B5A-9E8F-7A6B5C4D3E2F")))
    assert flow.id == json.loads(flow.content)["id"] == "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f"


def test_content_hash_follows_content(tmp_path: Path) -> None:
    first = Flow.from_file(write(tmp_path, "a.json", flow_doc(description="one")))
    second = Flow.from_file(write(tmp_path, "b.json", flow_doc(description="two")))
    again = Flow.from_file(tmp_path / "a.json")
    assert first.content_hash != second.content_hash
    assert first.content_hash == again.content_hash and len(first.content_hash) == 10


@pytest.mark.parametrize("content, message", [
    ("{not json", r"is not valid JSON \(line 1 column 2"),
    ("[1, 2]", "holds a JSON list, not an object"),
    (json.dumps({"name": "x"}), "has no id"),
    (json.dumps(flow_doc(id="abc")), "id 'abc' is not a UUID"),
    (json.dumps(flow_doc(id="{3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f}")), "not in canonical UUID form"),
    (json.dumps(flow_doc(name="")), "has no name"),
    (json.dumps(flow_doc(name="!!!")), "gives no usable endpoint name"),
    (json.dumps(flow_doc(endpoint_name="Has Spaces")), "endpoint_name 'Has Spaces' is not DNS-safe"),
])
def test_bad_flow_files_name_the_file_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, "bad flow.json", content)
    with pytest.raises(ConfigError, match=message) as error:
        Flow.from_file(path)
    assert str(path) in str(error.value)
    assert "fix:" in str(error.value)


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a flow")
    with pytest.raises(ConfigError, match=r"holds no \*\.json flow files"):
        Flow.from_folder(tmp_path)


def test_duplicates_are_refused_by_id_and_by_endpoint(tmp_path: Path) -> None:
    a = Flow.from_file(write(tmp_path, "a.json", flow_doc()))
    same_id = Flow.from_file(write(tmp_path, "b.json", flow_doc(name="Other")))
    same_endpoint = Flow.from_file(write(tmp_path, "c.json", flow_doc(id="9c1d2e3f-4a5b-4c6d-8e7f-1a2b3c4d5e6f")))
    with pytest.raises(ConfigError, match="same id"):
        check_unique([a, same_id], "test")
    with pytest.raises(ConfigError, match="same endpoint name 'my-flow'"):
        check_unique([a, same_endpoint], "test")


def test_url_flows_must_be_https_and_declare_a_uuid() -> None:
    flow = Flow.from_url("https://flows.example.com/a.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", name="Remote One")
    assert flow.endpoint_name == "remote-one" and flow.content is None
    with pytest.raises(ConfigError, match="is not an https URL"):
        Flow.from_url("http://flows.example.com/a.json", id="3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", name="x")


def test_a_group_needs_flows_and_a_dns_safe_name() -> None:
    with pytest.raises(ConfigError, match="has no flows"):
        FlowGroup(name="support", flows=[])
    with pytest.raises(ConfigError, match="not DNS-safe"):
        FlowGroup(name="Support Team", flows=Flow.from_folder(STARTERS))


# ---- secrets and global variables (the rule synthesis and `make promote` share) ----------------


def with_field(name: str = "api_key", *, nested: bool = False, **field) -> dict:
    """A flow with one node whose template holds `field`; `nested` puts it inside a grouped component."""
    node = {"id": "LanguageModelComponent-FLeYF", "data": {"id": "LanguageModelComponent-FLeYF", "type": "LanguageModelComponent",
            "node": {"display_name": "Language Model", "template": {name: {"name": name, "type": "str", **field}}}}}
    if nested:
        node = {"id": "GroupNode-1", "data": {"id": "GroupNode-1", "node": {"display_name": "Group", "template": {},
                "flow": {"data": {"nodes": [node], "edges": []}}}}}
    return flow_doc(data={"nodes": [node], "edges": []})


@pytest.mark.parametrize("nested", [False, True], ids=["node", "grouped-node"])
def test_a_literal_value_in_a_password_field_fails_naming_file_node_and_field(tmp_path: Path, nested: bool) -> None:
    path = write(tmp_path, "triage.json", with_field(password=True, load_from_db=False, value="sk-live-0123456789abcdef",
                                                     nested=nested))
    with pytest.raises(ConfigError) as error:
        Flow.from_file(path)
    assert str(error.value).splitlines()[0] == (f"{path}: node 'Language Model' (LanguageModelComponent-FLeYF) has a "
                                                "literal value in password field 'api_key'")
    assert "global variable" in error.value.fix and "sk-live" not in str(error.value)


@pytest.mark.parametrize("field", [
    {"password": True, "load_from_db": True, "value": "OPENAI_API_KEY"},    # bound to a global variable
    {"password": True, "load_from_db": False, "value": ""},                  # left empty
    {"password": True, "value": None},
    {"password": True, "value": "   "},
    {"password": False, "value": "a model name, not a secret"},
], ids=["bound", "empty", "null", "blank", "not-a-password"])
def test_password_fields_that_hold_no_literal_are_accepted(tmp_path: Path, field: dict) -> None:
    Flow.from_file(write(tmp_path, "triage.json", with_field(**field)))


def test_global_variables_are_the_names_bound_with_load_from_db(tmp_path: Path) -> None:
    bound = Flow.from_file(write(tmp_path, "a.json", with_field(password=True, load_from_db=True, value=" OPENAI_API_KEY ",
                                                                nested=True)))
    assert bound.global_variables == {"OPENAI_API_KEY"}
    assert Flow.from_file(write(tmp_path, "b.json", with_field(password=True, load_from_db=True, value=""))).global_variables == set()
    assert all(f.global_variables == set() for f in Flow.from_folder(STARTERS))
