"""The runner itself: a broken pod spec must fail `make e2e` with a message that names the object
and the check, so a regression in dist/ cannot pass as a working pod."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import DIST, PodFactory, record
from .podspec import PodSpecError

PROD = DIST / "prod"


def a_runtime() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(sorted(PROD.glob("Deployment.*.k8s.yaml"))[0].read_text())


def test_a_removed_writable_mount_fails_naming_the_object(start_pod: PodFactory) -> None:
    broken = copy.deepcopy(a_runtime())
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["mountPath"] != "/app/langflow"]
    with pytest.raises(PodSpecError) as failure:
        start_pod(broken, PROD)
    message = str(failure.value)
    first = message.splitlines()[0]
    record("runner: config mount removed from a runtime pod", "fails naming object and check", first[:70])
    assert first.startswith(f"Deployment {broken['metadata']['name']}: container 'langflow'"), message
    assert "startupProbe" in first, message
    assert "Read-only file system" in message, message


def test_a_misspelt_secret_name_fails_before_anything_starts(start_pod: PodFactory) -> None:
    broken = copy.deepcopy(a_runtime())
    container = broken["spec"]["template"]["spec"]["containers"][0]
    entry = next(e for e in container["env"] if "valueFrom" in e)
    entry["valueFrom"]["secretKeyRef"]["name"] += "-typo"
    with pytest.raises(PodSpecError) as failure:
        start_pod(broken, PROD)
    record("runner: misspelt Secret name in env", "CreateContainerConfigError", str(failure.value)[:70])
    assert f"Deployment {broken['metadata']['name']} container 'langflow': Secret" in str(failure.value)
    assert "CreateContainerConfigError" in str(failure.value)
