"""Environments are isolated in the output too: changing one environment's props changes only
files in that environment's folder."""

import io
from pathlib import Path

from conftest import read_tree
from example_app import FLOWS
from support import environment_props

from langflow_cdk8s import (
    Environment,
    Flow,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Stage,
)
from langflow_cdk8s.tooling.synth import synth


def build_two(prod_replicas: int):
    def build(app):
        dev = Environment(app, "dev", environment_props(Stage.DEVELOPMENT, name="dev"))
        LangflowIDE(dev, "ide", LangflowIDEProps())
        prod = Environment(app, "prod", environment_props(Stage.PRODUCTION, name="prod"))
        LangflowRuntime(prod, "runtime", LangflowRuntimeProps(flows=Flow.from_folder(FLOWS),
                                                              autoscaling=None, replicas=prod_replicas))
        return [dev, prod]
    return build


def test_changing_prod_props_changes_only_prod_files(tmp_path: Path) -> None:
    trees = {}
    for replicas in (3, 5):
        assert synth(build_two(replicas), outdir=str(tmp_path / str(replicas)), stream=io.StringIO()) == 0
        trees[replicas] = read_tree(tmp_path / str(replicas))
    changed = {path for path in set(trees[3]) | set(trees[5]) if trees[3].get(path) != trees[5].get(path)}
    assert changed, "the change should show up somewhere"
    assert all(path.startswith("prod/") for path in changed), changed
    assert changed == {f"prod/Deployment.langflow-runtime-{flow.endpoint_name}.k8s.yaml"
                       for flow in Flow.from_folder(FLOWS)}
