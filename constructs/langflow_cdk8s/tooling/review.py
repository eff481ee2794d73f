"""What a change does when Argo CD syncs it, per dist/ folder (for `make diff`, see diff.py): objects
added, removed, changed or replaced under a new content-hashed name; which workloads roll their pods
and why; what Argo CD prunes or leaves; which Secrets must newly exist; the quota before and after.
Generic over kinds: it reads pod templates, references, annotations and quotas, never object names."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..patterns.environment import quota_usage
from ..props.validation import quantity
from .argocd_sync import RESOURCES_FINALIZER, Sync, applications
from .inventory import required_secrets
from .promote import is_flow
from .semantic_diff import (
    HASHED_NAME,
    MISSING,
    Change,
    Key,
    Manifest,
    as_json,
    changes,
    format_path,
    hash_only,
    pair_renames,
    show,
)

ROLLING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
"""Kinds whose controller replaces every pod when `spec.template` changes, and only then."""

IMMUTABLE: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "selector"),),
    "StatefulSet": (("spec", "selector"), ("spec", "volumeClaimTemplates"), ("spec", "serviceName"),
                    ("spec", "podManagementPolicy")),
    "DaemonSet": (("spec", "selector"),),
    "Job": (("spec", "selector"), ("spec", "template")),
    "Service": (("spec", "clusterIP"),),
    "RoleBinding": (("roleRef",),),
    "ClusterRoleBinding": (("roleRef",),),
    "PersistentVolumeClaim": (("spec", "storageClassName"), ("spec", "accessModes"), ("spec", "volumeName")),
}
"""Fields the API server refuses to change in place: a sync that changes them fails until someone
deletes the object (or Argo CD replaces it with Replace=true)."""

CONTAINER_FIELDS = {
    "image": "image", "env": "env", "envFrom": "env", "livenessProbe": "probes", "readinessProbe": "probes",
    "startupProbe": "probes", "resources": "resources", "securityContext": "security context",
    "command": "command", "args": "command", "workingDir": "command", "ports": "ports", "volumeMounts": "volumes",
    "lifecycle": "lifecycle hooks", "imagePullPolicy": "image pull policy",
}
"""Words for what changed in a container, as a reviewer asks why pods roll."""

REASON_ORDER = {"flow": 0, "content": 1, "image": 2, "command": 3, "env": 4}
"""What a reviewer reads first in a rollout's reasons: content and image before settings."""


def _replicas(manifest: Manifest, objects: Mapping[Key, Manifest]) -> int:
    """The pods a workload runs at least: its autoscaler's minimum, else spec.replicas."""
    for other in objects.values():
        target = (other.body.get("spec") or {}).get("scaleTargetRef") or {}
        if other.kind == "HorizontalPodAutoscaler" and target.get("kind") == manifest.kind and target.get("name") == manifest.name:
            return int(other.body["spec"].get("minReplicas", 1))
    return int((manifest.body.get("spec") or {}).get("replicas", 1))


@dataclass
class Renamed:
    """A content-named object (`<stem>-<hash>`) replaced by its successor: one change, not an add and a remove."""

    old: Manifest
    new: Manifest
    changes: list[Change]
    flows: list[str]

    @property
    def what(self) -> str:
        held = f" (flow {', '.join(repr(name) for name in self.flows)})" if self.flows else ""
        return f"{self.old.kind} {self.old.name} → {self.new.name}{held}"


def flows_in(manifest: Manifest) -> list[str]:
    """Names of the Langflow flows a ConfigMap (or any object with `data`) carries."""
    data = manifest.body.get("data")
    documents = [as_json(value) for value in data.values()] if isinstance(data, dict) else []
    return [document["name"] for document in documents if is_flow(document)]


@dataclass
class EnvironmentDiff:
    """One dist/ folder's review: the objects by fate, and `effects`, what Argo CD's sync does, in words."""

    name: str
    sync: Sync
    namespace: str
    added: list[Manifest] = field(default_factory=list)
    removed: list[Manifest] = field(default_factory=list)
    changed: list[tuple[Manifest, Manifest, list[Change]]] = field(default_factory=list)
    renamed: list[Renamed] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)

    @property
    def counts(self) -> str:
        parts = [(len(self.added), "added"), (len(self.removed), "removed"), (len(self.changed), "changed"),
                 (len(self.renamed), "replaced under a new content-hashed name")]
        return ", ".join(f"{count} {what}" for count, what in parts if count)


@dataclass
class Report:
    """Every folder that changed, and the names of those that did not (so "nothing else" is visible)."""

    base: str
    environments: list[EnvironmentDiff]
    unchanged: list[str]


def compare(base: Mapping[str, Mapping[Key, Manifest]], head: Mapping[str, Mapping[Key, Manifest]],
            base_label: str) -> Report:
    """The review of one change: per dist/ folder, what differs and what Argo CD does with it."""
    syncs = applications(base, head)
    report = Report(base=base_label, environments=[], unchanged=[])
    for name in sorted({*base, *head}):
        old, new = base.get(name, {}), head.get(name, {})
        env = _environment(name, old, new, syncs.get(name, Sync(application=None)))
        if env.added or env.removed or env.changed or env.renamed:
            report.environments.append(env)
        else:
            report.unchanged.append(name)
    return report


def _environment(name: str, old: Mapping[Key, Manifest], new: Mapping[Key, Manifest], sync: Sync) -> EnvironmentDiff:
    namespaces = [m.name for m in [*new.values(), *old.values()] if m.kind == "Namespace"]
    namespace = namespaces[0] if namespaces else next((m.namespace for m in [*new.values(), *old.values()] if m.namespace), "")
    env = EnvironmentDiff(name=name, sync=sync, namespace=namespace)
    added = [new[key] for key in new if key not in old]
    removed = [old[key] for key in old if key not in new]
    for before, after in pair_renames(added, removed):
        added.remove(after)
        removed.remove(before)
        found = [c for c in changes(before.body, after.body) if c.path != (("key", "metadata"), ("key", "name"))]
        env.renamed.append(Renamed(before, after, found, flows_in(after) or flows_in(before)))
    env.added, env.removed = added, removed
    env.changed = [(old[key], new[key], found) for key in new if key in old
                   for found in [changes(old[key].body, new[key].body)] if found]
    env.effects = [*_rollouts(env, new), *_in_place(env), *_created(env, new), *_replaced(env), *_gone(env),
                   *_immutable(env), *_secrets(env, old, new), *_quota(old, new)]
    return env


def _rollouts(env: EnvironmentDiff, objects: Mapping[Key, Manifest]) -> Iterator[str]:
    """Which workloads replace their pods, and why, in the words a reviewer asks in."""
    for old, new, found in env.changed:
        if old.kind not in ROLLING_KINDS:
            continue
        template = [c for c in found if c.keys[:2] == ["spec", "template"]]
        if not template:
            continue
        reasons: dict[str, list[str]] = {}
        derived: list[str] = []
        for change in template:
            cause = _renamed_cause(change, env.renamed)
            if cause is not None:
                reasons.setdefault(cause, [])
            elif hash_only(change.old, change.new):
                derived.append(_item_name(change))
            else:
                what, detail = _template_reason(change)
                reasons.setdefault(what, []).append(detail)
        ranked = sorted(reasons.items(), key=lambda item: REASON_ORDER.get(item[0].split(" ")[0], len(REASON_ORDER)))
        words = [f"{what} ({', '.join(dict.fromkeys(d for d in details if d))})" if any(details) else what
                 for what, details in ranked] or ["content-derived names changed"]
        follow = f"; content-derived names follow ({', '.join(dict.fromkeys(derived))})" if derived else ""
        rest = [c for c in found if c.keys[:2] != ["spec", "template"]]
        also = f"; also changed in place: {_summarize(rest)}" if rest else ""
        yield f"{new.label} {_how_it_rolls(new, objects)}: {'; '.join(words)}{follow}{also}"


def _how_it_rolls(workload: Manifest, objects: Mapping[Key, Manifest]) -> str:
    """What a new pod template does to running pods, by the workload's update strategy."""
    spec = workload.body.get("spec") or {}
    strategy = (spec.get("strategy") or spec.get("updateStrategy") or {}).get("type")
    pods = _replicas(workload, objects)
    if strategy == "OnDelete":
        return "gets a new pod template, which its pods take only when someone deletes them (OnDelete)"
    if strategy == "Recreate":
        return f"rolls its pods ({pods} or more), all at once: Recreate stops every pod before new ones start"
    return f"rolls its pods ({pods} or more)"


def _renamed_cause(change: Change, renamed: Sequence[Renamed]) -> str | None:
    """The content change behind a reference that follows a renamed object (a flow's ConfigMap)."""
    if not isinstance(change.old, str) or not isinstance(change.new, str):
        return None
    hits = [r for r in renamed if r.old.name in change.old and r.new.name in change.new]
    replaced = change.old
    for r in renamed:
        replaced = replaced.replace(r.old.name, r.new.name)
    if not hits or replaced != change.new:
        return None
    flows = [name for r in hits for name in r.flows]
    if flows:
        return f"flow content changed ({', '.join(repr(name) for name in flows)})"
    stems = [f"{r.new.kind} {m.group('stem')}" for r in hits for m in [HASHED_NAME.match(r.new.name)] if m]
    return f"content of {', '.join(stems)} changed"


def _item_name(change: Change) -> str:
    """`env LANGFLOW_DATABASE_URL`, `volumes db-script`: the named item a change sits in."""
    for (kind, value), (next_kind, ident) in zip(reversed(change.path[:-1]), reversed(change.path[1:]), strict=True):
        if kind == "key" and next_kind == "item":
            return f"{value} {ident}"
    return change.where


def _template_reason(change: Change) -> tuple[str, str]:
    """(what changed, which one) for a change below a workload's spec.template."""
    keys = change.keys[2:]  # below spec.template
    if keys[:1] == ["metadata"]:
        return "pod " + (keys[1] if len(keys) > 1 else "metadata"), _last_item(change)
    spec = keys[1:]
    if spec[:1] and spec[0] in ("containers", "initContainers", "ephemeralContainers"):
        container = next((str(value) for kind, value in change.path if kind in ("item", "index")), "?")
        if len(spec) == 1:
            return "containers", f"{container} {'added' if change.old is MISSING else 'removed'}"
        what = CONTAINER_FIELDS.get(spec[1], spec[1])
        if what == "image":
            return "image", f"{change.old} → {change.new}"
        if what == "env":
            return "env", _last_item(change)
        return what, container
    if spec[:1] == ["securityContext"]:
        return "pod security context", ""
    return (spec[0], _last_item(change)) if spec else ("pod template", "")


def _last_item(change: Change) -> str:
    """The identity of the innermost matched item (an env var's name), or the last key (a label)."""
    items = [str(value) for kind, value in change.path if kind == "item"]
    return items[-1] if items else change.keys[-1]


def _summarize(found: Sequence[Change]) -> str:
    """A changed object's fields in one line: items added or removed per list, other fields by path."""
    counts: dict[str, tuple[list[str], list[str]]] = {}
    fields: list[str] = []
    for change in found:
        if change.path and change.path[-1][0] == "item" and (change.old is MISSING or change.new is MISSING):
            tally = counts.setdefault(format_path(change.path[:-1]), ([], []))
            tally[0 if change.old is MISSING else 1].append(str(change.path[-1][1]))
        elif len(change.path) <= 4 and all(not isinstance(v, (dict, list)) for v in (change.old, change.new)):
            fields.append(f"{change.where} {show(change.old, 40)} → {show(change.new, 40)}")
        else:
            fields.append(format_path(change.path[:4]))
    parts = [f"{where}: " + ", ".join(f"{len(items)} {w} ({', '.join(items[:3])}{', …' if len(items) > 3 else ''})"
                                      for items, w in zip(tally, ("added", "removed"), strict=True) if items)
             for where, tally in counts.items()]
    parts += list(dict.fromkeys(fields))
    return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")


def _in_place(env: EnvironmentDiff) -> Iterator[str]:
    """Changes that restart nothing, one line per distinct change, naming every object it touches
    (an image bump relabels a dozen objects the same way)."""
    groups: dict[str, list[str]] = {}
    for old, new, found in env.changed:
        rolling = old.kind in ROLLING_KINDS and any(c.keys[:2] == ["spec", "template"] for c in found)
        if rolling or new.kind == "ResourceQuota":  # said with the rollout, or by the quota line
            continue
        note = ""
        if new.kind in ("ConfigMap", "Secret") and any(c.keys[:1] in (["data"], ["binaryData"]) for c in found):
            note = " (mounted files follow within a minute; env vars read from it change only when pods restart)"
        elif old.kind in ROLLING_KINDS:
            note = " (its pods keep running)"
        groups.setdefault(_summarize(found), []).append(new.label + note)
    for summary, labels in groups.items():
        yield f"updated in place: {', '.join(labels)}: {summary}"


def _created(env: EnvironmentDiff, objects: Mapping[Key, Manifest]) -> Iterator[str]:
    workloads = [m for m in env.added if m.kind in ROLLING_KINDS]
    for manifest in workloads:
        yield f"{manifest.label} is created and starts {_replicas(manifest, objects)} pod(s)"
    others = [m.label for m in env.added if m.kind not in ROLLING_KINDS]
    if others:
        yield f"created: {', '.join(others)}"


def _replaced(env: EnvironmentDiff) -> Iterator[str]:
    for renamed in env.renamed:
        fate = env.sync.fate(renamed.old)
        kept = " (pods of earlier ReplicaSets keep reading it, for a rollback)" if fate.startswith("stays") else ""
        yield f"{renamed.new.label} is created in place of {renamed.old.name}, which {fate}{kept}"


def _gone(env: EnvironmentDiff) -> Iterator[str]:
    fates: dict[str, list[Manifest]] = {}
    for manifest in env.removed:
        fates.setdefault(env.sync.fate(manifest), []).append(manifest)
    for fate, manifests in fates.items():
        running = [m.label for m in manifests if m.kind in ROLLING_KINDS]
        note = f"; the pods of {', '.join(running)} keep running" if running and fate.startswith("stays") else ""
        yield f"no longer in Git: {', '.join(m.label for m in manifests)}: {fate}{note}"
        for manifest in manifests:
            if manifest.kind == "Application" and fate.startswith("is deleted"):
                finalizers = manifest.body.get("metadata", {}).get("finalizers") or []
                yield (f"{manifest.label} is deleted " + ("with everything it deployed (resources finalizer)"
                       if RESOURCES_FINALIZER in finalizers else "but what it deployed stays in the cluster (no resources finalizer)"))


def _immutable(env: EnvironmentDiff) -> Iterator[str]:
    for old, new, found in env.changed:
        fields = {".".join(prefix) for c in found for prefix in IMMUTABLE.get(new.kind, ()) if tuple(c.keys[:len(prefix)]) == prefix}
        if new.kind in ("ConfigMap", "Secret") and old.body.get("immutable") and any(
                c.keys[:1] in (["data"], ["binaryData"], ["stringData"]) for c in found):
            fields.add("data (the object is immutable)")
        if fields:
            yield (f"warning: {new.label}: the API server refuses to change {', '.join(sorted(fields))} in place: the sync "
                   "fails until the object is deleted and created again")


def _provided(objects: Mapping[Key, Manifest]) -> set[str]:
    """Secrets the synthesis itself creates or has an operator create (ExternalSecret targets)."""
    names = {m.name for m in objects.values() if m.kind == "Secret"}
    for manifest in objects.values():
        if manifest.kind == "ExternalSecret":
            target = (manifest.body.get("spec") or {}).get("target") or {}
            names.add(str(target.get("name") or manifest.name))
    return names


def _secrets(env: EnvironmentDiff, old: Mapping[Key, Manifest], new: Mapping[Key, Manifest]) -> Iterator[str]:
    before = required_secrets(m.body for m in old.values())
    after = required_secrets(m.body for m in new.values())
    provided = _provided(new)
    where = f" in namespace {env.namespace}" if env.namespace else ""
    for name, keys in after.items():
        if name in provided:
            continue
        listed = f" with key(s) {', '.join(sorted(keys))}" if keys else ""
        if name not in before:
            yield f"Secret {name} must exist{where}{listed} before this syncs (pods that read it do not start without it)"
        elif keys - before[name]:
            yield f"Secret {name} needs new key(s){where}: {', '.join(sorted(keys - before[name]))}"


def _limit_defaults(objects: Mapping[Key, Manifest]) -> dict[str, dict[str, str]]:
    for manifest in objects.values():
        if manifest.kind == "LimitRange":
            for limit in (manifest.body.get("spec") or {}).get("limits") or []:
                if limit.get("type") == "Container":
                    return {"requests": limit.get("defaultRequest") or {}, "limits": limit.get("default") or {}}
    return {"requests": {}, "limits": {}}


def _hard(objects: Mapping[Key, Manifest]) -> dict[str, str]:
    hard: dict[str, str] = {}
    for manifest in objects.values():
        if manifest.kind == "ResourceQuota":
            hard.update({str(k): str(v) for k, v in ((manifest.body.get("spec") or {}).get("hard") or {}).items()})
    return hard


def _amount(key: str, value: Decimal) -> str:
    """A quantity as the quota states it: memory in Gi, CPU in cores, counts as integers."""
    def plain(number: Decimal) -> str:
        return format(number.quantize(Decimal("0.01")).normalize(), "f")
    if key.endswith(("memory", "storage")):
        return f"{plain(value / 2**30)}Gi"
    return plain(value) if key.endswith("cpu") else str(int(value))


def _quota(old: Mapping[Key, Manifest], new: Mapping[Key, Manifest]) -> Iterator[str]:
    """The quota before and after, with what the workloads need at maximum scale on each side."""
    hard_old, hard_new = _hard(old), _hard(new)
    use_old = quota_usage([m.body for m in old.values()], _limit_defaults(old))
    use_new = quota_usage([m.body for m in new.values()], _limit_defaults(new))
    lines = []
    for key in sorted({*hard_old, *hard_new}):  # no ResourceQuota, no quota to compare with
        limits = hard_old.get(key, "none"), hard_new.get(key, "none")
        needs = use_old.get(key), use_new.get(key)
        if limits[0] == limits[1] and needs[0] == needs[1]:
            continue
        line = f"{key} {limits[0]}" + (f" → {limits[1]}" if limits[1] != limits[0] else " (unchanged)")
        if needs[1] is not None:
            used = _amount(key, needs[1]) if needs[0] == needs[1] else f"{_amount(key, needs[0] or Decimal(0))} → {_amount(key, needs[1])}"
            line += f", the workloads need {used} at maximum scale"
            if limits[1] != "none" and needs[1] > (Decimal(limits[1]) if key == "pods" else quantity(key, limits[1])):
                line += " (over the quota: pods beyond it are refused)"
        lines.append(line)
    if lines:
        yield "quota: " + "; ".join(lines)
