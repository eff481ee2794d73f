"""Langflow 1.13's production settings, proven on real Langflow started from dist/: readiness on
/healthz, CORS limited to the host's origin, webhooks refused without an API key because webhook
auth is on, tweaks refused by the runtime, custom component code refused for a non-admin in the
IDE, every LANGFLOW_ variable in dist/ one Langflow 1.13.0 reads, and memory requests and limits
against what the pods use."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from .conftest import DIST, PodFactory, langflow_unit, record, secrets_for
from .exposure import origin
from .pod import Pod
from .podspec import Objects

CUSTOM_COMPONENT = '''
from lfx.custom import Component
from lfx.io import MessageTextInput, Output
from lfx.schema import Data


class EndToEndEcho(Component):
    display_name = "E2E Echo"
    inputs = [MessageTextInput(name="text", display_name="Text")]
    outputs = [Output(display_name="Out", name="out", method="build")]

    def build(self) -> Data:
        return Data(value=self.text)
'''
READ_BY_LANGFLOW = r'''
import json, pathlib, re, langflow, lfx
from lfx.services.settings.base import Settings
from lfx.services.settings.auth import AuthSettings
known = {"LANGFLOW_" + n.upper() for n in [*Settings.model_fields, *AuthSettings.model_fields]}
read = re.compile(r"(?:getenv|environ\.get|environ\[)\(?\s*[\x22\x27](LANGFLOW_\w+)")
for package in (langflow, lfx):
    for path in pathlib.Path(package.__file__).parent.rglob("*.py"):
        known.update(read.findall(path.read_text(errors="ignore")))
print(json.dumps(sorted(known)))
'''
"""Prints every LANGFLOW_ name Langflow reads: its settings' fields and the names its code gets from os.environ."""
NOT_SETTINGS = {"LANGFLOW_DATABASE_PASSWORD", "LANGFLOW_DATABASE_URL_FROM_SECRET"}
"""Ours: only inputs to Kubernetes' $(VAR) expansion of LANGFLOW_DATABASE_URL."""


def workloads(folder: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for pattern in ("Deployment.*.k8s.yaml", "StatefulSet.*.k8s.yaml")
            for p in sorted((DIST / folder).glob(pattern))]


def langflow_workload(folder: str) -> dict[str, Any] | None:
    """The first workload of the folder running `langflow run` (the image's CMD), not `lfx serve`."""
    return next((w for w in workloads(folder)
                 if w["spec"]["template"]["spec"]["containers"][0]["image"].startswith("langflowai/langflow:")
                 and not w["spec"]["template"]["spec"]["containers"][0].get("command")), None)


def served_flow(pod: Pod) -> dict[str, Any]:
    """A flow document of one of the ConfigMaps the pod mounts."""
    names = [source["configMap"]["name"] for volume in pod.spec["volumes"] if "projected" in volume
             for source in volume["projected"]["sources"] if "configMap" in source]
    return json.loads(next(iter(pod.objects.config_map(pod.owner, names[0]).values())))


def ingress_origin(folder: str) -> str:
    return origin(yaml.safe_load(p.read_text()) for p in sorted((DIST / folder).glob("*.k8s.yaml")))


def exposure_of(folder: str) -> Any:
    """The exposure dist/<folder>'s own route was synthesized with: the platform's Gateway its HTTPRoute
    attaches to, or its Ingress's host and TLS Secret (so a unit synthesized here has the same origin)."""
    from langflow_cdk8s import Exposure, GatewayRef, IngressOptions

    objects = [yaml.safe_load(p.read_text()) for p in sorted((DIST / folder).glob("*.k8s.yaml"))]
    route = next(o for o in objects if o["kind"] in ("HTTPRoute", "Ingress"))
    if route["kind"] == "Ingress":
        tls = route["spec"].get("tls") or [{}]
        return IngressOptions(host=route["spec"]["rules"][0]["host"], tls_secret=tls[0].get("secretName"))
    parent = route["spec"]["parentRefs"][0]
    host = route["spec"]["hostnames"][0]
    if "namespace" not in parent:  # the environment's own Gateway: the same host and scheme through an Ingress
        listeners = [listener for o in objects if o["kind"] == "Gateway" for listener in o["spec"]["listeners"]
                     if listener.get("hostname") == host]
        refs = [ref["name"] for listener in listeners for ref in (listener.get("tls") or {}).get("certificateRefs", [])]
        return IngressOptions(host=host, tls_secret=refs[0] if refs else None)
    return Exposure.gateway(host, gateway=GatewayRef(
        name=parent["name"], namespace=parent["namespace"], section_name=parent.get("sectionName")))


@pytest.fixture(scope="module")
def runtime(booted: dict[str, Any], start_pod: PodFactory, secrets: dict, workdir: Path) -> Pod:
    """The first `langflow run` pod of dist/prod, from the pods booted for the whole run; when every
    unit there runs on Engine.lfx(), one of its flows as an Engine.langflow() unit behind the same host."""
    workload = langflow_workload("prod")
    if workload is not None:
        pod: Pod = booted["runtime"][workload["metadata"]["name"]]
        pod.wait_ready()
        return pod
    first = sorted((DIST / "prod").glob("ConfigMap.flow-*.k8s.yaml"))[0]
    flow = json.loads(next(iter(yaml.safe_load(first.read_text())["data"].values())))
    deployment, folder = langflow_unit(flow, workdir, exposure=exposure_of("prod"))
    return start_pod(deployment, folder, objects=Objects.load(folder, secrets_for(folder, secrets)))


def test_readiness_is_langflows_healthz_and_it_checks_the_database(runtime: Pod) -> None:
    assert runtime.main["readinessProbe"]["httpGet"]["path"] == "/healthz"
    answer = runtime.request("GET", "/healthz")
    body = json.loads(answer.body) if answer.status == 200 else {}
    ready = answer.status == 200 and body.get("status") == "ok" and body.get("db") == "ok"
    record("prod GET /healthz (readinessProbe)", '200 {"status": "ok", "db": "ok"}', f"{answer.status} {body}", ok=ready)
    assert ready


def preflight(pod: Pod, origin: str) -> tuple[int, str | None]:
    answer = pod.request("OPTIONS", "/api/v1/run/any", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"})
    return answer.status, answer.headers.get("access-control-allow-origin")


@pytest.mark.parametrize("folder", ["prod", "dev"])
def test_cors_allows_the_hosts_origin_and_refuses_others(folder: str, runtime: Pod, ide: Pod) -> None:
    pod = runtime if folder == "prod" else ide
    origin = ingress_origin(folder)
    allowed = preflight(pod, origin)
    other = preflight(pod, "https://attacker.example")
    refused = other[0] >= 400 and other[1] is None
    record(f"{folder} CORS preflight from {origin}", f"200, allow-origin {origin}", f"{allowed[0]}, {allowed[1]}",
           ok=allowed == (200, origin))
    record(f"{folder} CORS preflight from https://attacker.example", "refused, no allow-origin",
           f"{other[0]}, {other[1]}", ok=refused)
    assert allowed == (200, origin)
    assert refused


def test_webhooks_need_an_api_key_because_webhook_auth_is_on(runtime: Pod) -> None:
    env = {e["name"]: e.get("value") for e in runtime.main["env"]}
    assert env["LANGFLOW_WEBHOOK_AUTH_ENABLE"] == "true"
    endpoint = served_flow(runtime)["endpoint_name"]
    answer = runtime.request("POST", f"/api/v1/webhook/{endpoint}", body=b'{"text": "e2e"}',
                             headers={"Content-Type": "application/json"})
    refused = answer.status == 403 and "webhook authentication is enabled" in answer.text()
    record("prod webhook without an API key", "403, webhook authentication is enabled",
           f"{answer.status} {answer.text()[:70]}", ok=refused)
    assert refused


def test_the_runtime_refuses_tweaks(runtime: Pod, secrets: dict) -> None:
    """LANGFLOW_TWEAKS_POLICY=off: a caller cannot rewrite a flow's fields, only send its input."""
    flow = served_flow(runtime)
    node = next(n for n in flow["data"]["nodes"] if n["data"].get("type") == "Prompt")
    env = {e["name"]: e for e in runtime.main["env"]}
    api_key = secrets[env["LANGFLOW_API_KEY"]["valueFrom"]["secretKeyRef"]["name"]]["api-key"]
    body = json.dumps({"input_value": "hello", "tweaks": {node["id"]: {"template": "ignore the flow"}}}).encode()
    answer = runtime.request("POST", f"/api/v1/run/{flow['endpoint_name']}?stream=false", body=body,
                             headers={"Content-Type": "application/json", "x-api-key": api_key})
    refused = answer.status == 422 and "TWEAKS_REFUSED" in answer.text()
    record("prod run with a tweak", "422 TWEAKS_REFUSED", f"{answer.status} {answer.text()[:60]}", ok=refused)
    assert refused, f"{answer.status} {answer.text()[:300]}"


def login(pod: Pod, username: str, password: str) -> str:
    answer = pod.request("POST", "/api/v1/login", body=urlencode({"username": username, "password": password}).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200, f"login as {username}: {answer.status} {answer.text()[:200]}"
    return json.loads(answer.body)["access_token"]


def api(pod: Pod, method: str, path: str, token: str, document: dict[str, Any]) -> tuple[int, Any]:
    answer = pod.request(method, path, body=json.dumps(document).encode(),
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        return answer.status, json.loads(answer.body)
    except ValueError:
        return answer.status, answer.text()


def test_custom_component_code_is_refused_for_a_non_admin_in_the_ide(ide: Pod, secrets: dict) -> None:
    env = {e["name"]: e for e in ide.main["env"]}
    auth = secrets[env["LANGFLOW_SUPERUSER"]["valueFrom"]["secretKeyRef"]["name"]]
    admin = login(ide, auth["superuser"], auth["superuser-password"])
    status, user = api(ide, "POST", "/api/v1/users/", admin, {"username": "e2e-editor", "password": "e2e-Editor-pass-1"})
    assert status in (200, 201), f"creating a user: {status} {user}"
    status, _ = api(ide, "PATCH", f"/api/v1/users/{user['id']}", admin, {"is_active": True})
    assert status == 200
    editor = login(ide, "e2e-editor", "e2e-Editor-pass-1")
    refused = api(ide, "POST", "/api/v1/custom_component", editor, {"code": CUSTOM_COMPONENT})
    allowed = api(ide, "POST", "/api/v1/custom_component", admin, {"code": CUSTOM_COMPONENT})
    admin_only = refused[0] == 403 and "restricted to administrators" in str(refused[1])
    record("dev custom component code as a non-admin", "403, restricted to administrators",
           f"{refused[0]} {str(refused[1])[:60]}", ok=admin_only)
    record("dev custom component code as the superuser", "200", str(allowed[0]), ok=allowed[0] == 200)
    assert admin_only
    assert allowed[0] == 200, f"the superuser's custom component: {allowed}"


def test_every_langflow_variable_in_dist_is_one_langflow_reads(venv: Path) -> None:
    """A misspelt or retired setting is silently ignored by Langflow: each LANGFLOW_ name in dist/
    must be a field of its settings or a name its code reads from the environment."""
    names = sorted({e["name"] for folder in ("dev", "prod") for w in workloads(folder)
                    for c in w["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
                    if e["name"].startswith("LANGFLOW_")})
    known = set(json.loads(subprocess.run([str(venv / "bin" / "python"), "-c", READ_BY_LANGFLOW], check=True,
                                          capture_output=True, text=True).stdout))
    unknown = [n for n in names if n not in known and n not in NOT_SETTINGS]
    record(f"LANGFLOW_ variables in dist/ ({len(names)}) Langflow 1.13.0 does not read", "none",
           ", ".join(unknown) or "none", ok=not unknown)
    assert not unknown, f"Langflow 1.13.0 reads no such variable: {unknown}"


@pytest.mark.parametrize("folder", ["prod", "dev"])
def test_memory_requests_cover_steady_state_and_limits_the_peak(folder: str, runtime: Pod, ide: Pod) -> None:
    """Sizing from measurement: the request at or above what a pod uses at rest (below it, the pod
    is among the first evicted under node pressure), the limit well above the peak."""
    pod = runtime if folder == "prod" else ide
    assert pod.cgroup is not None and pod.cgroup.memory_limit is not None
    time.sleep(10)  # past start-up: what the pod holds at rest
    steady, peak, limit = pod.cgroup.memory(), pod.cgroup.peak, pod.cgroup.memory_limit
    request = quantity(pod.main["resources"]["requests"]["memory"])
    record(f"{folder} {pod.name}: memory at rest / peak", f"<= request {request / 2**20:.0f} MiB / "
           f"< 80% of limit {limit / 2**20:.0f} MiB", f"{steady / 2**20:.0f} MiB / {peak / 2**20:.0f} MiB",
           ok=steady <= request and peak < 0.8 * limit)
    assert steady <= request, f"{pod.name}: {steady / 2**20:.0f} MiB at rest, above its {request / 2**20:.0f} MiB request"
    assert peak < 0.8 * limit


def quantity(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", text)
    assert match, text
    return int(match.group(1)) * units.get(match.group(2) or "", 1)
