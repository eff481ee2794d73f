"""The e2e pod runner's kubelet rules, checked without Langflow: env resolution and `$(VAR)`
expansion, volume layout, identity, command and limits."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from e2e.podspec import LANGFLOW_IMAGE, Objects, PodSpecError, Volumes, command, container_env, expand, identity, memory_limit

OBJECTS = Objects(config_maps={"settings": {"MODE": "prod", "flow.json": "{}"}},
                  secrets={"auth": {"password": "s3cr$t", "token": "t0k"}})


def test_expand_follows_kubernetes_rules() -> None:
    env = {"A": "1", "B": "x$(A)"}
    assert expand("$(A)-$(B)", env) == "1-x$(A)"  # values are not expanded again
    assert expand("$(MISSING)", env) == "$(MISSING)"  # undefined references stay
    assert expand("$$(A)", env) == "$(A)"  # $$ escapes
    assert expand("cost: $5", env) == "cost: $5"


def test_env_resolves_references_in_order() -> None:
    container = {"envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CM_"}],
                 "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "auth", "key": "password"}}},
                         {"name": "URL", "value": "postgresql://u:$(PASSWORD)@db/x?$(LATER)"},
                         {"name": "LATER", "value": "late"},
                         {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "auth", "key": "no", "optional": True}}}]}
    env = container_env("Deployment x", container, OBJECTS, {"HOME": "/app/data"})
    assert env["URL"] == "postgresql://u:s3cr$t@db/x?$(LATER)"  # LATER is defined after URL
    assert env["CM_MODE"] == "prod" and env["HOME"] == "/app/data" and env["OPT"] == ""


@pytest.mark.parametrize(("entry", "message"), [
    ({"secretKeyRef": {"name": "nope", "key": "k"}}, "Deployment x: Secret 'nope' is not in the test secrets"),
    ({"secretKeyRef": {"name": "auth", "key": "k"}}, "Deployment x: Secret 'auth' has no key 'k'"),
    ({"configMapKeyRef": {"name": "gone", "key": "k"}}, "Deployment x: ConfigMap 'gone' is not in dist/"),
])
def test_a_missing_reference_names_the_object(entry: dict, message: str) -> None:
    with pytest.raises(PodSpecError, match=message):
        container_env("Deployment x", {"env": [{"name": "V", "valueFrom": entry}]}, OBJECTS, {})


def test_volumes_are_laid_out_like_the_kubelet_does(tmp_path: Path) -> None:
    volumes = Volumes(root=tmp_path, fs_group=os.getgid())
    volumes.materialize("Deployment x", [
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "flows", "projected": {"defaultMode": 0o444, "sources": [{"configMap": {"name": "settings"}}]}},
        {"name": "auth", "secret": {"secretName": "auth", "defaultMode": 0o400,
                                    "items": [{"key": "token", "path": "header"}]}},
    ], OBJECTS)
    flows = volumes.paths["flows"]
    assert (flows / "flow.json").is_symlink() and os.readlink(flows / "flow.json") == "..data/flow.json"
    assert (flows / "flow.json").read_text() == "{}"
    assert stat.S_IMODE((flows / "..data" / "flow.json").resolve().stat().st_mode) == 0o444
    assert sorted(p.name for p in volumes.paths["auth"].iterdir() if not p.name.startswith("..")) == ["header"]
    assert stat.S_IMODE(volumes.paths["tmp"].stat().st_mode) == 0o777
    mounts = volumes.mounts("Deployment x", {"volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                                                               {"name": "flows", "mountPath": "/app/flows",
                                                                "readOnly": True}]})
    assert [(m.target, m.read_only) for m in mounts] == [("/tmp", False), ("/app/flows", True)]
    with pytest.raises(PodSpecError, match="volumeMount 'gone' names no volume"):
        volumes.mounts("Deployment x", {"volumeMounts": [{"name": "gone", "mountPath": "/x"}]})


def test_identity_command_and_limits() -> None:
    pod = {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000}}
    assert identity(pod, {"securityContext": {"runAsUser": 1001}}) == (1001, 1000, [1000])
    assert command({}, {}, LANGFLOW_IMAGE) == ["langflow", "run"]
    assert command({"args": ["--port", "$(P)"]}, {"P": "1"}, LANGFLOW_IMAGE) == ["--port", "1"]
    assert command({"command": ["python", "x.py"], "args": ["a"]}, {}, LANGFLOW_IMAGE) == ["python", "x.py", "a"]
    assert memory_limit({"resources": {"limits": {"memory": "2Gi"}}}) == 2 * 2**30
    assert memory_limit({"resources": {"limits": {"memory": "512M"}}}) == 512 * 10**6
    assert memory_limit({}) is None
