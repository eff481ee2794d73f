"""Who may talk to whom: network peers, from which mechanics/networking.py builds NetworkPolicies."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from .validation import port

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
"""RFC 1918 ranges: cluster, VPC and on-premises addresses."""

_EXCLUDED_FROM_PUBLIC = (*PRIVATE_RANGES, "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8")
"""Private, carrier-grade NAT, link-local (cloud metadata endpoints) and loopback."""


def _cidr(prop: str, value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ConfigError(prop, f"{value!r} is not a CIDR block", "write it as '10.0.0.0/16' (host bits zero)") from None


@dataclass(frozen=True, kw_only=True)
class NetworkPeer:
    """One side of an allowed connection: pods (by labels, optionally in other namespaces) or
    IP blocks, on some TCP ports. Build it with the static factories.

    pod_labels: the pods' labels (None: every pod of the selected namespaces).
    namespace_labels: labels of the peer's namespaces (None: this namespace).
    cidrs: IP blocks, instead of pods.
    excepted: blocks inside `cidrs` that stay closed.
    ports: TCP ports (none: every port).
    description: what the peer is, for people reading the code.
    """

    pod_labels: Mapping[str, str] | None = None
    namespace_labels: Mapping[str, str] | None = None
    cidrs: Sequence[str] = ()
    excepted: Sequence[str] = ()
    ports: Sequence[int | str] = ()
    description: str = ""

    def __post_init__(self) -> None:
        for value in self.cidrs:
            _cidr("network_peer.cidrs", value)
        for value in self.excepted:
            _cidr("network_peer.excepted", value)
        for number in self.ports:
            port("network_peer.ports", number)

    @staticmethod
    def pods(labels: Mapping[str, str], ports: Sequence[int | str], description: str) -> NetworkPeer:
        """Pods with these labels in the same namespace."""
        return NetworkPeer(pod_labels=dict(labels), ports=tuple(ports), description=description)

    @staticmethod
    def namespace(name: str, ports: Sequence[int | str], description: str,
                  pod_labels: Mapping[str, str] | None = None) -> NetworkPeer:
        """Every pod (or those with `pod_labels`) of the namespace called `name`."""
        return NetworkPeer(namespace_labels={"kubernetes.io/metadata.name": name},
                           pod_labels=dict(pod_labels) if pod_labels else None,
                           ports=tuple(ports), description=description)

    @staticmethod
    def cidr_blocks(cidrs: Sequence[str], ports: Sequence[int | str], description: str,
                    excepted: Sequence[str] = ()) -> NetworkPeer:
        """IP blocks, for things outside the cluster such as a managed database."""
        if not cidrs:
            raise ConfigError("network_peer.cidrs", "no CIDR block given", "pass at least one block such as '10.0.0.0/16'")
        return NetworkPeer(cidrs=tuple(cidrs), excepted=tuple(excepted), ports=tuple(ports), description=description)

    @staticmethod
    def public_internet(ports: Sequence[int] = (443,)) -> NetworkPeer:
        """Every public address (private, link-local and metadata ranges excepted): LLM and vector DB APIs."""
        return NetworkPeer(cidrs=("0.0.0.0/0",), excepted=_EXCLUDED_FROM_PUBLIC, ports=tuple(ports),
                           description="public HTTPS APIs (LLM providers, vector database)")

    @staticmethod
    def private_networks(ports: Sequence[int], description: str) -> NetworkPeer:
        """The RFC 1918 ranges, e.g. a database in the same VPC whose address is not known here."""
        return NetworkPeer(cidrs=PRIVATE_RANGES, ports=tuple(ports), description=description)
