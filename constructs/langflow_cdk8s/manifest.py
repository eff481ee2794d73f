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
    if annotations:
        metadata["annotations"] = dict(sorted(annotations.items()))
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}
    env.register(manifest)
    api_object = cdk8s.ApiObject(scope if scope is not None else env, construct_id,
                                 api_version=api_version, kind=kind, metadata=metadata)
    api_object.add_json_patch(*(cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()))
    return manifest
