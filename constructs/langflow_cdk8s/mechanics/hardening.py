"""The one place that closes cdk8s-plus-27's gaps, with JSON patches on exactly the fields it cannot write.

Two kinds of patches, both only ever on single fields or appended list items (never a whole list
that users extend through the cdk8s-plus API, such as containers or volumes):

- `Gaps`, written when a workload is built: what the workload itself needs and cdk8s-plus cannot
  express (topology spread, revision history, claim templates, node selector, extra pull secrets,
  volumes of other types, dict-defined sidecars).
- `Hardening`, one per environment, run at synthesis (it is a construct validation, which cdk8s runs
  before it writes anything, and before `Chart.to_json()`): it reads every object that runs pods as
  cdk8s renders it and patches every pod and every container, including containers, init containers,
  volumes and whole workloads added later through the cdk8s-plus API, up to the `restricted` Pod Security Standard:
  seccompProfile, capabilities drop ALL, no privilege escalation, non-root, read-only root,
  no service links. What cannot be patched into compliance (a hostPath volume, a host port,
  uid 0) fails synthesis with the object and the field. Each pass patches only fields that differ,
  so running it again adds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def remove(self, *path: str) -> None:
        """Removes one field cdk8s-plus writes and this library must not (given as path parts)."""
        self._patches.append(patch_remove(pointer(*path)))

    def apply(self) -> None:
        if self._patches:
            self.api_object.add_json_patch(*self._patches)


POD_PATHS: dict[type, tuple[str, ...]] = {
    k8s.KubeDeployment: TEMPLATE, k8s.KubeStatefulSet: TEMPLATE, k8s.KubeDaemonSet: TEMPLATE,
    k8s.KubeReplicaSet: TEMPLATE, k8s.KubeJob: TEMPLATE, k8s.KubePod: ("spec",),
    k8s.KubeCronJob: ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each kind that runs pods keeps its pod spec (the objects cdk8s-plus builds are these bindings)."""


@jsii.implements(constructs.IValidation)
class Hardening:
    """Patches every pod under `scope` up to `restricted` when cdk8s synthesizes (see module docstring):
    the library's workloads and any a user adds with cdk8s-plus or the k8s bindings."""

    def __init__(self, scope: constructs.Construct, where: str) -> None:
        self._scope = scope
        self._where = where

    def validate(self) -> list[str]:
        errors: list[str] = []
        kinds = tuple(POD_PATHS)
        for api_object in self._scope.node.find_all():
            if not isinstance(api_object, kinds):
                continue
            manifest = api_object.to_json()
            patches, problems = harden(manifest, POD_PATHS[type(api_object)])
            if patches:
                api_object.add_json_patch(*patches)
            annotations = manifest["metadata"].get("annotations", {})
            stale = {key: value for key, value in checkov_skips(_pod(manifest, POD_PATHS[type(api_object)])).items()
                     if annotations.get(key) != value}
            if stale:
                metadata = api_object.metadata
                for key, value in stale.items():
                    metadata.add_annotation(key, value)
            errors += [f"{self._where}: {manifest['kind']} {manifest['metadata']['name']}: {p}" for p in problems]
        return errors


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
    "CKV_K8S_40": f"the official Langflow images are built for uid {RUN_AS_USER}",
    "CKV_K8S_35": "Langflow reads its settings and credentials from environment variables only",
    "CKV_K8S_43": "pinned to an immutable release tag; pin a digest with Image(digest) to fix the content too",
    "CKV_K8S_15": "IfNotPresent is safe with an immutable release tag; a digest-pinned image passes",
}
"""checkov check id -> why this library does not meet it. Reasons must not contain '='."""


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def checkov_skips(pod: dict[str, Any]) -> dict[str, str]:
    """checkov's skip annotations (`checkov.io/skipN: ID=reason`) for a workload with this pod spec."""
    containers = _containers(pod)
    skipped = []
    if (pod.get("securityContext") or {}).get("runAsUser", 0) < 10000:
        skipped.append("CKV_K8S_40")
    if any("secretKeyRef" in e.get("valueFrom", {}) for c in containers for e in c.get("env", [])) or any(
            "secretRef" in e for c in containers for e in c.get("envFrom", [])):
        skipped.append("CKV_K8S_35")
    if any("@sha256:" not in c["image"] for c in containers):
        skipped += ["CKV_K8S_43", "CKV_K8S_15"]
    return {f"checkov.io/skip{i}": f"{check}={REASONS[check]}" for i, check in enumerate(skipped, start=1)}
