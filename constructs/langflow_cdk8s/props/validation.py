"""Validators shared by every props type: each raises ConfigError naming the prop and the value."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from ..errors import ConfigError

E = TypeVar("E", bound=enum.Enum)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)((?:[KMGTPE]i)|[numkMGTPE]|[eE][-+]?[0-9]+)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}


def member(prop: str, value: object, choice: type[E]) -> E:
    """A closed choice's enum member. A plain string is refused, with the member that means it: the
    error teaches the enum rather than the library guessing which strings to accept."""
    if isinstance(value, choice):
        return value
    same = [m for m in choice if m.value == value]
    fix = (f"use {choice.__name__}.{same[0].name}" if same
           else "use one of " + ", ".join(f"{choice.__name__}.{m.name}" for m in choice))
    raise ConfigError(prop, f"{value!r} is not a {choice.__name__}", fix)


def dns_label(prop: str, value: str) -> str:
    """An RFC 1123 label: what Kubernetes accepts for most object names."""
    if not isinstance(value, str) or len(value) > 63 or not _DNS_LABEL.match(value):
        raise ConfigError(prop, f"{value!r} is not a DNS-1123 label",
                          "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
    return value


def dns_name(prop: str, value: str) -> str:
    """A DNS host name (RFC 1123 subdomain); a leading '*.' wildcard is allowed, as Ingress allows it."""
    labels = value.split(".") if isinstance(value, str) else []
    if labels and labels[0] == "*":
        labels = labels[1:]
    if (not isinstance(value, str) or not labels or len(value) > 253
            or not all(len(label) <= 63 and _DNS_LABEL.match(label) for label in labels)):
        raise ConfigError(prop, f"{value!r} is not a DNS host name",
                          "use lowercase dot-separated labels such as 'langflow.example.com'")
    return value


def object_name(prop: str, value: str) -> str:
    """The name of a Secret, ConfigMap or other object (RFC 1123 subdomain): the hint is about names, not hosts."""
    labels = value.split(".") if isinstance(value, str) else []
    if (not isinstance(value, str) or not labels or len(value) > 253
            or not all(len(label) <= 63 and _DNS_LABEL.match(label) for label in labels)):
        raise ConfigError(prop, f"{value!r} is not a valid Kubernetes object name",
                          "use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, "
                          "such as 'llm-api-keys'")
    return value


def data_key(prop: str, value: str) -> str:
    """A key of a Secret or ConfigMap: what `kubectl create secret --from-literal=<key>=...` accepts."""
    if not isinstance(value, str) or not value or len(value) > 253 or not _DATA_KEY.match(value):
        raise ConfigError(prop, f"{value!r} is not a valid Secret key",
                          "use letters, digits, '-', '_' and '.' only, such as 'openai' or 'api-key'")
    return value


def env_names(prop: str, variables: Mapping[str, object]) -> None:
    """Environment variable names Kubernetes 1.27 accepts (a C identifier, '-' and '.' allowed)."""
    for name in variables:
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ConfigError(f"{prop}[{name!r}]", "is not a valid environment variable name",
                              "use letters, digits and '_' (no spaces), not starting with a digit, such as 'OPENAI_API_KEY'")


def quantity(prop: str, value: str) -> Decimal:
    """Parses a Kubernetes resource quantity ('500m', '2Gi', '1.5') into its value in base units."""
    match = _QUANTITY.match(value) if isinstance(value, str) else None
    if not match:
        raise ConfigError(prop, f"{value!r} is not a Kubernetes quantity",
                          "write CPU as '500m' or '2' and memory as '512Mi' or '2Gi'")
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))  # an exponent such as '1e3', which the regex admits


def at_least(prop: str, value: int, minimum: int) -> int:
    """An integer no smaller than `minimum` (bools are rejected: True is not a replica count)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(prop, f"{value!r} is below the minimum of {minimum}", f"set {prop} to {minimum} or more")
    return value


_PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def port(prop: str, value: int | str) -> int | str:
    """A port the API server accepts: a number in 1-65535 or, where a name is allowed, an IANA
    service name (at most 15 lowercase letters, digits and '-', with a letter)."""
    if isinstance(value, str) and _PORT_NAME.match(value) and "--" not in value:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(prop, f"{value!r} is not a port (1-65535, or a port name of at most 15 characters)",
                          f"set {prop} to the port the server listens on, such as 5432")
    return value


def non_empty(prop: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(prop, f"{value!r} is empty", f"set {prop} to a non-empty string")
    return value
