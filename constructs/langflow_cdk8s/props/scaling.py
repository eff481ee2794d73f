"""How a workload scales: a HorizontalPodAutoscaler's settings."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .validation import at_least


@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """A HorizontalPodAutoscaler (autoscaling/v2).

    min_replicas: floor (default 2, so one pod can fail or be evicted without an outage).
    max_replicas: ceiling (default 6).
    cpu_utilization: target average CPU, percent of requests (default 70).
    memory_utilization: optional target average memory, percent of requests (default None).
    """

    min_replicas: int = 2
    max_replicas: int = 6
    cpu_utilization: int = 70
    memory_utilization: int | None = None

    def __post_init__(self) -> None:
        at_least("autoscaling.min_replicas", self.min_replicas, 1)
        at_least("autoscaling.max_replicas", self.max_replicas, 1)
        if self.min_replicas > self.max_replicas:
            raise ConfigError("autoscaling", f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}",
                              "make min_replicas at most max_replicas")
        for prop in ("cpu_utilization", "memory_utilization"):
            value = getattr(self, prop)
            if value is not None and (isinstance(value, bool) or not 1 <= value <= 100):
                raise ConfigError(f"autoscaling.{prop}", f"{value!r} is not a percentage", "use 1 to 100")
