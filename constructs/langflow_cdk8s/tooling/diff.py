"""`make diff [BASE=origin/main] [FORMAT=markdown]`: what a change does in the cluster, for review.

A raw diff of dist/ shows a one-line flow edit as a renamed ConfigMap, a changed Deployment and a new
pod template, with no word on what Argo CD will do. This synthesizes the base revision (in a
temporary git worktree, with the packages its own lock files name) and the working tree (into a
temporary folder: the repository's dist/ is never touched), each once, and says per environment
which objects are added, removed, changed or replaced under a new content-hashed name; which
Deployments and StatefulSets roll their pods and why; what Argo CD prunes or leaves (the
Application's syncPolicy and each object's annotations, read from the synthesized dist/argocd/);
which Secrets newly need to exist; the quota before and after; then the changed fields by path,
down to the fields of a flow's JSON. Nothing here knows an object's name: it reads kinds, references
and annotations, so new kinds of objects are described as they come.

    python -m langflow_cdk8s.tooling.diff [--base origin/main] [--format text|markdown]

Exit codes: 0 with the report (also "no changes"), 2 with two lines for a bad BASE or a revision
that does not synthesize.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..errors import ConfigError
from ..mechanics.waves import COMPARE_OPTIONS, IGNORE_EXTRANEOUS
from ..patterns.environment import quota_usage
from ..props.validation import quantity
from .inventory import required_secrets
from .promote import is_flow

LOCKS = ("requirements.lock", "package-lock.json")
"""What decides the packages a revision synthesizes with (see `prepare_base`)."""

SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ROLLING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
"""Kinds whose controller replaces every pod when `spec.template` changes, and only then."""

IDENTITY_KEYS = ("name", "id", "path", "host", "containerPort", "port", "key")
"""How list items are matched between two versions (containers and env vars by name, flow nodes
and edges by id, Ingress paths by path), so a reordered or inserted item is not every later one changed."""

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

_HEX = r"(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{8,}(?![0-9A-Za-z])"
HASH = re.compile(_HEX)
"""A content hash inside a name (8 or more hex digits, with letters and digits): what changes with content."""
HASHED_NAME = re.compile(r"^(?P<stem>.+)-" + _HEX + "$")

CONTAINER_FIELDS = {
    "image": "image", "env": "env", "envFrom": "env", "livenessProbe": "probes", "readinessProbe": "probes",
    "startupProbe": "probes", "resources": "resources", "securityContext": "security context",
    "command": "command", "args": "command", "workingDir": "command", "ports": "ports", "volumeMounts": "volumes",
    "lifecycle": "lifecycle hooks", "imagePullPolicy": "image pull policy",
}
"""Words for what changed in a container, as a reviewer asks why pods roll."""

REASON_ORDER = {"flow": 0, "content": 1, "image": 2, "command": 3, "env": 4}
"""What a reviewer reads first in a rollout's reasons: content and image before settings."""

TRUNCATE = 96


class _Missing:
    """A side of a change where the field or item does not exist."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# ---------------------------------------------------------------------- synthesizing both trees


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def repository(start: Path) -> Path:
    """The root of the work tree `make diff` runs in."""
    found = git(start, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise ConfigError(str(start), "is not inside a Git work tree",
                          "run make diff in a clone of the repository")
    return Path(found.stdout.strip())


def resolve(repo: Path, base: str) -> str:
    """The commit BASE names; a typo or an unfetched branch is a two-line error, not git's usage text."""
    found = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
    if not base or found.returncode != 0:
        raise ConfigError(f"BASE={base}", "is not a commit, branch or tag of this repository",
                          "name one that exists, e.g. BASE=HEAD or BASE=origin/main (after `git fetch origin`)")
    return found.stdout.strip()


def same_locks(base: Path, work: Path) -> dict[str, bool]:
    """Per lock file, whether the base revision's is byte-equal to the working tree's (both absent counts
    as equal): then the working tree's installation is exactly what the base would install."""
    def content(path: Path) -> bytes | None:
        return path.read_bytes() if path.is_file() else None
    return {lock: content(base / lock) == content(work / lock) for lock in LOCKS}


def prepare_base(base: Path, work: Path, scratch: Path, stream: TextIO) -> str:
    """The Python that synthesizes the base revision, with what its locks say: the running one (the
    working tree's .venv) when requirements.lock is equal, else a temporary venv installed from the
    base's lock; node_modules likewise (linked when package-lock.json is equal, `npm ci` otherwise),
    so the base tree is set up as `make setup` would set it up."""
    equal = same_locks(base, work)
    if equal["package-lock.json"]:
        if (work / "node_modules").is_dir() and not (base / "node_modules").exists():
            (base / "node_modules").symlink_to(work / "node_modules")
    elif (base / "package-lock.json").is_file():
        print("make diff: the base's package-lock.json differs: installing it with npm ci", file=stream)
        _setup(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], base, "npm ci")
    if equal["requirements.lock"]:
        return sys.executable
    print("make diff: the base's requirements.lock differs: installing it into a temporary venv (about a minute)",
          file=stream)
    venv = scratch / "venv"
    _setup([shutil.which("python3") or sys.executable, "-m", "venv", str(venv)], base, "python3 -m venv")
    python = str(venv / "bin" / "python")
    _setup([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes",
            "-r", "requirements.lock"], base, "pip install -r requirements.lock")
    return python


def _setup(command: list[str], cwd: Path, what: str) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise ConfigError(f"the base revision's {what}", f"failed: {last[0]}",
                          "check that BASE's lock files install (make setup in a checkout of it)")


SYNTHESIZE = """\
import importlib.util, sys
from pathlib import Path
tree, outdir = Path(sys.argv[1]), sys.argv[2]
spec = importlib.util.spec_from_file_location("main", tree / "main.py")
main = importlib.util.module_from_spec(spec)
sys.modules["main"] = main
spec.loader.exec_module(main)
from langflow_cdk8s.tooling.synth import synth
raise SystemExit(synth(main.build, outdir=outdir))
"""
"""main.py's build() through the tree's own library (PYTHONPATH), as cdk8s.yaml's app runs it (-O),
into `outdir` only: synth(..., outdir=...) never replaces a repository's dist/."""


def start_synthesis(python: str, tree: Path, outdir: Path) -> subprocess.Popen[str]:
    """Each tree in its own process: two versions of the library (and of jsii's kernel) cannot share one."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CDK8S_", "PYTHONPATH"))}
    env["PYTHONPATH"] = f"{tree / 'constructs'}{os.pathsep}{tree}"
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    return subprocess.Popen([python, "-O", "-c", SYNTHESIZE, str(tree), str(outdir)], cwd=tree, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_synthesis(process: subprocess.Popen[str], label: str) -> None:
    """Waits for one synthesis; a failure becomes the two lines the synthesis printed, naming the revision."""
    _, err = process.communicate()
    if process.returncode == 0:
        return
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    if errors:
        first = lines[errors[0]].removeprefix("error: ")
        fix = next((line.strip().removeprefix("fix: ") for line in lines[errors[0] + 1:] if line.strip().startswith("fix:")),
                   f"run make synth in a checkout of {label} to see every message")
        raise ConfigError(f"{label} does not synthesize", first, fix)
    raise ConfigError(f"{label} does not synthesize", lines[-1] if lines else f"exit code {process.returncode}",
                      f"run make synth in a checkout of {label} to see the whole error")


@contextmanager
def base_checkout(repo: Path, sha: str, label: str, scratch: Path) -> Iterator[Path]:
    """The base revision as a temporary git worktree (its own main.py, flows/, library and locks),
    removed again whatever happens."""
    tree = scratch / "base"
    added = git(repo, "worktree", "add", "--detach", "--quiet", str(tree), sha)
    if added.returncode != 0:
        last = added.stderr.strip().splitlines()[-1:] or ["failed"]
        raise ConfigError(f"git worktree add {label}", last[0], "run `git worktree prune` and try again")
    try:
        yield tree
    finally:
        git(repo, "worktree", "remove", "--force", str(tree))
        git(repo, "worktree", "prune")


def synthesize_both(repo: Path, sha: str, label: str, scratch: Path, stream: TextIO) -> tuple[Path, Path]:
    """(base output, working tree output), each synthesized once, side by side."""
    with base_checkout(repo, sha, label, scratch) as tree:
        python = prepare_base(tree, repo, scratch, stream)
        outputs = scratch / "base.out", scratch / "head.out"
        base = start_synthesis(python, tree, outputs[0])
        head = start_synthesis(sys.executable, repo, outputs[1])
        try:
            finish_synthesis(base, label)
            finish_synthesis(head, "the working tree")
        finally:
            for process in (base, head):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return outputs


# ---------------------------------------------------------------------- reading what was written


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


def read_output(outdir: Path) -> dict[str, dict[Key, Manifest]]:
    """Folder name -> objects, from the files a synthesis wrote (libyaml's loader: a few hundred files)."""
    environments: dict[str, dict[Key, Manifest]] = {}
    for folder in sorted(p for p in outdir.iterdir() if p.is_dir()) if outdir.is_dir() else []:
        objects = environments.setdefault(folder.name, {})
        for path in sorted(folder.glob("*.yaml")):
            for body in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader):
                if isinstance(body, dict) and "kind" in body:
                    meta = body.get("metadata") or {}
                    manifest = Manifest(body["kind"], str(meta.get("name", path.stem)), str(meta.get("namespace") or ""), body)
                    objects[(manifest.kind, manifest.namespace, manifest.name)] = manifest
    return environments


# ---------------------------------------------------------------------- the semantic diff

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


def _identity(old: list[Any], new: list[Any]) -> str | None:
    """The key that identifies the items of both lists, if every item is a mapping that has it, uniquely."""
    items = [*old, *new]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in IDENTITY_KEYS:
        if (all(isinstance(item.get(key), (str, int)) for item in items)
                and len({item[key] for item in old}) == len(old) and len({item[key] for item in new}) == len(new)):
            return key
    return None


def _json(value: Any) -> Any:
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
    parsed_old, parsed_new = _json(old), _json(new)
    if parsed_old is not MISSING and parsed_new is not MISSING:
        return changes(parsed_old, parsed_new, path)
    return [Change(path, old, new)]


def _list_changes(old: list[Any], new: list[Any], path: tuple[Segment, ...]) -> list[Change]:
    key = _identity(old, new)
    if key is not None:
        before, after = {item[key]: item for item in old}, {item[key]: item for item in new}
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


# ---------------------------------------------------------------------- what Argo CD does with it


@dataclass(frozen=True)
class Sync:
    """How the Application that deploys one dist/ folder syncs it, from its synthesized manifest."""

    application: str | None
    automated: bool = False
    prune: bool = False
    prune_last: bool = False
    no_prune: bool = False  # Prune=false among the Application's syncOptions

    @property
    def words(self) -> str:
        if self.application is None:
            return "no Argo CD Application in the synthesis deploys this folder"
        mode = "automated sync" if self.automated else "manual sync"
        prune = "prune on" if self.prune and not self.no_prune else "prune off"
        return f"Application {self.application} ({mode}, {prune})"

    def fate(self, gone: Manifest) -> str:
        """What happens to a live object that Git no longer has, given its own annotations."""
        options = {option.strip() for option in gone.annotations.get(SYNC_OPTIONS, "").split(",")}
        extraneous = IGNORE_EXTRANEOUS in gone.annotations.get(COMPARE_OPTIONS, "")
        if "Prune=false" in options:
            return "stays in the cluster: it has Prune=false (the Application shows it as needing pruning)"
        if self.application is None:
            return "stays in the cluster: nothing syncs this folder"
        if "Prune=confirm" in options and self.prune:
            return "is deleted once someone confirms the pruning (Prune=confirm)"
        if not self.prune or self.no_prune or not self.automated:
            status = ("left out of the sync status (IgnoreExtraneous)" if extraneous
                      else "the Application shows OutOfSync until someone syncs with prune")
            return f"stays in the cluster: prune is off; {status}"
        return "is deleted by Argo CD (prune on" + (", last, once the rest is synced and healthy: PruneLast)" if self.prune_last else ")")


def applications(*outputs: Mapping[str, Mapping[Key, Manifest]]) -> dict[str, Sync]:
    """dist/ folder name -> how its Application syncs it; the newer output wins (the sync it will run)."""
    found: dict[str, Sync] = {}
    for output in outputs:
        for objects in output.values():
            for manifest in objects.values():
                if manifest.kind != "Application" or not str(manifest.body.get("apiVersion", "")).startswith("argoproj.io/"):
                    continue
                spec = manifest.body.get("spec") or {}
                policy = spec.get("syncPolicy") or {}
                automated = policy.get("automated")
                options = set(policy.get("syncOptions") or [])
                sync = Sync(application=manifest.name, automated=automated is not None,
                            prune=bool((automated or {}).get("prune")), prune_last="PruneLast=true" in options,
                            no_prune="Prune=false" in options)
                for source in [spec.get("source") or {}, *(spec.get("sources") or [])]:
                    if source.get("path"):
                        found[Path(str(source["path"])).name] = sync
    return found


def _replicas(manifest: Manifest, objects: Mapping[Key, Manifest]) -> int:
    for other in objects.values():
        target = (other.body.get("spec") or {}).get("scaleTargetRef") or {}
        if other.kind == "HorizontalPodAutoscaler" and target.get("kind") == manifest.kind and target.get("name") == manifest.name:
            return int(other.body["spec"].get("minReplicas", 1))
    return int((manifest.body.get("spec") or {}).get("replicas", 1))


def _short(value: Any, limit: int = TRUNCATE) -> str:
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) if not isinstance(value, str) \
        else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _excerpts(old: str, new: str) -> tuple[str, str]:
    """Two long strings around where they first differ, so a changed character deep in a URL or a prompt shows."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    start = max(0, start - 30)
    lead = "…" if start else ""
    return lead + old[start:], lead + new[start:]


def _hash_only(old: Any, new: Any) -> bool:
    return (isinstance(old, str) and isinstance(new, str) and old != new
            and HASH.sub("#", old) == HASH.sub("#", new))


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
    documents = [_json(value) for value in data.values()] if isinstance(data, dict) else []
    return [document["name"] for document in documents if is_flow(document)]


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


@dataclass
class EnvironmentDiff:
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
            elif _hash_only(change.old, change.new):
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
        yield f"{new.label} rolls its pods ({_replicas(new, objects)} or more): {'; '.join(words)}{follow}{also}"


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
    for (kind, value), (next_kind, ident) in zip(reversed(change.path[:-1]), reversed(change.path[1:])):
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
            fields.append(f"{change.where} {_short(change.old, 40)} → {_short(change.new, 40)}")
        else:
            fields.append(format_path(change.path[:4]))
    parts = [f"{where}: " + ", ".join(f"{len(items)} {w} ({', '.join(items[:3])}{', …' if len(items) > 3 else ''})"
                                      for items, w in zip(tally, ("added", "removed")) if items)
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
    if key.endswith("memory") or key.endswith("storage"):
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


# ---------------------------------------------------------------------- rendering


def field_lines(found: Sequence[Change], indent: str = "") -> list[str]:
    lines = []
    for change in found:
        old, new = change.old, change.new
        if isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new):
            lines.append(f"{indent}{change.where}:")
            diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1))[2:]
            lines += [f"{indent}  {line}" for line in diff[:40]]
            if len(diff) > 40:
                lines.append(f"{indent}  … {len(diff) - 40} more lines")
            continue
        if old is MISSING:
            lines.append(f"{indent}{change.where}: added {_short(new)}")
        elif new is MISSING:
            lines.append(f"{indent}{change.where}: removed (was {_short(old)})")
        else:
            if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > TRUNCATE - 2:
                old, new = _excerpts(old, new)
            lines.append(f"{indent}{change.where}: {_short(old)} → {_short(new)}")
    return lines


def _renamed_lines(renamed: Renamed, indent: str) -> list[str]:
    """A renamed object's changes, with each JSON document it holds (a flow) under its own heading."""
    lines = []
    groups: dict[str, list[Change]] = {}
    for change in renamed.changes:
        if change.keys[:1] == ["data"] and len(change.path) > 2:
            groups.setdefault(str(change.path[1][1]), []).append(change)
        else:
            groups.setdefault("", []).append(change)
    for key, found in groups.items():
        if not key:
            lines += field_lines(found, indent)
            continue
        document = _json(renamed.new.body.get("data", {}).get(key, ""))
        title = f"flow {document['name']!r}" if is_flow(document) else "document"
        lines.append(f"{indent}{title} in data[{json.dumps(key)}]:")
        lines += field_lines([Change(c.path[2:], c.old, c.new) for c in found], indent + "  ")
    return lines


def _fields(env: EnvironmentDiff, indent: str) -> list[str]:
    lines = []
    for _, new, found in env.changed:
        lines.append(f"{new.label}")
        lines += field_lines(found, indent)
    for renamed in env.renamed:
        lines.append(renamed.what)
        lines += _renamed_lines(renamed, indent)
    return lines


def _objects(env: EnvironmentDiff) -> list[str]:
    return ([f"+ {m.label}" for m in env.added] + [f"- {m.label}" for m in env.removed]
            + [f"~ {new.label}" for _, new, _ in env.changed] + [f"~ {r.what}" for r in env.renamed])


def render_text(report: Report) -> str:
    if not report.environments:
        return f"no changes: {report.base} and the working tree synthesize to the same objects\n"
    lines = [f"make diff: {report.base} → the working tree", ""]
    for env in report.environments:
        where = f" → namespace {env.namespace}" if env.namespace else ""
        lines += [f"{env.name}: dist/{env.name}/{where}; {env.sync.words}", f"  {env.counts}"]
        lines += [f"    {line}" for line in _objects(env)]
        lines.append("  When Argo CD syncs:")
        lines += [f"  - {effect}" for effect in env.effects]
        lines.append("  Changed fields:")
        lines += [f"    {line}" for line in _fields(env, "  ")]
        lines.append("")
    if report.unchanged:
        lines.append(f"unchanged: {', '.join(report.unchanged)}")
    return "\n".join(lines).rstrip() + "\n"


def render_markdown(report: Report) -> str:
    if not report.environments:
        return f"### `make diff`: no changes\n\n{report.base} and this branch synthesize to the same objects.\n"
    lines = [f"### `make diff`: {report.base} → this branch", ""]
    for env in report.environments:
        where = f" → namespace `{env.namespace}`" if env.namespace else ""
        lines += [f"#### {env.name}: `dist/{env.name}/`{where}", "", f"{env.sync.words}; {env.counts}.", "", "```diff",
                  *_objects(env), "```", "", "**When Argo CD syncs**", ""]
        lines += [f"- {effect}" for effect in env.effects]
        lines += ["", "<details><summary>Changed fields</summary>", "", "```text", *_fields(env, "  "), "```",
                  "", "</details>", ""]
    if report.unchanged:
        lines.append(f"Unchanged: {', '.join(f'`dist/{name}/`' for name in report.unchanged)}.")
    return "\n".join(lines).rstrip() + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown}


def diff(repo: Path, base: str, stream: TextIO = sys.stderr) -> Report:
    """The review of the working tree of `repo` against revision `base`."""
    sha = resolve(repo, base)
    label = f"{base} ({sha[:10]})" if not sha.startswith(base) else sha[:10]
    with tempfile.TemporaryDirectory(prefix="langflow-diff-") as scratch:
        base_out, head_out = synthesize_both(repo, sha, label, Path(scratch), stream)
        return compare(read_output(base_out), read_output(head_out), label)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="make diff", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--base", default="origin/main", help="the revision to compare with (default origin/main)")
    parser.add_argument("--format", default="text", help="text (default) or markdown, for a pull-request comment")
    parser.add_argument("--repo", default=".", help="the work tree (default: the current folder's)")
    args = parser.parse_args(argv)
    try:
        if args.format not in RENDERERS:
            raise ConfigError(f"FORMAT={args.format}", "is not a format make diff writes",
                              "use FORMAT=text (the default) or FORMAT=markdown")
        report = diff(repository(Path(args.repo)), args.base, err)
    except ConfigError as error:
        print(f"error: {error.where}: {error.problem}\n  fix: {error.fix}", file=err)
        return 2
    out.write(RENDERERS[args.format](report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
