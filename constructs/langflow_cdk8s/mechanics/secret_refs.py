"""The registry of an environment's Secret references: every Secret key its pods and Ingresses read,
recorded where the reference is made (a container's env, envFrom, a volume, an image pull secret,
a TLS Secret), with who reads it. The Secret checklist of the environment's page, the promote
check and the ExternalSecrets read it; nothing reads the written YAML to find them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cdk8s_plus_27 as kplus

from constructs import Construct

if TYPE_CHECKING:
    from imports.external_secrets.io.external_secrets import ExternalSecret

from ..errors import ConfigError
from ..props.secrets import ExternalSecrets, SecretKey, SecretSourceChoice, StoreKind
from .values import SharedConstructs
from .waves import metadata

TLS_KEYS = frozenset({"tls.crt", "tls.key"})
PULL_KEY = ".dockerconfigjson"


@dataclass(frozen=True, order=True)
class SecretReference:
    """One read of a Secret: `key` None means every key (envFrom); `consumer` is the reading object
    (`Deployment/langflow-runtime-echo-prompt`), `use` how it reads it (`env`, `envFrom`, `volume`,
    `imagePullSecrets`, `tls`), `variable` the env var or volume name."""

    secret: str
    key: str | None
    consumer: str
    use: str
    variable: str | None = None


def secret_type(keys: set[str]) -> str:
    """The Secret's type, from the keys read: TLS and registry credentials have their own."""
    if keys and keys <= TLS_KEYS:
        return "kubernetes.io/tls"
    if keys == {PULL_KEY}:
        return "kubernetes.io/dockerconfigjson"
    return "Opaque"


class SecretReferences:
    """Every Secret reference of one environment, and with `SecretSource.external(...)` the one
    ExternalSecret per Secret that produces it (built when the Secret is first read, rebuilt as
    more of its keys are read, so each carries exactly the keys the environment uses)."""

    def __init__(self, scope: Construct, shared: SharedConstructs, source: SecretSourceChoice, *,
                 namespace: str, labels: Mapping[str, str]) -> None:
        self._scope = scope
        self._shared = shared
        self.source = source
        self._namespace = namespace
        self._labels = dict(labels)
        self._references: dict[SecretReference, None] = {}
        self._keys: dict[str, set[str]] = {}
        self._whole: set[str] = set()
        self._variables: dict[str, set[str]] = {}
        self.external_secrets: dict[str, ExternalSecret] = {}
        """Secret name -> the ExternalSecret producing it (SecretSource.external only)."""

    def env_value(self, key: SecretKey, *, consumer: str, variable: str) -> kplus.EnvValue:
        """The cdk8s-plus value of an env var read from `key`, recorded as read by `consumer`."""
        self.add(key.name, key.key, consumer=consumer, use="env", variable=variable)
        return self._shared.secret_value(key.name, key.key)

    def secret(self, name: str, keys: set[str] | None, *, consumer: str, use: str,
               variable: str | None = None) -> kplus.ISecret:
        """The cdk8s-plus reference to a Secret read whole (`keys` None) or for `keys`."""
        for key in sorted(keys) if keys else [None]:
            self.add(name, key, consumer=consumer, use=use, variable=variable)
        return self._shared.secret(name)

    def add(self, name: str, key: str | None, *, consumer: str, use: str, variable: str | None = None) -> None:
        reference = SecretReference(name, key, consumer, use, variable)
        if reference in self._references:
            return
        self._references[reference] = None
        if use == "env" and variable is not None:
            self._variables.setdefault(consumer, set()).add(variable)
        keys = self._keys.get(name)
        changed = keys is None or (key is None and name not in self._whole) or (key is not None and key not in keys)
        self._keys.setdefault(name, set()).update([key] if key is not None else [])
        if key is None:
            self._whole.add(name)
        if changed and isinstance(self.source, ExternalSecrets):
            self._external_secret(self.source, name)

    @property
    def references(self) -> list[SecretReference]:
        return sorted(self._references)

    def secrets(self) -> dict[str, set[str]]:
        """Secret name -> keys read (an empty set: read whole, as by envFrom), sorted by name."""
        return {name: set(keys) for name, keys in sorted(self._keys.items())}

    def whole(self, name: str) -> bool:
        """Whether some object reads every key of Secret `name` (envFrom)."""
        return name in self._whole

    def readers(self, name: str) -> list[str]:
        """The objects that read Secret `name`, in order."""
        return sorted({ref.consumer for ref in self._references if ref.secret == name})

    def variables(self, consumer: str) -> set[str]:
        """The env vars of `consumer` whose values come from Secrets."""
        return set(self._variables.get(consumer, ()))

    def _external_secret(self, source: ExternalSecrets, name: str) -> None:
        """(Re)builds the ExternalSecret of Secret `name` from every key read so far. The binding is
        imported here: an environment without a store does not load it (about 0.1 s of jsii)."""
        from imports.external_secrets.io.external_secrets import (
            ExternalSecret,
            ExternalSecretSpec,
            ExternalSecretSpecData,
            ExternalSecretSpecDataFrom,
            ExternalSecretSpecDataFromExtract,
            ExternalSecretSpecDataRemoteRef,
            ExternalSecretSpecSecretStoreRef,
            ExternalSecretSpecSecretStoreRefKind,
            ExternalSecretSpecTarget,
            ExternalSecretSpecTargetCreationPolicy,
            ExternalSecretSpecTargetTemplate,
        )

        store_kind = (ExternalSecretSpecSecretStoreRefKind.CLUSTER_SECRET_STORE
                      if source.kind is StoreKind.CLUSTER_SECRET_STORE else ExternalSecretSpecSecretStoreRefKind.SECRET_STORE)
        keys = self._keys[name]
        whole = self.whole(name)
        path = source.remote.get(name)
        if whole and not isinstance(path, str):
            reader = next(ref for ref in self._references if ref.secret == name and ref.key is None)
            raise ConfigError(f"environment {self._scope.node.id!r}: Secret {name!r}",
                              f"is read whole ({reader.use} of {reader.consumer}) but has no remote mapping "
                              "in SecretSource.external(remote=...)",
                              f"add \"{name}\": \"<path in the store>\" to remote= (every property becomes a key)")
        data = []
        for key in sorted(keys):
            remote = source.remote_key(name, key)
            if remote is None and not whole:
                reader = next(ref for ref in self._references if ref.secret == name and ref.key == key)
                how = f" as {reader.variable}" if reader.variable else f" ({reader.use})"
                raise ConfigError(f"environment {self._scope.node.id!r}: Secret {name!r} key {key!r}",
                                  f"is read by {reader.consumer}{how} but has no remote key mapping in "
                                  "SecretSource.external(remote=...)",
                                  f"add \"{name}\": \"<path>\" (each key a property of it) or "
                                  f"\"{name}/{key}\": \"<path>\" to remote=")
            if remote is not None and not whole:
                data.append(ExternalSecretSpecData(secret_key=key, remote_ref=ExternalSecretSpecDataRemoteRef(
                    key=remote.key, property=remote.property)))
        kind = secret_type(keys)
        old = self.external_secrets.pop(name, None)
        if old is not None:
            self._scope.node.try_remove_child(old.node.id)
        self.external_secrets[name] = ExternalSecret(
            self._scope, f"external-secret-{name}",
            metadata=metadata("ExternalSecret", name, namespace=self._namespace, labels=self._labels),
            spec=ExternalSecretSpec(
                secret_store_ref=ExternalSecretSpecSecretStoreRef(name=source.store, kind=store_kind),
                refresh_interval=source.refresh_interval,
                target=ExternalSecretSpecTarget(
                    name=name, creation_policy=ExternalSecretSpecTargetCreationPolicy.OWNER,
                    template=ExternalSecretSpecTargetTemplate(type=kind) if kind != "Opaque" else None),
                data=data or None,
                data_from=[ExternalSecretSpecDataFrom(extract=ExternalSecretSpecDataFromExtract(key=path))]
                if whole and isinstance(path, str) else None))



def unused_mappings(registry: SecretReferences) -> list[str]:
    """Remote mappings of SecretSource.external that no object reads: a typo of one that is read, or
    a Secret no unit needs now (a database password while every flow runs on Engine.lfx())."""
    source = registry.source
    if not isinstance(source, ExternalSecrets):
        return []
    secrets = registry.secrets()
    return [mapped for mapped in source.remote
            if mapped.partition("/")[0] not in secrets
            or (mapped.partition("/")[2] and mapped.partition("/")[2] not in secrets[mapped.partition("/")[0]])]
