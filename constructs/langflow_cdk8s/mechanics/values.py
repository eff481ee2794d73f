"""cdk8s and cdk8s-plus value objects, each made once and shared by every flow that needs it.

Every `EnvValue`, `Duration`, `Size`, `Cpu`, `JsonPatch`, probe and network port is a jsii object:
creating one costs a round trip to Node. They are immutable, so the same object serves every
container of every flow (see docs/benchmarks.md for what this saved). Objects that are constructs
(Secret and ConfigMap references, volumes, network peers) are shared per environment instead,
in `SharedConstructs`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import cdk8s
import cdk8s_plus_27 as kplus
from cdk8s_plus_27 import k8s

from constructs import Construct

from ..props.validation import quantity
from .canonical import quantity_value

_Peer = TypeVar("_Peer")


@functools.cache
def env_value(value: str) -> kplus.EnvValue:
    return kplus.EnvValue.from_value(value)


@functools.cache
def seconds(count: int) -> cdk8s.Duration:
    return cdk8s.Duration.seconds(count)


@functools.cache
def cpu(value: str) -> kplus.Cpu:
    """'500m' -> Cpu.millis(500), '2' -> Cpu.units(2): cdk8s-plus renders both exactly as written
    (hardening's pass writes them in canonical form where that differs)."""
    if value.endswith("m"):
        return kplus.Cpu.millis(int(value[:-1]))
    number = quantity("cpu", value)
    return kplus.Cpu.units(int(number) if number == int(number) else float(number))


@functools.cache
def mebibytes(value: str) -> cdk8s.Size:
    """A memory or storage quantity as a Size; cdk8s-plus writes it in Mi ('1Gi' becomes '1024Mi'),
    which hardening's pass writes in canonical form ('1Gi')."""
    return cdk8s.Size.mebibytes(int(quantity("quantity", value) / 2**20))


@functools.cache
def tcp_port(port: int) -> kplus.NetworkPolicyPort:
    return kplus.NetworkPolicyPort.tcp(port)


def patch_add(path: str, value: Any) -> cdk8s.JsonPatch:
    """`JsonPatch.add(path, value)` with `value` in Kubernetes JSON, shared between objects that need
    the same field set to the same value (each JsonPatch costs a jsii round trip)."""
    return _patch("add", path, json.dumps(value, sort_keys=True))


_INT_OR_STRING = {"maxSurge", "maxUnavailable", "minAvailable", "targetPort"}
"""Fields of type IntOrString in the Kubernetes API (and `port` of an httpGet or tcpSocket probe)."""


def binding_values(value: Any, parent: str | None = None) -> Any:
    """Kubernetes JSON with its quantities and int-or-string values as the k8s bindings' own types
    (`k8s.Quantity`, `k8s.IntOrString`): the bindings apply JSON patches before they convert an
    object to Kubernetes JSON, and convert these types; quantities in their canonical form."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in ("requests", "limits", "capacity") and parent == "resources" and isinstance(item, dict):
                out[key] = {name: quantity_value(amount) for name, amount in item.items()}
            elif key == "sizeLimit":
                out[key] = quantity_value(item)
            elif key in _INT_OR_STRING or (key == "port" and parent in ("httpGet", "tcpSocket")):
                out[key] = k8s.IntOrString.from_number(item) if isinstance(item, int) else k8s.IntOrString.from_string(item)
            else:
                out[key] = binding_values(item, key)
        return out
    if isinstance(value, list):
        return [binding_values(item, parent) for item in value]
    return value


def patch_remove(path: str) -> cdk8s.JsonPatch:
    return _patch("remove", path, "null")


@functools.cache
def _patch(op: str, path: str, value_json: str) -> cdk8s.JsonPatch:
    if op == "remove":
        return cdk8s.JsonPatch.remove(path)
    return cdk8s.JsonPatch.add(path, binding_values(json.loads(value_json)))




@functools.cache
def _http_probe(path: str, port: int, period: int, timeout: int, failures: int) -> kplus.Probe:
    return kplus.Probe.from_http_get(path, port=port, period_seconds=seconds(period), timeout_seconds=seconds(timeout),
                                     failure_threshold=failures)


@functools.cache
def _command_probe(command: tuple[str, ...], period: int, timeout: int | None, failures: int | None) -> kplus.Probe:
    return kplus.Probe.from_command(list(command), period_seconds=seconds(period),
                                    timeout_seconds=seconds(timeout) if timeout else None, failure_threshold=failures)


def http_probe(path: str, port: int, *, period: int, timeout: int, failures: int) -> kplus.Probe:
    return _http_probe(path, port, period, timeout, failures)


def command_probe(command: tuple[str, ...], *, period: int, timeout: int | None = None,
                  failures: int | None = None) -> kplus.Probe:
    return _command_probe(command, period, timeout, failures)


class SharedConstructs:
    """References that are constructs (so they need a scope) shared by everything in one environment:
    Secrets and ConfigMaps by name, volumes by their full definition, label selectors and peers."""

    def __init__(self, scope: Construct) -> None:
        self._scope = scope
        self._secrets: dict[str, kplus.ISecret] = {}
        self._config_maps: dict[str, kplus.IConfigMap] = {}
        self._volumes: dict[str, kplus.Volume] = {}
        self._selectors: dict[str, kplus.LabelSelector] = {}
        self._peers: dict[str, object] = {}
        self._secret_values: dict[tuple[str, str], kplus.EnvValue] = {}

    def secret(self, name: str) -> kplus.ISecret:
        if name not in self._secrets:
            self._secrets[name] = kplus.Secret.from_secret_name(self._scope, f"secret-{name}", name)
        return self._secrets[name]

    def config_map(self, name: str) -> kplus.IConfigMap:
        if name not in self._config_maps:
            self._config_maps[name] = kplus.ConfigMap.from_config_map_name(self._scope, f"configmap-{name}", name)
        return self._config_maps[name]

    def secret_value(self, name: str, key: str) -> kplus.EnvValue:
        if (name, key) not in self._secret_values:
            self._secret_values[(name, key)] = kplus.EnvValue.from_secret_value(
                kplus.SecretValue(secret=self.secret(name), key=key))
        return self._secret_values[(name, key)]

    def selector(self, labels: Mapping[str, str]) -> kplus.LabelSelector:
        key = json.dumps(labels, sort_keys=True)
        if key not in self._selectors:
            self._selectors[key] = kplus.LabelSelector.of(labels=dict(labels))
        return self._selectors[key]

    def volume(self, spec: Mapping[str, Any]) -> kplus.Volume | None:
        """The cdk8s-plus Volume for a volume definition, or None when cdk8s-plus-27 cannot write it
        exactly (projected volumes, anything else a user passes as a dict): the workload appends
        those to the pod's volumes as a patch (see hardening.Gaps)."""
        if not _expressible(spec):
            return None
        key = json.dumps(spec, sort_keys=True)
        if key not in self._volumes:
            self._volumes[key] = self._make_volume(spec, f"volume-{len(self._volumes)}")
        return self._volumes[key]

    def peer(self, key: str, make: Callable[[Construct, str], _Peer]) -> _Peer:
        """A network peer construct, made once per environment by `make(scope, id)`."""
        if key not in self._peers:
            self._peers[key] = make(self._scope, f"peer-{len(self._peers)}")
        return cast("_Peer", self._peers[key])  # the key names the kind of peer: the one `make` built

    def _make_volume(self, spec: Mapping[str, Any], id: str) -> kplus.Volume:
        name = spec["name"]
        if "secret" in spec:
            source = spec["secret"]
            return kplus.Volume.from_secret(self._scope, id, self.secret(source["secretName"]), name=name,
                                            default_mode=source.get("defaultMode"),
                                            items={i["key"]: kplus.PathMapping(path=i["path"]) for i in source["items"]}
                                            if source.get("items") else None)
        if "configMap" in spec:
            source = spec["configMap"]
            return kplus.Volume.from_config_map(self._scope, id, self.config_map(source["name"]), name=name,
                                                default_mode=source.get("defaultMode"))
        size = spec["emptyDir"].get("sizeLimit")
        return kplus.Volume.from_empty_dir(self._scope, id, name, size_limit=mebibytes(size) if size else None)


def _expressible(spec: Mapping[str, Any]) -> bool:
    """Whether cdk8s-plus-27's Volume factories write exactly this volume."""
    sources = [k for k in spec if k != "name"]
    if sources == ["emptyDir"]:
        return set(spec["emptyDir"]) <= {"sizeLimit"}
    if sources == ["secret"]:
        return set(spec["secret"]) <= {"secretName", "defaultMode", "items"} and all(
            set(i) == {"key", "path"} for i in spec["secret"].get("items", []))
    if sources == ["configMap"]:
        return set(spec["configMap"]) <= {"name", "defaultMode"}
    return False
