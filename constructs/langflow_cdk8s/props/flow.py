"""Flows as first-class objects: read, validated and made deliverable at synthesis time."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .resources import Resources
from .scaling import Autoscaling
from .validation import env_names

if TYPE_CHECKING:
    from .engine import RuntimeEngine

ENDPOINT_MAX = 40
"""Longest endpoint name: it becomes part of object names, which stay within 63 characters."""

CONFIG_MAP_LIMIT = 1_000_000
"""Bytes of flow JSON one ConfigMap carries safely (the API server's limit is 1 MiB, metadata included)."""

_ENDPOINT = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def slugify(name: str, limit: int | None = ENDPOINT_MAX) -> str:
    """A DNS-safe endpoint name from a flow's display name: 'Basic Prompting!' -> 'basic-prompting'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    slug = re.sub(r"^[0-9-]+", "", slug)  # object names built from it must start with a letter
    return slug[:limit].rstrip("-")


@dataclass(frozen=True, kw_only=True)
class Flow:
    """One Langflow flow. Build it with `Flow.from_file`, `Flow.from_folder` or `Flow.from_url`.

    id: the flow's UUID (Langflow upserts by it, so redeploys update rather than duplicate).
    name: its display name.
    endpoint_name: DNS-safe name in `/api/v1/run/<endpoint_name>`; derived from `name` when the
    export has none (Langflow exports usually carry ``"endpoint_name": null``).
    source: where it came from, for error messages.
    content: the JSON delivered to Langflow (with endpoint_name written in); None for URL flows.
    url: where the pod downloads it from (download delivery only).
    endpoint_from_file: whether the export itself names the endpoint (a baked image delivers the
    file unchanged, so there it must).
    resources, autoscaling, replicas: per-flow overrides of the runtime's defaults (None: inherit).
    env: env vars for this flow's pods, added to (and winning over) the runtime's (default none).
    engine: per-flow override of the runtime's engine (None: inherit; see Engine).
    """

    id: str
    name: str
    endpoint_name: str
    source: str
    content: bytes | None = None
    url: str | None = None
    endpoint_from_file: bool = True
    resources: Resources | None = None
    autoscaling: Autoscaling | None = None
    replicas: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    engine: RuntimeEngine | None = None

    @property
    def content_hash(self) -> str:
        """First 10 hex digits of the delivered content's SHA-256: what rolls pods when a flow changes."""
        digest = hashlib.sha256(self.content or (self.url or "").encode()).hexdigest()
        return digest[:10]

    @property
    def shortened_from(self) -> str | None:
        """The endpoint name the display name would give, when it was cut to ENDPOINT_MAX characters."""
        if self.endpoint_from_file:
            return None
        full = slugify(self.name, limit=None)
        return full if full != self.endpoint_name and len(full) > ENDPOINT_MAX else None

    @property
    def file_name(self) -> str:
        """`<id>.json`: Langflow takes a UUID file stem as the flow's id, so it can never drift."""
        return f"{self.id}.json"

    @property
    def global_variables(self) -> frozenset[str]:
        """Names of the Langflow global variables the flow's fields are bound to (see `global_variables`)."""
        return global_variables(json.loads(self.content)) if self.content else frozenset()

    def with_overrides(self, *, resources: Resources | None = None, autoscaling: Autoscaling | None = None,
                       replicas: int | None = None, env: Mapping[str, str] | None = None,
                       engine: RuntimeEngine | None = None) -> Flow:
        """The same flow with its own resources, scaling, env or engine."""
        env_names(f"{self.source}: env", env or {})
        return replace(self, resources=resources or self.resources, autoscaling=autoscaling or self.autoscaling,
                       replicas=replicas if replicas is not None else self.replicas, env={**self.env, **(env or {})},
                       engine=engine or self.engine)

    @staticmethod
    def from_file(path: str | Path) -> Flow:
        """Reads and validates one flow export (JSON object with id, name, data)."""
        path = Path(path)
        source = str(path)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ConfigError(source, f"cannot be read ({error.strerror})", "check the path") from None
        try:
            document = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            where = f"line {error.lineno} column {error.colno}" if isinstance(error, json.JSONDecodeError) else "encoding"
            raise ConfigError(source, f"is not valid JSON ({where}: {error.msg if hasattr(error, 'msg') else error})",
                              "export the flow again from Langflow, or fix the JSON") from None
        if not isinstance(document, dict):
            raise ConfigError(source, f"holds a JSON {type(document).__name__}, not an object",
                              "a flow file is one JSON object as Langflow exports it")
        flow_id = _flow_id(source, document.get("id"))
        check_secret_free(source, document)
        name = document.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(source, f"has no name (name: {name!r})", "set \"name\" to the flow's display name")
        endpoint = document.get("endpoint_name")
        from_file = endpoint is not None
        if endpoint is None:
            endpoint = slugify(name)
            if not endpoint:
                raise ConfigError(source, f"name {name!r} gives no usable endpoint name",
                                  "set \"endpoint_name\" to lowercase letters, digits and '-'")
        _check_endpoint(source, endpoint)
        _check_graph(source, document.get("data"))
        check_required_fields(source, document)
        document["id"] = flow_id
        document["endpoint_name"] = endpoint
        content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return Flow(id=flow_id, name=name, endpoint_name=endpoint, source=source, content=content,
                    endpoint_from_file=from_file)

    @staticmethod
    def from_folder(path: str | Path) -> list[Flow]:
        """Every `*.json` directly in `path`, in file-name order (as Langflow's loader reads them)."""
        folder = Path(path)
        if not folder.is_dir():
            raise ConfigError(str(folder), "is not a folder", "point Flow.from_folder at the folder that holds the flow exports")
        entries = sorted(folder.iterdir())
        for entry in entries:
            _check_folder_entry(folder, entry)
        files = [p for p in entries if p.suffix == ".json" and p.is_file()]
        if not files:
            raise ConfigError(str(folder), "holds no *.json flow files",
                              "export at least one flow from Langflow into this folder")
        return [Flow.from_file(p) for p in files]

    @staticmethod
    def from_url(url: str, *, id: str, name: str, endpoint_name: str | None = None) -> Flow:
        """A flow the pod downloads when it starts (FlowDelivery.download). The id and endpoint name
        are declared here because routing needs them before the file exists."""
        if not re.match(r"^https://[^\s/]+(/\S*)?$", url):
            raise ConfigError("Flow.from_url", f"{url!r} is not an https URL", "serve flow files over https")
        endpoint = endpoint_name or slugify(name)
        _check_endpoint(f"Flow.from_url({url})", endpoint)
        return Flow(id=_flow_id(f"Flow.from_url({url})", id), name=name, endpoint_name=endpoint, source=url, url=url,
                    endpoint_from_file=False)


def _flow_id(source: str, value: object) -> str:
    if value is None:
        raise ConfigError(source, "has no id", "add \"id\": a UUID such as the one Langflow exports")
    try:
        parsed = uuid.UUID(str(value))
    except ValueError:
        raise ConfigError(source, f"id {value!r} is not a UUID", "use the UUID Langflow exported") from None
    if str(parsed) != str(value).lower():
        raise ConfigError(source, f"id {value!r} is not in canonical UUID form", f"write it as {str(parsed)!r}")
    return str(parsed)


def _check_folder_entry(folder: Path, entry: Path) -> None:
    """What Langflow's loader would skip without a word (it reads only `*.json` files directly in the
    folder) is refused here, so no flow goes missing silently. Other files (a README) are fine."""
    if entry.is_symlink() and not entry.exists():
        raise ConfigError(str(entry), f"is a broken symbolic link (to {entry.readlink()})",
                          "point it at an existing flow export, or delete it")
    if entry.is_dir():
        raise ConfigError(str(entry), "is a folder inside the flows folder; its flows would not be served",
                          f"move it out of {folder}, or serve it too with Flow.from_folder({str(entry)!r})")
    if entry.suffix.lower() == ".json" and entry.suffix != ".json":
        raise ConfigError(str(entry), f"ends in {entry.suffix!r}, which Langflow's loader does not read",
                          f"rename it to {entry.stem + '.json'!r}")


def _check_graph(source: str, data: object) -> None:
    """A flow is a graph: `data.nodes` (a list of nodes with ids) and `data.edges` between them."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise ConfigError(source, "has no data.nodes list: it is not a flow export",
                          "export the flow again from Langflow (Export → JSON)")
    if not data["nodes"]:
        raise ConfigError(source, "has an empty node list (data.nodes is []): every run of it would fail",
                          "build the flow in the IDE and export it again, or delete the file")
    ids = {node.get("id") for node in data["nodes"] if isinstance(node, dict)}
    edges = data.get("edges", [])
    if not isinstance(edges, list):
        raise ConfigError(source, f"data.edges is a {type(edges).__name__}, not a list", "export the flow again from Langflow")
    for edge in edges:
        missing = [end for end in ("source", "target") if not isinstance(edge, dict) or edge.get(end) not in ids]
        if missing:
            ref = edge.get(missing[0]) if isinstance(edge, dict) else edge
            raise ConfigError(source, f"has an edge whose {missing[0]} {ref!r} is not a node of the flow",
                              "export the flow again from Langflow, or remove the edge")


def _check_endpoint(source: str, endpoint: object) -> None:
    if not isinstance(endpoint, str) or len(endpoint) > ENDPOINT_MAX or not _ENDPOINT.match(endpoint):
        raise ConfigError(source, f"endpoint_name {endpoint!r} is not DNS-safe",
                          f"use at most {ENDPOINT_MAX} lowercase letters, digits and '-', starting with a letter")


# ---- secrets and global variables in a flow's fields: one rule for synthesis and `make promote` ----


def nodes(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], Mapping[str, Any]]]:
    """(node id, display name, node data, component) of every component node, including the nodes
    of grouped components (a node's own nested ``flow``)."""
    pending = [document.get("data")]
    while pending:
        data = pending.pop()
        nodes = data.get("nodes") if isinstance(data, Mapping) else None
        for node in nodes if isinstance(nodes, list) else []:
            node_data = node.get("data") if isinstance(node, Mapping) else None
            if not isinstance(node_data, Mapping) or not isinstance(inner := node_data.get("node"), Mapping):
                continue
            node_id = str(node_data.get("id") or node.get("id") or "?")
            yield node_id, str(inner.get("display_name") or node_data.get("type") or node_id), node_data, inner
            nested = inner.get("flow")
            if isinstance(nested, Mapping):
                pending.append(nested.get("data"))


def _template_fields(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
    """(node id, node display name, field name, field) for every template field of every node."""
    for node_id, display, _, inner in nodes(document):
        template = inner.get("template")
        for name, value in (template.items() if isinstance(template, Mapping) else []):
            if isinstance(value, Mapping):
                yield node_id, display, str(name), value


def _has_value(value: object) -> bool:
    return bool(value.strip()) if isinstance(value, str) else value not in (None, [], {})


def check_secret_free(where: str, document: Mapping[str, Any]) -> None:
    """A password field must be empty or bound to a global variable: a literal value there is a
    credential typed into the IDE, which would be committed to Git and shipped in a ConfigMap."""
    for node_id, display, name, field_ in _template_fields(document):
        if field_.get("password") and not field_.get("load_from_db") and _has_value(field_.get("value")):
            raise ConfigError(where, f"node {display!r} ({node_id}) has a literal value in password field {name!r}",
                              "in the IDE, bind the field to a global variable (the globe button on the field) "
                              "instead of typing the secret, then export or promote the flow again")


def global_variables(document: Mapping[str, Any]) -> frozenset[str]:
    """Global variables the flow reads (fields with ``load_from_db``): the headless runtime has
    none stored, so Langflow falls back to the environment variable of the same name."""
    return frozenset(field_["value"].strip() for _, _, _, field_ in _template_fields(document)
                     if field_.get("load_from_db") and isinstance(field_.get("value"), str) and field_["value"].strip())


def check_required_fields(source: str, document: Mapping[str, object]) -> None:
    """Refuse a node that leaves a required field empty with no edge feeding it. Langflow loads such
    a flow and fails every run of it (its 1.13 starters leave `model` empty: "A model selection is
    required")."""
    data = document.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return
    edges = raw if isinstance(raw := data.get("edges"), list) else []
    fed = {_edge_target(edge) for edge in edges}
    missing = [gap for node in data["nodes"] if isinstance(node, dict) for gap in _unset_fields(node, fed)]
    if missing:
        raise ConfigError(source, "leaves required fields empty with no edge feeding them, so every run fails: "
                          + "; ".join(missing),
                          "choose a value for each in Langflow's IDE (or connect an edge to it) and export the flow again")


def _unset_fields(node: Mapping[str, object], fed: set[tuple[object, object]]) -> list[str]:
    """Each required field of `node` that is shown, empty and not fed by an edge. Hidden fields are
    skipped as Langflow skips them. In a node used as an agent's tool (`tool_mode`), the fields
    marked `tool_mode` are the tool's arguments: the agent fills them on every call."""
    data = node.get("data")
    component = data.get("node") if isinstance(data, dict) else None
    if not isinstance(component, dict) or not isinstance(component.get("template"), dict) or "flow" in component:
        return []  # notes have no template; a group node's fields proxy those of its inner flow
    as_tool = component.get("tool_mode") is True
    label = f"node {component.get('display_name') or node.get('id')!r} ({node.get('id')})"
    return [f"{label} field {name!r}" for name, spec in component["template"].items()
            if isinstance(spec, dict) and spec.get("required") is True and spec.get("show")
            and spec.get("value") in ("", None, [], {}) and (node.get("id"), name) not in fed
            and not (as_tool and spec.get("tool_mode") is True)]


def _edge_target(edge: object) -> tuple[object, object]:
    """(target node id, field name) of an edge, from its decoded targetHandle as Langflow reads it."""
    data = edge.get("data") if isinstance(edge, dict) else None
    handle = data.get("targetHandle") if isinstance(data, dict) else None
    if not isinstance(edge, dict) or not isinstance(handle, dict):
        return (None, None)
    return (edge.get("target", handle.get("id")), handle.get("fieldName"))


def check_unique(flows: Sequence[Flow], where: str) -> None:
    """Langflow silently skips a second flow with the same endpoint name: refuse it instead."""
    seen_ids: dict[str, Flow] = {}
    seen_endpoints: dict[str, Flow] = {}
    for flow in flows:
        if flow.id in seen_ids and seen_ids[flow.id].source == flow.source:
            raise ConfigError(flow.source, f"is served twice in {where} (on its own and in a FlowGroup, or listed twice)",
                              "serve each flow once, e.g. leave the group's flows out of Flow.from_folder(...): "
                              "[f for f in Flow.from_folder(FLOWS) if f not in group.flows]")
        if flow.id in seen_ids:
            raise ConfigError(flow.source, f"has the same id {flow.id} as {seen_ids[flow.id].source} in {where}",
                              "give each flow its own id (export it again or generate a new UUID)")
        if flow.endpoint_name in seen_endpoints:
            raise ConfigError(flow.source, f"has the same endpoint name {flow.endpoint_name!r} as "
                              f"{seen_endpoints[flow.endpoint_name].source} in {where}",
                              "set a distinct \"endpoint_name\" in one of the files")
        seen_ids[flow.id] = flow
        seen_endpoints[flow.endpoint_name] = flow


@dataclass(frozen=True, kw_only=True)
class FlowGroup:
    """Several flows served by one Deployment, scaled together.

    name: the group's name (DNS-safe, like an endpoint name).
    flows: its flows (at least one).
    resources, autoscaling, replicas, env: overrides for the group (None: the runtime's defaults).
    engine: the group's engine (None: the runtime's; see Engine).
    """

    name: str
    flows: Sequence[Flow]
    resources: Resources | None = None
    autoscaling: Autoscaling | None = None
    replicas: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    engine: RuntimeEngine | None = None

    def __post_init__(self) -> None:
        _check_endpoint(f"FlowGroup {self.name!r}", self.name)
        if not self.flows:
            raise ConfigError(f"FlowGroup {self.name!r}", "has no flows", "add at least one Flow")
