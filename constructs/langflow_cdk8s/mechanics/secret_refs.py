"""The registry of an environment's Secret references: every Secret key its pods and Ingresses read,
recorded where the reference is made (a container's env, envFrom, a volume, an image pull secret,
a TLS Secret), with who reads it. The Secret checklist of the environment's page, the promote
check and the Secret source's producer read it; nothing reads the written YAML to find them.

The Secret-source seam: `PRODUCERS` maps each kind of `SecretSource` (props/secrets.py) to the
function that makes a Secret of it exist, called whenever a Secret gets a new reader key. Adding a
source is its class in props/secrets.py (and in `SecretSourceChoice`), its producer here, and its
section of the environment page (tooling/pages.py `SECRET_SECTIONS`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cdk8s_plus_27 as kplus

from constructs import Construct

from ..props.secrets import ExistingSecrets, ExternalSecrets, SecretKey, SecretSourceChoice
from .external_secrets import external_secret
from .values import SharedConstructs


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


class SecretReferences:
    """Every Secret reference of one environment, and what its Secret source's producer built for each
    Secret (`produced`: with `SecretSource.external(...)` one ExternalSecret per Secret, built when the
    Secret is first read and rebuilt as more of its keys are read, so it carries exactly those keys)."""

    def __init__(self, scope: Construct, shared: SharedConstructs, source: SecretSourceChoice, *,
                 namespace: str, labels: Mapping[str, str]) -> None:
        self.scope = scope
        """Where producers build their objects (the environment)."""
        self._shared = shared
        self.source = source
        self.namespace = namespace
        self.labels = dict(labels)
        """Namespace and labels of what producers build."""
        self._references: dict[SecretReference, None] = {}
        self._keys: dict[str, set[str]] = {}
        self._whole: set[str] = set()
        self._variables: dict[str, set[str]] = {}
        self.produced: dict[str, Construct] = {}
        """Secret name -> the object its source's producer built for it (an ExternalSecret, ...)."""

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
        if changed:
            PRODUCERS[type(self.source)](self, self.source, name)

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

    def reader(self, name: str, key: str | None) -> SecretReference:
        """The first reference to `key` of Secret `name` (None: a read of the whole Secret)."""
        return next(ref for ref in self._references if ref.secret == name and ref.key == key)

    def discard_produced(self, name: str) -> None:
        """Removes what produced Secret `name` so far (built for fewer keys), before its producer rebuilds it."""
        old = self.produced.pop(name, None)
        if old is not None:
            self.scope.node.try_remove_child(old.node.id)


def _existing(registry: SecretReferences, source: ExistingSecrets, name: str) -> None:
    """Nothing to build: someone creates the Secret in the namespace (the environment's page lists the commands)."""


Producer = Callable[[SecretReferences, Any, str], None]

PRODUCERS: dict[type[SecretSourceChoice], Producer] = {
    ExistingSecrets: _existing,
    ExternalSecrets: external_secret,
}
"""Kind of Secret source -> what makes one of its Secrets exist, from the registry's keys read so far."""
