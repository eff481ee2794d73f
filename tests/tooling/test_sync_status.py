"""Argo CD stays Synced through a flow edit in production, and prunes nothing by itself.

A flow's ConfigMap is immutable and named by its content, so an edit creates a new ConfigMap and
drops the old one from Git. Argo CD's documented semantics (v3.5, user-guide/compare-options.md and
sync-options.md) decide what happens next:
- a live resource Git no longer has is extraneous; the Application is OutOfSync ("requires pruning")
  unless the resource carries `argocd.argoproj.io/compare-options: IgnoreExtraneous`, which leaves it
  out of the sync status;
- automated sync deletes extraneous resources only with `automated.prune: true`.
So the model below counts an extraneous live object as OutOfSync unless it carries IgnoreExtraneous,
and the tests check that production never prunes automatically.

Not chosen: `argocd.argoproj.io/sync-options: Prune=true` on the ConfigMaps. The sync's prune step
(gitops-engine `pruneObject`) consults only the operation's prune flag and the Prune=false/confirm
annotations, so under `automated.prune: false` it prunes nothing; and where it did prune, the old
ConfigMap would vanish while pods of the previous ReplicaSet (a rollback, a rollout in progress)
still mount it.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from conftest import Synthesis, environment_folders, read_tree
from example_app import FLOWS
from gates import Manifest, crd_schema_errors
from support import QUOTA

from langflow_cdk8s import (
    Database,
    Environment,
    EnvironmentProps,
    Flow,
    GitOps,
    GitOpsProps,
    IngressOptions,
    LangflowRuntime,
    LangflowRuntimeProps,
    SecretKey,
    Stage,
    SyncPolicy,
)
from langflow_cdk8s.mechanics.waves import COMPARE_OPTIONS, IGNORE_EXTRANEOUS
from langflow_cdk8s.tooling.synth import synth

SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
Key = tuple[str, str, str]


def key(obj: dict[str, Any]) -> Key:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def synthesize(tmp_path: Path, name: str, flows: Path) -> dict[Key, dict[str, Any]]:
    def build(app):
        prod = Environment(app, "prod", EnvironmentProps(stage=Stage.PRODUCTION, namespace="langflow-prod", quota=QUOTA))
        LangflowRuntime(prod, "runtime", LangflowRuntimeProps(
            flows=Flow.from_folder(flows), exposure=IngressOptions(host="flows.example.com", tls_secret="tls"),
            database=Database.external_postgres(host="db.internal", password=SecretKey(name="db", key="password"))))
        GitOps(app, "argocd", GitOpsProps(environments=[prod], repo_url="https://github.com/example/flows.git",
                                          production_sync=SyncPolicy.production()))
        return [prod]

    outdir = tmp_path / name
    assert synth(build, outdir=str(outdir), stream=io.StringIO()) == 0
    objects = [yaml.safe_load(text) for path, text in read_tree(outdir).items() if path.startswith("prod/")]
    return {key(o): o for o in objects}


def out_of_sync(git: dict[Key, dict[str, Any]], live: dict[Key, dict[str, Any]]) -> list[Key]:
    """What Argo CD reports OutOfSync once automated sync has applied `git` onto `live` without
    pruning: every object of Git is applied, so only extraneous live objects can be left, and those
    count unless they carry IgnoreExtraneous."""
    return sorted(k for k, obj in live.items() if k not in git
                  and IGNORE_EXTRANEOUS not in obj["metadata"].get("annotations", {}).get(COMPARE_OPTIONS, "").split(","))


def flows_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder)
    return folder


def edit(folder: Path, file: str) -> None:
    path = folder / file
    flow = json.loads(path.read_text())
    flow["description"] += " (edited)"
    path.write_text(json.dumps(flow, indent=2))


def test_a_flow_edit_leaves_production_synced_and_keeps_the_old_configmap(tmp_path: Path) -> None:
    folder = flows_copy(tmp_path)
    before = synthesize(tmp_path, "before", folder)
    edit(folder, "support-triage.json")
    after = synthesize(tmp_path, "after", folder)
    dropped = sorted(set(before) - set(after))
    assert [(kind, name.rsplit("-", 1)[0]) for kind, _, name in dropped] == [("ConfigMap", "flow-support-triage")]
    live = {**before, **after}  # automated sync applied the commit and pruned nothing
    assert out_of_sync(after, live) == []
    # The old pods' ConfigMap is still there: a rolled-back ReplicaSet still mounts what it mounted.
    old = before[("Deployment", "langflow-prod", "langflow-runtime-support-triage")]
    mounted = {s["configMap"]["name"] for v in old["spec"]["template"]["spec"]["volumes"] if "projected" in v
               for s in v["projected"]["sources"]}
    assert all(("ConfigMap", "langflow-prod", name) in live for name in mounted)
    assert old["spec"]["revisionHistoryLimit"] > 0


def test_removing_a_flow_is_out_of_sync_until_a_person_prunes(tmp_path: Path) -> None:
    """The model is not blind: a removed flow's Deployment and Service are a person's decision."""
    folder = flows_copy(tmp_path)
    before = synthesize(tmp_path, "before", folder)
    (folder / "support-triage.json").unlink()
    after = synthesize(tmp_path, "after", folder)
    stale = out_of_sync(after, {**before, **after})
    assert ("Deployment", "langflow-prod", "langflow-runtime-support-triage") in stale
    assert not any(kind == "ConfigMap" for kind, _, _ in stale)


def test_only_content_named_configmaps_are_left_out_of_the_sync_status(ref: Synthesis) -> None:
    for folder in environment_folders(ref):
        for obj in ref.objects(folder):
            ignored = COMPARE_OPTIONS in obj["metadata"].get("annotations", {})
            content_named = obj["kind"] == "ConfigMap" and obj.get("immutable") is True
            assert ignored == content_named, f"{obj['kind']} {obj['metadata']['name']}"
            assert SYNC_OPTIONS not in obj["metadata"].get("annotations", {}), "no per-object sync options"


def test_production_never_prunes_automatically_and_development_does(example: Synthesis) -> None:
    policies = {name: example.get("argocd", "Application", f"langflow-{name}")["spec"]["syncPolicy"] for name in ("dev", "prod")}
    assert policies["prod"]["automated"] == {"prune": False, "selfHeal": True}
    assert policies["dev"]["automated"]["prune"] is True
    for policy in policies.values():
        assert not any(option.startswith("Prune=") for option in policy["syncOptions"])


def test_the_policy_it_relies_on_passes_the_application_crd(example: Synthesis) -> None:
    application = example.get("argocd", "Application", "langflow-prod")
    assert crd_schema_errors([Manifest("argocd/Application.langflow-prod", application)]) == []
    misspelt = json.loads(json.dumps(application))
    misspelt["spec"]["syncPolicy"]["automated"]["pruning"] = misspelt["spec"]["syncPolicy"]["automated"].pop("prune")
    assert any("'pruning' was unexpected" in e for e in crd_schema_errors([Manifest("argocd/Application.langflow-prod", misspelt)]))
