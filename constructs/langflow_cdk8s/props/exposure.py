"""How a workload is reached from outside the cluster: one choice among kinds of exposure.

A union in the AWS CDK way: build it with `Exposure.ingress(...)`, `Exposure.gateway(...)` or
`Exposure.own_gateway(...)`. Each kind says where its traffic enters the pods from (for their
NetworkPolicy) and whether clients reach it over HTTPS; mechanics/exposure.py registers, per kind,
the function that builds its objects. A new kind is one class here and one line there.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .network import NetworkPeer
from .validation import dns_label, dns_name, object_name

if TYPE_CHECKING:
    from .ingress import IngressOptions
    from .profiles import CloudProfile


class CertificateSource(enum.Enum):
    """Where a load balancer takes its TLS certificate from."""

    SECRET = "a kubernetes.io/tls Secret"
    ACM = "AWS Certificate Manager"
    GOOGLE_MANAGED = "a Google Certificate Manager certificate map"


@dataclass(frozen=True)
class Certificate:
    """The TLS certificate of a Gateway listener of our own. Use a static factory.

    source: where the certificate comes from.
    name: the Secret's name (SECRET) or the certificate map's name (GOOGLE_MANAGED); None for ACM.
    """

    source: CertificateSource
    name: str | None = None

    @staticmethod
    def secret(name: str) -> Certificate:
        """A kubernetes.io/tls Secret in the environment's namespace (cert-manager's, or one you create)."""
        object_name("certificate.secret", name)
        return Certificate(CertificateSource.SECRET, name)

    @staticmethod
    def acm() -> Certificate:
        """EKS: the AWS Load Balancer Controller attaches the ACM certificate that matches the host
        (certificate discovery); no Secret exists in the cluster."""
        return Certificate(CertificateSource.ACM)

    @staticmethod
    def google_managed(certificate_map: str) -> Certificate:
        """GKE: a Certificate Manager certificate map (Google-managed certificates), named on the
        Gateway with `networking.gke.io/certmap`."""
        object_name("certificate.google_managed", certificate_map)
        return Certificate(CertificateSource.GOOGLE_MANAGED, certificate_map)

    def check(self, profile: CloudProfile, where: str) -> None:
        """Refuses a certificate source the profile's load balancers cannot use."""
        if self.source not in profile.certificates:
            usable = " or ".join(sorted(s.value for s in profile.certificates))
            raise ConfigError(where, f"{self.source.value} does not work with profile {profile.name!r}",
                              f"use {usable}")


@dataclass(frozen=True, kw_only=True)
class GatewayRef:
    """A Gateway the platform owns, which our HTTPRoutes attach to.

    name, namespace: the Gateway (required). Its listener must admit routes from the environment's
    namespace (`allowedRoutes.namespaces`); that is the Gateway owner's grant, not a ReferenceGrant.
    section_name: the listener to attach to (default None: every listener whose host and
    allowedRoutes admit the route; name the HTTPS listener so that no plain-HTTP listener serves it).
    """

    name: str
    namespace: str
    section_name: str | None = None

    def __post_init__(self) -> None:
        object_name("gateway.name", self.name)
        dns_label("gateway.namespace", self.namespace)
        if self.section_name is not None:
            dns_name("gateway.section_name", self.section_name)


class Exposure(ABC):
    """How a workload is reached from outside the cluster. Build one with a static factory:
    `Exposure.gateway(...)` (Gateway API, what new repositories use), `Exposure.own_gateway(...)`
    or `Exposure.ingress(...)` (for clusters whose controller serves only Ingress)."""

    host: str

    @abstractmethod
    def https(self, profile: CloudProfile) -> bool:
        """Whether clients reach the host over HTTPS (browser origins and the summary depend on it)."""

    @abstractmethod
    def entry(self, profile: CloudProfile, ports: Sequence[int | str]) -> NetworkPeer:
        """Where this exposure's traffic enters the pods from, on `ports`, for their NetworkPolicy."""

    def origin(self, profile: CloudProfile) -> str:
        return f"{'https' if self.https(profile) else 'http'}://{self.host}"

    @staticmethod
    def ingress(host: str, *, tls_secret: str | None = None, class_name: str | None = None,
                annotations: Mapping[str, str] | None = None) -> IngressOptions:
        """A `networking.k8s.io/v1` Ingress (see IngressOptions for every default). The Ingress API
        is frozen and ingress-nginx retired in March 2026: use it for a controller you already run."""
        from .ingress import IngressOptions  # the Ingress kind imports this module

        return IngressOptions(host=host, tls_secret=tls_secret, class_name=class_name,
                              annotations=dict(annotations or {}))

    @staticmethod
    def gateway(host: str, *, gateway: GatewayRef, certificate_secret: str | None = None,
                peer: NetworkPeer | None = None) -> GatewayRoute:
        """An HTTPRoute for `host` attached to the platform's Gateway (see GatewayRoute's defaults)."""
        return GatewayRoute(host=host, parent=gateway, certificate_secret=certificate_secret, peer=peer)

    @staticmethod
    def own_gateway(host: str, *, certificate: Certificate | None = None, class_name: str | None = None,
                    annotations: Mapping[str, str] | None = None, peer: NetworkPeer | None = None) -> OwnGateway:
        """An HTTPRoute for `host` on a Gateway of the environment's own (see OwnGateway's defaults)."""
        return OwnGateway(host=host, certificate=certificate, class_name=class_name,
                          annotations=dict(annotations or {}), peer=peer)


def _gateway_peer(profile: CloudProfile, namespace: str | None, ports: Sequence[int | str], own: NetworkPeer | None,
                  where: str) -> NetworkPeer:
    """A cloud Gateway's traffic comes from its load balancer's addresses; an in-cluster implementation's
    from its proxies, which most (Istio, NGINX Gateway Fabric) run in the Gateway's namespace."""
    if own is not None:
        return replace(own, ports=tuple(ports))
    if profile.gateway_source_cidrs:
        return NetworkPeer.cidr_blocks(profile.gateway_source_cidrs, ports, "cloud Gateway load balancer")
    if namespace is None:
        raise ConfigError(where, f"profile {profile.name!r} runs Gateway proxies in the cluster, and where is not known",
                          "pass peer=NetworkPeer.namespace('<proxy namespace>', [], 'gateway proxies')")
    return NetworkPeer.namespace(namespace, ports, "Gateway proxies")


@dataclass(frozen=True, kw_only=True)
class GatewayRoute(Exposure):
    """A Gateway API HTTPRoute (`gateway.networking.k8s.io/v1`) for one host, attached to a Gateway
    the platform owns. TLS is that Gateway's listener's business.

    host: the DNS name (required).
    parent: the platform's Gateway and listener (required; `gateway=` of Exposure.gateway).
    certificate_secret: a kubernetes.io/tls Secret in the environment's namespace that the platform
    Gateway's listener names in its certificateRefs; the environment then grants that Gateway's
    namespace a ReferenceGrant to read it (default None: the platform holds the certificate).
    peer: where the Gateway's traffic comes from (default: the profile's load balancer ranges on
    EKS, GKE and AKS; elsewhere pods of the Gateway's namespace, where Istio and NGINX Gateway Fabric
    run its proxies; for Envoy Gateway pass NetworkPeer.namespace("envoy-gateway-system", [], ...); its
    ports are replaced by the serving port).
    """

    host: str
    parent: GatewayRef
    certificate_secret: str | None = None
    peer: NetworkPeer | None = None

    def __post_init__(self) -> None:
        dns_name("gateway.host", self.host)
        if self.certificate_secret is not None:
            object_name("gateway.certificate_secret", self.certificate_secret)

    def https(self, profile: CloudProfile) -> bool:
        return True

    def entry(self, profile: CloudProfile, ports: Sequence[int | str]) -> NetworkPeer:
        return _gateway_peer(profile, self.parent.namespace, ports, self.peer, "gateway.peer")


@dataclass(frozen=True, kw_only=True)
class OwnGateway(Exposure):
    """A Gateway of the environment's own (one per environment, one listener per host) and an
    HTTPRoute for the host on it: for clusters without a shared Gateway.

    host: the DNS name (required).
    certificate: the HTTPS listener's certificate (default None: ACM on EKS, where the controller
    finds it by host; elsewhere a plain-HTTP listener on port 80, reported as a warning).
    class_name: the GatewayClass (default: the profile's, e.g. gke-l7-global-external-managed on GKE;
    required with the generic and kind profiles, which name none).
    annotations: on the Gateway (e.g. AKS's alb.networking.azure.io/alb-name and -namespace).
    peer: where the Gateway's traffic comes from (default: the profile's load balancer ranges;
    required with in-cluster implementations, whose proxies' namespace is not known here; its ports
    are replaced by the serving port).
    """

    host: str
    certificate: Certificate | None = None
    class_name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    peer: NetworkPeer | None = None

    def __post_init__(self) -> None:
        dns_name("own_gateway.host", self.host)

    def certificate_for(self, profile: CloudProfile) -> Certificate | None:
        """The listener's certificate: the one given, else the profile's only source when it needs no name (ACM)."""
        if self.certificate is not None:
            self.certificate.check(profile, "own_gateway.certificate")
            return self.certificate
        return Certificate.acm() if profile.certificates == frozenset({CertificateSource.ACM}) else None

    def class_for(self, profile: CloudProfile) -> str:
        name = self.class_name or profile.gateway_class
        if name is None:
            raise ConfigError("own_gateway.class_name", f"profile {profile.name!r} names no GatewayClass",
                              "pass class_name='<your GatewayClass>' (kubectl get gatewayclass)")
        return name

    def https(self, profile: CloudProfile) -> bool:
        return self.certificate_for(profile) is not None

    def entry(self, profile: CloudProfile, ports: Sequence[int | str]) -> NetworkPeer:
        return _gateway_peer(profile, None, ports, self.peer, "own_gateway.peer")
