"""Flow files: validated at synthesis, endpoint names derived the way a Langflow export needs."""

import json
from pathlib import Path

import pytest

from conftest import ROOT
from langflow_cdk8s import ConfigError, Flow, FlowGroup
from langflow_cdk8s.props.flow import check_unique, slugify

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
