"""The runtime engines with real Langflow 1.13.0 and lfx 1.13.0: every `lfx serve` unit of dist/prod
refuses missing and wrong keys, streams, hides upload/delete/docs behind its routes and runs as
uid 1000 under a read-only root; then one flow on each engine, side by side, under the same bounded
load on the pod network (nothing leaves the machine): start-up, CPU, memory at rest and peak,
requests/s and p95."""

from __future__ import annotations

import hashlib
import json
import os
import secrets as random
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import DIST, ROOT, Cluster, PodFactory, langflow_unit, record, secrets_for
from .exposure import routes
from .flows import run, runs_offline
from .pod import Pod
from .podspec import Objects, memory_limit

PROD = DIST / "prod"
LOAD_CONCURRENCY = 4
LOAD_REQUESTS = 48
FORBIDDEN = ("/flows", "/flows/upload/", "/docs", "/redoc", "/openapi.json", "/api/v2/workflows", "/health")
"""lfx serve's routes besides each flow's run and stream: none may be reachable through the routes."""


def lfx_workloads() -> list[dict[str, Any]]:
    return [w for w in (yaml.safe_load(p.read_text()) for p in sorted(PROD.glob("Deployment.*.k8s.yaml")))
            if w["spec"]["template"]["spec"]["containers"][0].get("command") == ["lfx"]]


def ingress_paths() -> list[str]:
    """Every path prefix prod's routes (HTTPRoutes or Ingresses) expose."""
    return [path for _, path, _ in routes(yaml.safe_load(p.read_text()) for p in sorted(PROD.glob("*.k8s.yaml"))
                                          if p.name.startswith(("HTTPRoute.", "Ingress.")))]


def prefix_matches(prefix: str, path: str) -> bool:
    """Kubernetes' `Prefix` match: element by element on `/`."""
    want = [p for p in prefix.split("/") if p]
    return [p for p in path.split("/") if p][:len(want)] == want


def unit_flows(pod: Pod) -> list[dict[str, Any]]:
    """The flow documents of the ConfigMaps the pod mounts."""
    documents = []
    for volume in pod.spec.get("volumes", []):
        for source in volume.get("projected", {}).get("sources", []):
            name = source.get("configMap", {}).get("name")
            if name:
                data = yaml.safe_load((PROD / f"ConfigMap.{name}.k8s.yaml").read_text())["data"]
                documents += [json.loads(text) for key, text in data.items() if key.endswith(".json")]
    return documents


@pytest.fixture(scope="module")
def lfx_pods(booted: dict[str, Any]) -> dict[str, Pod]:
    names = [w["metadata"]["name"] for w in lfx_workloads()]
    if not names:
        pytest.skip("dist/prod has no unit on Engine.lfx()")
    pods = {name: booted["runtime"][name] for name in names}
    for pod in pods.values():
        pod.wait_ready()
    return pods


def test_lfx_units_refuse_missing_and_wrong_keys_and_stream(lfx_pods: dict[str, Pod], secrets: dict) -> None:
    key = secrets["langflow-runtime-auth"]["api-key"]
    for name, pod in sorted(lfx_pods.items()):
        for flow in unit_flows(pod):
            path = f"/flows/{flow['id']}/run"
            missing, wrong = run(pod, path, "hi", None).status, run(pod, path, "hi", "wrong-" + key).status
            record(f"{name}: {path} without key / wrong key", "401 / 401", f"{missing} / {wrong}")
            assert missing == 401 and wrong == 401, f"{name}: {missing}, {wrong}"
            if runs_offline(flow):
                token = f"e2e-{random.token_hex(4)}"
                stream = pod.request("POST", f"/flows/{flow['id']}/stream", body=json.dumps({"input_value": token}).encode(),
                                     headers={"Content-Type": "application/json", "x-api-key": key}, timeout=120)
                record(f"{name}: /flows/<id>/stream with key", f"200 event stream with {token}",
                       f"{stream.status}, {len(stream.body)} bytes, token {'in' if token in stream.text() else 'missing'}")
                assert stream.status == 200 and token in stream.text(), stream.text()[:300]


def test_lfx_routes_expose_only_run_and_stream(lfx_pods: dict[str, Pod], secrets: dict) -> None:
    key = secrets["langflow-runtime-auth"]["api-key"]
    paths = ingress_paths()
    for name, pod in sorted(lfx_pods.items()):
        ids = [flow["id"] for flow in unit_flows(pod)]
        hidden = [*FORBIDDEN, *(f"/flows/{i}" for i in ids), *(f"/flows/{i}/info" for i in ids)]
        reachable = sorted({h for h in hidden for p in paths if prefix_matches(p, h)})
        # The pod itself serves them (so the routes are what hides them): docs and delete answer there.
        docs = pod.request("GET", "/docs").status
        listing = pod.request("GET", "/flows", headers={"x-api-key": key}).status
        record(f"{name}: upload/delete/list/docs through the Ingress", "none routed (pod itself: /docs 200, /flows 200)",
               f"{', '.join(reachable) or 'none routed'} (pod itself: /docs {docs}, /flows {listing})")
        assert not reachable, f"{name}: the Ingress routes {reachable}"
        assert docs == 200 and listing == 200


def test_lfx_runs_as_uid_1000_with_tmp_the_only_writable_path(lfx_pods: dict[str, Pod]) -> None:
    for name, pod in sorted(lfx_pods.items()):
        status = Path(f"/proc/{pod._container_pid()}/status").read_text()
        uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
        writable = sorted(m["mountPath"] for m in pod.main["volumeMounts"] if not m.get("readOnly"))
        errors = pod.write_errors()
        record(f"{name}: uid, writable paths, failed writes", "1000, ['/tmp'], 0", f"{uid}, {writable}, {len(errors)}")
        assert uid == "1000" and writable == ["/tmp"] and not errors, errors[:5]
        assert pod.main["securityContext"]["readOnlyRootFilesystem"] is True


# ---- one flow on each engine, side by side ---------------------------------------------------------


def load(pod: Pod, path: str, key: str) -> tuple[float, float, int]:
    """(requests/s, p95 ms, failures) of LOAD_REQUESTS calls, LOAD_CONCURRENCY at a time."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    per_worker = LOAD_REQUESTS // LOAD_CONCURRENCY

    def worker() -> None:
        for _ in range(per_worker):
            began = time.monotonic()
            status = run(pod, path, "load", key).status
            with lock:
                latencies.append(time.monotonic() - began)
                failures[0] += status != 200

    threads = [threading.Thread(target=worker) for _ in range(LOAD_CONCURRENCY)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, 1000 * latencies[int(0.95 * (len(latencies) - 1))], failures[0]


def figures(pod: Pod, path: str, key: str) -> dict[str, float]:
    assert pod.startup is not None and pod.cgroup is not None
    for _ in range(3):
        assert run(pod, path, "warm", key).status == 200
    time.sleep(3)
    rest = pod.cgroup.memory()
    rps, p95, failures = load(pod, path, key)
    assert failures == 0, f"{pod.owner}: {failures} failed requests under load"
    request = memory_limit({"resources": {"limits": {"memory": pod.main["resources"]["requests"]["memory"]}}}) or 0
    return {"startup": pod.startup.seconds, "cpu": pod.startup.cpu_seconds, "rest": rest / 2**20,
            "peak": pod.cgroup.peak / 2**20, "rps": rps, "p95": p95, "limit": (pod.cgroup.memory_limit or 0) / 2**20,
            "request": request / 2**20}


def test_engines_side_by_side(lfx_pods: dict[str, Pod], start_pod: PodFactory, secrets: dict, workdir: Path) -> None:
    key = secrets["langflow-runtime-auth"]["api-key"]
    offline = [(pod, flow) for pod in lfx_pods.values() for flow in unit_flows(pod) if runs_offline(flow)]
    if not offline:
        pytest.skip("no lfx unit of dist/prod serves an offline flow to measure")
    lfx_pod, flow = offline[0]
    deployment, folder = langflow_unit(flow, workdir)
    langflow_pod = start_pod(deployment, folder, objects=Objects.load(folder, secrets_for(folder, secrets)))
    measured = {"lfx serve (official image's venv)": figures(lfx_pod, f"/flows/{flow['id']}/run", key),
                "langflow run": figures(langflow_pod, f"/api/v1/run/{flow['endpoint_name']}", key)}
    for engine, f in measured.items():
        record(f"engine {engine}: start-up / CPU to ready", "inside the probe window",
               f"{f['startup']:.1f} s / {f['cpu']:.1f} CPU-s")
        record(f"engine {engine}: memory at rest / peak",
               f"rest <= request {f['request']:.0f} MiB, peak < 80% of limit {f['limit']:.0f} MiB",
               f"{f['rest']:.0f} / {f['peak']:.0f} MiB", ok=f["rest"] <= f["request"] and f["peak"] < 0.8 * f["limit"])
        record(f"engine {engine}: {LOAD_REQUESTS} calls, {LOAD_CONCURRENCY} at a time", "all 200",
               f"{f['rps']:.1f} req/s, p95 {f['p95']:.0f} ms")
    lfx = measured["lfx serve (official image's venv)"]
    record("lfx serve memory at rest (official image's venv)", "<= 700 MiB", f"{lfx['rest']:.0f} MiB",
           ok=lfx["rest"] <= 700)
    assert lfx["rest"] <= 700, f"lfx serve at rest: {lfx['rest']:.0f} MiB"
    assert all(f["rest"] <= f["request"] and f["peak"] < 0.8 * f["limit"] for f in measured.values()), measured
    langflow_pod.stop()



# ---- a lean unit: lfx from a venv built from `make images`' hash-locked requirements -----------------


def lean_venv(requirements: Path, venv: Path) -> Path:
    """A relocatable venv with exactly `requirements` (hash-checked), cached by the file's content next
    to make e2e's Langflow venv; what the image `make images` describes would hold in /app/.venv."""
    home = venv.parent
    target = home / f"lean-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]}"
    if not (target / ".installed").exists():
        uv = home / "tools" / "bin" / "uv"
        subprocess.run([str(uv), "venv", "-q", "--relocatable", "--python", str(home / "python" / "bin" / "python3.12"),
                        str(target)], check=True)
        subprocess.run([str(uv), "pip", "sync", "-q", "--require-hashes", "--link-mode=copy", str(requirements)],
                       check=True, env={**os.environ, "VIRTUAL_ENV": str(target)})
        subprocess.run([str(target / "bin" / "python"), "-m", "compileall", "-q", "-j", "2",
                        str(target / "lib" / "python3.12" / "site-packages")], check=False, capture_output=True)
        subprocess.run(["chmod", "-R", "a+rX", str(target)], check=True)
        (target / ".installed").touch()
    return target


def test_a_lean_unit_from_make_images_requirements(lfx_pods: dict[str, Pod], cluster: Cluster, venv: Path,
                                                    secrets: dict, workdir: Path) -> None:
    from langflow_cdk8s.tooling.images import write_images

    key = secrets["langflow-runtime-auth"]["api-key"]
    offline = [(name, flow) for name, pod in sorted(lfx_pods.items()) for flow in unit_flows(pod) if runs_offline(flow)]
    if not offline:
        pytest.skip("no lfx unit of dist/prod serves an offline flow")
    name, flow = offline[0]
    images = Path(tempfile.mkdtemp(dir=workdir))
    write_images(DIST, images, venv, venv.parent / "tools" / "bin" / "uv", ROOT / "requirements-e2e.lock")
    requirements = images / "prod" / name / "requirements.txt"
    pinned = [line for line in requirements.read_text().splitlines() if "==" in line]
    lean = lean_venv(requirements, venv)
    workload = yaml.safe_load((PROD / f"Deployment.{name}.k8s.yaml").read_text())
    lean_cluster = Cluster(lean, cluster.network, cluster.postgres, cluster.secrets, cluster.workdir)
    lean_cluster.counter = cluster.counter  # one numbering: pod names, work folders and cgroups stay distinct
    pod = lean_cluster.start(workload, PROD)
    try:
        token = f"e2e-{random.token_hex(4)}"
        answer = run(pod, f"/flows/{flow['id']}/run", token, key)
        record(f"lean {name} (make images: {len(pinned)} locked packages): run", f"200, output contains {token}",
               f"{answer.status}: {answer.text()[:60]!r}")
        assert answer.status == 200 and token in answer.text(), answer.text()[:300]
        f = figures(pod, f"/flows/{flow['id']}/run", key)
        record("engine lfx serve (lean venv): start-up / CPU to ready", "inside the probe window",
               f"{f['startup']:.1f} s / {f['cpu']:.1f} CPU-s")
        record("engine lfx serve (lean venv): memory at rest / peak", "rest <= 300 MiB",
               f"{f['rest']:.0f} / {f['peak']:.0f} MiB", ok=f["rest"] <= 300)
        record(f"engine lfx serve (lean venv): {LOAD_REQUESTS} calls, {LOAD_CONCURRENCY} at a time", "all 200",
               f"{f['rps']:.1f} req/s, p95 {f['p95']:.0f} ms")
        assert f["rest"] <= 300, f"lean lfx at rest: {f['rest']:.0f} MiB"
        assert not pod.write_errors()
    finally:
        pod.stop()
