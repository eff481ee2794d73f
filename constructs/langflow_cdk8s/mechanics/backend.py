"""The Langflow backend container, shared by the IDE and the runtime: settings, writable paths,
database wiring, authentication and metrics — written once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..props.database import DatabaseChoice, ExternalPostgres, InClusterPostgres, SqliteEphemeral, SqliteOnVolume
from ..props.image import Image
from ..props.network import NetworkPeer
from ..props.resources import Resources
from ..props.secrets import SecretKey, secret_env
from ..props.settings import PORT, Auth, Metrics, RedisCache
from .containers import ContainerSpec, HttpProbes, empty_dir, env_list, volume_claim
from .site import Site

CONFIG_DIR = "/app/langflow"
"""Pre-created in the official image; holds secret_key, profile pictures, uploads and (SQLite) the database."""
HOME = "/app/data"
"""The image's HOME: platformdirs caches (models catalogue, file cache) land under ~/.cache."""

PROBES = HttpProbes(port="http", startup_path="/health", readiness_path="/healthz", liveness_path="/health")
"""/health answers as soon as the server runs; /healthz, Langflow 1.13's readiness endpoint, also
queries the database and cache and fails (503) while knowledge-base storage needs attention."""


@dataclass(frozen=True, kw_only=True)
class DatabaseWiring:
    """What a database choice adds to the backend pod."""

    env: list[dict[str, Any]]
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
                      mounts: Sequence[Mapping[str, Any]] = (), redis: RedisCache | None = None) -> ContainerSpec:
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
    return ContainerSpec(name="langflow", image=image, ports=ports, env=env, env_from=env_from, resources=resources,
                         probes=PROBES, mounts=[*base_mounts, *mounts])


def scrapers(site: Site, metrics: Metrics) -> list[NetworkPeer]:
    """The monitoring namespace may reach the metrics port, when both exist."""
    if metrics.enabled and site.monitoring_namespace:
        return [NetworkPeer.namespace(site.monitoring_namespace, [metrics.port], "Prometheus")]
    return []


def scrape_annotations(site: Site, metrics: Metrics) -> dict[str, str]:
    """`prometheus.io/*` only where a NetworkPolicy lets Prometheus in: announcing a scrape target
    that default-deny blocks would only produce failing scrapes."""
    return metrics.pod_annotations() if scrapers(site, metrics) else {}


def telemetry_env(metrics: Metrics, service: str) -> dict[str, str]:
    """OpenTelemetry's settings for a workload that reports as `service`, when export is on."""
    return metrics.opentelemetry.env(service) if metrics.opentelemetry else {}


def telemetry_egress(metrics: Metrics) -> list[NetworkPeer]:
    """The OTLP collector, when export is on: default-deny would otherwise drop every export."""
    return [metrics.opentelemetry.network] if metrics.opentelemetry else []


def backend_egress(site: Site, database: DatabaseWiring, redis: RedisCache | None) -> list[NetworkPeer]:
    """Where a Langflow backend connects: its database, its cache, and the environment's external APIs."""
    return [*database.egress, *([redis.network] if redis else []), *site.external_apis]


def backend_volumes(database: DatabaseWiring) -> list[dict[str, Any]]:
    volumes = [empty_dir("tmp", "1Gi"), empty_dir("home", "1Gi")]
    return volumes + ([database.config_volume] if database.config_volume else [])


def _check_no_duplicates(env: list[dict[str, Any]]) -> None:
    names = [entry["name"] for entry in env]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError("env", f"{', '.join(duplicates)} set twice (extra env repeats a setting this library manages)",
                          "remove it from env/secret_env, or use the prop that manages it")
