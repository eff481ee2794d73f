"""How flow JSON reaches the runtime's pods: a union of three delivery modes, made by FlowDelivery's factories."""

from __future__ import annotations

from dataclasses import dataclass

from .secrets import SecretKey, check_secret_keys


@dataclass(frozen=True, kw_only=True)
class ConfigMapDelivery:
    """Each flow in an immutable ConfigMap named after its content hash, mounted read-only."""


@dataclass(frozen=True, kw_only=True)
class DownloadDelivery:
    """An init container downloads each flow (Flow.from_url) when the pod starts.

    auth_header: optional Secret key holding one HTTP header line (e.g. ``Authorization: Bearer …``),
    mounted as a file so the credential never appears in the pod spec or its arguments.
    """

    auth_header: SecretKey | None = None

    def __post_init__(self) -> None:
        check_secret_keys(self, "delivery.")


@dataclass(frozen=True, kw_only=True)
class BakedDelivery:
    """Flows are already in the (custom) image at `path`; nothing is mounted over them."""

    path: str = "/app/flows"


class FlowDelivery:
    """How flow JSON reaches the pods. Static factories; ConfigMaps are the default."""

    @staticmethod
    def config_maps() -> ConfigMapDelivery:
        """Immutable, content-hashed ConfigMaps: a changed flow rolls its pods, a rollback is exact."""
        return ConfigMapDelivery()

    @staticmethod
    def download(*, auth_header: SecretKey | None = None) -> DownloadDelivery:
        """Download at pod start, for flows too large for a ConfigMap or kept in an artifact store."""
        return DownloadDelivery(auth_header=auth_header)

    @staticmethod
    def baked_into_image(*, path: str = "/app/flows") -> BakedDelivery:
        """Flows built into the image given as the runtime's `image`, at `path`."""
        return BakedDelivery(path=path)


Delivery = ConfigMapDelivery | DownloadDelivery | BakedDelivery
