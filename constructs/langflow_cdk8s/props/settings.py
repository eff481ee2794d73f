"""Langflow's own settings that users choose: login, metrics and a shared cache."""

from __future__ import annotations

from dataclasses import dataclass

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

    def env(self) -> list[dict]:
        plain = [{"name": "LANGFLOW_AUTO_LOGIN", "value": str(self.auto_login).lower()},
                 {"name": "LANGFLOW_NEW_USER_IS_ACTIVE", "value": str(self.new_user_is_active).lower()}]
        secrets = {"LANGFLOW_SUPERUSER": self.superuser, "LANGFLOW_SUPERUSER_PASSWORD": self.superuser_password,
                   "LANGFLOW_SECRET_KEY": self.secret_key}
        if self.api_key is not None:
            secrets["LANGFLOW_API_KEY"] = self.api_key
            plain.append({"name": "LANGFLOW_API_KEY_SOURCE", "value": "env"})
        return [*plain, *secret_env(secrets)]


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """Prometheus metrics on a separate port (Langflow serves them outside the API port).

    enabled: default True.
    port: default 9090.
    """

    enabled: bool = True
    port: int = 9090

    def __post_init__(self) -> None:
        port("metrics.port", self.port)
        if self.port == PORT:
            raise ConfigError("metrics.port", f"{self.port} is the API port", "choose another port, such as 9090")

    def env(self) -> list[dict]:
        if not self.enabled:
            return [{"name": "LANGFLOW_PROMETHEUS_ENABLED", "value": "false"}]
        return [{"name": "LANGFLOW_PROMETHEUS_ENABLED", "value": "true"},
                {"name": "LANGFLOW_PROMETHEUS_PORT", "value": str(self.port)}]

    def pod_annotations(self) -> dict[str, str]:
        if not self.enabled:
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

    def env(self) -> list[dict]:
        return [{"name": "LANGFLOW_CACHE_TYPE", "value": "redis"},
                *secret_env({"LANGFLOW_REDIS_URL": self.url, "LANGFLOW_CACHE_SIGNING_KEY": self.signing_key})]

    @property
    def network(self) -> NetworkPeer:
        return self.reachable_at or NetworkPeer.private_networks([self.port], "Redis cache")
