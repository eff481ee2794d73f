"""Metadata every object gets: its namespace, sorted labels, and the Argo CD sync wave of its kind."""

from __future__ import annotations

from collections.abc import Mapping

import cdk8s
from cdk8s_plus_27 import k8s

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
    "ConfigMap": 0, "Service": 0, "ReferenceGrant": 0,
    # Secrets External Secrets Operator materializes: Argo CD waits for each to be Ready (its health
    # check), so no pod starts before the Secret it reads exists.
    "ExternalSecret": 0,
    # Workloads, once everything above is applied and healthy.
    "Deployment": 1, "StatefulSet": 1,
    # What acts on running workloads: scaling, disruption budgets, and last, traffic.
    "HorizontalPodAutoscaler": 2, "PodDisruptionBudget": 2, "Ingress": 2, "Gateway": 2, "HTTPRoute": 2,
    # Scraping, once there are pods to scrape.
    "PodMonitor": 2, "ServiceMonitor": 2,
    # dist/argocd/: projects before the Applications that name them.
    "AppProject": -1, "Application": 0,
}
"""Argo CD applies one wave at a time and waits until it is healthy before starting the next."""


def sync_wave(kind: str) -> str:
    """The Argo CD sync wave of a kind, as the annotation value. A kind without a wave is an error,
    not wave 0: each new kind needs a decision about what it must come after."""
    if kind not in SYNC_WAVES:
        raise LookupError(f"no Argo CD sync wave for kind {kind!r}: add it to SYNC_WAVES in langflow_cdk8s/mechanics/waves.py")
    return str(SYNC_WAVES[kind])


def metadata(kind: str, name: str, *, namespace: str | None, labels: Mapping[str, str],
             annotations: Mapping[str, str] | None = None) -> cdk8s.ApiObjectMetadata:
    """An object's metadata: its name, its namespace unless the kind is cluster-scoped, sorted labels,
    and annotations with the kind's sync wave."""
    return cdk8s.ApiObjectMetadata(
        name=name, namespace=None if kind in CLUSTER_SCOPED else namespace, labels=dict(sorted(labels.items())),
        annotations=dict(sorted({**(annotations or {}), SYNC_WAVE: sync_wave(kind)}.items())))


def object_meta(kind: str, name: str, *, namespace: str | None, labels: Mapping[str, str],
                annotations: Mapping[str, str] | None = None) -> k8s.ObjectMeta:
    """`metadata(...)` for the bundled k8s bindings (kinds cdk8s-plus has no construct for)."""
    return k8s.ObjectMeta(
        name=name, namespace=None if kind in CLUSTER_SCOPED else namespace, labels=dict(sorted(labels.items())),
        annotations=dict(sorted({**(annotations or {}), SYNC_WAVE: sync_wave(kind)}.items())))
