"""Container images pinned by tag (never `latest`) and optionally by digest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConfigError
from .validation import non_empty

LANGFLOW_VERSION = "1.13.0"
"""The Langflow release every default image pins (the newest release when this was written)."""

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True, kw_only=True)
class Image:
    """An image reference.

    repository: e.g. ``langflowai/langflow`` (required, no tag in it).
    tag: a pinned tag (required; ``latest`` is refused because it makes rollouts unreproducible).
    digest: optional ``sha256:…``; when set, the kubelet pulls exactly that content.
    pull_policy: ``IfNotPresent`` by default (tags here are immutable releases).
    """

    repository: str
    tag: str
    digest: str | None = None
    pull_policy: str = "IfNotPresent"

    def __post_init__(self) -> None:
        non_empty("image.repository", self.repository)
        if ":" in self.repository.rsplit("/", 1)[-1] or "@" in self.repository:
            raise ConfigError("image.repository", f"{self.repository!r} contains a tag or digest",
                              "pass the tag and digest as Image(tag=..., digest=...)")
        if not isinstance(self.tag, str) or not _TAG.match(self.tag):
            raise ConfigError("image.tag", f"{self.tag!r} is not a valid image tag", "pin a release such as '1.13.0'")
        if self.tag == "latest":
            raise ConfigError("image.tag", "'latest' is not a pinned version",
                              f"pin a release such as '{LANGFLOW_VERSION}' (and optionally a digest)")
        if self.digest is not None and not _DIGEST.match(self.digest):
            raise ConfigError("image.digest", f"{self.digest!r} is not a sha256 digest", "use 'sha256:' and 64 hex digits")
        if self.pull_policy not in ("IfNotPresent", "Always", "Never"):
            raise ConfigError("image.pull_policy", f"{self.pull_policy!r} is not a pull policy",
                              "use IfNotPresent, Always or Never")

    @property
    def reference(self) -> str:
        """What goes into `image:` — tag and, when pinned, digest."""
        ref = f"{self.repository}:{self.tag}"
        return f"{ref}@{self.digest}" if self.digest else ref

    @staticmethod
    def langflow(tag: str = LANGFLOW_VERSION, *, digest: str | None = None) -> Image:
        """The official backend image, ``langflowai/langflow``."""
        return Image(repository="langflowai/langflow", tag=tag, digest=digest)

    @staticmethod
    def langflow_frontend(tag: str = LANGFLOW_VERSION, *, digest: str | None = None) -> Image:
        """The official nginx frontend image, ``langflowai/langflow-frontend``."""
        return Image(repository="langflowai/langflow-frontend", tag=tag, digest=digest)
