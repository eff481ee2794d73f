"""dist/dev's IDE UI with real Langflow: the route `/` reaches a pod that serves the UI's
index page and its static assets from the langflow package, and a person in headless Chromium
signs in with the Secret's credentials and saves a flow, which the API then returns."""

from __future__ import annotations

import json
import re
import secrets as random
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import DIST, ROOT, dev_backend, load, record
from .exposure import backends
from .network import PodNetwork
from .pod import Pod
from .test_dev_ide import auth_secret, login

DEV = DIST / "dev"
ASSET = re.compile(r'src="\./(assets/[^"]+\.js)"')


@pytest.fixture(scope="module")
def browser_python() -> str:
    """The Selenium virtualenv's Python (scripts/e2e-browser.sh installs Chromium and it when missing)."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "e2e-browser.sh")], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def ui_route(ide: Pod) -> tuple[str, int]:
    """(host, pod port) the route `/` of dist/dev (HTTPRoute or Ingress) leads to: its Service, that
    Service's targetPort, checked to select the IDE pod that is running."""
    exposed = [yaml.safe_load(p.read_text()) for p in sorted(DEV.glob("*.k8s.yaml"))
               if p.name.startswith(("HTTPRoute.", "Ingress."))]
    found = [(host, name, number) for host, path, name, number in backends(exposed) if path == "/"]
    assert len(found) == 1, f"dist/dev routes / {len(found)} times"
    host, name, number = found[0]
    service = load(DEV, "Service", name)
    assert service["spec"]["selector"].items() <= dev_backend()["spec"]["template"]["metadata"]["labels"].items(), \
        f"Service {name} (route /) does not select the IDE backend's pods"
    port = next(p for p in service["spec"]["ports"] if p["port"] == number)
    return host, ide.port(port["targetPort"])


def test_index_and_a_static_asset_load_through_the_ide_route(ide: Pod, venv: Path) -> None:
    host, port = ui_route(ide)
    index = ide.request("GET", "/", port=port, headers={"Host": host})
    page = index.text()
    record(f"dev route {host}/ -> pod :{port}", "200, the UI's index page",
           f"{index.status}, {index.headers.get('content-type', '')}, {len(index.body)} bytes")
    assert index.status == 200 and index.headers["content-type"].startswith("text/html"), page[:300]
    assert '<div style="width: 100vw; height: 100vh" id="root"></div>' in page
    asset = ASSET.search(page)
    assert asset, f"no script asset in the index page:\n{page[:600]}"
    answer = ide.request("GET", f"/{asset.group(1)}", port=port, headers={"Host": host})
    packaged = next((venv / "lib").glob("python3*/site-packages/langflow/frontend")) / asset.group(1)
    record(f"dev route {host}/{asset.group(1)}", "200, the langflow package's file",
           f"{answer.status}, {answer.headers.get('content-type', '')}, {len(answer.body)} bytes")
    assert answer.status == 200 and "javascript" in answer.headers["content-type"]
    assert answer.body == packaged.read_bytes()
    client_route = ide.request("GET", "/flows", port=port, headers={"Host": host})
    assert client_route.status == 200 and client_route.body == index.body  # the UI's own routes get the page
    unknown = ide.request("GET", "/api/v1/no-such-endpoint", port=port, headers={"Host": host})
    assert unknown.status == 404 and unknown.headers["content-type"] == "application/json"


def test_a_person_signs_in_and_saves_a_flow_in_a_browser(ide: Pod, network: PodNetwork, secrets: dict,
                                                         browser_python: str) -> None:
    _, port = ui_route(ide)
    auth = auth_secret(ide, secrets)
    name = f"e2e saved in the browser {random.token_hex(3)}"
    job = {"url": f"http://{ide.address}:{port}/", "username": auth["superuser"],
           "password": auth["superuser-password"], "flow_name": name}
    # The browser is a client on the pod network (its own namespace, as the ingress controller is):
    # it reaches the pod at the route's port and nothing outside the bridge.
    namespace, _ = network.attach("ui-browser")
    try:
        run = subprocess.run(["ip", "netns", "exec", namespace, browser_python,
                              str(Path(__file__).with_name("browser.py"))],
                             input=json.dumps(job), capture_output=True, text=True, timeout=600)
    finally:
        network.detach(namespace)
    assert run.returncode == 0, run.stderr[-2000:]
    seen: dict[str, Any] = json.loads(run.stdout)
    record("dev UI in Chromium: / without a session", "the login page", str(seen.get("login_page")))
    record("dev UI in Chromium: sign in (Secret's superuser)", "leaves /login", str(seen.get("signed_in_at")))
    record("dev UI in Chromium: new flow, renamed, Save", f"header shows {name!r}",
           str(seen.get("shown_name") or seen.get("failed_step")))
    assert "failed_step" not in seen, json.dumps(seen, indent=2)
    assert seen["login_page"] == "/login" and seen["signed_in_at"] != "/login" and seen["shown_name"] == name

    _, token = login(ide, auth["superuser"], auth["superuser-password"])
    bearer = {"Authorization": f"Bearer {token}"}
    answer = ide.request("GET", f"/api/v1/flows/{seen['flow_id']}", headers=bearer)
    flow = json.loads(answer.body) if answer.status == 200 else {}
    me = json.loads(ide.request("GET", "/api/v1/users/whoami", headers=bearer).body)
    owner = "the superuser's" if flow.get("user_id") == me["id"] else "another user's"
    record("dev flow saved in the UI, read through the API", f"200, {name!r}, the superuser's",
           f"{answer.status}, {flow.get('name')!r}, {owner}")
    assert answer.status == 200 and flow["name"] == name and flow["user_id"] == me["id"]
    errors = ide.write_errors()
    record(f"dev {ide.name}: failed writes after serving the UI", "0", str(len(errors)))
    assert not errors, "\n".join(errors[:10])
