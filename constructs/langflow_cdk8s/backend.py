"""The Langflow backend container, shared by the IDE and the runtime: settings, writable paths,
database wiring, authentication and metrics — written once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .database import DatabaseChoice, ExternalPostgres, InClusterPostgres, SqliteEphemeral, SqliteOnVolume
from .errors import ConfigError
from .image import Image
from .network import NetworkPeer
from .pod import HttpProbes, container, empty_dir, env_list, volume_claim
from .resources import Resources
from .secrets import SecretKey, check_secret_keys, secret_env
from .validation import at_least

if TYPE_CHECKING:
    from .environment import Environment

PORT = 7860
CONFIG_DIR = "/app/langflow"
"""Pre-created in the official image; holds secret_key, profile pictures, uploads and (SQLite) the database."""
HOME = "/app/data"
"""The image's HOME: platformdirs caches (models catalogue, file cache) land under ~/.cache."""

PROBES = HttpProbes(port="http", startup_path="/health", readiness_path="/healthz", liveness_path="/health")
"""/health answers as soon as the server runs; /healthz, Langflow 1.13's readiness endpoint, also
queries the database and cache and fails (503) while knowledge-base storage needs attention."""


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
        at_least("metrics.port", self.port, 1)
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

    def env(self) -> list[dict]:
        return [{"name": "LANGFLOW_CACHE_TYPE", "value": "redis"},
                *secret_env({"LANGFLOW_REDIS_URL": self.url, "LANGFLOW_CACHE_SIGNING_KEY": self.signing_key})]

    @property
    def network(self) -> NetworkPeer:
        return self.reachable_at or NetworkPeer.private_networks([self.port], "Redis cache")


@dataclass(frozen=True, kw_only=True)
class DatabaseWiring:
    """What a database choice adds to the backend pod."""

    env: list[dict]
    config_volume: dict[str, Any] | None
    """None when the config dir is a StatefulSet claim (see `claim`)."""
    claim: dict[str, Any] | None = None
    egress: list[NetworkPeer] = field(default_factory=list)
    extra_volumes: list[dict[str, Any]] = field(default_factory=list)
    """Volumes of the init container that prepares the database (the runtime on PostgreSQL)."""


def wire_database(db: DatabaseChoice, *, storage_class: str | None, postgres_service: str | None = None,
                  postgres_labels: Mapping[str, str] | None = None) -> DatabaseWiring:
    """Env, the config-dir volume and egress for each database choice. SQLite lives in the config
    dir, so its claim also keeps uploads; PostgreSQL URLs are assembled from Secret-backed env vars
    with Kubernetes' $(VAR) expansion, so no password is ever written out."""
    if isinstance(db, SqliteOnVolume):
        return DatabaseWiring(env=[{"name": "LANGFLOW_DATABASE_URL", "value": f"sqlite:///{CONFIG_DIR}/langflow.db"}],
                              config_volume=None,
                              claim=volume_claim("config", db.size, db.storage_class or storage_class))
    if isinstance(db, SqliteEphemeral):
        return DatabaseWiring(env=[{"name": "LANGFLOW_DATABASE_URL", "value": f"sqlite:///{CONFIG_DIR}/langflow.db"}],
                              config_volume=empty_dir("config", "2Gi"))
    if isinstance(db, ExternalPostgres):
        query = f"?sslmode={db.sslmode}" if db.sslmode else ""
        if db.url is not None:
            env = [db.url.env("LANGFLOW_DATABASE_URL_FROM_SECRET"),
                   {"name": "LANGFLOW_DATABASE_URL", "value": f"$(LANGFLOW_DATABASE_URL_FROM_SECRET){query}"}]
        else:
            assert db.password is not None  # ExternalPostgres validates this
            env = [db.password.env("LANGFLOW_DATABASE_PASSWORD"),
                   {"name": "LANGFLOW_DATABASE_URL",
                    "value": f"postgresql://{db.user}:$(LANGFLOW_DATABASE_PASSWORD)@{db.host}:{db.port}/{db.database}{query}"}]
        return DatabaseWiring(env=env, config_volume=empty_dir("config", "2Gi"), egress=[db.network])
    if isinstance(db, InClusterPostgres):
        if postgres_service is None or postgres_labels is None:
            raise ConfigError("database", "Database.in_cluster_postgres() here has no PostgreSQL to point at",
                              "use it with LangflowIDE, which runs the PostgreSQL StatefulSet")
        env = [db.password.env("LANGFLOW_DATABASE_PASSWORD"),
               {"name": "LANGFLOW_DATABASE_URL",
                "value": f"postgresql://{db.user}:$(LANGFLOW_DATABASE_PASSWORD)@{postgres_service}:5432/{db.database}"}]
        return DatabaseWiring(env=env, config_volume=empty_dir("config", "2Gi"),
                              egress=[NetworkPeer.pods(postgres_labels, [5432], "in-cluster PostgreSQL")])
    raise ConfigError("database", f"{db!r} is not a database choice", "use one of the Database.* factories")


def backend_container(*, image: Image, resources: Resources, database: DatabaseWiring, auth: Auth,
                      metrics: Metrics, settings: Mapping[str, str], secrets: Mapping[str, SecretKey],
                      extra_env: Mapping[str, str], env_from: Sequence[Mapping[str, Any]] = (),
                      mounts: Sequence[Mapping[str, Any]] = (), redis: RedisCache | None = None) -> dict[str, Any]:
    """The Langflow container with a read-only root: only /tmp, HOME and the config dir are writable."""
    ports = {"http": PORT}
    if metrics.enabled:
        ports["metrics"] = metrics.port
    env = env_list({
        "LANGFLOW_HOST": "0.0.0.0",
        "LANGFLOW_PORT": str(PORT),
        "LANGFLOW_CONFIG_DIR": CONFIG_DIR,
        "LANGFLOW_ALEMBIC_LOG_FILE": f"{CONFIG_DIR}/alembic.log",
        "LANGFLOW_UPDATE_STARTER_PROJECTS": "false",
        "LANGFLOW_DO_NOT_TRACK": "true",
        **settings,
    })
    env += database.env + auth.env() + metrics.env() + (redis.env() if redis else []) + secret_env(secrets)
    env += env_list(extra_env)
    _check_no_duplicates(env)
    base_mounts = [{"name": "tmp", "mountPath": "/tmp"}, {"name": "home", "mountPath": HOME},
                   {"name": "config", "mountPath": CONFIG_DIR}]
    return container(name="langflow", image=image, ports=ports, env=env, env_from=env_from, resources=resources,
                     probes=PROBES, mounts=[*base_mounts, *mounts])


def scrapers(env: Environment, metrics: Metrics) -> list[NetworkPeer]:
    """The monitoring namespace may reach the metrics port, when both exist."""
    if metrics.enabled and env.props.monitoring_namespace:
        return [NetworkPeer.namespace(env.props.monitoring_namespace, [metrics.port], "Prometheus")]
    return []


def scrape_annotations(env: Environment, metrics: Metrics) -> dict[str, str]:
    """`prometheus.io/*` only where a NetworkPolicy lets Prometheus in: announcing a scrape target
    that default-deny blocks would only produce failing scrapes."""
    return metrics.pod_annotations() if scrapers(env, metrics) else {}


def backend_egress(env: Environment, database: DatabaseWiring, redis: RedisCache | None) -> list[NetworkPeer]:
    """Where a Langflow backend connects: its database, its cache, and the environment's external APIs."""
    return [*database.egress, *([redis.network] if redis else []), *env.props.external_apis]


def backend_volumes(database: DatabaseWiring) -> list[dict[str, Any]]:
    volumes = [empty_dir("tmp", "1Gi"), empty_dir("home", "1Gi")]
    return volumes + ([database.config_volume] if database.config_volume else [])


def _check_no_duplicates(env: list[dict]) -> None:
    names = [entry["name"] for entry in env]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError("env", f"{', '.join(duplicates)} set twice (extra env repeats a setting this library manages)",
                          "remove it from env/secret_env, or use the prop that manages it")
