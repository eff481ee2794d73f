"""What a production runtime can run: flows whose components its security posture admits, and
login settings fit for a service. Each is checked at synthesis, since otherwise every run fails
(or every caller is the superuser) only once the pods serve."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import ConfigError
from .flow import Flow, FlowGroup, nodes
from .posture import CustomComponents, Security
from .settings import Auth

CODE_INTERPRETERS = frozenset({
    "CSVAgent", "CodeActAgentSmolagents", "Cuga", "LambdaFilterComponent", "OpenDsStarAgent", "PythonCodeStructuredTool",
    "PythonFunction", "PythonFunctionComponent", "PythonREPLComponent", "PythonREPLToolComponent", "PythonREPLTool",
})
"""Component types that run user- or model-supplied Python although their own code is Langflow's:
LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS refuses them (lfx 1.13.0, utils/flow_validation.py)."""


def check_runnable(flow: Flow, *, custom_code: bool, code_interpreters: bool) -> None:
    """A flow the runtime's posture will refuse at every run fails synthesis instead: a node with
    code of its own (Langflow's Custom Component, or a component whose code was edited in the IDE)
    where custom components are off, which Langflow 1.13 refuses or replaces with its own copy;
    a code-interpreter component where those are blocked."""
    if flow.content is None:
        return
    for node_id, display, node_data, inner in nodes(json.loads(flow.content)):
        if not custom_code and (node_data.get("type") == "CustomComponent" or inner.get("edited") is True):
            raise ConfigError(flow.source, f"node {display!r} ({node_id}) runs code of its own (a custom or edited "
                              "component), which this runtime refuses: security.custom_components is OFF",
                              "use the built-in component unedited in the IDE and export again, or, after a review of "
                              "its code, serve it with Security(custom_components=CustomComponents.ADMIN_ONLY, ...)")
        if not code_interpreters and node_data.get("type") in CODE_INTERPRETERS:
            raise ConfigError(flow.source, f"node {display!r} ({node_id}) is a {node_data.get('type')}, which runs "
                              "supplied Python; this runtime blocks those (security.code_interpreter_components is False)",
                              "replace it in the IDE and export again, or serve it with "
                              "Security(code_interpreter_components=True, ...) after a review")


def check_runtime(flows: Sequence[Flow | FlowGroup], security: Security) -> None:
    """Every flow of a runtime (`LangflowRuntimeProps.flows`) against its posture (see check_runnable)."""
    for unit in flows:
        for flow in unit.flows if isinstance(unit, FlowGroup) else [unit]:
            check_runnable(flow, custom_code=security.custom_components is not CustomComponents.OFF,
                           code_interpreters=security.code_interpreter_components)


def check_auth(auth: Auth, *, production: bool, environment: str) -> None:
    """Auto-login makes every caller the superuser, without a key: never in production (Auth's docs)."""
    if auth.auto_login and production:
        raise ConfigError("auth.auto_login", f"is True in production environment {environment!r}: every caller "
                          "would be the superuser without a key", "leave Auth(auto_login=False), the default "
                          "(clients send the runtime's API key as x-api-key)")
