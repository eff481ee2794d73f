"""Each runtime engine's server container and volumes, composed from the mechanics they share. A new
engine is its class in props/engine.py and one entry in RENDERERS here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..props.engine import LangflowEngine, LfxEngine, RuntimeEngine
from ..props.image import Image
from ..props.resources import Resources
from ..props.secrets import SecretKey
from ..props.settings import PORT, Auth, Metrics, RedisCache
from .backend import DatabaseWiring, backend_container, backend_volumes
from .containers import ContainerSpec, HttpProbes, empty_dir

RUNTIME_SETTINGS = {
    "LANGFLOW_BACKEND_ONLY": "true",
    "LANGFLOW_EVENT_DELIVERY": "direct",
    "LANGFLOW_CREATE_STARTER_PROJECTS": "false",
    "LANGFLOW_ENABLE_SIGNUP": "false",
    "LANGFLOW_MCP_SERVER_ENABLED": "false",
    "LANGFLOW_MODELS_DEV_REFRESH": "false",
    # The files are the source of truth: a re-exported flow (new id, same endpoint) replaces the old row.
    "LANGFLOW_LOAD_FLOWS_OVERWRITE_ON_NAME_MATCH": "true",
}
"""`langflow run` headless and locked down: no UI, no sign-up, no MCP server, no starter projects,
no catalogue refresh."""

LFX_PROBES = HttpProbes(port="http", startup_path="/health", readiness_path="/health", liveness_path="/health",
                        startup_timeout_seconds=180)
"""lfx serve answers /health (no auth) once its flows are loaded; it has no separate readiness
endpoint because it has no database or cache to check. make e2e measured ~19 CPU-seconds to ready."""


@dataclass(frozen=True, kw_only=True)
class ServerInputs:
    """What the runtime hands an engine to build one unit's server container: the unit's image,
    sizing and flow files, the env every engine gets (LLM keys, the user's own settings) and, for an
    engine with state, its database wiring and Langflow's own posture settings."""

    image: Image
    resources: Resources
    flows_path: str
    mounts: Sequence[Mapping[str, Any]]
    secrets: Mapping[str, SecretKey]
    env: Mapping[str, str]
    env_from: Sequence[Mapping[str, Any]]
    auth: Auth
    metrics: Metrics
    database: DatabaseWiring | None = None
    settings: Mapping[str, str] = field(default_factory=dict)
    redis: RedisCache | None = None


Server = tuple[ContainerSpec, list[dict[str, Any]]]
"""The main container and the volumes it needs."""


def _langflow(engine: LangflowEngine, server: ServerInputs) -> Server:
    """`langflow run` (the image's CMD) loading the unit's files into its own database: /tmp, HOME
    and the config dir writable, plus the database's own volumes."""
    assert server.database is not None  # stateful: the runtime wires one
    container = backend_container(
        image=server.image, resources=server.resources, database=server.database, auth=server.auth,
        metrics=server.metrics, settings={**RUNTIME_SETTINGS, "LANGFLOW_LOAD_FLOWS_PATH": server.flows_path,
                                          **server.settings},
        secrets=server.secrets, extra_env=server.env, env_from=server.env_from, mounts=server.mounts,
        redis=server.redis)
    return container, [*backend_volumes(server.database), *server.database.extra_volumes]


def _lfx(engine: LfxEngine, server: ServerInputs) -> Server:
    """`lfx serve <flows>` with a read-only root: /tmp is its only writable path."""
    container = ContainerSpec(name="lfx", image=engine.image or server.image, ports={"http": PORT},
                              env=engine.env(server.auth, server.env, server.secrets), env_from=server.env_from,
                              resources=server.resources, probes=LFX_PROBES,
                              mounts=[{"name": "tmp", "mountPath": "/tmp"}, *server.mounts],
                              command=["lfx"], args=engine.args(server.flows_path))
    return container, [empty_dir("tmp", "1Gi")]


RENDERERS: dict[type, Callable[[Any, ServerInputs], Server]] = {LangflowEngine: _langflow, LfxEngine: _lfx}


def server(engine: RuntimeEngine, inputs: ServerInputs) -> Server:
    return RENDERERS[type(engine)](engine, inputs)
