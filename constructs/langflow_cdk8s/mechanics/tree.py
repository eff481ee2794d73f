"""The Kubernetes objects under a construct, read from the construct tree without rendering them.

Rendering an environment (`Chart.to_json()`) makes Node resolve every object, about as much work
as writing it; the tree is one round trip, and an object's apiVersion and kind come from its
binding's class (the k8s bindings and imports/ carry their `GVK`) or, for a plain `ApiObject`,
from the object.
"""

from __future__ import annotations

import functools

import cdk8s

from constructs import IConstruct


def api_objects(scope: IConstruct) -> list[cdk8s.ApiObject]:
    return [c for c in scope.node.find_all() if isinstance(c, cdk8s.ApiObject)]


def api_version_kind(api_object: cdk8s.ApiObject) -> tuple[str, str]:
    known = _class_api_version_kind(type(api_object))
    return known if known is not None else (api_object.api_version, api_object.kind)


@functools.cache
def _class_api_version_kind(cls: type) -> tuple[str, str] | None:
    gvk = getattr(cls, "GVK", None)
    return (gvk.api_version, gvk.kind) if isinstance(gvk, cdk8s.GroupVersionKind) else None
