"""`make promote`: pull flows built in the dev IDE into flows/, normalized for review, secret-free,
and validated by the code synthesis runs (main.py's own build() over the new flows/), so a flow
promote accepts is a flow `make synth` accepts. Nothing in flows/ changes unless every check passes.

    LANGFLOW_IDE_URL=https://langflow.dev.example.com LANGFLOW_IDE_API_KEY=... \\
        python -m langflow_cdk8s.tooling.promote --flow "Support Triage"      # a name, id or endpoint name
        python -m langflow_cdk8s.tooling.promote --project "Support"          # every flow of a project
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigError
from ..patterns.environment import Environment
from ..patterns.runtime import LangflowRuntime
from ..props.flow import Flow, _check_endpoint, check_secret_free, check_unique, slugify
from .langflow_api import KEY_ENV, URL_ENV, LangflowAPI, api_key, base_url
from .synth import new_app

PER_INSTALLATION = ("user_id", "folder_id", "workspace_id", "created_at", "updated_at", "date_created",
                    "version_token", "last_modified_by", "fs_path")
"""Top-level fields that say where and when a flow was stored in one IDE, not what it is."""

CANVAS_STATE = ("selected", "dragging")
"""Per-session editor state on nodes and edges: clicking a node is not a change to review."""


def is_flow(document: Any) -> bool:
    data = document.get("data") if isinstance(document, dict) else None
    return (isinstance(data, dict) and isinstance(data.get("nodes"), list) and isinstance(document.get("id"), str)
            and isinstance(document.get("name"), str) and bool(document["name"].strip()))


def dump(document: Mapping[str, Any], endpoint: str) -> bytes:
    """The reviewable file: sorted keys, two-space indent, UTF-8, a final newline; the id and the
    endpoint name (the production routes) written in, per-installation fields and canvas state left out."""
    kept = {key: copy.deepcopy(value) for key, value in document.items() if key not in PER_INSTALLATION}
    kept["endpoint_name"] = endpoint
    for kind in ("nodes", "edges"):
        for item in kept["data"].get(kind) or []:
            if isinstance(item, dict):
                for key in CANVAS_STATE:
                    item.pop(key, None)
    return (json.dumps(kept, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class Pulled:
    """One flow as fetched and normalized: what flows/<endpoint>.json will hold."""

    name: str
    id: str
    endpoint: str
    content: bytes


@dataclass(frozen=True)
class Change:
    pulled: Pulled
    path: Path
    status: str  # "new", "updated" or "unchanged"
    replaces: Path | None = None  # the same flow under another file name, removed when this one is written


def select(api: LangflowAPI, flows: Sequence[str], project: str | None) -> list[dict[str, Any]]:
    """The flow headers the selectors name, each exactly once."""
    headers = api.flow_headers()
    chosen: dict[str, dict[str, Any]] = {}
    if project is not None:
        for header in _project_flows(api, headers, project):
            chosen.setdefault(str(header["id"]), header)
    for selector in flows:
        header = _one_flow(api, headers, selector)
        chosen.setdefault(str(header["id"]), header)
    return list(chosen.values())


def _one_flow(api: LangflowAPI, headers: list[dict[str, Any]], selector: str) -> dict[str, Any]:
    wanted = selector.strip()
    hits = [h for h in headers
            if str(h["id"]).lower() == wanted.lower() or h.get("endpoint_name") == wanted or h.get("name") == wanted]
    if not hits:
        names = ", ".join(sorted(repr(h.get("name")) for h in headers)[:10])
        raise ConfigError(f"flow {wanted!r}", f"is not the name, id or endpoint name of a flow in the IDE at {api.url}",
                          f"check the spelling; this API key's user has: {names}" if names
                          else "build or import the flow in the IDE first, as the user who owns the API key")
    if len(hits) > 1:
        ids = ", ".join(str(h["id"]) for h in hits)
        raise ConfigError(f"flow {wanted!r}", f"matches {len(hits)} flows in the IDE at {api.url} (ids {ids})",
                          "promote one of them by its id, or rename the others in the IDE")
    return hits[0]


def _project_flows(api: LangflowAPI, headers: list[dict[str, Any]], selector: str) -> list[dict[str, Any]]:
    wanted = selector.strip()
    projects = api.projects()
    hits = [p for p in projects if str(p["id"]).lower() == wanted.lower() or p.get("name") == wanted]
    if len(hits) != 1:
        names = ", ".join(sorted(repr(p.get("name")) for p in projects))
        problem = (f"is not the name or id of a project in the IDE at {api.url}" if not hits else
                   f"matches {len(hits)} projects in the IDE at {api.url} (ids {', '.join(str(p['id']) for p in hits)})")
        raise ConfigError(f"project {wanted!r}", problem, f"use a project id; projects: {names}" if hits
                          else f"check the spelling; projects: {names}")
    flows = [h for h in headers if str(h.get("folder_id")) == str(hits[0]["id"])]
    if not flows:
        raise ConfigError(f"project {wanted!r}", "holds no flows", "move the flows to promote into it in the IDE")
    return sorted(flows, key=lambda h: str(h.get("name")))


def pull(api: LangflowAPI, header: Mapping[str, Any]) -> Pulled:
    """Fetches one flow and applies the checks that need only the flow: it is a flow, it names its
    endpoint, and no password field holds a literal value (the rule synthesis applies to files)."""
    flow_id = str(header["id"])
    document = api.flow(flow_id)
    if not is_flow(document) or str(document["id"]) != flow_id:
        raise ConfigError(f"GET {api.url}/api/v1/flows/{flow_id}", "answered with JSON that is not this Langflow flow "
                          "(an object with its id, a name and data.nodes)", f"point {URL_ENV} at the dev IDE running Langflow 1.13")
    label = f"flow {document['name']!r}"
    check_secret_free(label, document)
    endpoint = document.get("endpoint_name") or slugify(document["name"])
    if not endpoint:
        raise ConfigError(label, "has a name that gives no endpoint name", "set the flow's endpoint name in the IDE")
    _check_endpoint(label, endpoint)
    return Pulled(name=document["name"], id=flow_id, endpoint=endpoint, content=dump(document, endpoint))


def plan(pulled: Sequence[Pulled], folder: Path) -> list[Change]:
    """Where each flow goes and what happens there; refuses endpoint clashes and renamed endpoints."""
    existing = {p: Flow.from_file(p) for p in _flow_files(folder)}
    changes: list[Change] = []
    for flow in pulled:
        label = f"flow {flow.name!r}"
        target = folder / f"{flow.endpoint}.json"
        for earlier in changes:
            if earlier.path == target:
                raise ConfigError(label, f"has endpoint name {flow.endpoint!r}, as has flow {earlier.pulled.name!r} "
                                  "promoted with it", "give one of them another endpoint name in the IDE")
        same_id = [path for path, known in existing.items() if known.id == flow.id]
        for path in same_id:
            if existing[path].endpoint_name != flow.endpoint:
                raise ConfigError(label, f"is already in {path} with endpoint name {existing[path].endpoint_name!r}, "
                                  f"but the IDE now names its endpoint {flow.endpoint!r}",
                                  f"set the endpoint name back in the IDE, or delete {path} first (clients of "
                                  f"/api/v1/run/{existing[path].endpoint_name} will break)")
        clashes = [path for path, known in existing.items() if known.id != flow.id
                   and (known.endpoint_name == flow.endpoint or path == target)]
        if clashes:
            other = existing[clashes[0]]
            raise ConfigError(label, f"has endpoint name {flow.endpoint!r}, which {clashes[0]} (flow {other.name!r}, "
                              f"id {other.id}) already uses", "give the flow another endpoint name in the IDE, "
                              f"or delete {clashes[0]} if this flow replaces it")
        if target in existing:
            status = "unchanged" if target.read_bytes() == flow.content else "updated"
        else:
            status = "updated" if same_id else "new"
        changes.append(Change(flow, target, status, next((p for p in same_id if p != target), None)))
    return changes


def _flow_files(folder: Path) -> list[Path]:
    """The files Flow.from_folder reads."""
    return sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file()) if folder.is_dir() else []


def validate(changes: Sequence[Change], folder: Path, main: Path) -> list[str]:
    """Runs main.py's build() over flows/ as it will be (in a staging folder) and checks that every
    runtime serving flows/ provides the global variables the promoted flows read. Returns notes."""
    with tempfile.TemporaryDirectory(prefix="promote-") as tmp:
        staged = Path(tmp) / "flows"
        staged.mkdir()
        replaced = {c.replaces for c in changes}
        for path in _flow_files(folder):
            if path not in replaced:
                shutil.copyfile(path, staged / path.name)
        for change in changes:
            (staged / change.path.name).write_bytes(change.pulled.content)
        try:
            served = _check_variables(changes, _build(main, folder, staged), folder, staged)
        except ConfigError as error:
            raise ConfigError(*(part.replace(str(staged), str(folder))
                                for part in (error.where, error.problem, error.fix))) from None
    return [] if served else [f"note: no LangflowRuntime in {main} serves {folder}/, so global variables were not checked"]


def _build(main: Path, folder: Path, staged: Path) -> list[LangflowRuntime]:
    """main.py's build() with its FLOWS folder pointed at `staged`: every construct-level check of
    synthesis runs on the new flows. Without a FLOWS global, the files are checked on their own."""
    if not main.is_file():
        raise ConfigError(str(main), "does not exist", "run make promote from the repository root")
    spec = importlib.util.spec_from_file_location("langflow_promote_main", main)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(main.parent.resolve()))
    try:
        spec.loader.exec_module(module)
        flows_global = getattr(module, "FLOWS", None)
        patched = isinstance(flows_global, (str, Path)) and Path(flows_global).resolve() == folder.resolve()
        if patched:
            vars(module)["FLOWS"] = staged if isinstance(flows_global, Path) else str(staged)
        else:
            check_unique(Flow.from_folder(staged), str(folder))
        with tempfile.TemporaryDirectory(prefix="promote-out-") as out:
            app = new_app(out)
            module.build(app)
    except ConfigError:
        raise
    except Exception as error:  # the user's main.py: point at make synth, which shows where
        raise ConfigError(str(main), f"failed while building the app ({type(error).__name__}: {error})",
                          "run make synth to see the error, fix main.py, then promote again") from None
    finally:
        sys.path.remove(str(main.parent.resolve()))
    return [c for c in app.node.find_all() if isinstance(c, LangflowRuntime)]


def _check_variables(changes: Sequence[Change], runtimes: Sequence[LangflowRuntime], folder: Path, staged: Path) -> bool:
    """Every runtime that serves flows/ must set an env var for each global variable a promoted flow
    reads. Returns whether any runtime serves flows/."""
    folders = {folder.resolve(), staged.resolve()}
    serving = False
    for runtime in runtimes:
        served = [f for unit in runtime.units for f in unit.flows if Path(f.source).resolve().parent in folders]
        if not served:
            continue
        serving = True
        for change in changes:
            flow = next((f for f in served if f.id == change.pulled.id), None) or Flow.from_file(staged / change.path.name)
            missing = runtime.missing_variables(flow)
            if missing:
                env = Environment.of(runtime)
                wanted = ", ".join(f'"{name}": SecretKey(name="...", key="...")' for name in missing)
                then = env.secret_references.source.provide(env.name, env.namespace_name)
                raise ConfigError(f"flow {change.pulled.name!r}",
                                  f"reads global variable(s) {', '.join(missing)}, which environment {env.name!r} "
                                  "does not provide", f"add {wanted} to secret_env of LangflowRuntime "
                                  f"{runtime.node.id!r} in main.py, and {then}")
    return serving


def write(changes: Sequence[Change], folder: Path) -> None:
    """Each file replaced whole (write aside, then rename), so a reader never sees half a flow."""
    folder.mkdir(parents=True, exist_ok=True)
    for change in changes:
        if change.status != "unchanged":
            aside = change.path.with_name(f".{change.path.name}.promote")
            aside.write_bytes(change.pulled.content)
            os.replace(aside, change.path)
    for change in changes:
        if change.replaces is not None:
            change.replaces.unlink()


def promote(api: LangflowAPI, *, flows: Sequence[str], project: str | None, repo: Path) -> list[str]:
    """Everything `make promote` does; returns the lines to print. Raises ConfigError before writing anything."""
    folder = repo / "flows"
    pulled = [pull(api, header) for header in select(api, flows, project)]
    changes = plan(pulled, folder)
    notes = validate(changes, folder, repo / "main.py")
    write(changes, folder)
    width = max(len(str(c.path)) for c in changes)
    lines = [f"{c.status:<9}  {c.path!s:<{width}}  {c.pulled.name!r} ({c.pulled.id})"
             + (f", replaces {c.replaces}" if c.replaces else "") for c in changes]
    changed = any(c.status != "unchanged" for c in changes)
    return [*lines, *notes, "next: make synth, then review and commit flows/, dist/ and docs/" if changed
            else "flows/ is already up to date (make synth if dist/ is not)"]


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ,
         out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="make promote", description=(
        f"Pull flows from the dev IDE into flows/. The IDE's URL and an API key come from {URL_ENV} and {KEY_ENV}."))
    parser.add_argument("--flow", action="append", default=[], help="a flow's name, id or endpoint name (repeatable)")
    parser.add_argument("--project", help="every flow of this Langflow project (folder), by name or id")
    parser.add_argument("--repo", type=Path, default=Path("."), help="the repository (default: the current folder)")
    args = parser.parse_args(argv)
    try:
        if not args.flow and not args.project:
            raise ConfigError("make promote", "names no flow",
                              'say which: make promote FLOW="Support Triage" (name, id or endpoint name) or PROJECT="..."')
        api = LangflowAPI(base_url(environ.get(URL_ENV)), api_key(environ.get(KEY_ENV)))
        lines = promote(api, flows=args.flow, project=args.project, repo=args.repo)
    except ConfigError as error:
        print(f"error: {error}", file=err)
        return 2
    print("\n".join(lines), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
