"""The repository is a template a team makes its own: following the README's adoption steps in a
copy (new repo_url and revision, both hosts, the prod cloud profile, every example flow in flows/
replaced by two of Langflow 1.13.0's own starter projects, an environment `staging`, the README's
sidecar on a flow's Deployment and a plain cdk8s-plus Deployment of the team's own), then
`make synth`, gives a green `make test` with nothing under tests/ changed. (`make test` in the copy
runs the whole suite except the tests that copy the repository again: test_cdk8s_synth.py and this one.)

The starters go in as Langflow exports them once the user has picked a model (and the other choices
they leave empty) in the IDE, not hand-edited: as shipped, every starter leaves `model` empty, every
run of it fails, and synthesis refuses it with a two-line error (test_bad_input.py)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, STARTERS, with_choices_made
from repo_copy import NESTED, copy_repository, make, tree

README = ROOT / "README.md"

STAGING = '''
    staging = Environment(app, "staging", EnvironmentProps(
        stage=Stage.PRODUCTION,
        namespace="langflow-staging",
        quota=Quota(requests_cpu="16", requests_memory="32Gi", limits_cpu="32", limits_memory="32Gi", pods=40),
    ))
    LangflowRuntime(staging, "runtime", LangflowRuntimeProps(
        flows=[Flow.from_file(FLOWS / "Basic Prompting.json")],
        exposure=Exposure.gateway("flows.staging.acme.test", gateway=GATEWAY),
    ))

    # A sidecar, as the README's "Extend the objects with the cdk8s-plus API" adds one:
    prompting = served.workloads["basic-prompting"]
    prompting.workload.add_container({sidecar})

    # A workload of the team's own, plain cdk8s-plus, in the production environment:
    kplus.Deployment(prod, "echo", security_context=kplus.PodSecurityContextProps(user=10001, group=10001),
                     containers=[kplus.ContainerProps(
        name="echo", image="hashicorp/http-echo:1.0.0", args=["-listen=:5678", "-text=ok"], port_number=5678,
        readiness=kplus.Probe.from_http_get("/", port=5678), liveness=kplus.Probe.from_http_get("/", port=5678),
    )])

    GitOps('''


def readme_sidecar() -> str:
    """The arguments of the README's `add_container` call (Extend the objects with the cdk8s-plus API)."""
    for match in re.finditer(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M):
        code = match.group(1)
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_container":
                return ", ".join(ast.get_source_segment(code, keyword) or "" for keyword in node.keywords)
    raise NotTheTemplate("README.md no longer adds a sidecar with add_container")


EDITS = [  # (what the README tells a team to change, pattern in main.py, replacement)
    ("repo_url", r'repo_url: str = "[^"]+"', 'repo_url: str = "git@git.acme.test:platform/langflow.git"'),
    ("revision", r'revision: str = "[^"]+"', 'revision: str = "release-2026.12"'),
    ("the IDE's host", r'"langflow\.dev\.example\.com"', '"langflow.dev.acme.test"'),
    ("the runtime's host", r'"flows\.example\.com"', '"flows.acme.test"'),
    ("the platform's Gateway", r'GatewayRef\(name="platform", namespace="gateway-system"',
     'GatewayRef(name="edge", namespace="platform-gateways"'),
    ("prod's cloud profile", r'(prod = Environment\([^)]*?profile=)CloudProfile\.generic\(\)', r"\1CloudProfile.eks()"),
    ("the runtime's name in build()", r'\n    LangflowRuntime\(prod, "runtime"', '\n    served = LangflowRuntime(prod, "runtime"'),
    ("an environment", r"\n    GitOps\(", STAGING.replace("{sidecar}", readme_sidecar())),
    ("GitOps' environments", r"environments=\[dev, prod\]", "environments=[dev, prod, staging]"),
    ("build()'s result", r"return \[dev, prod\]", "return [dev, prod, staging]"),
    ("the cdk8s-plus import", r"\nfrom pathlib import Path\n", "\nfrom pathlib import Path\n\nimport cdk8s_plus_27 as kplus\n"),
]


class NotTheTemplate(Exception):
    """main.py no longer has the shape the adoption edits expect."""


def customize(main: str) -> str:
    for what, pattern, replacement in EDITS:
        main, count = re.subn(pattern, replacement, main, count=1, flags=re.S)
        if count != 1:
            raise NotTheTemplate(f"main.py is no longer the template's (no place for {what}): this test adopts the "
                                 "template; your own main.py is covered by the generic tests")
    return main


@dataclass
class Adoption:
    """The copy and what `make synth` and `make test` did in it."""

    repo: Path
    tests_before: dict[str, bytes] = field(default_factory=dict)
    synthesized: subprocess.CompletedProcess[str] | None = None
    tested: subprocess.CompletedProcess[str] | None = None
    skipped: str | None = None


def adopt(root: Path) -> Adoption:
    adoption = Adoption(repo=copy_repository(root / "repo"))
    repo = adoption.repo
    try:
        (repo / "main.py").write_text(customize((repo / "main.py").read_text(encoding="utf-8")), encoding="utf-8")
    except NotTheTemplate as reason:
        adoption.skipped = str(reason)
        return adoption
    for example in (repo / "flows").iterdir():  # every example flow goes: the team's own replace them
        example.unlink()
    for name in ("Basic Prompting.json", "Memory Chatbot.json"):
        exported = with_choices_made(json.loads((STARTERS / name).read_text(encoding="utf-8")))
        (repo / "flows" / name).write_text(json.dumps(exported, indent=2, ensure_ascii=False), encoding="utf-8")
    adoption.tests_before = tree(repo / "tests")
    adoption.synthesized = make(repo, "synth")
    if adoption.synthesized.returncode == 0:
        adoption.tested = make(repo, "test", timeout=900)
    return adoption


class Background:
    """The adoption runs in a thread from the start of the session (conftest starts it and runs this
    test last): its `make test` in the copy overlaps the rest of the suite instead of following it."""

    def __init__(self, root: Path) -> None:
        self.result: Adoption | BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(root,), daemon=True)
        self.thread.start()

    def _run(self, root: Path) -> None:
        try:
            self.result = adopt(root)
        except BaseException as error:  # handed to the test, which reports it
            self.result = error

    def wait(self) -> Adoption:
        self.thread.join()
        if isinstance(self.result, BaseException):
            raise self.result
        assert self.result is not None
        return self.result


RUNNING: list[Background] = []


def start(root: Path) -> None:
    RUNNING.append(Background(root))


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside a customized copy")
def test_a_customized_copy_synthesizes_and_passes_make_test_without_touching_tests(tmp_path: Path) -> None:
    adoption = RUNNING[0].wait() if RUNNING else adopt(tmp_path)
    if adoption.skipped:
        pytest.skip(adoption.skipped)
    repo, synthesized, tested = adoption.repo, adoption.synthesized, adoption.tested
    assert synthesized is not None and synthesized.returncode == 0, synthesized and synthesized.stderr
    assert "staging: " in synthesized.stderr and "following git@git.acme.test:platform/langflow.git" in synthesized.stderr
    application = (repo / "dist" / "argocd" / "Application.langflow-staging.k8s.yaml").read_text()
    assert "repoURL: git@git.acme.test:platform/langflow.git" in application and "release-2026.12" in application
    assert (repo / "dist" / "prod" / "Deployment.langflow-runtime-basic-prompting.k8s.yaml").is_file()
    route = (repo / "dist" / "prod" / "HTTPRoute.langflow-runtime.k8s.yaml").read_text()  # one per host
    assert "flows.acme.test" in route and "namespace: platform-gateways" in route and "memory-chatbot" in route
    assert not list((repo / "dist" / "prod").glob("Ingress.*"))
    assert not list((repo / "dist").rglob("*support-triage*")), "an example flow is still deployed"
    # The team's own Deployment: in the environment's namespace, with its labels, judged like ours.
    echo = yaml.safe_load((repo / "dist" / "prod" / "Deployment.prod-echo.k8s.yaml").read_text())
    assert echo["metadata"]["namespace"] == "langflow-prod"
    assert echo["metadata"]["labels"]["app.kubernetes.io/instance"] == "langflow-prod"
    assert echo["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "1"  # a workload's wave, as ours
    assert not any("Langflow" in value for value in echo["metadata"].get("annotations", {}).values()), \
        "checkov skip reasons written for Langflow on a workload that runs no Langflow"
    prompting = yaml.safe_load((repo / "dist" / "prod" / "Deployment.langflow-runtime-basic-prompting.k8s.yaml").read_text())
    assert [c["name"] for c in prompting["spec"]["template"]["spec"]["containers"]][1:] == ["proxy"]  # after lfx or langflow

    assert tested is not None
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-2000:]
    assert re.search(r"\d+ passed", tested.stdout) and " failed" not in tested.stdout, tested.stdout[-3000:]
    assert tree(repo / "tests") == adoption.tests_before
