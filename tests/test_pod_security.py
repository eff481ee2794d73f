"""Every pod this project emits passes the Pod Security Standards' `restricted` profile, field by
field, in every environment main.py defines (development only enforces `baseline`, but warns and
audits at `restricted`)."""

import pytest
from conftest import Synthesis, environment_folders, reference

from langflow_cdk8s.tooling.inventory import pod_specs

PODS = [(obj["metadata"]["name"], folder) for folder in environment_folders(reference())
        for obj, _ in pod_specs(reference().objects(folder))]


def pod_of(ref: Synthesis, folder: str, name: str) -> dict:
    return next(spec for obj, spec in pod_specs(ref.objects(folder)) if obj["metadata"]["name"] == name)


@pytest.mark.parametrize("name, folder", PODS, ids=[f"{f}/{n}" for n, f in PODS])
def test_pod_meets_the_restricted_profile(ref: Synthesis, name: str, folder: str) -> None:
    spec = pod_of(ref, folder, name)
    # Host namespaces, ports and paths.
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    assert not any("hostPath" in volume for volume in spec.get("volumes", []))
    # Pod-level identity and seccomp.
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"].get("runAsUser") != 0, "runs as root"
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    # No token unless needed (nothing here talks to the API server), no service links.
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    # The library's pods have their own ServiceAccount; one of yours may use `default` (no token is mounted).
    ours = next(obj for obj, pod in pod_specs(ref.objects(folder)) if obj["metadata"]["name"] == name)
    if ours["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "langflow":
        assert spec.get("serviceAccountName", "default") != "default"
    allowed_volumes = {"configMap", "emptyDir", "projected", "secret", "persistentVolumeClaim"}
    for volume in spec.get("volumes", []):
        assert set(volume) - {"name"} <= allowed_volumes, volume
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["privileged"] is False, container["name"]
        assert context["runAsNonRoot"] is True, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        assert not any("hostPort" in port for port in container.get("ports", [])), container["name"]


def test_every_environment_has_pods_to_check() -> None:
    assert {folder for _, folder in PODS} == set(environment_folders(reference()))
