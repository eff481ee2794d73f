"""The "State" section of a generated environment page: where each Langflow workload keeps its
flows, chat history, variables and transactions, read from the synthesized YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..props.engine import MEMORY_COMPONENTS

Manifest = Mapping[str, Any]


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", []) if "value" in e}


def _where(workload: Manifest) -> str:
    spec = workload["spec"]["template"]["spec"]
    url = _env(spec["containers"][0]).get("LANGFLOW_DATABASE_URL", "")
    if url.startswith("sqlite"):
        if workload["spec"].get("volumeClaimTemplates"):
            return "on the StatefulSet's claim (SQLite): kept across restarts, one pod"
        return "per pod (SQLite in the pod's emptyDir): nothing is shared, and it goes with the pod"
    parts = urlsplit(url.replace("$(", "").replace(")", ""))
    inits = {c["name"]: _env(c) for c in spec.get("initContainers", [])}
    if "prepare-database" in inits:
        target = inits["prepare-database"]["TARGET_DATABASE"]
        return (f"per revision: database `{target}` on `{parts.hostname}`, shared by this revision's replicas; "
                "a new revision starts an empty one, the newest 5 are kept for rollbacks")
    return f"shared: database `{parts.path.lstrip('/')}` on `{parts.hostname}`"


def _replicas(workload: Manifest, objects: Sequence[Manifest]) -> str:
    for hpa in objects:
        if hpa["kind"] == "HorizontalPodAutoscaler" and hpa["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]:
            return f"{hpa['spec']['minReplicas']}-{hpa['spec']['maxReplicas']}"
    return str(workload["spec"].get("replicas", 1))


def _memory_flows(workload: Manifest, objects: Sequence[Manifest]) -> list[str]:
    """Flows mounted into the workload that read a session's earlier messages back."""
    maps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    names = []
    for volume in workload["spec"]["template"]["spec"].get("volumes", []):
        for source in volume.get("projected", {}).get("sources", []):
            data = maps.get(source.get("configMap", {}).get("name", ""), {}).get("data", {})
            for key, text in data.items():
                flow = json.loads(text) if key.endswith(".json") else {}
                if any(n.get("data", {}).get("type") in MEMORY_COMPONENTS for n in flow.get("data", {}).get("nodes", [])):
                    names.append(flow.get("name", key))
    return names


def state_section(objects: Sequence[Manifest]) -> str:
    workloads = [o for o in objects if o["kind"] in ("Deployment", "StatefulSet")
                 and "LANGFLOW_DATABASE_URL" in str(o["spec"]["template"]["spec"]["containers"][0].get("env", []))]
    if not workloads:
        return ""
    lines = ["## State", "",
             "Where each Langflow workload keeps what flows remember between calls (chat history and memory, "
             "global variables, transactions). Every pod serves only the flows mounted into it, as they were "
             "when it started.", "",
             "| workload | replicas | state | flows that read chat memory |", "| --- | --- | --- | --- |"]
    for workload in sorted(workloads, key=lambda w: w["metadata"]["name"]):
        memory = ", ".join(_memory_flows(workload, objects)) or "none"
        lines.append(f"| `{workload['metadata']['name']}` | {_replicas(workload, objects)} | {_where(workload)} | {memory} |")
    if any("LANGFLOW_API_KEY" in str(w["spec"]["template"]["spec"]["containers"][0].get("env", [])) for w in workloads):
        lines += ["", "The runtime's API key (`LANGFLOW_API_KEY`, `x-api-key`) authenticates as the superuser; "
                  "its HTTPRoute (or Ingress) exposes only the run and webhook routes of each flow."]
    return "\n".join([*lines, ""])
