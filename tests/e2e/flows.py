"""Calling flows the way a client of the runtime's Ingress does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .pod import Pod, Response

OFFLINE_COMPONENTS = {"ChatInput", "ChatOutput", "Prompt", "Prompt Template", "TextInput", "TextOutput", "note", "noteNode"}
"""Node types that run without any network: a flow made only of these gives its real output offline."""


def runs_offline(flow: Mapping[str, Any]) -> bool:
    return all(node.get("data", {}).get("type", node.get("type")) in OFFLINE_COMPONENTS
               for node in flow["data"]["nodes"])


def run(pod: Pod, path: str, text: str, api_key: str | None) -> Response:
    """POST a chat input to a run route: `/api/v1/run/<flow>` (langflow run) or `/flows/<id>/run` (lfx serve)."""
    headers = {"Content-Type": "application/json", **({"x-api-key": api_key} if api_key else {})}
    if path.startswith("/flows/"):
        return pod.request("POST", path, body=json.dumps({"input_value": text}).encode(), headers=headers, timeout=120)
    body = json.dumps({"input_value": text, "input_type": "chat", "output_type": "chat"}).encode()
    return pod.request("POST", f"{path}?stream=false", body=body, headers=headers, timeout=120)


def output_text(response: Response) -> str:
    """The chat output's message text from a /api/v1/run response, or `result` from lfx serve's."""
    document = json.loads(response.body)
    if "result" in document:
        return str(document["result"])
    return document["outputs"][0]["outputs"][0]["results"]["message"]["text"]
