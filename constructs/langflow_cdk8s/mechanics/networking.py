"""NetworkPolicies from network peers, with cdk8s-plus: one policy per workload, default deny both ways."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus

from constructs import Construct

from ..errors import ConfigError
from ..props.network import NetworkPeer
from .values import SharedConstructs, tcp_port

DENY = kplus.NetworkPolicyTrafficDefault.DENY


@dataclass(frozen=True, kw_only=True)
class Traffic:
    """The connections one workload needs, beyond DNS (which every environment allows)."""

    ingress: Sequence[NetworkPeer] = ()
    egress: Sequence[NetworkPeer] = field(default_factory=tuple)


def rules(peer: NetworkPeer, shared: SharedConstructs) -> list[kplus.NetworkPolicyRule]:
    """The cdk8s-plus rules for one peer: one per IP block (each block is its own cdk8s-plus peer),
    or one for the pods it selects."""
    for port in peer.ports:
        if not isinstance(port, int) or isinstance(port, bool):
            raise ConfigError("network_peer.ports", f"{port!r} is not a port number",
                              "give NetworkPolicy ports as numbers (cdk8s-plus-27 has no named policy ports)")
    ports = [tcp_port(p) for p in peer.ports] or None
    if peer.cidrs:
        return [kplus.NetworkPolicyRule(peer=_ip_block(shared, cidr, peer.excepted), ports=ports) for cidr in peer.cidrs]
    return [kplus.NetworkPolicyRule(peer=pods(shared, peer.pod_labels, peer.namespace_labels), ports=ports)]


def pods(shared: SharedConstructs, labels: Mapping[str, str] | None,
         namespace_labels: Mapping[str, str] | None = None) -> Any:
    """A cdk8s-plus pod selector (None labels: every pod), optionally in namespaces with these labels."""
    key = json.dumps(["pods", labels, namespace_labels], sort_keys=True)

    def make(scope: Construct, id: str) -> Any:
        namespaces = kplus.Namespaces.select(scope, f"{id}-ns", labels=dict(namespace_labels)) if namespace_labels else None
        if labels is None and namespaces is not None:
            return namespaces
        if labels is None:
            return kplus.Pods.all(scope, id)
        return kplus.Pods.select(scope, id, labels=dict(labels), namespaces=namespaces)

    return shared.peer(key, make)


def _within(inner: ipaddress.IPv4Network | ipaddress.IPv6Network, outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    raise TypeError(f"{inner} and {outer} are not of the same address family")


def _ip_block(shared: SharedConstructs, cidr: str, excepted: Sequence[str]) -> kplus.NetworkPolicyIpBlock:
    outer = ipaddress.ip_network(cidr)
    inside = [e for e in excepted if _within(ipaddress.ip_network(e), outer)]

    def make(scope: Construct, id: str) -> kplus.NetworkPolicyIpBlock:
        return kplus.NetworkPolicyIpBlock.ipv4(scope, id, cidr, inside or None)

    return shared.peer(json.dumps(["ip", cidr, inside]), make)


def network_policy(scope: Construct, id: str, shared: SharedConstructs, *, metadata: cdk8s.ApiObjectMetadata,
                   selector: Mapping[str, str], traffic: Traffic) -> kplus.NetworkPolicy:
    """A policy for the pods with `selector`: nothing in or out but what `traffic` allows."""
    return kplus.NetworkPolicy(
        scope, id, metadata=metadata, selector=pods(shared, selector),
        ingress=kplus.NetworkPolicyTraffic(default=DENY, rules=[r for p in traffic.ingress for r in rules(p, shared)]),
        egress=kplus.NetworkPolicyTraffic(default=DENY, rules=[r for p in traffic.egress for r in rules(p, shared)]))
