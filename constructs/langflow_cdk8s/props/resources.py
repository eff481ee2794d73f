"""CPU and memory for one container, validated once so quotas can add them up exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..errors import ConfigError
from .validation import quantity


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests and limits of one container.

    cpu: CPU request, e.g. ``"500m"`` (required).
    memory: memory request, e.g. ``"1Gi"`` (required).
    cpu_limit: CPU limit; defaults to twice the request, so a pod may burst without starving its node.
    memory_limit: memory limit; defaults to the request (memory is not compressible: a pod
    that uses more than it asked for is the first to be killed anyway).
    """

    cpu: str
    memory: str
    cpu_limit: str | None = None
    memory_limit: str | None = None

    def __post_init__(self) -> None:
        # Each property parses its quantity, so this also rejects values that do not parse.
        if self.cpu_millis > self.cpu_limit_millis:
            raise ConfigError("resources.cpu_limit", f"{self.cpu_limit!r} is below the request {self.cpu!r}",
                              "raise cpu_limit or lower cpu")
        if self.memory_bytes > self.memory_limit_bytes:
            raise ConfigError("resources.memory_limit", f"{self.memory_limit!r} is below the request {self.memory!r}",
                              "raise memory_limit or lower memory")

    @property
    def cpu_millis(self) -> Decimal:
        return quantity("resources.cpu", self.cpu) * 1000

    @property
    def cpu_limit_millis(self) -> Decimal:
        if self.cpu_limit is None:
            return self.cpu_millis * 2
        return quantity("resources.cpu_limit", self.cpu_limit) * 1000

    @property
    def memory_bytes(self) -> Decimal:
        return quantity("resources.memory", self.memory)

    @property
    def memory_limit_bytes(self) -> Decimal:
        if self.memory_limit is None:
            return self.memory_bytes
        return quantity("resources.memory_limit", self.memory_limit)

    def to_manifest(self) -> dict[str, Any]:
        """The `resources:` block of a container."""
        return {
            "requests": {"cpu": self.cpu, "memory": self.memory},
            "limits": {"cpu": self.cpu_limit or format_millis(self.cpu_limit_millis),
                       "memory": self.memory_limit or self.memory},
        }


def format_millis(millis: Decimal) -> str:
    """CPU in the shortest exact form: '2' rather than '2000m'."""
    whole = millis / 1000
    return str(int(whole)) if whole == int(whole) else f"{int(millis)}m"
