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


def config_mount(container: dict[str, Any]) -> str:
    """The writable mount holding LANGFLOW_CONFIG_DIR (langflow run: /app/langflow; lfx serve: /tmp)."""
    config = next(e["value"] for e in container["env"] if e["name"] == "LANGFLOW_CONFIG_DIR")
    return max((m["mountPath"] for m in container["volumeMounts"] if config.startswith(m["mountPath"])), key=len)


def test_a_removed_writable_mount_fails_naming_the_object(start_pod: PodFactory) -> None:
    broken = copy.deepcopy(a_runtime())
    container = broken["spec"]["template"]["spec"]["containers"][0]
    removed = config_mount(container)
    container["volumeMounts"] = [m for m in container["volumeMounts"] if m["mountPath"] != removed]
    with pytest.raises(PodSpecError) as failure:
        start_pod(broken, PROD)
    message = str(failure.value)
    first = message.splitlines()[0]
    record(f"runner: config mount {removed} removed from a runtime pod", "fails naming object and check", first[:70])
    assert first.startswith(f"Deployment {broken['metadata']['name']}: container {container['name']!r}"), message
    assert "startupProbe" in first, message
    # lfx 1.13 reports an unwritable config dir as "Settings service not found" and exits.
    assert "Read-only file system" in message or "Settings service not found" in message, message


def test_a_misspelt_secret_name_fails_before_anything_starts(start_pod: PodFactory) -> None:
    broken = copy.deepcopy(a_runtime())
    container = broken["spec"]["template"]["spec"]["containers"][0]
    entry = next(e for e in container["env"] if "valueFrom" in e)
    entry["valueFrom"]["secretKeyRef"]["name"] += "-typo"
    with pytest.raises(PodSpecError) as failure:
        start_pod(broken, PROD)
    record("runner: misspelt Secret name in env", "CreateContainerConfigError", str(failure.value)[:70])
    assert f"Deployment {broken['metadata']['name']} container {container['name']!r}: Secret" in str(failure.value)
    assert "CreateContainerConfigError" in str(failure.value)
