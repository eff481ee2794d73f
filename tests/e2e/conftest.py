"""The e2e tier's cluster stand-in: a pod network, a TLS PostgreSQL, generated Secrets, and a
factory that runs pods from the committed dist/. Every check adds a row (check, expected,
observed) to the table printed at the end and written to .build/e2e-report.md."""

from __future__ import annotations

import base64
import json
import os
import secrets as random
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from .network import PodNetwork
from .pod import Pod
from .podspec import Objects, PodSpecError, container_env
from .postgres import Postgres

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
REPORT: list[tuple[str, str, str, str, bool]] = []
FAILED: set[str] = set()


def record(check: str, expected: str, observed: str, ok: bool = True) -> None:
    """A row of the report; its result is FAILED when `ok` is False or the test recording it fails."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]
    REPORT.append((check, expected, observed, test, ok))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        FAILED.add(report.nodeid)


def fernet_key() -> str:
    """What `openssl rand -base64 32 | tr '+/' '-_'` gives: 32 random bytes, url-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def generated_secrets(folders: list[Path]) -> dict[str, dict[str, str]]:
    """A value for every Secret key the workloads of `folders` read, shaped as Langflow needs it."""
    from langflow_cdk8s.tooling.inventory import required_secrets

    objects = [yaml.safe_load(p.read_text()) for folder in folders for p in sorted(folder.glob("*.yaml"))]
    values: dict[str, dict[str, str]] = {}
    for name, keys in required_secrets(objects).items():
        values[name] = {}
        for key in sorted(keys):
            if key == "secret-key":
                values[name][key] = fernet_key()
            elif key == "superuser":
                values[name][key] = "admin"
            else:
                values[name][key] = random.token_urlsafe(18)
    return values


def langflow_unit(flow: Mapping[str, Any], workdir: Path, *, exposure: Any = None) -> tuple[dict[str, Any], Path]:
    """`flow` as one Engine.langflow() unit (SQLite per pod, optionally behind `exposure`),
    synthesized with the library as main.py's prod is, into a folder of its own: how the langflow
    engine is proven when dist/prod serves every unit with lfx."""
    import cdk8s

    from langflow_cdk8s import (
        CloudProfile,
        Engine,
        Environment,
        EnvironmentProps,
        Flow,
        LangflowRuntime,
        LangflowRuntimeProps,
        Quota,
        Stage,
    )
    from langflow_cdk8s.tooling.synth import synth

    source = Path(tempfile.mkdtemp(dir=workdir)) / "flow.json"
    source.write_text(json.dumps(flow))
    outdir = source.parent / "dist"

    def build(app: cdk8s.App) -> list[Environment]:
        env = Environment(app, "prod", EnvironmentProps(
            stage=Stage.PRODUCTION, namespace="langflow-prod", profile=CloudProfile.generic(),
            monitoring_namespace="monitoring",
            quota=Quota(requests_cpu="32", requests_memory="64Gi", limits_cpu="64", limits_memory="64Gi")))
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(
            flows=[Flow.from_file(source)], engine=Engine.langflow(), autoscaling=None, replicas=1,
            exposure=exposure))
        return [env]

    with open(os.devnull, "w") as quiet:
        assert synth(build, outdir=str(outdir), stream=quiet) == 0
    folder = outdir / "prod"
    return yaml.safe_load(next(folder.glob("Deployment.*.k8s.yaml")).read_text()), folder


def secrets_for(folder: Path, secrets: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The session's Secrets, with generated values added for keys only `folder`'s workloads read (a
    langflow runtime synthesized by a test needs a secret key, a superuser and a database password
    that an all-lfx dist/ does not). Added to the session's Secrets, so every later pod gets the same."""
    for name, keys in generated_secrets([folder]).items():
        for key, value in keys.items():
            secrets.setdefault(name, {}).setdefault(key, value)
    return secrets


@pytest.fixture(scope="session")
def venv() -> Path:
    path = os.environ.get("LANGFLOW_E2E_VENV")
    if not path:
        path = subprocess.run(["bash", str(ROOT / "scripts" / "e2e-prepare.sh")], check=True, capture_output=True,
                              text=True).stdout.strip().splitlines()[-1]
    return Path(path)


@pytest.fixture(scope="session")
def network() -> Iterator[PodNetwork]:
    net = PodNetwork().up()
    # The LLM provider our example flows call resolves to the gateway, where nothing listens: the
    # call is refused at once instead of waiting on DNS, and no request leaves the machine.
    net.hosts["api.openai.com"] = net.gateway
    yield net
    net.down()


@pytest.fixture(scope="session")
def postgres(network: PodNetwork) -> Iterator[Postgres]:
    server = Postgres(address=network.gateway).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def secrets() -> dict[str, dict[str, str]]:
    return generated_secrets([DIST / "dev", DIST / "prod"])


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lfe2e-pods-"))
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def load(folder: Path, kind: str, name: str) -> dict[str, Any]:
    return yaml.safe_load((folder / f"{kind}.{name}.k8s.yaml").read_text())


def database_of(workload: Mapping[str, Any], objects: Objects) -> tuple[str, str, str, str] | None:
    """(host, database, user, password) of the PostgreSQL database an operator provides for the pod:
    the one its database-preparing init container connects to (PG* variables; it creates the
    revision's own database itself), or else the one LANGFLOW_DATABASE_URL names."""
    spec = workload["spec"]["template"]["spec"]
    try:
        for init in spec.get("initContainers", []):
            env = container_env("database", init, objects, {})
            if "PGDATABASE" in env:
                return env["PGHOST"], env["PGDATABASE"], env["PGUSER"], env["PGPASSWORD"]
        url = container_env("database", spec["containers"][0], objects, {}).get("LANGFLOW_DATABASE_URL", "")
    except PodSpecError:
        return None  # the pod itself fails to start, with the message that names it
    if not url.startswith("postgresql"):
        return None
    parts = urlsplit(url)
    return parts.hostname or "", parts.path.lstrip("/"), parts.username or "", parts.password or ""


PodFactory = Callable[..., Pod]


class Cluster:
    """Starts pods as a kubelet would once the scheduler placed them: database created first (as
    an operator would have), Service names in the hosts file."""

    def __init__(self, venv: Path, network: PodNetwork, postgres: Postgres, secrets: dict[str, dict[str, str]],
                 workdir: Path) -> None:
        self.venv, self.network, self.postgres, self.secrets, self.workdir = venv, network, postgres, secrets, workdir
        self.counter = iter(range(10_000))

    def start(self, workload: dict[str, Any], folder: Path, *, claims: Mapping[str, Path] | None = None,
              objects: Objects | None = None, wait: bool = True, started: list[Pod] | None = None) -> Pod:
        objects = objects or Objects.load(folder, self.secrets)
        database = database_of(workload, objects)
        if database:
            host, name, user, password = database
            self.network.hosts[host] = self.network.gateway
            self.postgres.create_database(name, user, password)
        pod = Pod(workload, objects=objects, network=self.network, venv=self.venv, workdir=self.workdir,
                  claims=claims, suffix=str(next(self.counter)))
        if started is not None:
            started.append(pod)
        pod.start()
        namespace = workload["metadata"].get("namespace", "default")
        self.network.add_service(workload["metadata"]["name"], namespace, pod.address)
        if wait:
            pod.wait_ready()
        return pod


LOGS = ROOT / ".build" / "e2e-logs"


def stop_all(pods: list[Pod]) -> None:
    """SIGTERM to every pod at once, as a namespace deletion does, then wait for each; their logs
    are kept in .build/e2e-logs/ (CI prints where a failure came from)."""
    for pod in pods:
        pod.terminate()
    LOGS.mkdir(parents=True, exist_ok=True)
    for pod in pods:
        pod.stop()
        for log in pod.workdir.glob("*.log"):
            (LOGS / f"{pod.pod_name}-{log.name}").write_bytes(log.read_bytes())


@pytest.fixture(scope="session")
def cluster(venv: Path, network: PodNetwork, postgres: Postgres, secrets: dict[str, dict[str, str]],
            workdir: Path) -> Cluster:
    return Cluster(venv, network, postgres, secrets, workdir)


@pytest.fixture(scope="session")
def session_pods() -> Iterator[list[Pod]]:
    """Pods shared by several modules (dist/prod's runtime, dist/dev's IDE), stopped at the end."""
    pods: list[Pod] = []
    yield pods
    stop_all(pods)


@pytest.fixture(scope="module")
def start_pod(cluster: Cluster) -> Iterator[PodFactory]:
    """Starts a pod of `workload` (a manifest from `folder`); stops every pod it started that is
    still running when the test module ends."""
    started: list[Pod] = []

    def factory(workload: dict[str, Any], folder: Path, *, claims: Mapping[str, Path] | None = None,
                objects: Objects | None = None, wait: bool = True) -> Pod:
        return cluster.start(workload, folder, claims=claims, objects=objects, wait=wait, started=started)

    yield factory
    stop_all(started)


def prod_workloads() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted((DIST / "prod").glob("Deployment.*.k8s.yaml"))]


def dev_backend() -> dict[str, Any]:
    """dist/dev's one Langflow backend (StatefulSet on a claim, or Deployment on PostgreSQL)."""
    workloads = [yaml.safe_load(p.read_text()) for pattern in ("StatefulSet.*.k8s.yaml", "Deployment.*.k8s.yaml")
                 for p in sorted((DIST / "dev").glob(pattern))]
    backends = [w for w in workloads if w["spec"]["template"]["spec"]["containers"][0]["image"].startswith(
        "langflowai/langflow:")]
    assert len(backends) == 1, f"dist/dev has {len(backends)} Langflow backends"
    return backends[0]


def dev_claims(workdir: Path) -> dict[str, Path]:
    """The backend's claims for ordinal 0: folders that outlive the pod."""
    backend = dev_backend()
    return {t["metadata"]["name"]: workdir / "claims" / f"{t['metadata']['name']}-{backend['metadata']['name']}-0"
            for t in backend["spec"].get("volumeClaimTemplates", [])}


@pytest.fixture(scope="session")
def booted(cluster: Cluster, session_pods: list[Pod], workdir: Path) -> dict[str, Any]:
    """dist/prod's runtime pods and dist/dev's IDE backend, started together (as Argo CD syncing both
    environments would), so their start-ups overlap; tests wait for the ones they use.
    `booted["ide"]` is replaced when a test restarts the IDE."""
    runtime = {w["metadata"]["name"]: cluster.start(w, DIST / "prod", wait=False, started=session_pods)
               for w in prod_workloads()}
    ide = cluster.start(dev_backend(), DIST / "dev", claims=dev_claims(workdir), wait=False, started=session_pods)
    return {"runtime": runtime, "ide": ide}


@pytest.fixture(scope="module")
def ide(booted: dict[str, Any]) -> Pod:
    """dist/dev's IDE backend as booted for the run, or as the dev tests restarted it."""
    pod: Pod = booted["ide"]
    pod.wait_ready()
    return pod


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    rows = [(check, expected, observed, "ok" if ok and test not in FAILED else "FAILED")
            for check, expected, observed, test, ok in REPORT]
    widths = [max(len(row[i]) for row in [("check", "expected", "observed", "result"), *rows]) for i in range(4)]
    widths = [min(w, 90) for w in widths]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(("check", "expected", "observed", "result"), widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(cell[:w].ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    terminalreporter.write_sep("=", "make e2e: what real Langflow 1.13.0 did with dist/")
    for line in lines:
        terminalreporter.write_line(line)
    out = ROOT / ".build" / "e2e-report.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
