"""Small builders for unit tests: an Environment in a throwaway App, and lookups in what it emitted."""

from __future__ import annotations

from typing import Any

from langflow_cdk8s import App, CloudProfile, Environment, EnvironmentProps, Quota, Stage

NODE = {"id": "ChatInput-1", "data": {"id": "ChatInput-1", "type": "ChatInput",
                                      "node": {"display_name": "Chat Input", "template": {}}}}
"""One built-in component: the smallest flow synthesis accepts (an empty node list is refused)."""

UNUSED_OUTDIR = "/nonexistent/unit-tests-never-synthesize"
QUOTA = Quota(requests_cpu="100", requests_memory="200Gi", limits_cpu="200", limits_memory="200Gi", pods=500)


def unsynthesized_app() -> App:
    """An App for tests that read Environment.objects and never synthesize; unlike
    cdk8s.Testing.app() it creates no temporary folder."""
    return App(outdir=UNUSED_OUTDIR)


def environment_props(stage: Stage = Stage.PRODUCTION, *, name: str = "test", profile: CloudProfile | None = None,
                      **props: Any) -> EnvironmentProps:
    """The props of a test environment `name`: namespace ns-<name>, a roomy quota, the generic profile."""
    return EnvironmentProps(stage=stage, namespace=f"ns-{name}", quota=props.pop("quota", QUOTA),
                            profile=profile or CloudProfile.generic(), **props)


def environment(stage: Stage = Stage.PRODUCTION, *, name: str = "test", profile: CloudProfile | None = None,
                **props: Any) -> Environment:
    app = unsynthesized_app()
    return Environment(app, name, environment_props(stage, name=name, profile=profile, **props))


def find(env: Environment, kind: str, name: str | None = None) -> dict[str, Any]:
    matches = [o for o in env.objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {[o['metadata']['name'] for o in matches]}"
    return matches[0]


def all_of(env: Environment, kind: str) -> list[dict[str, Any]]:
    return [o for o in env.objects if o["kind"] == kind]


def pod(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def main_container(workload: dict[str, Any]) -> dict[str, Any]:
    return pod(workload)["containers"][0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or name -> valueFrom for Secret-backed variables."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
