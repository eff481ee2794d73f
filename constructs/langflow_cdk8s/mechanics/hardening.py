"""The one place that closes cdk8s-plus-27's gaps, with JSON patches on exactly the fields it cannot write.

Two kinds of patches, both only ever on single fields or appended list items (never a whole list
that users extend through the cdk8s-plus API, such as containers or volumes):

- `Gaps`, written when a workload is built: what the workload itself needs and cdk8s-plus cannot
  express (topology spread, revision history, claim templates, node selector, extra pull secrets,
  volumes of other types, dict-defined sidecars), and what `restricted` needs of the pod as built
  (seccompProfile, capabilities drop ALL, no service links), so a pod nobody changed is complete.
- `Hardening`, one per environment, run at synthesis: it reads every object that runs pods as
  cdk8s renders it and patches every pod and every container, including containers, init containers,
  volumes and whole workloads added later through the cdk8s-plus API, up to the `restricted` Pod Security Standard:
  seccompProfile, capabilities drop ALL, no privilege escalation, non-root, read-only root,
  no service links. What cannot be patched into compliance (a hostPath volume, a host port,
  uid 0) fails synthesis with the object and the field. Each pass patches only fields that differ,
  so running it again adds nothing.

  It is a construct validation, which cdk8s runs before it writes anything and before
  `Chart.to_json()`. Rendering a workload to read it costs Node about 2 ms, as much as writing it,
  so the app's synthesis (tooling/written.py) reads what cdk8s wrote instead, with the same `harden`,
  and writes again only if that patched something (`verified_after_writing`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import cdk8s
import constructs
import jsii
from cdk8s_plus_27 import k8s

from .values import patch_add, patch_remove, pointer

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

UNWRITTEN_CONTAINER_FIELDS = ("capabilities", "seccompProfile")
"""The container securityContext fields cdk8s-plus-27 has no prop for (it writes the rest by default)."""

POD_FIELDS: dict[str, Any] = {"enableServiceLinks": False, "automountServiceAccountToken": False, "hostNetwork": False}
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

    def restricted(self, *, init_containers: int, containers: int) -> None:
        """What `restricted` needs of this pod that cdk8s-plus-27 cannot write (see `harden`), for the
        containers it is built with: the synthesis pass then finds nothing to patch unless a user changed it."""
        self.pod("enableServiceLinks", POD_FIELDS["enableServiceLinks"])
        self._patches.append(patch_add(pointer(*TEMPLATE, "securityContext", "seccompProfile"),
                                       POD_SECURITY_CONTEXT["seccompProfile"]))
        for kind, count in (("initContainers", init_containers), ("containers", containers)):
            for index in range(count):
                for field in UNWRITTEN_CONTAINER_FIELDS:
                    self._patches.append(patch_add(pointer(*TEMPLATE, kind, index, "securityContext", field),
                                                   CONTAINER_SECURITY_CONTEXT[field]))

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

POD_CLASSES = (k8s.KubeDeployment, k8s.KubeStatefulSet, k8s.KubeDaemonSet, k8s.KubeReplicaSet, k8s.KubeJob,
               k8s.KubePod, k8s.KubeCronJob)
"""Their k8s bindings: what cdk8s-plus builds them with."""


@jsii.implements(constructs.IValidation)
class Hardening:
    """Patches every pod under `scope` up to `restricted` when cdk8s synthesizes (see module docstring):
    the library's workloads and any a user adds with cdk8s-plus or the k8s bindings."""

    _deferred = False
    """Set while the app's synthesis writes: it checks the written files instead (module docstring)."""

    def __init__(self, scope: constructs.Construct, where: str) -> None:
        self._scope = scope
        self.where = where

    def validate(self) -> list[str]:
        if Hardening._deferred:
            return []
        errors: list[str] = []
        for api_object in pod_objects(self._scope):
            manifest = api_object.to_json()
            errors += self.correct(api_object, manifest)
        return errors

    def correct(self, api_object: cdk8s.ApiObject, manifest: Mapping[str, Any]) -> list[str]:
        """Patches `api_object` (rendered as `manifest`) up to `restricted` and its checkov skips to
        its pod; returns what no patch can fix. Patches nothing when nothing differs."""
        path = POD_PATHS[manifest["kind"]]
        patches, problems = harden(manifest, path)
        if patches:
            api_object.add_json_patch(*patches)
        stale = stale_skips(manifest, path)
        if stale:
            metadata = api_object.metadata
            for key, value in stale.items():
                metadata.add_annotation(key, value)
        return [f"{self.where}: {manifest['kind']} {manifest['metadata']['name']}: {p}" for p in problems]


def pod_objects(scope: constructs.Construct) -> list[cdk8s.ApiObject]:
    """Every object under `scope` that runs pods (the objects cdk8s-plus builds are k8s bindings)."""
    return [c for c in scope.node.find_all() if isinstance(c, POD_CLASSES)]


def needs_correction(manifest: Mapping[str, Any], path: tuple[str, ...] | None = None) -> bool:
    """Whether `Hardening.correct` would patch or refuse this rendered object (never for a kind that
    runs no pods); `path` defaults to where its kind keeps the pod spec."""
    if path is None:
        if manifest["kind"] not in POD_PATHS:
            return False
        path = POD_PATHS[manifest["kind"]]
    patches, problems = harden(manifest, path)
    return bool(patches or problems or stale_skips(manifest, path))


def stale_skips(manifest: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, str]:
    """The checkov skip annotations that differ from what the object's pod calls for."""
    annotations = manifest["metadata"].get("annotations", {})
    return {key: value for key, value in checkov_skips(_pod(manifest, path)).items() if annotations.get(key) != value}


@contextlib.contextmanager
def verified_after_writing() -> Iterator[None]:
    """While cdk8s writes, the validation reads nothing: the caller checks the written files
    (`needs_correction`) and corrects and writes again where they need it."""
    Hardening._deferred = True
    try:
        yield
    finally:
        Hardening._deferred = False


def harden(manifest: Mapping[str, Any], path: tuple[str, ...] = TEMPLATE) -> tuple[list[cdk8s.JsonPatch], list[str]]:
    """The patches that bring one rendered object's pod (at `path`) up to `restricted`, and what no patch can fix."""
    patches: list[cdk8s.JsonPatch] = []
    problems: list[str] = []
    pod = _pod(manifest, path)
    for field, value in POD_FIELDS.items():
        if pod.get(field) != value:
            patches.append(patch_add(pointer(*path, field), value))
    context = pod.get("securityContext")
    if context is None:
        patches.append(patch_add(pointer(*path, "securityContext"), POD_SECURITY_CONTEXT))
    else:
        for field, value in ENFORCED_POD_SECURITY.items():
            if context.get(field) != value:
                patches.append(patch_add(pointer(*path, "securityContext", field), value))
        if context.get("runAsUser") == 0:
            problems.append("securityContext.runAsUser is 0 (root); the restricted profile refuses it")
    for kind in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(kind, [])):
            patches += _harden_container(container, (*path, kind, index))
            problems += _container_problems(kind, container)
    for volume in pod.get("volumes", []):
        sources = set(volume) - {"name"}
        if not sources <= RESTRICTED_VOLUME_SOURCES:
            problems.append(f"volume {volume['name']!r} is of type {', '.join(sorted(sources))}, which the "
                            "restricted profile refuses; use emptyDir, configMap, secret, projected or a claim")
    return patches, problems


def _pod(manifest: Mapping[str, Any], path: tuple[str, ...]) -> Any:
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


def _container_problems(kind: str, container: Mapping[str, Any]) -> list[str]:
    problems = []
    if (container.get("securityContext") or {}).get("runAsUser") == 0:
        problems.append(f"{kind} {container['name']!r} runs as uid 0 (root); the restricted profile refuses it")
    if any("hostPort" in port for port in container.get("ports", [])):
        problems.append(f"{kind} {container['name']!r} asks for a host port; the restricted profile refuses it")
    return problems


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

LANGFLOW_CONTAINERS = frozenset({"langflow", "prepare-database", "fetch-flows"})
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
