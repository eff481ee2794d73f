"""The producer of `SecretSource.external(...)` (registered in secret_refs.PRODUCERS): one
ExternalSecret (external-secrets.io/v1) per Secret the environment reads, carrying exactly the keys
read so far, rebuilt when a Secret gets a new key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..props.secrets import ExternalSecrets, StoreKind, secret_type
from .waves import metadata

if TYPE_CHECKING:
    from .secret_refs import SecretReferences


def external_secret(registry: SecretReferences, source: ExternalSecrets, name: str) -> None:
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
    keys = registry.secrets()[name]
    whole = registry.whole(name)
    path = source.remote.get(name)
    if whole and not isinstance(path, str):
        reader = registry.reader(name, None)
        raise ConfigError(f"environment {registry.scope.node.id!r}: Secret {name!r}",
                          f"is read whole ({reader.use} of {reader.consumer}) but has no remote mapping "
                          "in SecretSource.external(remote=...)",
                          f"add \"{name}\": \"<path in the store>\" to remote= (every property becomes a key)")
    data = []
    for key in sorted(keys):
        remote = source.remote_key(name, key)
        if remote is None and not whole:
            reader = registry.reader(name, key)
            how = f" as {reader.variable}" if reader.variable else f" ({reader.use})"
            raise ConfigError(f"environment {registry.scope.node.id!r}: Secret {name!r} key {key!r}",
                              f"is read by {reader.consumer}{how} but has no remote key mapping in "
                              "SecretSource.external(remote=...)",
                              f"add \"{name}\": \"<path>\" (each key a property of it) or "
                              f"\"{name}/{key}\": \"<path>\" to remote=")
        if remote is not None and not whole:
            data.append(ExternalSecretSpecData(secret_key=key, remote_ref=ExternalSecretSpecDataRemoteRef(
                key=remote.key, property=remote.property)))
    kind = secret_type(keys)
    registry.discard_produced(name)
    registry.produced[name] = ExternalSecret(
        registry.scope, f"external-secret-{name}",
        metadata=metadata("ExternalSecret", name, namespace=registry.namespace, labels=registry.labels),
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
