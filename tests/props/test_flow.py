"""Flow files: validated at synthesis, endpoint names derived the way a Langflow export needs."""

import json
from pathlib import Path

import pytest
from conftest import OPENAI_MODEL, STARTERS, runnable_starters
from example_app import FLOWS as EXAMPLE_FLOWS
from support import NODE

from langflow_cdk8s import ConfigError, Flow, FlowGroup
from langflow_cdk8s.props.flow import check_unique, slugify


def write(tmp_path: Path, name: str, document) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def flow_doc(**fields):
    return {"id": "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", "name": "My Flow", "data": {"nodes": [NODE], "edges": []}, **fields}


@pytest.mark.parametrize("name, slug", [
    ("Basic Prompting", "basic-prompting"),
    ("  Vector Store RAG (v2)!", "vector-store-rag-v2"),
    ("Résumé screener", "resume-screener"),
    ("42 answers", "answers"),
    ("x" * 80, "x" * 40),
])
def test_slugify_makes_dns_safe_endpoint_names(name: str, slug: str) -> None:
    assert slugify(name) == slug


STARTER_GAPS = {
    "Basic Prompting.json": ["node 'Language Model' (LanguageModelComponent-FLeYF) field 'model'"],
    "Memory Chatbot.json": ["node 'Agent' (Agent-AlLub) field 'model'",
                            "node 'Memory Base' (MemoryBase-xePih) field 'memory_base'"],
    "Vector Store RAG.json": ["node 'Knowledge' (Knowledge-vLJOb) field 'knowledge_base'",
                              "node 'Agent' (Agent-F0Dv0) field 'model'"],
}


@pytest.mark.parametrize("name", sorted(STARTER_GAPS))
def test_langflow_starter_flows_exported_unedited_are_refused_naming_each_empty_choice(name: str) -> None:
    # Langflow 1.13.0 ships its starters with `model` empty: every run of them fails with
    # "A model selection is required", so synthesis refuses them instead of deploying them.
    with pytest.raises(ConfigError) as error:
        Flow.from_file(STARTERS / name)
    first, fix = str(error.value).split("\n")
    assert first.startswith(f"{STARTERS / name}: leaves required fields empty with no edge feeding them")
    assert first.endswith(": " + "; ".join(STARTER_GAPS[name]))
    assert fix == "  fix: choose a value for each in Langflow's IDE (or connect an edge to it) and export the flow again"


def test_langflow_starter_flows_with_their_choices_made_load() -> None:
    flows = Flow.from_folder(runnable_starters())
    assert [f.endpoint_name for f in flows] == ["basic-prompting", "memory-chatbot", "vector-store-rag"]
    for flow in flows:
        delivered = json.loads(flow.content)
        assert delivered["endpoint_name"] == flow.endpoint_name
        assert delivered["id"] == flow.id
        assert flow.file_name == f"{flow.id}.json"
        assert not flow.endpoint_from_file


def test_a_starter_with_only_its_model_chosen_loads(tmp_path: Path) -> None:
    document = json.loads((STARTERS / "Basic Prompting.json").read_text())
    model = next(n for n in document["data"]["nodes"] if n["id"] == "LanguageModelComponent-FLeYF")
    model["data"]["node"]["template"]["model"]["value"] = OPENAI_MODEL
    assert Flow.from_file(write(tmp_path, "Basic Prompting.json", document)).endpoint_name == "basic-prompting"


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
        FlowGroup(name="Support Team", flows=Flow.from_folder(runnable_starters()))


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
    assert Flow.from_file(write(tmp_path, "c.json", with_field(password=False, load_from_db=True, value="AGENT_NAME"))
                          ).global_variables == {"AGENT_NAME"}


def node(node_id: str, fields: dict, *, tool_mode: bool = False, **component) -> dict:
    """A flow node as Langflow exports it: data.node.template holds the fields."""
    template = {name: {"required": True, "show": True, "value": "", **spec} for name, spec in fields.items()}
    return {"id": node_id, "data": {"id": node_id, "type": node_id.split("-", maxsplit=1)[0],
                                    "node": {"display_name": node_id.split("-", maxsplit=1)[0], "template": template,
                                             "tool_mode": tool_mode, **component}}}


def edge(target: str, field: str) -> dict:
    return {"source": "ChatInput-a1", "target": target,
            "data": {"sourceHandle": {"dataType": "ChatInput", "id": "ChatInput-a1", "name": "message",
                                      "output_types": ["Message"]},
                     "targetHandle": {"fieldName": field, "id": target, "inputTypes": ["Message"], "type": "str"}}}


def graph(*nodes: dict, edges: tuple = ()) -> dict:
    """A flow of `nodes`; with edges, also the ChatInput node they start from (an edge's ends must exist)."""
    source = [node("ChatInput-a1", {})] if edges else []
    return flow_doc(data={"nodes": [*source, *nodes], "edges": list(edges)})


@pytest.mark.parametrize("empty", ["", None, [], {}])
def test_an_empty_required_field_fails_synthesis_naming_file_node_and_field(tmp_path: Path, empty) -> None:
    path = write(tmp_path, "flow.json", graph(node("LanguageModelComponent-x1", {"model": {"value": empty}})))
    with pytest.raises(ConfigError) as error:
        Flow.from_file(path)
    assert str(error.value) == (
        f"{path}: leaves required fields empty with no edge feeding them, so every run fails: "
        "node 'LanguageModelComponent' (LanguageModelComponent-x1) field 'model'\n"
        "  fix: choose a value for each in Langflow's IDE (or connect an edge to it) and export the flow again")


@pytest.mark.parametrize("document", [
    graph(node("LanguageModelComponent-x1", {"model": {"value": OPENAI_MODEL}})),        # chosen
    graph(node("ChatOutput-o1", {"input_value": {}}), edges=(edge("ChatOutput-o1", "input_value"),)),  # fed by an edge
    graph(node("Knowledge-k1", {"input_df": {"show": False}})),                           # hidden: Langflow skips it
    graph(node("Parser-p1", {"sep": {"required": False}})),                               # optional
    graph(node("Agent-a1", {"max_iterations": {"value": 0}, "verbose": {"value": False}})),  # falsy but set
    graph(node("WebSearch-w1", {"query": {"tool_mode": True}}, tool_mode=True)),          # the agent fills it
    graph({"id": "note-n1", "data": {"id": "note-n1", "type": "note", "node": {"description": "hi"}}}),
    graph(node("Group-g1", {"model_LanguageModel-x": {}}, flow={"data": {"nodes": [], "edges": []}})),
], ids=["chosen", "edge", "hidden", "optional", "falsy", "tool-argument", "note", "group"])
def test_fields_set_fed_hidden_optional_or_filled_by_an_agent_pass(tmp_path: Path, document: dict) -> None:
    assert Flow.from_file(write(tmp_path, "flow.json", document)).id == document["id"]


def test_only_the_tool_arguments_of_a_tool_mode_node_are_left_to_the_agent(tmp_path: Path) -> None:
    # Langflow's agent fills a tool's `tool_mode` inputs per call; its other inputs stay as exported.
    as_tool = node("MemoryBase-m1", {"memory_base": {"tool_mode": False, "value": None}, "search_query": {"tool_mode": True}},
                   tool_mode=True)
    plain = node("WebSearch-w1", {"query": {"tool_mode": True}})
    with pytest.raises(ConfigError) as error:
        Flow.from_file(write(tmp_path, "flow.json", graph(as_tool, plain)))
    assert str(error.value).split("\n")[0].endswith(
        ": node 'MemoryBase' (MemoryBase-m1) field 'memory_base'; node 'WebSearch' (WebSearch-w1) field 'query'")


def test_an_edge_feeds_only_the_field_and_node_it_names(tmp_path: Path) -> None:
    document = graph(node("Prompt-p1", {"text": {}}), node("Prompt-p2", {"text": {}}),
                     edges=(edge("Prompt-p1", "text"), edge("Prompt-p2", "context")))
    with pytest.raises(ConfigError) as error:
        Flow.from_file(write(tmp_path, "flow.json", document))
    assert str(error.value).split("\n")[0].endswith("so every run fails: node 'Prompt' (Prompt-p2) field 'text'")


def test_the_shipped_flows_choose_an_openai_model_and_read_its_key_from_the_pod_env() -> None:
    # The template's flows as shipped (tests/fixtures/flows/ holds them): a team's own exports may differ.
    for flow in Flow.from_folder(EXAMPLE_FLOWS):
        for item in json.loads(flow.content)["data"]["nodes"]:
            template = item["data"].get("node", {}).get("template", {})
            if "model" in template and template["model"].get("type") == "model":
                assert template["model"]["value"] == OPENAI_MODEL, flow.source
                assert (template["api_key"]["load_from_db"], template["api_key"]["value"]) == (True, "OPENAI_API_KEY")
