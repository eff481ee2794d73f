"""How a workload is reached from outside the cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .validation import dns_name, object_name


@dataclass(frozen=True, kw_only=True)
class IngressOptions:
    """How a workload is reached from outside the cluster.

    host: the DNS name (required).
    tls_secret: the Secret with the certificate (kubernetes.io/tls); None serves plain HTTP and is
    reported as a warning in the synthesis summary.
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
