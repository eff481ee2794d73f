"""Every pod up to the `restricted` Pod Security Standard, and every object as the API server stores it.

cdk8s-plus-27 builds the library's objects; what it cannot express is closed here, in one pass when
the app synthesizes (`Hardening.apply`: `langflow_cdk8s.App` runs it before it writes, the charts'
`to_json()` before they render, so `cdk8s.Testing.synth` agrees). The pass renders every object that
runs pods or is a Service once, the library's and those a user added through the cdk8s-plus API
or the k8s bindings alike, and patches exactly the fields that differ from the rules:

- `harden`: seccompProfile, capabilities drop ALL, no privilege escalation, non-root, read-only
  root, no service links or token, for the pod and every container and init container. What no
  patch can bring to `restricted` (a hostPath volume, a host port or namespace, uid 0) fails
  synthesis with the object, the field and the fix.
- `canonical.drift`: what the API server would store differently (canonical quantities, the zero
  values cdk8s-plus writes and the server drops).
- checkov's skip annotations, derived from the pod as it is (`checkov_skips`).

`Gaps` are the structural fields the library's own workloads need and cdk8s-plus cannot write
(topology spread, revision history, claim templates, dict-defined volumes), added when it builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cdk8s
from cdk8s_plus_27 import k8s

import constructs

from ..errors import ConfigError
from .canonical import drift, pointer
from .values import patch_add, patch_remove

RUN_AS_USER = 1000
"""The uid/gid of the official Langflow images (and the official charts)."""

POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "fsGroup": RUN_AS_USER,
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""What every pod gets; cdk8s-plus writes all but seccompProfile."""

ENFORCED_POD_SECURITY: dict[str, Any] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
"""What no pod may differ in, whoever built it."""

CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""What every container and init container gets; cdk8s-plus cannot write capabilities or seccompProfile."""

POD_FIELDS: dict[str, Any] = {"enableServiceLinks": False, "automountServiceAccountToken": False}
"""Service links off: a Service named `langflow` would otherwise inject LANGFLOW_PORT=tcp://… and crash Langflow."""

RESTRICTED_VOLUME_SOURCES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                       "persistentVolumeClaim", "projected", "secret"})
"""The volume types the `restricted` Pod Security Standard admits."""

TEMPLATE = ("spec", "template", "spec")


class Gaps:
    """What one object needs beyond cdk8s-plus: object fields and appended list items, as patches."""

    def __init__(self, api_object: cdk8s.ApiObject) -> None:
        self.api_object = api_object
        self._patches: list[cdk8s.JsonPatch] = []

    def spec(self, field: str, value: Any) -> None:
        """A field of the controller spec, e.g. revisionHistoryLimit or volumeClaimTemplates."""
        self._patches.append(patch_add(pointer("spec", field), value))

    def pod(self, field: str, value: Any) -> None:
        """A field of the pod spec that only this library sets, e.g. topologySpreadConstraints."""
        self._patches.append(patch_add(pointer(*TEMPLATE, field), value))

    def append(self, field: str, item: Mapping[str, Any], container: tuple[str, int] | None = None) -> None:
        """An item appended to a pod list (volumes, containers, initContainers), or to a list of the
        container at `container` (("containers", 0): volumeMounts); other items are left alone."""
        where = (*TEMPLATE, *container, field) if container is not None else (*TEMPLATE, field)
        self._patches.append(patch_add(pointer(*where) + "/-", dict(item)))

    def remove(self, *path: str) -> None:
        """Removes one field cdk8s-plus writes and this library must not (given as path parts)."""
        self._patches.append(patch_remove(pointer(*path)))

    def apply(self) -> None:
        if self._patches:
            self.api_object.add_json_patch(*self._patches)


POD_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": TEMPLATE, "StatefulSet": TEMPLATE, "DaemonSet": TEMPLATE, "ReplicaSet": TEMPLATE, "Job": TEMPLATE,
    "Pod": ("spec",), "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each kind that runs pods keeps its pod spec."""

CHECKED_CLASSES = (k8s.KubeDeployment, k8s.KubeStatefulSet, k8s.KubeDaemonSet, k8s.KubeReplicaSet, k8s.KubeJob,
                   k8s.KubePod, k8s.KubeCronJob, k8s.KubeService)
"""The k8s bindings of what runs pods, and of Services (whose empty externalIPs cdk8s-plus writes):
what cdk8s-plus builds them with, and what a user may create directly."""
CHECKED_KINDS = frozenset({*POD_PATHS, "Service"})
"""The same kinds, for plain cdk8s.ApiObjects."""


@dataclass(frozen=True)
class Refusal:
    """What no patch can bring to `restricted`: the problem, whether Pod Security `baseline` refuses
    it too (root it does not: the runAsNonRoot set on every pod here makes the kubelet refuse it at
    start), and the fix."""

    what: str
    baseline_refuses: bool
    fix: str

    def problem(self, env: str, level: str) -> str:
        if level == "restricted":
            return f"{self.what}; the restricted profile refuses it"
        if self.baseline_refuses:
            return f"{self.what}: Pod Security {level!r}, enforced in environment {env!r}, refuses it"
        return (f"{self.what}: with runAsNonRoot, set on every pod here, the kubelet refuses to start it "
                f"(environment {env!r} enforces Pod Security {level!r})")


class Hardening:
    """One environment's synthesis pass (see module docstring). Not a construct validation: cdk8s
    validations only report. `level`: the Pod Security level the environment enforces, named in refusals."""

    def __init__(self, env: str, level: str) -> None:
        self.env = env
        self.level = level

    def apply(self, scope: constructs.Construct) -> None:
        """Renders and patches every object under `scope` that runs pods or is a Service; raises
        the first thing no patch fixes. A second pass finds nothing to patch."""
        for api_object in scope.node.find_all():
            if isinstance(api_object, CHECKED_CLASSES):
                self._correct(api_object, api_object.to_json(), bindings=True)
            elif type(api_object) is cdk8s.ApiObject and api_object.kind in CHECKED_KINDS:
                self._correct(api_object, api_object.to_json(), bindings=False)

    def _correct(self, api_object: cdk8s.ApiObject, manifest: Mapping[str, Any], *, bindings: bool) -> None:
        """`bindings`: a k8s binding, which holds quantities as its own type (a plain ApiObject holds strings)."""
        kind = manifest["kind"]
        where = f"environment {self.env!r}, {kind} {manifest['metadata']['name']}"
        path = POD_PATHS.get(kind)
        patches = drift(manifest, path, bindings=bindings)
        if path is not None:
            hardening, refusals = harden(manifest, path)
            if refusals:
                raise ConfigError(where, refusals[0].problem(self.env, self.level), refusals[0].fix)
            _check_probes(where, manifest, path)
            patches += hardening
            for key, value in stale_skips(manifest, path).items():
                api_object.metadata.add_annotation(key, value)
        if patches:
            api_object.add_json_patch(*patches)


PROBED_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"})
"""Long-running pods: each container needs readiness and liveness probes (Jobs run to completion)."""


def _check_probes(where: str, manifest: Mapping[str, Any], path: tuple[str, ...]) -> None:
    """A long-running container without readiness and liveness probes (a sidecar or workload added
    through the cdk8s-plus API) gets traffic before it is ready and is never restarted when stuck;
    checkov's gate would fail on it later, so synthesis says so now, where it can be fixed."""
    if manifest["kind"] not in PROBED_KINDS:
        return
    for container in pod_spec(manifest, path)["containers"]:
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            name = container["name"]
            raise ConfigError(f"{where}, container {name!r}", f"has no {' and no '.join(missing)}",
                              f"give {name!r} probes where you add it: add_container(..., readiness=kplus.Probe."
                              "from_tcp_socket(port=<its port>), liveness=...) as in the README's sidecar, or "
                              "`probes` in a PodOptions.sidecars dict")


def stale_skips(manifest: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, str]:
    """The checkov skip annotations that differ from what the object's pod calls for."""
    annotations = manifest["metadata"].get("annotations", {})
    return {key: value for key, value in checkov_skips(pod_spec(manifest, path)).items() if annotations.get(key) != value}


ROOT_FIX = (f"run it as a non-root uid: remove runAsUser 0 (every pod here runs as uid {RUN_AS_USER} unless you set "
            "another uid), or use an image built to run without root")
VOLUME_FIX = "use emptyDir, configMap, secret, projected or a claim"


def harden(manifest: Mapping[str, Any], path: tuple[str, ...] = TEMPLATE,
           ) -> tuple[list[cdk8s.JsonPatch], list[Refusal]]:
    """The patches that bring one rendered object's pod (at `path`) up to `restricted`, and what no patch can fix."""
    patches: list[cdk8s.JsonPatch] = []
    refusals: list[Refusal] = []
    pod = pod_spec(manifest, path)
    for field, value in POD_FIELDS.items():
        if pod.get(field) != value:
            patches.append(patch_add(pointer(*path, field), value))
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            refusals.append(Refusal(f"{host} is true", True, f"remove {host}: pods here use their own network and process namespaces"))
    context = pod.get("securityContext")
    if context is None:
        patches.append(patch_add(pointer(*path, "securityContext"), POD_SECURITY_CONTEXT))
    else:
        for field, value in ENFORCED_POD_SECURITY.items():
            if context.get(field) != value:
                patches.append(patch_add(pointer(*path, "securityContext", field), value))
        if context.get("runAsUser") == 0:
            refusals.append(Refusal("securityContext.runAsUser is 0 (root)", False, ROOT_FIX))
    for kind in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(kind, [])):
            patches += _harden_container(container, (*path, kind, index))
            refusals += _container_refusals(kind, container)
    for volume in pod.get("volumes", []):
        sources = set(volume) - {"name"}
        if not sources <= RESTRICTED_VOLUME_SOURCES:
            refusals.append(Refusal(f"volume {volume['name']!r} is of type {', '.join(sorted(sources))}", True, VOLUME_FIX))
    return patches, refusals


def pod_spec(manifest: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The pod spec of a rendered object that runs pods, at `path` (POD_PATHS[kind])."""
    pod: Any = manifest
    for part in path:
        pod = pod[part]
    return pod


def _harden_container(container: Mapping[str, Any], path: tuple[str | int, ...]) -> list[cdk8s.JsonPatch]:
    context = container.get("securityContext")
    if context is None:
        return [patch_add(pointer(*path, "securityContext"), CONTAINER_SECURITY_CONTEXT)]
    return [patch_add(pointer(*path, "securityContext", field), value)
            for field, value in CONTAINER_SECURITY_CONTEXT.items() if context.get(field) != value]


def _container_refusals(kind: str, container: Mapping[str, Any]) -> list[Refusal]:
    refusals = []
    if (container.get("securityContext") or {}).get("runAsUser") == 0:
        refusals.append(Refusal(f"{kind} {container['name']!r} runs as uid 0 (root)", False, ROOT_FIX))
    if any("hostPort" in port for port in container.get("ports", [])):
        refusals.append(Refusal(f"{kind} {container['name']!r} asks for a host port", True,
                                "remove hostPort and reach the container through a Service"))
    return refusals


# checkov: the checks a workload deliberately does not meet, each with its reason. The skips are
# derived from the rendered pod at synthesis, so they disappear when their cause does (pin an image
# by digest and CKV_K8S_43/15 go away). tests/test_gate_policy.py pins this list: adding a skip is
# a reviewed decision.

REASONS = {
    "CKV_K8S_40": f"this library runs its pods as uid {RUN_AS_USER}, the uid the official Langflow images are built for",
    "CKV_K8S_35": "Langflow reads its settings and credentials from environment variables only",
    "CKV_K8S_43": "pinned to a release tag; pin a digest (Image(digest) here, image@sha256:... elsewhere) to fix the content too",
    "CKV_K8S_15": "IfNotPresent is safe with a pinned release tag; a digest-pinned image passes",
}
"""checkov check id -> why a workload does not meet it. Reasons must not contain '='."""

LANGFLOW_CONTAINERS = frozenset({"langflow", "lfx", "prepare-database", "fetch-flows"})
"""The library's containers that run the Langflow image (whichever `Image` a user gives it)."""


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _pinned_tag(image: str) -> bool:
    """A tag other than `latest` (a moving tag is never an excuse)."""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] != "latest"


def checkov_skips(pod: dict[str, Any]) -> dict[str, str]:
    """checkov's skip annotations (`checkov.io/skipN: ID=reason`) for a workload with this pod spec:
    a check is skipped only where its reason is true of this pod, so a user's own workload (no uid
    of the library's, no Langflow container, a moving tag) gets no skip and checkov judges it."""
    containers = _containers(pod)
    skipped = []
    context = pod.get("securityContext")
    if context is None or context.get("runAsUser") == RUN_AS_USER:  # none: `harden` gives it POD_SECURITY_CONTEXT
        skipped.append("CKV_K8S_40")
    reading = [c for c in containers if any("secretKeyRef" in e.get("valueFrom", {}) for e in c.get("env", []))
               or any("secretRef" in e for e in c.get("envFrom", []))]
    if reading and all(c["name"] in LANGFLOW_CONTAINERS for c in reading):
        skipped.append("CKV_K8S_35")
    tagged = [c for c in containers if "@sha256:" not in c["image"]]
    if tagged and all(_pinned_tag(c["image"]) for c in tagged):
        skipped.append("CKV_K8S_43")
        if any(c.get("imagePullPolicy") != "Always" for c in tagged):
            skipped.append("CKV_K8S_15")
    return {f"checkov.io/skip{i}": f"{check}={REASONS[check]}" for i, check in enumerate(skipped, start=1)}
