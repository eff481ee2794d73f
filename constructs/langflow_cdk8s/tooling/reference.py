"""docs/reference.md: every prop of the constructs with its type and default, read from the
library's dataclasses and their docstrings."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError
from ..patterns.environment import EnvironmentProps, PodSecurityLevel, Quota, Stage
from ..patterns.gitops import Destination, GitOpsProps, SyncPolicy
from ..patterns.ide import LangflowIDEProps
from ..patterns.runtime import LangflowRuntimeProps
from ..props.database import Database
from ..props.delivery import FlowDelivery
from ..props.engine import Engine, LangflowEngine, LfxEngine
from ..props.exposure import Certificate, GatewayRef, GatewayRoute, OwnGateway
from ..props.flow import Flow, FlowGroup
from ..props.frontend import Frontend, NginxFrontend
from ..props.image import Image
from ..props.ingress import IngressOptions
from ..props.network import NetworkPeer
from ..props.pod import PodOptions
from ..props.posture import CustomComponents, ObjectStorage, ProductionPreflight, Security
from ..props.profiles import CloudProfile
from ..props.resources import Resources
from ..props.scaling import Autoscaling
from ..props.secrets import RemoteKey, SecretKey, SecretSource, StoreKind
from ..props.server import ServiceType
from ..props.settings import Auth, Metrics, Monitor, OpenTelemetry, RedisCache
from .pages import GENERATED

REFERENCE: tuple[type, ...] = (
    EnvironmentProps, Stage, PodSecurityLevel, Quota, CloudProfile, LangflowIDEProps, LangflowRuntimeProps, ServiceType, Engine, LangflowEngine,
    LfxEngine, Flow, FlowGroup, FlowDelivery,
    Frontend, NginxFrontend, Database, GatewayRoute, GatewayRef, OwnGateway, Certificate, IngressOptions, PodOptions, Resources, Autoscaling, Auth,
    Metrics, Monitor, OpenTelemetry, RedisCache, Security, CustomComponents, ObjectStorage, ProductionPreflight, Image,
    SecretKey, SecretSource, RemoteKey, StoreKind, NetworkPeer, GitOpsProps, Destination, SyncPolicy,
)
"""The classes a user of the library configures, in the order a reader meets them."""

_ENTRY = re.compile(r"^([A-Za-z_]\w*(?:\s*[,/]\s*[A-Za-z_]\w*)*)\s*:\s+(.*)$")


def _paragraphs(doc: str | None) -> list[str]:
    return [block for block in inspect.cleandoc(doc or "").split("\n\n") if block.strip()]


def field_descriptions(cls: type) -> dict[str, str]:
    """Field name -> description, from the docstring's `name: text` lines (several names may share one
    line: `a, b: text` or `a / b: text`). A line starts an entry only when its names are fields.
    Inherited fields take their base class's line unless the class describes them itself."""
    names = {f.name for f in dataclasses.fields(cls)}
    found: dict[str, str] = {}
    for owner in reversed([c for c in cls.__mro__ if dataclasses.is_dataclass(c)]):
        current: list[str] = []
        for line in inspect.cleandoc(owner.__doc__ or "").splitlines():
            match = _ENTRY.match(line.strip())
            heads = re.split(r"\s*[,/]\s*", match.group(1)) if match else []
            if match and set(heads) <= names:
                current = heads
                for head in heads:
                    found[head] = match.group(2).strip()
            elif line.strip() and current:
                for head in current:
                    found[head] += " " + line.strip()
            else:
                current = []
    return {name: found[name] for name in (f.name for f in dataclasses.fields(cls)) if name in found}


def undocumented(cls: type) -> list[str]:
    """Fields of a props dataclass that its docstring does not describe."""
    described = field_descriptions(cls)
    return [f.name for f in dataclasses.fields(cls) if not described.get(f.name)]


def _factories(cls: type) -> list[tuple[str, Callable[..., Any]]]:
    return [(name, getattr(cls, name)) for name, member in vars(cls).items()
            if isinstance(member, staticmethod) and not name.startswith("_")]


def _strings(value: Any) -> set[str]:
    """Every string inside a value: the candidate arguments of the factory that may have made it."""
    if isinstance(value, str):
        return {value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return set().union(*(_strings(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, Mapping):
        return set().union(*(_strings(v) for v in (*value.keys(), *value.values())))
    if isinstance(value, (tuple, list)):
        return set().union(*(_strings(v) for v in value))
    return set()


def _factory_call(value: Any) -> str | None:
    """The shortest `Class.factory(...)` call that makes `value`, trying no argument, then each string
    found in the value, each with one boolean option switched on: how a user would write the default."""
    calls: list[tuple[int, str]] = []
    for cls in REFERENCE:
        for name, function in _factories(cls):
            params = list(inspect.signature(function).parameters.values())
            required = [p for p in params if p.default is p.empty]
            if len(required) > 1 or (required and required[0].annotation != "str"):
                continue
            for args in ([[s] for s in sorted(_strings(value))] if required else [[]]):
                for flag in [None, *(p.name for p in params if p.default is False)]:
                    try:
                        made = function(*args, **({flag: True} if flag else {}))
                    except ConfigError:
                        continue
                    if type(made) is type(value) and made == value:
                        text = ", ".join([*(json.dumps(a) for a in args), *([f"{flag}=True"] if flag else [])])
                        calls.append((len(args) + bool(flag), f"{cls.__name__}.{name}({text})"))
    return min(calls)[1] if calls else None


def _literal(value: Any) -> str:
    """Python source for a default value, as short as it can be written."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        call = _factory_call(value)
        if call:
            return call
        changed = [f"{f.name}={_literal(getattr(value, f.name))}" for f in dataclasses.fields(value)
                   if f.init and getattr(value, f.name) != _field_default(f)]
        return f"{type(value).__name__}({', '.join(changed)})"
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return f"[{', '.join(_literal(v) for v in value)}]"
    if isinstance(value, frozenset):
        return "frozenset({" + ", ".join(sorted(_literal(v) for v in value)) + "})"
    if isinstance(value, tuple):
        return f"({_literal(value[0])},)" if len(value) == 1 else f"({', '.join(_literal(v) for v in value)})"
    return repr(value)


_REQUIRED = object()


def _field_default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _REQUIRED


def _markdown(text: str) -> str:
    """Docstring text as Markdown: reST double backticks become code, whitespace one space."""
    return re.sub(r"``(.+?)``", r"`\1`", " ".join(text.split()))


def _cell(text: str) -> str:
    """Text for a Markdown table cell: pipes escaped (GitHub unescapes them inside code too)."""
    return _markdown(text).replace("|", "\\|")


def _annotation(annotation: Any) -> str:
    """An annotation as written: postponed ones are strings, some still quoted in the source."""
    return annotation.strip("'\"") if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _signature(owner: type, name: str, function: Callable[..., Any]) -> str:
    """`Owner.name(params) -> returns`, with defaults as a user writes them."""
    signature = inspect.signature(function)
    params = []
    for p in signature.parameters.values():
        if p.kind is p.KEYWORD_ONLY and "*" not in params:
            params.append("*")
        text = p.name if p.annotation is p.empty else f"{p.name}: {_annotation(p.annotation)}"
        params.append(text if p.default is p.empty else f"{text} = {_literal(p.default)}")
    returns = "" if signature.return_annotation is signature.empty else f" -> {_annotation(signature.return_annotation)}"
    return f"{owner.__name__}.{name}({', '.join(params)}){returns}"


def _section(cls: type) -> str:
    lines = [f"## `{cls.__name__}`", "", _markdown(_paragraphs(cls.__doc__)[0]), ""]
    if issubclass(cls, enum.Enum):
        lines += [", ".join(f"`{cls.__name__}.{member.name}`" for member in cls), ""]
    if dataclasses.is_dataclass(cls):
        described = field_descriptions(cls)
        lines += ["| prop | type | default | description |", "| --- | --- | --- | --- |"]
        for f in dataclasses.fields(cls):
            default = _field_default(f)
            shown = "required" if default is _REQUIRED else f"`{_cell(_literal(default))}`"
            lines.append(f"| `{f.name}` | `{_cell(_annotation(f.type))}` | {shown} | {_cell(described.get(f.name, ''))} |")
        lines.append("")
    for name, function in _factories(cls):
        lines += [f"- `{_signature(cls, name, function)}`", f"  {_markdown(function.__doc__ or '')}".rstrip()]
    return "\n".join(lines).rstrip() + "\n"


def reference_markdown() -> str:
    """docs/reference.md: every class in REFERENCE with its props, their defaults and factories."""
    contents = " · ".join(f"[`{cls.__name__}`](#{cls.__name__.lower()})" for cls in REFERENCE)
    return "\n".join([
        "# Reference",
        "",
        GENERATED,
        "",
        "Every prop of the constructs with its type and default, read from the library's dataclasses "
        "(defaults evaluated, written the way you would write them) and their docstrings. Import everything "
        "from `langflow_cdk8s`.",
        "",
        contents,
        "",
        *(_section(cls) for cls in REFERENCE),
    ])
