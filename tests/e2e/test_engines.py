"""The runtime engines with real Langflow 1.13.0 and lfx 1.13.0: every `lfx serve` unit of dist/prod
refuses missing and wrong keys, streams, hides upload/delete/docs behind its routes and runs as
uid 1000 under a read-only root; then one flow on each engine, side by side, under the same bounded
load on the pod network (nothing leaves the machine): start-up, CPU, memory at rest and peak,
requests/s and p95."""

from __future__ import annotations

import json
import os
import secrets as random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from .conftest import DIST, PodFactory, record
from .flows import run, runs_offline
from .pod import Pod
from .podspec import Objects

PROD = DIST / "prod"
LOAD_CONCURRENCY = 4
LOAD_REQUESTS = 48
FORBIDDEN = ("/flows", "/flows/upload/", "/docs", "/redoc", "/openapi.json", "/api/v2/workflows", "/health")
"""lfx serve's routes besides each flow's run and stream: none may be reachable through the Ingress."""


def lfx_workloads() -> list[dict[str, Any]]:
    return [w for w in (yaml.safe_load(p.read_text()) for p in sorted(PROD.glob("Deployment.*.k8s.yaml")))
            if w["spec"]["template"]["spec"]["containers"][0].get("command") == ["lfx"]]


def ingress_paths() -> list[str]:
    return [p["path"] for path in sorted(PROD.glob("Ingress.*.k8s.yaml"))
            for rule in yaml.safe_load(path.read_text())["spec"]["rules"] for p in rule["http"]["paths"]]


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


def synthesize_langflow(flow: dict[str, Any], workdir: Path) -> tuple[dict[str, Any], Path]:
    """`flow` on Engine.langflow() (SQLite per pod), synthesized with the library as main.py's prod is."""
    from langflow_cdk8s import (CloudProfile, Engine, Environment, EnvironmentProps, Flow, LangflowRuntime,
                                LangflowRuntimeProps, Quota, Stage)
    from langflow_cdk8s.tooling.synth import synth

    source = Path(tempfile.mkdtemp(dir=workdir)) / "flow.json"
    source.write_text(json.dumps(flow))
    outdir = source.parent / "dist"

    def build(app: cdk8s.App) -> list[Environment]:
        env = Environment(app, "prod", EnvironmentProps(
            stage=Stage.PRODUCTION, namespace="langflow-prod", profile=CloudProfile.generic(),
            quota=Quota(requests_cpu="32", requests_memory="64Gi", limits_cpu="64", limits_memory="64Gi")))
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=[Flow.from_file(source)], engine=Engine.langflow(),
                                                             autoscaling=None, replicas=1))
        return [env]

    with open(os.devnull, "w") as quiet:
        assert synth(build, outdir=str(outdir), stream=quiet) == 0
    folder = outdir / "prod"
    return yaml.safe_load(next(folder.glob("Deployment.*.k8s.yaml")).read_text()), folder


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
    return {"startup": pod.startup.seconds, "cpu": pod.startup.cpu_seconds, "rest": rest / 2**20,
            "peak": pod.cgroup.peak / 2**20, "rps": rps, "p95": p95, "limit": (pod.cgroup.memory_limit or 0) / 2**20}


def test_engines_side_by_side(lfx_pods: dict[str, Pod], start_pod: PodFactory, secrets: dict, workdir: Path) -> None:
    key = secrets["langflow-runtime-auth"]["api-key"]
    offline = [(pod, flow) for pod in lfx_pods.values() for flow in unit_flows(pod) if runs_offline(flow)]
    if not offline:
        pytest.skip("no lfx unit of dist/prod serves an offline flow to measure")
    lfx_pod, flow = offline[0]
    deployment, folder = synthesize_langflow(flow, workdir)
    langflow_pod = start_pod(deployment, folder, objects=Objects.load(folder, secrets))
    measured = {"lfx serve (official image's venv)": figures(lfx_pod, f"/flows/{flow['id']}/run", key),
                "langflow run": figures(langflow_pod, f"/api/v1/run/{flow['endpoint_name']}", key)}
    for engine, f in measured.items():
        record(f"engine {engine}: start-up / CPU to ready", "inside the probe window",
               f"{f['startup']:.1f} s / {f['cpu']:.1f} CPU-s")
        record(f"engine {engine}: memory at rest / peak", f"peak < 80% of {f['limit']:.0f} MiB",
               f"{f['rest']:.0f} / {f['peak']:.0f} MiB", ok=f["peak"] < 0.8 * f["limit"])
        record(f"engine {engine}: {LOAD_REQUESTS} calls, {LOAD_CONCURRENCY} at a time", "all 200",
               f"{f['rps']:.1f} req/s, p95 {f['p95']:.0f} ms")
    lfx = measured["lfx serve (official image's venv)"]
    record("lfx serve memory at rest (official image's venv)", "<= 700 MiB", f"{lfx['rest']:.0f} MiB",
           ok=lfx["rest"] <= 700)
    assert lfx["rest"] <= 700, f"lfx serve at rest: {lfx['rest']:.0f} MiB"
    assert all(f["peak"] < 0.8 * f["limit"] for f in measured.values()), measured
    langflow_pod.stop()

