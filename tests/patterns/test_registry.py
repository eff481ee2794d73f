"""Environment.objects (what quotas, policies, GitOps and the summary read) is exactly what cdk8s wrote."""

from conftest import Synthesis

import main
from langflow_cdk8s.tooling.synth import new_app


def test_recorded_objects_equal_the_written_files(ref: Synthesis, tmp_path) -> None:
    environments = main.build(new_app(str(tmp_path)))
    for env in environments:
        key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
        assert sorted(env.objects, key=key) == sorted(ref.objects(env.name), key=key)
