"""The app's entry point: build, write, summarise; bad input ends in two readable lines."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import TextIO

import cdk8s

from .environment import Environment
from .errors import ConfigError
from .gitops import GitOps


def new_app(outdir: str | None = None) -> cdk8s.App:
    """An App that writes one folder per chart and one file per object (`Kind.name.k8s.yaml`).
    Without `outdir`, cdk8s uses CDK8S_OUTDIR, which `cdk8s synth` sets."""
    output = cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE
    return cdk8s.App(outdir=outdir, yaml_output_type=output) if outdir else cdk8s.App(yaml_output_type=output)


def summary(app: cdk8s.App, environments: list[Environment]) -> str:
    lines = []
    for env in environments:
        kinds = Counter(obj["kind"] for obj in env.objects)
        flows = len(env.flows)
        counted = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        lines.append(f"{env.name}: {len(env.objects)} objects in namespace {env.namespace_name} ({counted})"
                     + (f"; {flows} flows" if flows else ""))
        lines += [f"  note: {note}" for note in env.notes]
        lines += [f"  warning: {warning}" for warning in [*env.warnings, *env.quota_warnings()]]
    for gitops in (child for child in app.node.children if isinstance(child, GitOps)):
        props = gitops.props
        lines.append(f"{gitops.name}: {len(gitops.projects)} AppProjects and {len(gitops.applications)} Applications "
                     f"in namespace {props.argocd_namespace}, following {props.repo_url} at {props.target_revision}")
    return "\n".join(lines)


VALIDATION_FAILED = "Error: Validation failed with the following errors:"


def synth(build: Callable[[cdk8s.App], list[Environment]], *, outdir: str | None = None,
          stream: TextIO = sys.stderr) -> int:
    """Runs `build` on a new App and writes it. Returns the process exit code: 0, or 2 for bad input.

    The summary goes to stderr because `cdk8s synth` swallows the app's stdout.
    """
    try:
        app = new_app(outdir)
        environments = build(app)
        app.synth()
    except ConfigError as error:
        print(f"error: {error}", file=stream)
        return 2
    except RuntimeError as error:
        # Construct validations (such as GitOps' check that it saw complete environments) fail
        # inside cdk8s; show their messages, not the jsii stack around them.
        message = str(error)
        if not message.startswith(VALIDATION_FAILED):
            raise
        for line in message.removeprefix(VALIDATION_FAILED).strip().splitlines():
            print(f"error: {line.strip()}", file=stream)
        return 2
    print(summary(app, environments), file=stream)
    return 0
