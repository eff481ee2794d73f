"""The Ingress kind of exposure: a `networking.k8s.io/v1` Ingress, for controllers that serve only Ingress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .exposure import CertificateSource, Exposure
from .network import NetworkPeer
from .validation import dns_name, object_name

if TYPE_CHECKING:
    from .profiles import CloudProfile


@dataclass(frozen=True, kw_only=True)
class IngressOptions(Exposure):
    """How a workload is reached through an Ingress (also built by `Exposure.ingress(...)`).

    host: the DNS name (required).
    tls_secret: the Secret with the certificate (kubernetes.io/tls); None serves plain HTTP and is
    reported as a warning in the synthesis summary. On EKS leave it None: the ALB always listens on
    HTTPS and takes the ACM certificate that matches the host.
    class_name: `ingressClassName`; default: the environment profile's class.
    annotations: added to the profile's controller annotations (for example cert-manager's issuer).
    """

    host: str
    tls_secret: str | None = None
    class_name: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        dns_name("ingress.host", self.host)
        if self.tls_secret is not None:
            object_name("ingress.tls_secret", self.tls_secret)

    def acm(self, profile: CloudProfile) -> bool:
        """Whether the controller takes certificates from ACM (EKS): then a TLS Secret is an error."""
        if CertificateSource.SECRET in profile.certificates:
            return False
        if self.tls_secret is not None:
            raise ConfigError("ingress.tls_secret", f"{self.tls_secret!r}: profile {profile.name!r} takes certificates "
                              "from AWS Certificate Manager, not Secrets", "drop tls_secret: the ALB finds the ACM "
                              "certificate for the host (issue or import one in ACM)")
        return True

    def https(self, profile: CloudProfile) -> bool:
        return self.acm(profile) or self.tls_secret is not None

    def entry(self, profile: CloudProfile, ports: Sequence[int | str]) -> NetworkPeer:
        return profile.ingress_peer(tuple(ports))
