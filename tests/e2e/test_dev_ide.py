"""dist/dev's IDE backend with real Langflow: login as the Secret's superuser, no auto-login,
sign-up as configured, data that survives a restart on its claim, metrics, graceful stop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from .conftest import DIST, Cluster, dev_backend, dev_claims, record
from .pod import Pod

DEV = DIST / "dev"


@pytest.fixture(scope="module")
def claims(workdir: Path) -> dict[str, Path]:
    return dev_claims(workdir)


@pytest.fixture(scope="module")
def ide(booted: dict[str, Any]) -> Pod:
    pod: Pod = booted["ide"]
    startup = pod.wait_ready()
    record(f"dev {pod.name}: startupProbe passes", f"< {startup.window_seconds:.0f} s window",
           f"{startup.seconds:.1f} s, {startup.cpu_seconds:.1f} CPU-s")
    return pod


def login(pod: Pod, username: str, password: str) -> tuple[int, str | None]:
    answer = pod.request("POST", "/api/v1/login", body=urlencode({"username": username, "password": password}).encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(answer.body).get("access_token") if answer.status == 200 else None
    return answer.status, token


def auth_secret(pod: Pod, secrets: dict) -> dict[str, str]:
    env = {e["name"]: e for e in pod.main["env"]}
    name = env["LANGFLOW_SUPERUSER"]["valueFrom"]["secretKeyRef"]["name"]
    return secrets[name]


def test_superuser_from_the_secret_logs_in(ide: Pod, secrets: dict) -> None:
    auth = auth_secret(ide, secrets)
    status, token = login(ide, auth["superuser"], auth["superuser-password"])
    record("dev superuser login (from the Secret)", "200 + token", f"{status}, token={'yes' if token else 'no'}")
    assert status == 200 and token, f"login answered {status}"
    wrong, _ = login(ide, auth["superuser"], "not-the-password")
    record("dev login with a wrong password", "401", str(wrong))
    assert wrong == 401


def test_auto_login_is_refused(ide: Pod) -> None:
    answer = ide.request("GET", "/api/v1/auto_login")
    record("dev GET /api/v1/auto_login", "refused, no token", f"{answer.status}")
    assert answer.status != 200 and b"access_token" not in answer.body


def test_sign_up_creates_an_inactive_user(ide: Pod) -> None:
    env = {e["name"]: e.get("value") for e in ide.main["env"]}
    body = json.dumps({"username": "e2e-newcomer", "password": "a-long-enough-password-1"}).encode()
    answer = ide.request("POST", "/api/v1/users/", body=body, headers={"Content-Type": "application/json"})
    if env.get("LANGFLOW_ENABLE_SIGNUP") == "false":
        record("dev sign-up (disabled)", "403", str(answer.status))
        assert answer.status == 403
        return
    active = json.loads(answer.body).get("is_active") if answer.status in (200, 201) else None
    record("dev sign-up", "201, is_active false", f"{answer.status}, is_active {active}")
    assert answer.status in (200, 201) and active is (env.get("LANGFLOW_NEW_USER_IS_ACTIVE") == "true")
    status, token = login(ide, "e2e-newcomer", "a-long-enough-password-1")
    record("dev login of the new, inactive user", "refused", str(status))
    assert token is None


def test_metrics_answer_on_the_metrics_port(ide: Pod) -> None:
    answer = ide.request("GET", "/metrics", port="metrics")
    record(f"dev {ide.name}: GET :{ide.port('metrics')}/metrics", "200", str(answer.status))
    assert answer.status == 200 and b"# TYPE" in answer.body


def test_memory_stays_under_the_limit(ide: Pod) -> None:
    assert ide.cgroup is not None and ide.cgroup.memory_limit is not None
    peak, limit = ide.cgroup.peak, ide.cgroup.memory_limit
    record(f"dev {ide.name}: peak memory", f"< 80% of {limit / 2**30:.1f} GiB", f"{peak / 2**20:.0f} MiB")
    assert peak < 0.8 * limit


def test_no_write_fails_under_the_read_only_root(ide: Pod) -> None:
    errors = ide.write_errors()
    record(f"dev {ide.name}: failed writes in logs", "0", str(len(errors)))
    assert not errors, "\n".join(errors[:10])


def test_a_flow_survives_a_restart_on_the_claim(ide: Pod, cluster: Cluster, booted: dict[str, Any],
                                                session_pods: list[Pod], claims: dict[str, Path],
                                                secrets: dict) -> None:
    if not claims:
        pytest.skip("this IDE keeps its data in PostgreSQL, not on a claim")
    auth = auth_secret(ide, secrets)
    _, token = login(ide, auth["superuser"], auth["superuser-password"])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    created = ide.request("POST", "/api/v1/flows/", headers=headers,
                          body=json.dumps({"name": "e2e survives restart", "data": {"nodes": [], "edges": []}}).encode())
    assert created.status == 201, created.text()[:300]
    grace = ide.spec.get("terminationGracePeriodSeconds", 30)
    seconds = ide.stop()
    record(f"dev {ide.name}: SIGTERM to exit", f"< {grace} s", f"{seconds:.1f} s")
    assert seconds < grace
    again = cluster.start(dev_backend(), DEV, claims=claims, started=session_pods)
    booted["ide"] = again  # later modules (promotion) use the IDE that is running
    _, token = login(again, auth["superuser"], auth["superuser-password"])
    flows = again.request("GET", "/api/v1/flows/?get_all=true", headers={"Authorization": f"Bearer {token}"})
    names = [f["name"] for f in json.loads(flows.body)] if flows.status == 200 else []
    record("dev flow after a restart on the same claim", "still there",
           "still there" if "e2e survives restart" in names else f"missing ({flows.status})")
    assert "e2e survives restart" in names
