"""Emits one Kubernetes object from plain data, with as few jsii round-trips as cdk8s allows.

Every object this library writes goes through `emit`: it fixes the namespace, records the object
in its Environment (for quotas, policies, Argo CD whitelists and the synthesis summary) and hands
cdk8s one ApiObject plus one JSON patch carrying the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cdk8s

if TYPE_CHECKING:
    from .environment import Environment

CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "IngressClass"})

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
COMPARE_OPTIONS = "argocd.argoproj.io/compare-options"
IGNORE_EXTRANEOUS = "IgnoreExtraneous"
"""On content-named, immutable ConfigMaps: once Git no longer has one (its content changed, so its
name did), Argo CD leaves it out of the sync status instead of reporting OutOfSync until someone
prunes. It stays live for pods of earlier ReplicaSets (rollback), and a person prunes it when they choose."""
SYNC_WAVES: dict[str, int] = {
    # The namespace first: its Pod Security labels must be enforced before any pod is admitted.
    "Namespace": -2,
    # What governs pods before one exists: identities, RBAC, default-deny networking, quota and defaults.
    "ServiceAccount": -1, "Role": -1, "RoleBinding": -1, "NetworkPolicy": -1, "ResourceQuota": -1,
    "LimitRange": -1,
    # Configuration and stable addresses that workloads read when they start.
    "ConfigMap": 0, "Service": 0,
    # Workloads, once everything above is applied and healthy.
    "Deployment": 1, "StatefulSet": 1,
    # What acts on running workloads: scaling, disruption budgets, and last, traffic.
    "HorizontalPodAutoscaler": 2, "PodDisruptionBudget": 2, "Ingress": 2,
    # dist/argocd/: projects before the Applications that name them.
    "AppProject": -1, "Application": 0,
}
"""Argo CD applies one wave at a time and waits until it is healthy before starting the next."""


def sync_wave(kind: str) -> str:
    """The Argo CD sync wave of a kind, as the annotation value. A kind without a wave is an error,
    not wave 0: each new kind needs a decision about what it must come after."""
    if kind not in SYNC_WAVES:
        raise LookupError(f"no Argo CD sync wave for kind {kind!r}: add it to SYNC_WAVES in langflow_cdk8s/manifest.py")
    return str(SYNC_WAVES[kind])


def emit(env: "Environment", construct_id: str, *, api_version: str, kind: str, name: str,
         labels: dict[str, str], body: dict[str, Any], annotations: dict[str, str] | None = None,
         scope: Any = None) -> dict[str, Any]:
    """Creates the object under `scope` (default: the environment) and returns its manifest.

    The returned dict is the exact content cdk8s writes, so tests and environment-level checks
    read it without asking jsii.
    """
    metadata: dict[str, Any] = {"name": name}
    if kind not in CLUSTER_SCOPED:
        metadata["namespace"] = env.namespace_name
    metadata["labels"] = dict(sorted(labels.items()))
    metadata["annotations"] = dict(sorted({**(annotations or {}), SYNC_WAVE: sync_wave(kind)}.items()))
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}
    env.register(manifest)
    api_object = cdk8s.ApiObject(scope if scope is not None else env, construct_id,
                                 api_version=api_version, kind=kind, metadata=metadata)
    api_object.add_json_patch(*(cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()))
    return manifest
