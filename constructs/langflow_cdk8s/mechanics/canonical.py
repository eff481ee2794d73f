"""What the API server stores, so that Git states it: quantities in their canonical form and no zero
values that the server drops. Argo CD compares Git with what the server stored; every difference here
would show as drift (a `2048Mi` in Git is `2Gi` in the cluster).

The rules are the API server's: `canonical_quantity` follows apimachinery's `resource.Quantity`
(`CanonicalizeBytes`: binary suffixes for values of 1024 or more that are whole in bytes, decimal
otherwise, exponents in steps of three); `OMITTED_ZEROS` lists the fields cdk8s-plus-27 writes with
their zero value although their Go type in k8s.io/api is a plain value tagged `omitempty`, which the
server leaves out (pointer fields such as `automountServiceAccountToken` keep an explicit `false`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

import cdk8s
from cdk8s_plus_27 import k8s

from ..props.validation import quantity

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}


def canonical_quantity(value: str) -> str:
    """The form the API server stores `value` in: '2048Mi' -> '2Gi', '1000m' -> '1', '0.5' -> '500m'."""
    amount = quantity("quantity", value)
    if "e" in value.lower() and not value.endswith(("Ei", "E")):
        return value  # exponent notation (1e3) is kept as written by the server too
    binary = value.endswith("i")
    if binary and abs(amount) >= 1024 and amount == amount.to_integral_value():
        number, power = int(amount), 0
        while power < len(_BINARY) - 1 and number % 1024 == 0:
            number, power = number // 1024, power + 1
        return f"{number}{_BINARY[power]}"
    return _decimal(amount)


def _decimal(amount: Decimal) -> str:
    """Decimal SI: the largest exponent (a multiple of three, nano at least) that keeps the mantissa
    whole; below a nano the server rounds up."""
    if amount == 0:
        return "0"
    exponent = -9
    while exponent < 18 and (amount / Decimal(10) ** exponent) % 1000 == 0:
        exponent += 3
    mantissa = (amount / Decimal(10) ** exponent).to_integral_value(rounding=ROUND_CEILING)
    return f"{int(mantissa)}{_DECIMAL[exponent]}"


OMITTED_ZEROS: dict[str, tuple[tuple[tuple[str, ...], Any], ...]] = {
    "pod": ((("hostNetwork",), False),),
    "Deployment": ((("spec", "minReadySeconds"), 0),),
    "StatefulSet": ((("spec", "minReadySeconds"), 0),),
    "DaemonSet": ((("spec", "minReadySeconds"), 0),),
    "Service": ((("spec", "externalIPs"), []),),
}
"""Kind ("pod": any pod spec) -> (path, zero value) of the `omitempty` fields cdk8s-plus-27 writes anyway."""

QUANTITY_FIELDS = ("requests", "limits")


@functools.cache
def quantity_value(value: str) -> k8s.Quantity:
    """A canonical quantity as the k8s bindings hold one (JSON patches are applied before they convert);
    one object per value, as in values.py (each costs a jsii round trip)."""
    return k8s.Quantity.from_string(canonical_quantity(value))


def pointer(*parts: str | int) -> str:
    """A JSON pointer from path parts, escaping '~' and '/' (label keys such as checkov.io/skip1)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def drift(manifest: Mapping[str, Any], pod_path: tuple[str, ...] | None, *, bindings: bool = True,
          ) -> list[cdk8s.JsonPatch]:
    """The patches that make one rendered object what the server stores: zero values removed,
    quantities in the pod (container resources, emptyDir limits) canonical, as `k8s.Quantity` for
    a k8s binding (`bindings`), as strings for a plain ApiObject."""
    patches = [_remove(pointer(*path)) for path, zero in OMITTED_ZEROS.get(manifest["kind"], ())
               if _get(manifest, path) == zero]
    if pod_path is None:
        return patches
    pod = _get(manifest, pod_path) or {}
    for path, zero in OMITTED_ZEROS["pod"]:
        if path[0] in pod and pod[path[0]] == zero:
            patches.append(_remove(pointer(*pod_path, *path)))
    for kind in ("initContainers", "containers"):
        for index, container in enumerate(pod.get(kind, [])):
            for field in QUANTITY_FIELDS:
                for name, value in (container.get("resources") or {}).get(field, {}).items():
                    if isinstance(value, str) and canonical_quantity(value) != value:
                        patches.append(_replace(pointer(*pod_path, kind, index, "resources", field, name), value, bindings))
    for index, volume in enumerate(pod.get("volumes", [])):
        limit = (volume.get("emptyDir") or {}).get("sizeLimit")
        if isinstance(limit, str) and canonical_quantity(limit) != limit:
            patches.append(_replace(pointer(*pod_path, "volumes", index, "emptyDir", "sizeLimit"), limit, bindings))
    return patches


@functools.cache
def _remove(path: str) -> cdk8s.JsonPatch:
    """Shared by every object that needs it: each JsonPatch costs a jsii round trip."""
    return cdk8s.JsonPatch.remove(path)


@functools.cache
def _replace(path: str, amount: str, bindings: bool) -> cdk8s.JsonPatch:
    return cdk8s.JsonPatch.replace(path, quantity_value(amount) if bindings else canonical_quantity(amount))


def _get(manifest: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = manifest
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value
