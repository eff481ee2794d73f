"""One hardening pass at synthesis (mechanics/hardening.py): every pod-running object, the library's
and what a user adds through the cdk8s-plus API, comes out `restricted` and as the API server stores
it, whichever way synthesis is started."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import example_app
import pytest
import yaml
from shared_apps import every_option_on
from support import QUOTA

from langflow_cdk8s import Environment, EnvironmentProps, Flow, LangflowRuntime, LangflowRuntimeProps, Stage
from langflow_cdk8s.mechanics.canonical import drift
from langflow_cdk8s.mechanics.hardening import POD_PATHS, harden
from langflow_cdk8s.tooling.synth import new_app, synth

Extend = Callable[[Environment, LangflowRuntime], None]
PROBES = {"readiness": kplus.Probe.from_command(["true"]), "liveness": kplus.Probe.from_command(["true"])}
"""What a long-running container needs (synthesis refuses one without probes)."""
TRIAGE = "Deployment.langflow-runtime-support-triage.k8s.yaml"
PROBES = {"readiness": kplus.Probe.from_command(["true"]), "liveness": kplus.Probe.from_command(["true"])}
"""What a container a user adds needs besides (synthesis refuses one without probes)."""


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
def test_what_is_written_is_final(tmp_path: Path, build: Callable[[cdk8s.App], Any]) -> None:
    """A second pass over the written objects finds nothing to patch and nothing to refuse."""
    app = new_app(str(tmp_path))
    build(app)
    app.synth()
    written = [path for path in tmp_path.glob("*/*.k8s.yaml") if path.name.split(".", 1)[0] in POD_PATHS]
    assert len(written) >= 4  # the example: the IDE backend and three runtime flows
    for path in written:
        manifest = yaml.safe_load(path.read_text())
        patches, problems = harden(manifest, POD_PATHS[manifest["kind"]])
        assert (patches, problems) == ([], []), path.name
        assert drift(manifest, POD_PATHS[manifest["kind"]]) == [], path.name
        assert_restricted(pod_of(path))


def test_synthesis_paths_agree_byte_for_byte(tmp_path: Path) -> None:
    """What `make synth`, `cdk8s synth` and `python main.py` write (tooling.synth) is what
    `cdk8s.Testing.synth` renders, also for a container and a whole workload a user added."""
    def build(app: cdk8s.App) -> list[Environment]:
        env = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="ext", quota=QUOTA))
        runtime = LangflowRuntime(env, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(example_app.FLOWS)))
        runtime.workloads["support-triage"].workload.add_container(name="sidecar", image="busybox:1.36", **PROBES)
        kplus.Deployment(env, "user", metadata=cdk8s.ApiObjectMetadata(name="user"),
                         containers=[kplus.ContainerProps(image="busybox:1.36", **PROBES)])
        return [env]

    assert synth(build, outdir=str(tmp_path / "out"), stream=io.StringIO()) == 0
    app = cdk8s.Testing.app()
    [env] = build(app)
    rendered = cdk8s.Testing.synth(env)
    files = sorted((tmp_path / "out" / "prod").glob("*.k8s.yaml"))
    assert len(files) == len(rendered)
    by_name = {f"{o['kind']}.{o['metadata']['name']}.k8s.yaml": cdk8s.Yaml.stringify(o) for o in rendered}
    for path in files:
        assert path.read_text() == by_name[path.name], path.name
    assert_restricted(pod_of(tmp_path / "out" / "prod" / "Deployment.user.k8s.yaml"))


def test_a_plain_cdk8s_app_is_told_to_use_ours(tmp_path: Path) -> None:
    """cdk8s.App.synth() runs no completion: the environment reports it instead of writing unhardened pods."""
    app = cdk8s.App(outdir=str(tmp_path), yaml_output_type=cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE)
    Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="ext", quota=QUOTA))
    with pytest.raises(RuntimeError, match="create the app with langflow_cdk8s.App"):
        app.synth()


def test_containers_a_user_adds_are_hardened_in_the_written_files(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        unit = runtime.workloads["support-triage"].workload
        unit.add_init_container(name="wait", image="busybox:1.36", command=["true"])
        unit.add_container(name="sidecar", image="busybox:1.36", security_context=kplus.ContainerSecurityContextProps(
            privileged=True, allow_privilege_escalation=True, read_only_root_filesystem=False, ensure_non_root=False),
            **PROBES)

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
                         "spec": {"containers": [{"name": "main", "image": "busybox:1.36",
                                                  "readinessProbe": {"exec": {"command": ["true"]}},
                                                  "livenessProbe": {"exec": {"command": ["true"]}}}]}}}))

    code, printed, folder = synthesized(tmp_path, extend)
    assert code == 0, printed
    assert_restricted(pod_of(folder / "Deployment.raw.k8s.yaml"))
    annotations = yaml.safe_load((folder / "Deployment.raw.k8s.yaml").read_text())["metadata"]["annotations"]
    assert annotations["checkov.io/skip1"].startswith("CKV_K8S_40=")


def test_what_no_patch_can_fix_fails_synthesis_in_two_lines(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        runtime.workloads["support-triage"].workload.add_volume(
            kplus.Volume.from_host_path(env, "host", "host", path="/var/run"))

    code, printed, folder = synthesized(tmp_path, extend)
    assert code == 2
    assert printed.splitlines()[0] == (
        "error: environment 'prod', Deployment langflow-runtime-support-triage: volume 'host' is of type hostPath; "
        "the restricted profile refuses it")
    assert printed.splitlines()[1] == "  fix: use emptyDir, configMap, secret, projected or a claim"
    assert len(printed.splitlines()) == 2
    assert not folder.exists()


def test_the_summary_quota_check_reads_what_a_user_added(tmp_path: Path) -> None:
    def extend(env: Environment, runtime: LangflowRuntime) -> None:
        runtime.workloads["support-triage"].workload.add_container(
            name="heavy", image="busybox:1.36", resources=kplus.ContainerResources(
                cpu=kplus.CpuResources(request=kplus.Cpu.units(90), limit=kplus.Cpu.units(90)),
                memory=kplus.MemoryResources(request=cdk8s.Size.gibibytes(1), limit=cdk8s.Size.gibibytes(1))), **PROBES)

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
