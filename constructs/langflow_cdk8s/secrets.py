"""References to Kubernetes Secrets: the only way a secret value reaches a pod. Values never enter dist/."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError
from .validation import data_key, env_names, object_name


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

    def env(self, variable: str) -> dict:
        """An env var whose value the kubelet reads from this key."""
        return {"name": variable, "valueFrom": {"secretKeyRef": {"name": self.name, "key": self.key}}}


def secret_env(variables: Mapping[str, SecretKey]) -> list[dict]:
    """Env entries for a {VARIABLE: SecretKey} mapping, sorted so output is stable."""
    return [ref.env(name) for name, ref in sorted(variables.items())]


def astra_db(secret_name: str) -> dict[str, SecretKey]:
    """Astra DB (the reference architecture's vector database) credentials from one Secret
    with keys ``application-token`` and ``api-endpoint``."""
    return {
        "ASTRA_DB_APPLICATION_TOKEN": SecretKey(name=secret_name, key="application-token"),
        "ASTRA_DB_API_ENDPOINT": SecretKey(name=secret_name, key="api-endpoint"),
    }


def check_secret_keys(props: object, prefix: str = "") -> None:
    """Every field annotated with SecretKey holds one (a mapping: in every value). A plain string
    there is most likely the secret itself: refused, and not echoed into the error either."""
    for f in dataclasses.fields(props):  # type: ignore[arg-type]
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
