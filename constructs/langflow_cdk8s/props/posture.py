"""Langflow 1.13's production settings as typed options: security, object storage, the job queue
and the `prod` deployment profile. Every Langflow name here was read in the 1.13.0 wheels
(lfx/services/settings/, langflow/cli/preflight.py); docs/reference.md lists them per option."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from .database import DatabaseChoice, ExternalPostgres, InClusterPostgres
from .exposure import Exposure
from .network import NetworkPeer
from .profiles import CloudProfile
from .secrets import SecretKey
from .validation import at_least, dns_name, non_empty

TWEAK_POLICIES = ("permissive", "declared", "off")
REDIS_PORT = 6379
"""Where NetworkPolicies let the job queue's Redis be reached (on the private ranges)."""


class CustomComponents(enum.Enum):
    """Who may run component code that is not one of the server's own components. ALLOWED:
    everyone (Langflow's default). ADMIN_ONLY: only admins may create or edit component code
    (LANGFLOW_CUSTOM_COMPONENT_ADMIN_ONLY=true). OFF: only the server's own components run, outdated
    copies of them with the server's code, and built-in code-execution components are disabled
    (LANGFLOW_ALLOW_CUSTOM_COMPONENTS=false)."""

    ALLOWED = "allowed"
    ADMIN_ONLY = "admin-only"
    OFF = "off"


@dataclass(frozen=True, kw_only=True)
class Security:
    """Langflow's security settings group; use Security.ide() or Security.runtime(). Pinned
    whatever the options: webhooks need an API key (LANGFLOW_WEBHOOK_AUTH_ENABLE=true), the
    `langflow superuser` CLI is off (LANGFLOW_ENABLE_SUPERUSER_CLI=false), file components read
    only their own storage (LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=true), SSRF protection
    (LANGFLOW_SSRF_PROTECTION_ENABLED), the strict docker policy for MCP stdio servers
    (LANGFLOW_MCP_SERVER_DOCKER_HARDENING) and login/public-flow rate limits (LANGFLOW_RATE_LIMIT_ENABLED)
    are on, and rate limits count the client address from X-Forwarded-For when an Ingress is in
    front (LANGFLOW_RATE_LIMIT_TRUST_PROXY). CORS allows only the workload's own origin, its
    Ingress host or else its Service URL, plus extra_cors_origins (LANGFLOW_CORS_ORIGINS).

    custom_components: CustomComponents (IDE default ADMIN_ONLY, runtime default OFF).
    code_interpreter_components: allow the built-in components that run user- or model-supplied
    Python (False sets LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS; IDE default True, runtime False).
    tweaks: what a run request may override (LANGFLOW_TWEAKS_POLICY): "permissive" (IDE default),
    "declared" (only fields the flow marks editable) or "off" (runtime default: input_value and
    session_id only).
    loopback_connectors: let connector components (Ollama, local vector stores) reach the pod's
    own loopback, e.g. a sidecar (LANGFLOW_CONNECTOR_SSRF_ALLOW_LOOPBACK; IDE default True, runtime False).
    extra_cors_origins: browser origins allowed besides the workload's own, such as
    "https://app.example.com" (default none).
    """

    custom_components: CustomComponents
    code_interpreter_components: bool
    tweaks: str
    loopback_connectors: bool
    extra_cors_origins: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.custom_components, CustomComponents):
            raise ConfigError("security.custom_components", f"{self.custom_components!r} is not a CustomComponents",
                              "use CustomComponents.ADMIN_ONLY, .OFF or .ALLOWED")
        if self.tweaks not in TWEAK_POLICIES:
            raise ConfigError("security.tweaks", f"{self.tweaks!r} is not a tweaks policy",
                              f"use one of: {', '.join(TWEAK_POLICIES)}")
        for origin in self.extra_cors_origins:
            scheme, _, host = origin.partition("://")
            if scheme not in ("http", "https") or not host or "/" in host or host == "*":
                raise ConfigError("security.extra_cors_origins", f"{origin!r} is not a browser origin",
                                  "write scheme and host only, such as 'https://app.example.com'")

    @staticmethod
    def ide() -> Security:
        """People build flows: custom component code for admins only, code components allowed."""
        return Security(custom_components=CustomComponents.ADMIN_ONLY, code_interpreter_components=True,
                        tweaks="permissive", loopback_connectors=True)

    @staticmethod
    def runtime() -> Security:
        """A fixed set of flows from Git: only the server's own components, no code interpreters, no
        tweaks, no connectors to loopback."""
        return Security(custom_components=CustomComponents.OFF, code_interpreter_components=False, tweaks="off",
                        loopback_connectors=False)

    def env(self, *, origins: Sequence[str], behind_proxy: bool) -> dict[str, str]:
        """Plain settings; `origins` are the workload's own, `behind_proxy` trusts X-Forwarded-For
        (every request then comes through the ingress controller or load balancer, which sets it)."""
        return {
            "LANGFLOW_CORS_ORIGINS": ",".join(dict.fromkeys([*origins, *self.extra_cors_origins])),
            "LANGFLOW_WEBHOOK_AUTH_ENABLE": "true",
            "LANGFLOW_ENABLE_SUPERUSER_CLI": "false",
            "LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS": "true",
            "LANGFLOW_SSRF_PROTECTION_ENABLED": "true",
            "LANGFLOW_CONNECTOR_SSRF_ALLOW_LOOPBACK": str(self.loopback_connectors).lower(),
            "LANGFLOW_MCP_SERVER_DOCKER_HARDENING": "true",
            "LANGFLOW_RATE_LIMIT_ENABLED": "true",
            "LANGFLOW_RATE_LIMIT_TRUST_PROXY": str(behind_proxy).lower(),
            "LANGFLOW_ALLOW_CUSTOM_COMPONENTS": str(self.custom_components is not CustomComponents.OFF).lower(),
            "LANGFLOW_CUSTOM_COMPONENT_ADMIN_ONLY": str(self.custom_components is not CustomComponents.ALLOWED).lower(),
            "LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS": str(not self.code_interpreter_components).lower(),
            "LANGFLOW_TWEAKS_POLICY": self.tweaks,
        }


@dataclass(frozen=True, kw_only=True)
class ObjectStorage:
    """S3-compatible storage for uploaded files, shared by every replica (LANGFLOW_STORAGE_TYPE=s3;
    credentials in the standard AWS variables, which Langflow's S3 client reads).

    bucket: the bucket (required; LANGFLOW_OBJECT_STORAGE_BUCKET_NAME).
    region: AWS_DEFAULT_REGION (default "us-east-1").
    credentials: a Secret with keys `access-key-id` and `secret-access-key` (AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY); None (default) uses the pod's workload identity (IRSA, EKS Pod Identity).
    endpoint: an S3-compatible endpoint such as MinIO's (AWS_ENDPOINT_URL_S3); None (default): AWS S3.
    prefix: key prefix inside the bucket (default "files"; LANGFLOW_OBJECT_STORAGE_PREFIX).
    reachable_at: where the endpoint is, for NetworkPolicies (default: the environment's external APIs).
    """

    bucket: str
    region: str = "us-east-1"
    credentials: str | None = None
    endpoint: str | None = None
    prefix: str = "files"
    reachable_at: NetworkPeer | None = None

    def __post_init__(self) -> None:
        non_empty("object_storage.bucket", self.bucket)
        non_empty("object_storage.region", self.region)
        if self.credentials is not None:
            dns_name("object_storage.credentials", self.credentials)
        if self.endpoint is not None and not self.endpoint.startswith(("https://", "http://")):
            raise ConfigError("object_storage.endpoint", f"{self.endpoint!r} is not an http(s) URL",
                              "write it as 'https://minio.storage.svc:9000'")

    def env(self) -> tuple[dict[str, str], dict[str, SecretKey]]:
        plain = {"LANGFLOW_STORAGE_TYPE": "s3", "LANGFLOW_OBJECT_STORAGE_BUCKET_NAME": self.bucket,
                 "LANGFLOW_OBJECT_STORAGE_PREFIX": self.prefix, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint:
            plain["AWS_ENDPOINT_URL_S3"] = self.endpoint
        secrets = {}
        if self.credentials:
            secrets = {"AWS_ACCESS_KEY_ID": SecretKey(name=self.credentials, key="access-key-id"),
                       "AWS_SECRET_ACCESS_KEY": SecretKey(name=self.credentials, key="secret-access-key")}
        return plain, secrets


@dataclass(frozen=True, kw_only=True)
class ProductionPreflight:
    """LANGFLOW_DEPLOYMENT_PROFILE=prod: Langflow refuses to boot unless PostgreSQL, object storage,
    a usable secret key and a pgvector backend answer (and a Redis cache or job queue, when one is
    selected). The construct also requires PostgreSQL and object_storage to be declared, so a
    missing one is a synthesis error, not a crash loop.

    pgvector: Secret key holding the pgvector PostgreSQL connection string (PGVECTOR_CONNECTION_STRING; required).
    pgvector_at: where that PostgreSQL is, for NetworkPolicies (default: the private ranges on 5432).
    """

    pgvector: SecretKey
    pgvector_at: NetworkPeer | None = None

    def check(self, prop: str, database: DatabaseChoice, object_storage: ObjectStorage | None) -> None:
        if not isinstance(database, (ExternalPostgres, InClusterPostgres)):
            raise ConfigError(prop, f"Langflow's prod profile refuses to boot on {type(database).__name__}",
                              "use Database.external_postgres(...), or leave production_preflight None")
        if object_storage is None:
            raise ConfigError(prop, "Langflow's prod profile refuses to boot on local file storage",
                              "set object_storage=ObjectStorage(bucket=...), or leave production_preflight None")

    @property
    def network(self) -> NetworkPeer:
        return self.pgvector_at or NetworkPeer.private_networks([5432], "pgvector PostgreSQL")


@dataclass(frozen=True, kw_only=True)
class Posture:
    """What one Langflow workload adds to the backend container beyond the library's base settings."""

    security: Security
    object_storage: ObjectStorage | None = None
    preflight: ProductionPreflight | None = None
    workers: int = 1
    job_queue: SecretKey | None = None

    def check(self, database: DatabaseChoice) -> None:
        at_least("workers", self.workers, 1)
        if self.workers > 1 and self.job_queue is None:
            raise ConfigError("workers", f"{self.workers} workers per pod without a shared job queue "
                              "(Langflow 1.13 refuses to start them)",
                              "set job_queue=SecretKey(...) holding a redis:// URL, or use workers=1 and more replicas")
        if self.preflight is not None:
            self.preflight.check("production_preflight", database, self.object_storage)

    def env(self, *, origins: Sequence[str], behind_proxy: bool) -> tuple[dict[str, str], dict[str, SecretKey]]:
        plain = self.security.env(origins=origins, behind_proxy=behind_proxy)
        secrets: dict[str, SecretKey] = {}
        plain["LANGFLOW_WORKERS"] = str(self.workers)
        if self.job_queue is not None:
            plain["LANGFLOW_JOB_QUEUE_TYPE"] = "redis"
            secrets["LANGFLOW_REDIS_QUEUE_URL"] = self.job_queue
        if self.object_storage is not None:
            storage_plain, storage_secrets = self.object_storage.env()
            plain.update(storage_plain)
            secrets.update(storage_secrets)
        if self.preflight is not None:
            plain["LANGFLOW_DEPLOYMENT_PROFILE"] = "prod"
            secrets["PGVECTOR_CONNECTION_STRING"] = self.preflight.pgvector
        return plain, secrets

    def egress(self) -> list[NetworkPeer]:
        peers = []
        if self.object_storage is not None and self.object_storage.reachable_at is not None:
            peers.append(self.object_storage.reachable_at)
        if self.job_queue is not None:
            peers.append(NetworkPeer.private_networks([REDIS_PORT], "Redis job queue"))
        if self.preflight is not None:
            peers.append(self.preflight.network)
        return peers


def origins(exposure: Exposure | None, services: Sequence[str], profile: CloudProfile) -> list[str]:
    """The browser origins a workload is reached at: its public host, or else its in-cluster Service URLs."""
    if exposure is not None:
        return [exposure.origin(profile)]
    return list(services)


def merge_secrets(prop: str, *mappings: Mapping[str, SecretKey]) -> dict[str, SecretKey]:
    """One {VARIABLE: SecretKey} mapping; a variable set twice is an error naming `prop`."""
    merged: dict[str, SecretKey] = {}
    for mapping in mappings:
        for name, ref in mapping.items():
            if name in merged and merged[name] != ref:
                raise ConfigError(prop, f"{name} is set twice (it is managed by an option of this construct)",
                                  "remove it from secret_env and use the option that manages it")
            merged[name] = ref
    return merged

