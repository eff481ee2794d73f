"""Two versions of Kubernetes objects compared by meaning, not by line (for `make diff`, see diff.py):
mappings by key, so key order is no change; list items by what identifies them (a container or env var
by name, a flow's node by id, an Ingress path by its path), so an insertion is not every later item
changed; JSON held in a string (a flow in a ConfigMap) field by field; an object whose name carries a
content hash (`flow-<endpoint>-<hash>`) paired with its predecessor instead of added and removed."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

IDENTITY_KEYS = ("name", "id", "path", "host", "containerPort", "port", "key")
"""How list items are matched between two versions (containers and env vars by name, flow nodes
and edges by id, Ingress paths by path), so a reordered or inserted item is not every later one changed."""

_HEX = r"(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}(?![0-9A-Za-z])"
HASH = re.compile(_HEX)
"""A content hash inside a name (8 or more hex digits, with letters and digits): what changes with content."""
HASHED_NAME = re.compile(r"^(?P<stem>.+)-" + _HEX + "$")

TRUNCATE = 96
"""Characters of a value shown on one line of a review."""


class _Missing:
    """A side of a change where the field or item does not exist."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Manifest:
    kind: str
    name: str
    namespace: str
    body: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def annotations(self) -> dict[str, str]:
        return self.body.get("metadata", {}).get("annotations") or {}


Key = tuple[str, str, str]
"""(kind, namespace, name): one object's identity within an environment's folder."""


Segment = tuple[str, Any]
"""("key", name) into a mapping, ("item", identity) into a list matched by identity, ("index", i)."""


@dataclass(frozen=True)
class Change:
    path: tuple[Segment, ...]
    old: Any
    new: Any

    @property
    def keys(self) -> list[str]:
        return [str(value) for kind, value in self.path if kind == "key"]

    @property
    def where(self) -> str:
        return format_path(self.path)


def format_path(path: Sequence[Segment]) -> str:
    text = ""
    for kind, value in path:
        if kind == "key":
            text += f".{value}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", str(value)) else f"[{json.dumps(value)}]"
        else:
            text += f"[{value}]"
    return text.lstrip(".")


def _identity(old: list[Any], new: list[Any]) -> Callable[[Any], Any] | None:
    """What identifies the items of both lists, uniquely: a key every item (a mapping) has, or an
    HTTPRoute rule's matched paths."""
    items = [*old, *new]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITY_KEYS:
        if (all(isinstance(item.get(key), (str, int)) for item in items)
                and len({item[key] for item in old}) == len(old) and len({item[key] for item in new}) == len(new)):
            return operator.itemgetter(key)
    if all(isinstance(item.get("matches"), list) for item in items):
        def matched(item: Any) -> str:
            return " ".join(str((match.get("path") or {}).get("value", "")) for match in item["matches"])
        if len({matched(item) for item in old}) == len(old) and len({matched(item) for item in new}) == len(new):
            return matched
    return None


def as_json(value: Any) -> Any:
    """A string that holds a JSON object or array (a flow in a ConfigMap), parsed; otherwise MISSING."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return MISSING
    return MISSING


def changes(old: Any, new: Any, path: tuple[Segment, ...] = ()) -> list[Change]:
    """Every changed leaf between two values, by path: mappings by key (so key order is no change), lists
    by item identity where items have one, JSON held in strings (flows in ConfigMaps) field by field."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return [change for key in sorted({*old, *new}, key=str)
                for change in changes(old.get(key, MISSING), new.get(key, MISSING), (*path, ("key", key)))]
    if isinstance(old, list) and isinstance(new, list):
        return _list_changes(old, new, path)
    parsed_old, parsed_new = as_json(old), as_json(new)
    if parsed_old is not MISSING and parsed_new is not MISSING:
        return changes(parsed_old, parsed_new, path)
    return [Change(path, old, new)]


def _list_changes(old: list[Any], new: list[Any], path: tuple[Segment, ...]) -> list[Change]:
    key = _identity(old, new)
    if key is not None:
        before, after = {key(item): item for item in old}, {key(item): item for item in new}
        order = [*after, *(ident for ident in before if ident not in after)]
        return [change for ident in order
                for change in changes(before.get(ident, MISSING), after.get(ident, MISSING), (*path, ("item", ident)))]
    scalars = all(not isinstance(item, (dict, list)) for item in [*old, *new])
    if scalars and len(set(old)) == len(old) and len(set(new)) == len(new) and set(old) != set(new):
        return ([Change((*path, ("item", item)), MISSING, item) for item in new if item not in old]
                + [Change((*path, ("item", item)), item, MISSING) for item in old if item not in new])
    if scalars:
        return [Change(path, old, new)]  # reordered, or duplicates: the list as a whole
    return [change for i in range(max(len(old), len(new)))
            for change in changes(old[i] if i < len(old) else MISSING, new[i] if i < len(new) else MISSING,
                                  (*path, ("index", i)))]


def show(value: Any, limit: int = TRUNCATE) -> str:
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) if not isinstance(value, str) \
        else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def excerpts(old: str, new: str) -> tuple[str, str]:
    """Two long strings around where they first differ, so a changed character deep in a URL or a prompt shows."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    start = max(0, start - 30)
    lead = "…" if start else ""
    return lead + old[start:], lead + new[start:]


def hash_only(old: Any, new: Any) -> bool:
    """Whether two strings differ only in content hashes (a revision's database name that follows a flow)."""
    return (isinstance(old, str) and isinstance(new, str) and old != new
            and HASH.sub("#", old) == HASH.sub("#", new))


def pair_renames(added: list[Manifest], removed: list[Manifest]) -> list[tuple[Manifest, Manifest]]:
    """(predecessor, successor) for names that differ only in their content hash, where that pairing is unique."""
    def stems(manifests: list[Manifest]) -> dict[tuple[str, str, str], list[Manifest]]:
        found: dict[tuple[str, str, str], list[Manifest]] = {}
        for manifest in manifests:
            match = HASHED_NAME.match(manifest.name)
            if match:
                found.setdefault((manifest.kind, manifest.namespace, match.group("stem")), []).append(manifest)
        return found
    before, after = stems(removed), stems(added)
    return [(before[stem][0], after[stem][0]) for stem in before
            if stem in after and len(before[stem]) == 1 and len(after[stem]) == 1]
