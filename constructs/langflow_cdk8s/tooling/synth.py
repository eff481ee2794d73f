"""The app's entry point: build, write, summarise; bad input ends in two readable lines (report.py)."""

from __future__ import annotations

import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import cdk8s

from ..errors import ConfigError
from ..mechanics.completion import App
from ..mechanics.external_secrets import unused_mappings
from ..patterns.environment import Environment
from ..patterns.gitops import GitOps
from . import publish, report
from .cost import idle_line
from .written import Written, read

Build = Callable[[App], list[Environment]]


def new_app(outdir: str) -> App:
    """An App that completes the library's charts when it synthesizes (mechanics/completion.py) and
    writes one folder per chart and one file per object (`Kind.name.k8s.yaml`), and no
    construct-metadata.json (cdk8s-cli asks for one when validation plugins run)."""
    return App(outdir=outdir, yaml_output_type=cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE,
                     record_construct_metadata=False)


def check_returned(build: Build, environments: object) -> None:
    """build() ends by returning its environments (the summary and docs list them)."""
    if isinstance(environments, (list, tuple)) and all(isinstance(env, Environment) for env in environments):
        return
    code = getattr(build, "__code__", None)
    where = f"{report.display(code.co_filename)}:{code.co_firstlineno}, " if code else ""
    raise ConfigError(f"{where}{getattr(build, '__name__', 'build')}()", f"returned {environments!r:.60}, not the list "
                      "of the Environments it created", "end it with `return [dev, prod]` (every Environment it built)")


def check_deployed(app: cdk8s.App) -> None:
    """An environment that is synthesized but in no GitOps would sit in dist/ with no Application:
    Argo CD would never deploy it (and the root app would not prune it)."""
    gitops = [child for child in app.node.children if isinstance(child, GitOps)]
    if not gitops:
        return
    deployed = {env.node.path for g in gitops for env in g.environments}
    for env in (child for child in app.node.children if isinstance(child, Environment)):
        if env.node.path not in deployed:
            raise ConfigError(f"environment {env.name!r}", "is synthesized into dist/ but not in GitOpsProps(environments=[...])",
                              f"add it to GitOpsProps(environments=[...]) so Argo CD deploys dist/{env.name}/, or remove it")


def summary(app: cdk8s.App, environments: list[Environment], written: dict[str, Written] | None = None) -> str:
    """One line per environment and per GitOps chart, with notes and warnings; from what
    `app.synth()` wrote into `app.outdir` (`written`, or read now: before those files move)."""
    lines = []
    for env in environments:
        output = written[env.name] if written is not None else read(Path(app.outdir), env)
        kinds, scaled = output.kinds, output.objects
        flows = len(env.flows)
        counted = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        lines.append(f"{env.name}: {sum(kinds.values())} objects in namespace {env.namespace_name} ({counted})"
                     + (f"; {flows} flows" if flows else ""))
        shortened = [f"{flow.source}: endpoint name shortened to {flow.endpoint_name!r} ({len(flow.endpoint_name)} "
                     f"characters, from {flow.shortened_from!r}); set \"endpoint_name\" in the export to choose it"
                     for flow in env.flows if flow.shortened_from]
        idle = idle_line(output.objects)
        lines += [f"  {idle}"] if idle else []
        lines += [f"  note: {note}" for note in env.notes]
        lines += [f"  note: SecretSource.external(remote=...) maps {mapped!r}, which no object reads now (no ExternalSecret "
                  "for it): fine for a Secret a later unit may need, else a typo" for mapped in unused_mappings(env.secret_references)]
        lines += [f"  warning: {warning}" for warning in [*env.warnings, *shortened, *env.quota_warnings(scaled)]]
    for gitops in (child for child in app.node.children if isinstance(child, GitOps)):
        lines.append(f"{gitops.name}: {len(gitops.projects)} AppProjects and {len(gitops.applications)} Applications "
                     f"in namespace {gitops.argocd_namespace}, following {gitops.repo_url} at {gitops.target_revision}")
    return "\n".join(lines)


def synth(build: Build, *, outdir: str | None = None, stream: TextIO = sys.stderr) -> int:
    """Runs `build` on a new App and writes it. Returns the process exit code: 0, or 2 for bad input.

    With `outdir`, writes only there (tests, benchmarks). Without it, as main.py runs: synthesizes
    into a staging folder and replaces the repository's dist/ and docs/ only when everything
    succeeded (see publish.py), whether `make synth`, `cdk8s synth` or `python main.py` started it.
    The summary goes to stderr because `cdk8s synth` swallows the app's stdout.
    """
    if outdir is not None:
        built = _synthesize(build, Path(outdir), stream)
        if built is None:
            return 2
        print(summary(*built), file=stream)
        return 0
    root = publish.repository_of(build)
    staging = publish.staging_folder(root)
    if publish.misplaced_output(root, staging):
        publish.print_lines([f"error: cdk8s.yaml: output is {staging}, which cdk8s synth empties before the app runs",
                             "  fix: set `output: .build/cdk8s.out` in cdk8s.yaml; `git checkout dist/` restores dist/"],
                            stream)
        return 2
    shutil.rmtree(staging, ignore_errors=True)
    try:
        built = _synthesize(build, staging, stream)
        if built is None:
            return publish.report_failure(staging, 2)
        text = summary(*built)  # from the staged files, before publish moves them
        publish.publish(root, staging, [c for c in built[0].node.children if isinstance(c, Environment)])
    except Exception:  # a bug of ours: its traceback, and still no Node stack under cdk8s synth
        traceback.print_exc(file=stream)
        return publish.report_failure(staging, 1)
    print(text, file=stream)
    print("updated dist/, docs/environments/ and docs/reference.md", file=stream)
    return 0


def _every_environment(app: cdk8s.App, environments: list[Environment]) -> list[Environment]:
    """The environments `build` returned, and any other of the app (the summary names them all)."""
    return [*environments, *(child for child in app.node.children
                             if isinstance(child, Environment) and child not in environments)]


def _synthesize(build: Build, outdir: Path, stream: TextIO,
                ) -> tuple[cdk8s.App, list[Environment], dict[str, Written]] | None:
    """The App and its environments, or None after printing why bad input stopped it."""
    try:
        app = new_app(str(outdir))
        environments = build(app)
        check_returned(build, environments)
        check_deployed(app)
        app.synth()
        written = {env.name: read(outdir, env) for env in _every_environment(app, environments)}
    except ConfigError as error:
        lines = report.config_error(error)
    except RuntimeError as error:
        found = report.validation_errors(error) or report.api_type_error(error) or report.user_code_error(error)
        if found is None:
            raise
        lines = found
    except Exception as error:  # only the user's own mistakes are reported; ours re-raise
        found = report.api_type_error(error) or report.user_code_error(error)
        if found is None:
            raise
        lines = found
    else:
        return app, environments, written
    publish.print_lines(lines, stream)
    return None
