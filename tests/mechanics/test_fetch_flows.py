"""The init container's downloader (runs in the Langflow image, standard library only), exercised
against a real HTTP server on loopback."""

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

SCRIPT = ROOT / "constructs" / "langflow_cdk8s" / "mechanics" / "fetch_flows.py"
FLOW = {"id": "00000000-0000-4000-8000-000000000000", "name": "Triage", "endpoint_name": None,
        "data": {"nodes": [], "edges": []}}


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves /flow.json only to requests carrying the expected Authorization header."""

    def do_GET(self) -> None:  # the http.server API
        if self.path == "/flow.json" and self.headers.get("Authorization") == "Bearer s3cret":
            body = json.dumps(FLOW).encode()
            self.send_response(200)
        elif self.path == "/list.json":
            body = b"[1, 2]"
            self.send_response(200)
        else:
            body = b"{}"
            self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fetch(tmp_path: Path, url: str, header: str | None) -> subprocess.CompletedProcess:
    env = {"FLOWS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "FLOWS": json.dumps([{"id": "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", "url": url, "endpoint_name": "triage"}])}
    if header is not None:
        (tmp_path / "header").write_text(header)
        env["AUTH_HEADER_FILE"] = str(tmp_path / "header")
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_downloads_with_the_secret_header_and_writes_id_and_endpoint(tmp_path: Path, server: str) -> None:
    result = fetch(tmp_path, f"{server}/flow.json", "Authorization: Bearer s3cret\n")
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f.json").read_text())
    assert written["id"] == "3f2b3a4e-1d2c-4b5a-9e8f-7a6b5c4d3e2f"
    assert written["endpoint_name"] == "triage"
    assert written["data"] == FLOW["data"]
    assert "s3cret" not in result.stdout + result.stderr


def test_a_refused_download_fails_the_pod_start_and_names_the_url(tmp_path: Path, server: str) -> None:
    result = fetch(tmp_path, f"{server}/flow.json", None)
    assert result.returncode == 1
    assert f"{server}/flow.json" in result.stderr and "403" in result.stderr
    assert not list(tmp_path.glob("*.json"))


def test_a_document_that_is_not_a_flow_is_refused(tmp_path: Path, server: str) -> None:
    result = fetch(tmp_path, f"{server}/list.json", None)
    assert result.returncode == 1 and "not a JSON object" in result.stderr
