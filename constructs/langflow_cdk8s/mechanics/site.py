"""What the shared mechanics need from the environment they build into (Environment provides it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..props.network import NetworkPeer
from ..props.profiles import CloudProfile
from .values import SharedConstructs

if TYPE_CHECKING:
    from .secret_refs import SecretReferences


class Site(Protocol):
    """An environment as the mechanics see it, so they never import the public constructs."""

    @property
    def name(self) -> str: ...

    @property
    def namespace_name(self) -> str: ...

    @property
    def ingress_hosts(self) -> dict[str, str]:
        """Host -> the name of the Ingress or HTTPRoute that serves it (one per host, see routes.claim_host)."""

    @property
    def gateways(self) -> dict[str, Any]:
        """The environment's own Gateway by name, with its class and annotations (mechanics/gateway.py)."""

    @property
    def profile(self) -> CloudProfile: ...

    @property
    def shared(self) -> SharedConstructs: ...

    @property
    def secret_references(self) -> SecretReferences:
        """The registry every Secret reference is made through (mechanics/secret_refs.py)."""

    @property
    def monitoring_namespace(self) -> str | None: ...

    @property
    def external_apis(self) -> Sequence[NetworkPeer]: ...

    def warn(self, message: str) -> None: ...
