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

This module synthesizes and renders; review.py says what a change does, semantic_diff.py compares
objects by path, argocd_sync.py reads how each folder's Application prunes.

    python -m langflow_cdk8s.tooling.diff [--base origin/main] [--format text|markdown]

Exit codes: 0 with the report (also "no changes"), 2 with two lines for a bad BASE or a revision
that does not synthesize.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import yaml

from ..errors import ConfigError
from .promote import is_flow
from .review import EnvironmentDiff, Renamed, Report, compare
from .semantic_diff import MISSING, TRUNCATE, Change, Key, Manifest, as_json, excerpts, show

LOCKS = ("requirements.lock", "package-lock.json")
"""What decides the packages a revision synthesizes with (see `prepare_base`)."""


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
            lines.append(f"{indent}{change.where}: added {show(new)}")
        elif new is MISSING:
            lines.append(f"{indent}{change.where}: removed (was {show(old)})")
        else:
            if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > TRUNCATE - 2:
                old, new = excerpts(old, new)
            lines.append(f"{indent}{change.where}: {show(old)} → {show(new)}")
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
        document = as_json(renamed.new.body.get("data", {}).get(key, ""))
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
