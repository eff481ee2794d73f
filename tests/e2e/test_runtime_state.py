"""The runtime's state model with real Langflow and PostgreSQL (issue 14): a pod serves exactly the
revision it started with, whatever pods start after it; a rollback serves the old revision again;
replicas of one revision starting together on an empty database start cleanly."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import pytest
import yaml

from .conftest import PodFactory, record, secrets_for
from .flows import output_text, run, runs_offline
from .pod import Pod
from .podspec import Objects
from .postgres import Postgres

ROOT = Path(__file__).resolve().parents[2]


def offline_flow() -> dict[str, Any]:
    for path in sorted((ROOT / "flows").glob("*.json")):
        flow = json.loads(path.read_text())
        if runs_offline(flow):
            return flow
    pytest.skip("flows/ has no flow that runs offline (Chat Input -> Prompt -> Chat Output)")


def revision(flow: dict[str, Any], marker: str) -> dict[str, Any]:
    """The same flow (same id and endpoint) with `marker` appended to its prompt template: a new
    revision whose output tells which revision answered."""
    changed = json.loads(json.dumps(flow))
    for node in changed["data"]["nodes"]:
        template = node.get("data", {}).get("node", {}).get("template", {})
        if node["data"].get("type") == "Prompt" and "template" in template:
            template["template"]["value"] += f" [{marker}]"
            return changed
    pytest.skip("the offline flow has no Prompt node to vary")


def synthesize(flow: dict[str, Any], workdir: Path, *, replicas: int = 1) -> tuple[dict[str, Any], Path]:
    """A production runtime serving `flow` on PostgreSQL, synthesized with the library the way
    main.py's prod is (same Secret names), into a folder of its own."""
    from langflow_cdk8s import (
        CloudProfile,
        Database,
        Environment,
        EnvironmentProps,
        Flow,
        LangflowRuntime,
        LangflowRuntimeProps,
        Quota,
        SecretKey,
        Stage,
    )
    from langflow_cdk8s.tooling.synth import synth

    source = Path(tempfile.mkdtemp(dir=workdir)) / "flow.json"
    source.write_text(json.dumps(flow))
    outdir = source.parent / "dist"

    def build(app: cdk8s.App) -> list[Environment]:
        env = Environment(app, "prod", EnvironmentProps(
            stage=Stage.PRODUCTION, namespace="langflow-prod", profile=CloudProfile.generic(),
            quota=Quota(requests_cpu="32", requests_memory="64Gi", limits_cpu="64", limits_memory="64Gi")))
        LangflowRuntime(env, "runtime", LangflowRuntimeProps(
            flows=[Flow.from_file(source)], autoscaling=None, replicas=replicas,
            database=Database.external_postgres(host="langflow-db.prod.internal",
                                                password=SecretKey(name="langflow-prod-db", key="password"))))
        return [env]

    with open(os.devnull, "w") as quiet:
        assert synth(build, outdir=str(outdir), stream=quiet) == 0
    folder = outdir / "prod"
    deployment = yaml.safe_load(next(folder.glob("Deployment.*.k8s.yaml")).read_text())
    return deployment, folder


def target_database(deployment: dict[str, Any]) -> str:
    init = deployment["spec"]["template"]["spec"]["initContainers"][0]
    return next(e["value"] for e in init["env"] if e["name"] == "TARGET_DATABASE")


@pytest.fixture(scope="module")
def api_key(secrets: dict) -> str:
    return secrets["langflow-runtime-auth"]["api-key"]


@pytest.fixture(scope="module")
def start(start_pod: PodFactory, secrets: dict) -> Callable[..., Pod]:
    def starter(deployment: dict[str, Any], folder: Path, wait: bool = True) -> Pod:
        return start_pod(deployment, folder, objects=Objects.load(folder, secrets_for(folder, secrets)), wait=wait)
    return starter


def answer(pod: Pod, endpoint: str, api_key: str) -> str:
    response = run(pod, f"/api/v1/run/{endpoint}", "which revision?", api_key)
    assert response.status == 200, f"{pod.owner}: {response.status} {response.text()[:300]}"
    return output_text(response)


@pytest.fixture(scope="module")
def together(start: Callable[..., Pod], workdir: Path) -> tuple[dict[str, Any], dict[str, Any], list[Pod]]:
    """Two replicas of one new revision, started at the same moment on an empty database. Started
    before the revision test's first pod (which requests this fixture), so their start-ups overlap
    with it; the races test below checks them."""
    flow = revision(offline_flow(), "together")
    deployment, folder = synthesize(flow, workdir, replicas=2)
    return flow, deployment, [start(deployment, folder, wait=False), start(deployment, folder, wait=False)]


def test_a_pod_keeps_serving_its_revision_and_a_rollback_is_exact(start: Callable[..., Pod], workdir: Path,
                                                                   api_key: str, together: tuple) -> None:
    base = offline_flow()
    endpoint = base["endpoint_name"]
    old, old_folder = synthesize(revision(base, "rev-N"), workdir)
    new, new_folder = synthesize(revision(base, "rev-N+1"), workdir)
    assert old["metadata"]["name"] == new["metadata"]["name"], "both revisions must be the same Deployment"
    assert target_database(old) != target_database(new)

    pod_n = start(old, old_folder)
    assert "[rev-N]" in answer(pod_n, endpoint, api_key)
    pod_n1 = start(new, new_folder)  # the rollout's surge pod of revision N+1
    after = answer(pod_n, endpoint, api_key)
    record("revision N pod after an N+1 pod started", "still answers [rev-N]", after[-40:])
    assert "[rev-N]" in after and "[rev-N+1]" not in after, f"the revision N pod now answers {after!r}"
    newest = answer(pod_n1, endpoint, api_key)
    record("revision N+1 pod", "answers [rev-N+1]", newest[-40:])
    assert "[rev-N+1]" in newest
    pod_n.stop()
    rolled_back = start(old, old_folder)  # kubectl rollout undo: a new pod of revision N
    back = answer(rolled_back, endpoint, api_key)
    record("rollback to revision N (new pod)", "answers [rev-N]", back[-40:])
    assert "[rev-N]" in back and "[rev-N+1]" not in back
    still = answer(pod_n1, endpoint, api_key)
    assert "[rev-N+1]" in still, f"the N+1 pod changed to {still!r} when the rollback pod started"
    pod_n1.stop()
    rolled_back.stop()


def test_replicas_starting_together_on_an_empty_database_start_cleanly(together: tuple, postgres: Postgres,
                                                                       api_key: str) -> None:
    flow, deployment, pods = together
    for pod in pods:
        pod.wait_ready()
    database = target_database(deployment)
    superusers = postgres.sql('SELECT count(*) FROM "user" WHERE is_superuser', database=database)
    rows = postgres.sql(f"SELECT count(*) FROM flow WHERE id = '{flow['id'].replace('-', '')}' OR id::text = "
                        f"'{flow['id']}'", database=database)
    errors = [line for pod in pods for line in pod.logs().splitlines()
              if "IntegrityError" in line or "UniqueViolation" in line or "Traceback" in line]
    record("2 replicas of one revision started together", "both ready, 1 superuser, 1 flow row, 0 errors",
           f"both ready, {superusers} superuser, {rows} flow row, {len(errors)} errors")
    assert superusers == "1" and rows == "1", f"superusers {superusers}, flow rows {rows}"
    assert not errors, "\n".join(errors[:10])
    for pod in pods:
        assert "[together]" in answer(pod, flow["endpoint_name"], api_key)
        pod.stop()
