"""Where Langflow keeps its state: a typed choice, so impossible combinations fail at synthesis."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..errors import ConfigError
from .image import Image
from .network import NetworkPeer
from .secrets import SecretKey, check_secret_keys
from .validation import dns_label, dns_name, object_name, quantity
from .validation import port as validate_port

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _host(prop: str, value: str) -> str:
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        return dns_name(prop, value)


@dataclass(frozen=True, kw_only=True)
class SqliteOnVolume:
    """SQLite on a ReadWriteOnce claim: one pod only, in a StatefulSet that stops the old pod before
    it starts the new one."""

    size: str = "5Gi"
    storage_class: str | None = None


@dataclass(frozen=True, kw_only=True)
class SqliteEphemeral:
    """SQLite on each pod's emptyDir: state is local to the pod and lost when it goes."""


@dataclass(frozen=True, kw_only=True)
class ExternalPostgres:
    """A PostgreSQL server outside this environment (managed service or another namespace)."""

    url: SecretKey | None = None
    host: str | None = None
    port: int = 5432
    database: str = "langflow"
    user: str = "langflow"
    password: SecretKey | None = None
    sslmode: str | None = "require"
    reachable_at: NetworkPeer | None = None

    def __post_init__(self) -> None:
        check_secret_keys(self, "database.")
        if (self.url is None) == (self.host is None):
            raise ConfigError("database", "give either url (a Secret key holding the whole URL) or host",
                              "use Database.external_postgres_url(...) or Database.external_postgres(host=...)")
        if self.host is not None:
            _host("database.host", self.host)
            if self.password is None:
                raise ConfigError("database.password", "no password Secret for the external PostgreSQL",
                                  "pass password=SecretKey(name=..., key=...)")
        if self.sslmode is not None and self.sslmode not in SSL_MODES:
            raise ConfigError("database.sslmode", f"{self.sslmode!r} is not a libpq sslmode", f"use one of {', '.join(SSL_MODES)}")

    @property
    def network(self) -> NetworkPeer:
        return self.reachable_at or NetworkPeer.private_networks([self.port], "external PostgreSQL")


@dataclass(frozen=True, kw_only=True)
class InClusterPostgres:
    """A single PostgreSQL StatefulSet in the environment, for development."""

    credentials: str = "langflow-postgres"
    size: str = "10Gi"
    storage_class: str | None = None
    image: Image = field(default_factory=lambda: Image(repository="postgres", tag="16.4-alpine"))
    database: str = "langflow"
    user: str = "langflow"

    def __post_init__(self) -> None:
        object_name("database.credentials", self.credentials)
        quantity("database.size", self.size)

    @property
    def password(self) -> SecretKey:
        return SecretKey(name=self.credentials, key="password")


DatabaseChoice = SqliteOnVolume | SqliteEphemeral | ExternalPostgres | InClusterPostgres


class Database:
    """Static factories for the database choices. Secrets are referenced, never embedded."""

    @staticmethod
    def sqlite(*, size: str = "5Gi", storage_class: str | None = None) -> SqliteOnVolume:
        """SQLite on a claim of `size` (default 5Gi) in `storage_class` (default: the profile's).
        Exactly one replica; rollouts stop the old pod before starting the new one."""
        quantity("database.size", size)
        return SqliteOnVolume(size=size, storage_class=storage_class)

    @staticmethod
    def sqlite_ephemeral() -> SqliteEphemeral:
        """SQLite in each pod's emptyDir (runtime only): every pod has its own copy of the flows and
        no history survives a restart."""
        return SqliteEphemeral()

    @staticmethod
    def external_postgres(*, host: str, password: SecretKey, port: int = 5432, database: str = "langflow",
                          user: str = "langflow", sslmode: str | None = "require",
                          reachable_at: NetworkPeer | None = None) -> ExternalPostgres:
        """PostgreSQL (15 or newer) at `host`; only the password comes from a Secret, the URL is
        assembled in the pod. `reachable_at` is what NetworkPolicies allow (default: private ranges
        on `port`). `sslmode` defaults to "require"."""
        validate_port("database.port", port)
        dns_label("database.user", user.replace("_", "-"))
        return ExternalPostgres(host=host, password=password, port=port, database=database, user=user,
                                sslmode=sslmode, reachable_at=reachable_at)

    @staticmethod
    def external_postgres_url(url: SecretKey, *, port: int = 5432, sslmode: str | None = None,
                              reachable_at: NetworkPeer | None = None) -> ExternalPostgres:
        """PostgreSQL whose whole URL (``postgresql://user:pass@host:5432/db``) is one Secret key.
        `sslmode`, when set, is appended as a query parameter (the URL must not have one)."""
        validate_port("database.port", port)
        return ExternalPostgres(url=url, port=port, sslmode=sslmode, reachable_at=reachable_at)

    @staticmethod
    def in_cluster_postgres(*, credentials: str = "langflow-postgres", size: str = "10Gi",
                            storage_class: str | None = None, image: Image | None = None) -> InClusterPostgres:
        """A PostgreSQL StatefulSet for development; its password is the key `password` of the
        Secret `credentials`. Not for production: no backups, no failover."""
        if image:
            return InClusterPostgres(credentials=credentials, size=size, storage_class=storage_class, image=image)
        return InClusterPostgres(credentials=credentials, size=size, storage_class=storage_class)
