"""What an environment reserves before its first request (pods at their minimum replicas, CPU and
memory requested), per workload and in total; and how clients call each flow. Read from the
synthesized objects, so the summary and the environment pages show what the cluster will reserve."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..mechanics.workload import WORKLOAD_KINDS
from ..props.validation import quantity

Manifest = Mapping[str, Any]


@dataclass(frozen=True)
class Reservation:
    """One workload at rest: `pods` replicas, each requesting `cpu` cores and `memory` bytes."""

    name: str
    pods: int
    cpu: Decimal
    memory: Decimal

    @property
    def total_cpu(self) -> Decimal:
        return self.cpu * self.pods

    @property
    def total_memory(self) -> Decimal:
        return self.memory * self.pods


def idle_reservations(objects: Sequence[Manifest]) -> list[Reservation]:
    """Every workload at its idle size: an autoscaler's minReplicas, else spec.replicas; a pod
    requests its containers' sum (init containers have finished by then)."""
    minimum = {(o["spec"]["scaleTargetRef"]["kind"], o["spec"]["scaleTargetRef"]["name"]): o["spec"]["minReplicas"]
               for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    found = []
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        name = obj["metadata"]["name"]
        pods = minimum.get((obj["kind"], name), obj["spec"].get("replicas", 1))
        containers = obj["spec"]["template"]["spec"]["containers"]
        requests = [c.get("resources", {}).get("requests", {}) for c in containers]
        cpu = sum((quantity("cpu", str(r.get("cpu", "0"))) for r in requests), Decimal(0))
        memory = sum((quantity("memory", str(r.get("memory", "0"))) for r in requests), Decimal(0))
        found.append(Reservation(name=name, pods=pods, cpu=cpu, memory=memory))
    return sorted(found, key=lambda r: r.name)


def cores(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.2f}".rstrip("0")


def gibibytes(value: Decimal) -> str:
    return f"{value / 2**30:.2f}".rstrip("0").rstrip(".") + " GiB"


def idle_line(objects: Sequence[Manifest]) -> str | None:
    """`idle: N pods, X CPU, Y GiB requested (a 2x 250m/768Mi, ...)`, or None without workloads."""
    reservations = idle_reservations(objects)
    if not reservations:
        return None
    pods = sum(r.pods for r in reservations)
    cpu = sum((r.total_cpu for r in reservations), Decimal(0))
    memory = sum((r.total_memory for r in reservations), Decimal(0))
    units = ", ".join(f"{r.name} {r.pods}x {cores(r.cpu)} CPU/{gibibytes(r.memory)}" for r in reservations)
    return f"idle: {pods} pods, {cores(cpu)} CPU, {gibibytes(memory)} requested ({units})"


def reservation_section(objects: Sequence[Manifest]) -> str:
    """The environment page's table of what it reserves at idle."""
    reservations = idle_reservations(objects)
    if not reservations:
        return ""
    lines = ["## Idle reservation", "",
             "What the workloads request before the first call: each at its minimum replicas (the autoscaler's "
             "`minReplicas`, else `replicas`). The scheduler keeps this much free on the nodes.", "",
             "| workload | pods | CPU per pod | memory per pod | CPU | memory |", "| --- | --- | --- | --- | --- | --- |"]
    for r in reservations:
        lines.append(f"| `{r.name}` | {r.pods} | {cores(r.cpu)} | {gibibytes(r.memory)} | {cores(r.total_cpu)} | "
                     f"{gibibytes(r.total_memory)} |")
    lines.append(f"| **total** | {sum(r.pods for r in reservations)} | | | "
                 f"{cores(sum((r.total_cpu for r in reservations), Decimal(0)))} | "
                 f"{gibibytes(sum((r.total_memory for r in reservations), Decimal(0)))} |")
    return "\n".join([*lines, ""])


def client_section(objects: Sequence[Manifest]) -> str:
    """How a client calls each flow this environment exposes through its Ingress, per engine."""
    flows = {}
    for config_map in (o for o in objects if o["kind"] == "ConfigMap"):
        for key, text in (config_map.get("data") or {}).items():
            if key.endswith(".json"):
                document = json.loads(text)
                flows[document["id"]] = document
    rows = []
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            scheme = "https" if any(rule.get("host") in t.get("hosts", []) for t in ingress["spec"].get("tls", [])) else "http"
            for path in rule["http"]["paths"]:
                route = path["path"]
                parts = route.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "flows" and parts[2] == "run" and parts[1] in flows:
                    rows.append((flows[parts[1]].get("name", parts[1]), f"{scheme}://{rule['host']}{route}", "lfx serve"))
                elif route.startswith("/api/v1/run/") and parts[-1] in {f.get("endpoint_name") for f in flows.values()}:
                    name = next(f["name"] for f in flows.values() if f.get("endpoint_name") == parts[-1])
                    rows.append((name, f"{scheme}://{rule['host']}{route}", "langflow run"))
    if not rows:
        return ""
    lines = ["## Calling the flows", "",
             "Send the runtime's API key (Secret `langflow-runtime-auth`, key `api-key`) as `x-api-key`.", "",
             "| flow | POST | engine |", "| --- | --- | --- |",
             *(f"| {name} | `{url}` | {engine} |" for name, url, engine in sorted(rows)), "",
             "- **lfx serve** (`/flows/<id>/run`): body `{\"input_value\": \"...\"}` (optional `session_id`); the answer is "
             "`{\"result\": ..., \"success\": true, \"logs\": ..., \"type\": \"message\", \"component\": ...}` with the "
             "chat output's text in `result`. `/flows/<id>/stream` answers server-sent events: one end event, not "
             "tokens. A failed run is HTTP 500 with `success: false`. No chat memory, no tweaks.",
             "- **langflow run** (`/api/v1/run/<endpoint>`): body `{\"input_value\": \"...\", \"input_type\": \"chat\", "
             "\"output_type\": \"chat\"}`; the text is at `outputs[0].outputs[0].results.message.text`.", ""]
    return "\n".join(lines)
