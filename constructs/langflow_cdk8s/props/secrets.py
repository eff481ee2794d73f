"""References to Kubernetes Secrets: the only way a secret value reaches a pod. Values never enter dist/."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .validation import data_key, env_names, object_name

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True, kw_only=True)
class SecretKey:
    """One key of a Secret that must exist in the environment's namespace.

    name: the Secret's name (required, a DNS-1123 subdomain).
    key: the key inside it (required; letters, digits, '-', '_' and '.').
    """

    name: str
    key: str

    def __post_init__(self) -> None:
        object_name("secret.name", self.name)
        data_key(f"secret {self.name!r} key", self.key)

    def env(self, variable: str) -> dict[str, Any]:
        """An env var whose value the kubelet reads from this key: the Kubernetes env entry's shape,
        holding this SecretKey itself, which the container records in the environment's registry of
        Secret references when it builds the cdk8s-plus value (mechanics/containers.py)."""
        return {"name": variable, "valueFrom": {"secretKeyRef": self}}


def secret_env(variables: Mapping[str, SecretKey]) -> list[dict[str, Any]]:
    """Env entries for a {VARIABLE: SecretKey} mapping, sorted so output is stable."""
    return [ref.env(name) for name, ref in sorted(variables.items())]


def astra_db(secret_name: str) -> dict[str, SecretKey]:
    """Astra DB (the reference architecture's vector database) credentials from one Secret
    with keys ``application-token`` and ``api-endpoint``."""
    return {
        "ASTRA_DB_APPLICATION_TOKEN": SecretKey(name=secret_name, key="application-token"),
        "ASTRA_DB_API_ENDPOINT": SecretKey(name=secret_name, key="api-endpoint"),
    }


def check_secret_keys(props: DataclassInstance, prefix: str = "") -> None:
    """Every field annotated with SecretKey holds one (a mapping: in every value). A plain string
    there is most likely the secret itself: refused, and not echoed into the error either."""
    for f in dataclasses.fields(props):
        if "SecretKey" not in str(f.type):
            continue
        value = getattr(props, f.name)
        if isinstance(value, Mapping):
            env_names(f"{prefix}{f.name}", value)
        items = value.items() if isinstance(value, Mapping) else [(None, value)]
        for key, item in items:
            if isinstance(item, SecretKey) or (item is None and key is None and "None" in str(f.type)):
                continue
            where = f"{prefix}{f.name}" + (f"[{key!r}]" if key is not None else "")
            shown = f"a {type(item).__name__}" + (f" of {len(item)} characters (not shown)" if isinstance(item, str) else "")
            raise ConfigError(where, f"is {shown}, not a SecretKey",
                              "create a Secret and reference it: SecretKey(name='<secret>', key='<key>'); "
                              "secret values never go into main.py or dist/")


class StoreKind(enum.Enum):
    """Which External Secrets Operator store an ExternalSecret reads from."""

    CLUSTER_SECRET_STORE = "ClusterSecretStore"
    """One store for the whole cluster (the platform team's, usually)."""
    SECRET_STORE = "SecretStore"
    """A store in the environment's own namespace."""


@dataclass(frozen=True, kw_only=True)
class RemoteKey:
    """Where one value lives in the external store.

    key: the secret's path or name in the provider (required; e.g. `langflow/prod/db` in Vault,
    the secret's name in AWS Secrets Manager, GCP Secret Manager or Azure Key Vault).
    property: the field inside a JSON or map secret (default None: the whole value).
    """

    key: str
    property: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip() or self.key != self.key.strip():
            raise ConfigError("remote key", f"{self.key!r} is not a remote secret path",
                              "give the secret's path or name in the store, such as 'langflow/prod/llm-api-keys'")


TLS_KEYS = frozenset({"tls.crt", "tls.key"})
PULL_KEY = ".dockerconfigjson"
"""Keys that make a Secret a TLS Secret, and a registry credential."""


def secret_type(keys: set[str]) -> str:
    """The Secret's type, from the keys read: TLS and registry credentials have their own."""
    if keys and keys <= TLS_KEYS:
        return "kubernetes.io/tls"
    if keys == {PULL_KEY}:
        return "kubernetes.io/dockerconfigjson"
    return "Opaque"


@dataclass(frozen=True)
class ExistingSecrets:
    """The Secrets exist in the namespace already: someone creates them with `kubectl create secret`
    (each environment's page lists the commands), outside Git."""

    def provide(self, environment: str, namespace: str) -> str:
        """How a person makes a missing Secret exist (the end of a promote error's fix line)."""
        return f"create that Secret in {namespace}"


@dataclass(frozen=True, kw_only=True)
class ExternalSecrets:
    """External Secrets Operator materializes each Secret the environment reads from a store: one
    `ExternalSecret` (external-secrets.io/v1) per Secret, owning it (creationPolicy Owner). See
    `SecretSource.external`."""

    store: str
    kind: StoreKind
    remote: Mapping[str, str | RemoteKey]
    refresh_interval: str

    def __post_init__(self) -> None:
        object_name("secrets.store", self.store)
        if not isinstance(self.kind, StoreKind):
            raise ConfigError("secrets.kind", f"{self.kind!r} is not a StoreKind",
                              "use StoreKind.CLUSTER_SECRET_STORE or StoreKind.SECRET_STORE")
        if not re.fullmatch(r"([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+", self.refresh_interval):
            raise ConfigError("secrets.refresh_interval", f"{self.refresh_interval!r} is not a Go duration",
                              "use a duration such as '1h', '15m' or '0s' (fetch once)")
        for mapped, target in self.remote.items():
            name, _, key = mapped.partition("/")
            object_name(f"secrets.remote[{mapped!r}]", name)
            if key:
                data_key(f"secrets.remote[{mapped!r}] key", key)
            if isinstance(target, str):
                RemoteKey(key=target)
            elif not isinstance(target, RemoteKey):
                raise ConfigError(f"secrets.remote[{mapped!r}]", f"is a {type(target).__name__}, not a path or RemoteKey",
                                  "map it to the secret's path in the store, or RemoteKey(key=..., property=...)")
            elif not key:
                raise ConfigError(f"secrets.remote[{mapped!r}]", "maps a whole Secret to a RemoteKey",
                                  f"map {name!r} to a path (each key becomes a property of it), or "
                                  f"'{name}/<key>' to a RemoteKey")

    def provide(self, environment: str, namespace: str) -> str:
        """How a person makes a missing Secret exist (the end of a promote error's fix line)."""
        return f"map it in SecretSource.external(remote=...) of environment {environment!r} (store {self.store!r})"

    def remote_key(self, secret: str, key: str) -> RemoteKey | None:
        """Where `key` of `secret` comes from: its own mapping, else property `key` of the Secret's path."""
        own = self.remote.get(f"{secret}/{key}")
        if own is not None:
            return own if isinstance(own, RemoteKey) else RemoteKey(key=own)
        whole = self.remote.get(secret)
        return RemoteKey(key=whole, property=key) if isinstance(whole, str) else None


class SecretSource:
    """Where the Secrets an environment reads come from (EnvironmentProps.secrets)."""

    @staticmethod
    def existing() -> ExistingSecrets:
        """They exist in the namespace already (the default): created by hand with `kubectl create
        secret`, from the checklist on the environment's page, and never in Git."""
        return ExistingSecrets()

    @staticmethod
    def external(*, store: str, remote: Mapping[str, str | RemoteKey],
                 kind: StoreKind = StoreKind.CLUSTER_SECRET_STORE, refresh_interval: str = "1h") -> ExternalSecrets:
        """External Secrets Operator creates them from `store`: one ExternalSecret per Secret the
        environment reads, in a sync wave before the workloads.

        store: the SecretStore or ClusterSecretStore's name (required; the platform owns it).
        remote: where each Secret comes from (required): `"<secret>": "<path>"` reads each key the
        environment uses as the property of that name of the remote secret at `<path>` (a Secret
        read whole, by envFrom, gets every property); `"<secret>/<key>": "<path>"` or
        `RemoteKey(key=..., property=...)` maps one key on its own. A key with no mapping is an error.
        kind: StoreKind.CLUSTER_SECRET_STORE (default) or StoreKind.SECRET_STORE.
        refresh_interval: how often ESO reads the store again (default "1h"; "0s": once).
        """
        return ExternalSecrets(store=store, kind=kind, remote=dict(remote), refresh_interval=refresh_interval)


SecretSourceChoice = ExistingSecrets | ExternalSecrets
"""Every kind of Secret source; a new one joins here (EnvironmentProps checks against this union)
and in mechanics/secret_refs.py PRODUCERS."""
