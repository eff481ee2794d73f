"""The app's synthesis (make synth, cdk8s synth, python main.py) checks hardening on the files cdk8s
wrote, and writes again only where a user's change needed a patch (tooling/written.py)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
import yaml
from langflow_cdk8s import Environment, EnvironmentProps, Flow, LangflowRuntime, LangflowRuntimeProps, Stage
from langflow_cdk8s.mechanics.hardening import POD_PATHS, needs_correction, verified_after_writing
from langflow_cdk8s.tooling.synth import new_app, synth
from support import QUOTA
from test_cdk8s_plus import every_option_on

import example_app

Extend = Callable[[Environment, LangflowRuntime], None]
TRIAGE = "Deployment.langflow-runtime-support-triage.k8s.yaml"


def synthesized(tmp_path: Path, extend: Extend) -> tuple[int, str, Path]:
    """Exit code, what synth printed, and the environment's folder, for the shipped flows plus `extend`."""
    def build(app: cdk8s.App) -> list[Environment]:
        env = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="ext", quota=QUOTA))
        extend(env, LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(example_app.FLOWS))))
        return [env]

    stream = io.StringIO()
    code = synth(build, outdir=str(tmp_path), stream=stream)
    return code, stream.getvalue(), tmp_path / "prod"


def pod_of(path: Path) -> dict[str, Any]:
    manifest = yaml.safe_load(path.read_text())
    spec: Any = manifest
    for part in POD_PATHS[manifest["kind"]]:
        spec = spec[part]
    return spec


def assert_restricted(pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["enableServiceLinks"] is False
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        context = container["securityContext"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        assert (context["privileged"], context["allowPrivilegeEscalation"]) == (False, False), container["name"]
        assert (context["readOnlyRootFilesystem"], context["runAsNonRoot"]) == (True, True), container["name"]


@pytest.mark.parametrize("build", [example_app.build, every_option_on], ids=["example", "every-option"])
def test_the_library_builds_pods_that_need_no_correction(tmp_path: Path, build: Callable[[cdk8s.App], Any]) -> None:
    """What makes the synthesis pass cheap: nothing the library builds is patched after writing."""
    app = new_app(str(tmp_path))
    build(app)
    with verified_after_writing():
        app.synth()
    written = [path for path in tmp_path.glob("*/*.k8s.yaml") if path.name.split(".", 1)[0] in POD_PATHS]
    assert len(written) >= 4  # the example: the IDE backend and three runtime flows
    for path in written:
        manifest = yaml.safe_load(path.read_text())
        assert not needs_correction(manifest, POD_PATHS[manifest["kind"]]), path.name
        assert_restricted(pod_of(path))


def test_containers_a_user_adds_are_hardened_in_the_written_files(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        unit = runtime.workloads["support-triage"].workload
        unit.add_init_container(name="wait", image="busybox:1.36", command=["true"])
        unit.add_container(name="sidecar", image="busybox:1.36", security_context=kplus.ContainerSecurityContextProps(
            privileged=True, allow_privilege_escalation=True, read_only_root_filesystem=False, ensure_non_root=False))

    code, printed, folder = synthesized(tmp_path, extend)
    assert code == 0, printed
    pod = pod_of(folder / TRIAGE)
    assert [c["name"] for c in pod["containers"]] == ["langflow", "sidecar"]
    assert "wait" in [c["name"] for c in pod["initContainers"]]
    assert_restricted(pod)


def test_a_plain_api_object_workload_is_found_and_hardened(tmp_path: Path) -> None:
    """Not a cdk8s-plus object nor a k8s binding: found by its kind and name in the construct tree."""
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        raw = cdk8s.ApiObject(env, "raw", api_version="apps/v1", kind="Deployment",
                              metadata=cdk8s.ApiObjectMetadata(name="raw"))
        raw.add_json_patch(cdk8s.JsonPatch.add("/spec", {
            "selector": {"matchLabels": {"app": "raw"}},
            "template": {"metadata": {"labels": {"app": "raw"}},
                         "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]}}}))

    code, printed, folder = synthesized(tmp_path, extend)
    assert code == 0, printed
    assert_restricted(pod_of(folder / "Deployment.raw.k8s.yaml"))
    annotations = yaml.safe_load((folder / "Deployment.raw.k8s.yaml").read_text())["metadata"]["annotations"]
    assert annotations["checkov.io/skip1"].startswith("CKV_K8S_40=")


def test_what_no_patch_can_fix_fails_the_app_synthesis_as_the_validation_does(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        runtime.workloads["support-triage"].workload.add_volume(
            kplus.Volume.from_host_path(env, "host", "host", path="/var/run"))

    code, printed, _ = synthesized(tmp_path, extend)
    assert code == 2
    assert printed.splitlines()[0] == (
        "error: [prod] environment 'prod': Deployment langflow-runtime-support-triage: volume 'host' is of type "
        "hostPath, which the restricted profile refuses; use emptyDir, configMap, secret, projected or a claim")


def test_the_summary_quota_check_reads_what_a_user_added(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        runtime.workloads["support-triage"].workload.add_container(
            name="heavy", image="busybox:1.36", resources=kplus.ContainerResources(
                cpu=kplus.CpuResources(request=kplus.Cpu.units(90), limit=kplus.Cpu.units(90)),
                memory=kplus.MemoryResources(request=cdk8s.Size.gibibytes(1), limit=cdk8s.Size.gibibytes(1))))

    code, printed, _ = synthesized(tmp_path, extend)
    assert code == 0, printed
    assert "warning: quota requests.cpu" in printed


def test_an_environment_build_did_not_return_is_checked_too(tmp_path: Path) -> None:
    def build(app: cdk8s.App) -> list[Environment]:
        shown = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="ext", quota=QUOTA))
        hidden = Environment(app, "hidden", EnvironmentProps(stage=Stage.PRODUCTION, namespace="hid", quota=QUOTA))
        job = kplus.Job(hidden, "job", metadata=cdk8s.ApiObjectMetadata(name="job"))
        job.add_container(name="task", image="busybox:1.36", security_context=kplus.ContainerSecurityContextProps(
            privileged=True, ensure_non_root=False))
        return [shown]

    assert synth(build, outdir=str(tmp_path), stream=io.StringIO()) == 0
    assert_restricted(pod_of(tmp_path / "hidden" / "Job.job.k8s.yaml"))
