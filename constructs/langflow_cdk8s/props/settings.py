"""Langflow's own settings that users choose: login, metrics and a shared cache."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError
from .network import NetworkPeer
from .secrets import SecretKey, check_secret_keys, secret_env
from .validation import port

PORT = 7860
"""Langflow's HTTP port (API and, in the IDE, the UI's backend)."""


@dataclass(frozen=True, kw_only=True)
class Auth:
    """Login settings; every credential comes from a Secret.

    superuser, superuser_password: the admin account Langflow creates at first start (required
    with auto_login off, and the owner of flows loaded from files).
    secret_key: encrypts stored credentials and signs sessions; identical on every replica.
    api_key: optional key accepted in `x-api-key` for the superuser (LANGFLOW_API_KEY_SOURCE=env),
    so a headless runtime can authenticate API calls without a database-issued key.
    auto_login: default False; True skips login entirely (never in production).
    new_user_is_active: default False: sign-ups wait for an admin.
    """

    superuser: SecretKey
    superuser_password: SecretKey
    secret_key: SecretKey
    api_key: SecretKey | None = None
    auto_login: bool = False
    new_user_is_active: bool = False

    def __post_init__(self) -> None:
        check_secret_keys(self, "auth.")

    @staticmethod
    def from_secret(name: str, *, api_key: bool = False) -> Auth:
        """Everything from one Secret with keys `superuser`, `superuser-password`, `secret-key`
        (and `api-key` when `api_key` is True)."""
        return Auth(superuser=SecretKey(name=name, key="superuser"),
                    superuser_password=SecretKey(name=name, key="superuser-password"),
                    secret_key=SecretKey(name=name, key="secret-key"),
                    api_key=SecretKey(name=name, key="api-key") if api_key else None)

    def env(self) -> list[dict[str, Any]]:
        plain = [{"name": "LANGFLOW_AUTO_LOGIN", "value": str(self.auto_login).lower()},
                 {"name": "LANGFLOW_NEW_USER_IS_ACTIVE", "value": str(self.new_user_is_active).lower()}]
        secrets = {"LANGFLOW_SUPERUSER": self.superuser, "LANGFLOW_SUPERUSER_PASSWORD": self.superuser_password,
                   "LANGFLOW_SECRET_KEY": self.secret_key}
        if self.api_key is not None:
            secrets["LANGFLOW_API_KEY"] = self.api_key
            plain.append({"name": "LANGFLOW_API_KEY_SOURCE", "value": "env"})
        return [*plain, *secret_env(secrets)]


class Monitor(enum.Enum):
    """How Prometheus finds the metrics port of each pod (once the environment sets a monitoring_namespace)."""

    POD_MONITOR = "PodMonitor"
    """A Prometheus Operator PodMonitor per workload, selecting exactly its pods."""
    SERVICE_MONITOR = "ServiceMonitor"
    """A Prometheus Operator ServiceMonitor per workload; its Service gets a `metrics` port."""
    ANNOTATIONS = "annotations"
    """`prometheus.io/scrape`, `port` and `path` pod annotations (a Prometheus with kubernetes_sd
    relabelling reads them; the Prometheus Operator ignores them)."""
    NONE = "none"
    """Nothing announced; the port stays open to the monitoring namespace for a scrape config of your own."""


@dataclass(frozen=True, kw_only=True)
class OpenTelemetry:
    """Langflow's OpenTelemetry export (traces, metrics and logs over OTLP; Langflow 1.13 reads the
    standard OTEL_* variables). Each workload reports as its own service: OTEL_SERVICE_NAME is the
    workload's name (a runtime unit, the IDE backend).

    endpoint: the collector's OTLP URL, e.g. "http://otel-collector.observability:4318" (required;
    OTEL_EXPORTER_OTLP_ENDPOINT).
    protocol: "http/protobuf" (default, Langflow's default) or "grpc" (OTEL_EXPORTER_OTLP_PROTOCOL).
    resource_attributes: extra resource attributes, e.g. {"deployment.environment": "prod"}
    (default none; OTEL_RESOURCE_ATTRIBUTES).
    reachable_at: where the collector is, for the egress NetworkPolicy (default: the private ranges
    on the endpoint's port).
    """

    endpoint: str
    protocol: str = "http/protobuf"
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    reachable_at: NetworkPeer | None = None

    def __post_init__(self) -> None:
        url = urlsplit(self.endpoint) if isinstance(self.endpoint, str) else None
        if url is None or url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError("metrics.opentelemetry.endpoint", f"{self.endpoint!r} is not an http(s) URL",
                              "give the collector's OTLP URL, such as 'http://otel-collector.observability:4318'")
        if self.protocol not in OTLP_PROTOCOLS:
            raise ConfigError("metrics.opentelemetry.protocol", f"{self.protocol!r} is not an OTLP protocol Langflow supports",
                              f"use one of {', '.join(repr(p) for p in OTLP_PROTOCOLS)}")
        for key, value in self.resource_attributes.items():
            if not key or any(c in f"{key}{value}" for c in ",= "):
                raise ConfigError(f"metrics.opentelemetry.resource_attributes[{key!r}]", f"{value!r} holds ',', '=' or a space",
                                  "use plain keys and values (OTEL_RESOURCE_ATTRIBUTES joins them with ',' and '=')")

    @property
    def port(self) -> int:
        url = urlsplit(self.endpoint)
        return url.port or (443 if url.scheme == "https" else 4317 if self.protocol == "grpc" else 4318)

    def env(self, service: str) -> dict[str, str]:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": self.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": self.protocol,
               "OTEL_SERVICE_NAME": service}
        if self.resource_attributes:
            env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(f"{k}={v}" for k, v in sorted(self.resource_attributes.items()))
        return env

    @property
    def network(self) -> NetworkPeer:
        return self.reachable_at or NetworkPeer.private_networks([self.port], "OpenTelemetry collector")


OTLP_PROTOCOLS = ("http/protobuf", "grpc")
"""What Langflow 1.13's exporter accepts (lfx.observability.SUPPORTED_OTLP_PROTOCOLS)."""


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """Prometheus metrics on a separate port (Langflow serves them outside the API port), and
    optionally OpenTelemetry export.

    enabled: default True.
    port: default 9090.
    monitor: how Prometheus finds the port: Monitor.ANNOTATIONS (default), Monitor.POD_MONITOR,
    Monitor.SERVICE_MONITOR or Monitor.NONE; only where the environment has a monitoring_namespace,
    whose Prometheus the NetworkPolicy lets in.
    opentelemetry: OTLP export of traces, metrics and logs (default None: off).
    """

    enabled: bool = True
    port: int = 9090
    monitor: Monitor = Monitor.ANNOTATIONS
    opentelemetry: OpenTelemetry | None = None

    def __post_init__(self) -> None:
        port("metrics.port", self.port)
        if self.port == PORT:
            raise ConfigError("metrics.port", f"{self.port} is the API port", "choose another port, such as 9090")
        if not isinstance(self.monitor, Monitor):
            raise ConfigError("metrics.monitor", f"{self.monitor!r} is not a Monitor",
                              "use Monitor.POD_MONITOR, Monitor.SERVICE_MONITOR, Monitor.ANNOTATIONS or Monitor.NONE")

    def env(self) -> list[dict[str, Any]]:
        if not self.enabled:
            return [{"name": "LANGFLOW_PROMETHEUS_ENABLED", "value": "false"}]
        return [{"name": "LANGFLOW_PROMETHEUS_ENABLED", "value": "true"},
                {"name": "LANGFLOW_PROMETHEUS_PORT", "value": str(self.port)}]

    def pod_annotations(self) -> dict[str, str]:
        if not self.enabled or self.monitor is not Monitor.ANNOTATIONS:
            return {}
        return {"prometheus.io/scrape": "true", "prometheus.io/port": str(self.port), "prometheus.io/path": "/metrics"}


@dataclass(frozen=True, kw_only=True)
class RedisCache:
    """A shared Redis cache for several replicas.

    url: Secret key holding ``redis://:password@host:6379/0`` (Langflow has no separate password setting).
    signing_key: Secret key with the cache signing key, identical on every replica.
    port: the port NetworkPolicies allow to Redis (default 6379).
    reachable_at: where Redis is, for NetworkPolicies (default: the private ranges on `port`).
    """

    url: SecretKey
    signing_key: SecretKey
    port: int = 6379
    reachable_at: NetworkPeer | None = None

    def __post_init__(self) -> None:
        check_secret_keys(self, "redis.")
        port("redis.port", self.port)

    def env(self) -> list[dict[str, Any]]:
        return [{"name": "LANGFLOW_CACHE_TYPE", "value": "redis"},
                *secret_env({"LANGFLOW_REDIS_URL": self.url, "LANGFLOW_CACHE_SIGNING_KEY": self.signing_key})]

    @property
    def network(self) -> NetworkPeer:
        return self.reachable_at or NetworkPeer.private_networks([self.port], "Redis cache")
