"""A loopback stand-in for the three Langflow 1.13 endpoints `make promote` reads, answering the
way langflow/api/v1/flows.py and projects.py do (403 "Invalid API key", FlowHeader listings, the
owner's full flow with per-installation fields), with hooks to misbehave per path."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-fake-ide-key-0123456789"
DEFAULT_PROJECT = "72fd0bbb-abec-4ff2-9778-d6a4a4698c85"
USER = "c11bef24-cf4a-430b-9401-41307f40854a"


@dataclass
class FakeIDE:
    url: str = ""
    flows: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=lambda: [{"id": DEFAULT_PROJECT, "name": "Starter Project"}])
    overrides: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)  # path prefix -> response
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, x-api-key)

    def add(self, document: dict[str, Any], *, folder_id: str = DEFAULT_PROJECT, **fields: Any) -> dict[str, Any]:
        """Stores a flow as the IDE would: with its owner, folder, timestamps and version token."""
        stored = {**document, **fields, "user_id": USER, "folder_id": folder_id, "workspace_id": None,
                  "updated_at": "2026-12-01T06:52:41+00:00", "version_token": str(uuid.uuid4()),
                  "access_type": "PRIVATE", "locked": False, "webhook": False}
        self.flows.append(stored)
        return stored

    def respond(self, path: str, key: str | None) -> tuple[int, bytes, str]:
        self.requests.append((path, key))
        for prefix, answer in self.overrides.items():
            if path.startswith(prefix):
                return answer
        if not key:
            return _json(403, {"detail": "No authentication credentials provided"})
        if key != API_KEY:
            return _json(403, {"detail": "Invalid API key"})
        if path.startswith("/api/v1/flows/?"):
            keys = ("id", "name", "folder_id", "is_component", "endpoint_name", "description", "tags", "updated_at")
            return _json(200, [{k: f.get(k) for k in keys} | {"data": None} for f in self.flows])
        if path == "/api/v1/projects/":
            return _json(200, self.projects)
        if path.startswith("/api/v1/flows/"):
            wanted = path.removeprefix("/api/v1/flows/")
            for flow in self.flows:
                if flow["id"] == wanted:
                    return _json(200, flow)
            return _json(404, {"detail": "Flow not found"})
        return _json(404, {"detail": "Not Found"})


def _json(status: int, body: Any) -> tuple[int, bytes, str]:
    return status, json.dumps(body).encode(), "application/json"


@contextmanager
def fake_ide() -> Iterator[FakeIDE]:
    ide = FakeIDE()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            status, body, content_type = ide.respond(self.path, self.headers.get("x-api-key"))
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ide.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ide
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
