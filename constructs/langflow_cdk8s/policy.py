"""The checkov checks a workload deliberately does not meet, each with its reason.

The skips are derived from the pod itself, so they disappear when their cause does (pin an
image by digest and CKV_K8S_43/15 go away). tests/test_gate_policy.py pins this list: adding a
skip is a reviewed decision.
"""

from __future__ import annotations

from typing import Any

from .pod import RUN_AS_USER

REASONS = {
    "CKV_K8S_40": f"the official Langflow images are built for uid {RUN_AS_USER}",
    "CKV_K8S_35": "Langflow reads its settings and credentials from environment variables only",
    "CKV_K8S_43": "pinned to an immutable release tag; pin a digest with Image(digest) to fix the content too",
    "CKV_K8S_15": "IfNotPresent is safe with an immutable release tag; a digest-pinned image passes",
}
"""checkov check id -> why this library does not meet it. Reasons must not contain '='."""


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def checkov_skips(pod: dict[str, Any]) -> dict[str, str]:
    """checkov's skip annotations (`checkov.io/skipN: ID=reason`) for a workload with this pod spec."""
    containers = _containers(pod)
    skipped = []
    if pod["securityContext"].get("runAsUser", 0) < 10000:
        skipped.append("CKV_K8S_40")
    if any("secretKeyRef" in e.get("valueFrom", {}) for c in containers for e in c.get("env", [])) or any(
            "secretRef" in e for c in containers for e in c.get("envFrom", [])):
        skipped.append("CKV_K8S_35")
    if any("@sha256:" not in c["image"] for c in containers):
        skipped += ["CKV_K8S_43", "CKV_K8S_15"]
    return {f"checkov.io/skip{i}": f"{check}={REASONS[check]}" for i, check in enumerate(skipped, start=1)}
