"""The e2e tier's cluster stand-in: a pod network, a TLS PostgreSQL, generated Secrets, and a
factory that runs pods from the committed dist/. Every check adds a row (check, expected,
observed) to the table printed at the end and written to .build/e2e-report.md."""

from __future__ import annotations

import base64
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
REPORT: list[tuple[str, str, str, str]] = []


def record(check: str, expected: str, observed: str, ok: bool = True) -> None:
    REPORT.append((check, expected, observed, "ok" if ok else "FAILED"))


def fernet_key() -> str:
    """What `openssl rand -base64 32 | tr '+/' '-_'` gives: 32 random bytes, url-safe base64."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def generated_secrets(folders: list[Path]) -> dict[str, dict[str, str]]:
    """A value for every Secret key the workloads of `folders` read, shaped as Langflow needs it."""
    from langflow_cdk8s.inventory import required_secrets

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


@pytest.fixture(scope="module")
def start_pod(venv: Path, network: PodNetwork, postgres: Postgres, secrets: dict[str, dict[str, str]],
              workdir: Path) -> Iterator[PodFactory]:
    """Starts a pod of `workload` (a manifest from `folder`), with its database created first and
    its Services in the hosts file; stops every pod still running when the test module ends."""
    started: list[Pod] = []
    counter = iter(range(1000))

    def factory(workload: dict[str, Any], folder: Path, *, claims: Mapping[str, Path] | None = None,
                objects: Objects | None = None, wait: bool = True) -> Pod:
        objects = objects or Objects.load(folder, secrets)
        database = database_of(workload, objects)
        if database:
            host, name, user, password = database
            network.hosts[host] = network.gateway
            postgres.create_database(name, user, password)
        pod = Pod(workload, objects=objects, network=network, venv=venv, workdir=workdir, claims=claims,
                  suffix=str(next(counter)))
        started.append(pod)
        pod.start()
        namespace = workload["metadata"].get("namespace", "default")
        network.add_service(workload["metadata"]["name"], namespace, pod.address)
        if wait:
            pod.wait_ready()
        return pod

    yield factory
    for pod in started:
        pod.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    widths = [max(len(row[i]) for row in [("check", "expected", "observed", "result"), *REPORT]) for i in range(4)]
    widths = [min(w, 70) for w in widths]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(("check", "expected", "observed", "result"), widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in REPORT]
    terminalreporter.write_sep("=", "make e2e: what real Langflow 1.13.0 did with dist/")
    for line in lines:
        terminalreporter.write_line(line)
    out = ROOT / ".build" / "e2e-report.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
