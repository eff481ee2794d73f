"""The runtime engine: what serves a unit's flows inside its pods. A union as a class with static
factories, `Engine.langflow()` (the full server) and `Engine.lfx(...)` (the stateless executor);
each engine states its command, env, probes, writable paths, state, routes and default sizing, so
the runtime asks the engine instead of branching on it. A new engine is one class here plus its
entry in `Engine` and `RuntimeEngine`."""

from __future__ import annotations

import ast
import enum
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError
from .database import DatabaseChoice, ExternalPostgres
from .flow import Flow
from .image import Image
from .resources import Resources
from .scaling import Autoscaling
from .secrets import SecretKey, secret_env
from .settings import PORT, Auth, Metrics
from .validation import at_least

LFX_HOME = "/tmp/lfx-home"
"""lfx's HOME and config dir, on the pod's only writable volume: it writes its secret key to
LANGFLOW_CONFIG_DIR and nothing else at start (a read-only HOME fails with "Settings service not found")."""

MEMORY_COMPONENTS = frozenset({"Memory", "Agent"})
"""Node types that read a session's earlier messages back (Message History, Agent memory): Langflow
keeps them in its database; lfx serve has none, so they read an empty history on every call."""

WEBHOOK_COMPONENTS = frozenset({"Webhook", "InboundWebhookTrigger"})
"""Node types triggered through /api/v1/webhook/<flow>, a route only `langflow run` serves."""

CUSTOM_CODE_COMPONENTS = frozenset({"CustomComponent"})
"""Node types whose Python is the flow's own, not a released component's."""

PROVIDER_PACKAGES = {
    "Amazon Bedrock": "langchain-aws", "Anthropic": "langchain-anthropic", "Azure AI Foundry": "langchain-azure-ai",
    "Azure OpenAI": "langchain-openai", "Google Generative AI": "langchain-google-genai", "Groq": "langchain-groq",
    "IBM WatsonX": "langchain-ibm", "IBM watsonx.ai": "langchain-ibm", "Ollama": "langchain-ollama",
    "OpenAI": "langchain-openai", "OpenRouter": "langchain-openai", "SambaNova": "langchain-sambanova",
}
"""The package a model provider chosen in a Language Model, Embedding Model or Agent node loads at run
time (its import is not in the node's code); lfx 1.13's `lfx requirements` knows the same."""

IMPORT_PACKAGES = {"bs4": "beautifulsoup4", "cv2": "opencv-python", "googleapiclient": "google-api-python-client",
                   "mem0": "mem0ai", "sklearn": "scikit-learn", "attr": "attrs", "yaml": "pyyaml", "PIL": "pillow"}
"""Import names whose distribution is not the import name with '-' for '_'."""

INTERNAL_IMPORTS = frozenset({"lfx", "langflow", "langflow_base"})


class EngineDefault(enum.Enum):
    """A sizing prop left to the unit's engine (LangflowEngine/LfxEngine `resources`, `autoscaling`)."""

    VALUE = "the engine's"


@dataclass(frozen=True, kw_only=True)
class LangflowEngine:
    """`langflow run`, the full server (today's runtime): API, database, component registry and
    user management. Every flow works on it, chat memory and webhooks included.

    resources: per pod (default 1 CPU/2Gi requested, 2 CPU/2Gi limit: make e2e measured ~1.1 GiB
    at rest and at peak and ~31 CPU-seconds to ready).
    autoscaling: default Autoscaling(min_replicas=3, max_replicas=6).
    """

    resources: Resources = Resources(cpu="1", memory="2Gi", cpu_limit="2", memory_limit="2Gi")
    autoscaling: Autoscaling = Autoscaling(min_replicas=3, max_replicas=6)

    name: ClassVar[str] = "langflow"
    stateful: ClassVar[bool] = True
    """Needs the runtime's database (and its init container), a superuser and a secret key."""

    def refusal(self, flow: Flow) -> tuple[str, str, str] | None:
        """(component, reason, fix) of the first node this engine cannot run; Langflow runs them all."""
        return None

    def route_paths(self, flow: Flow) -> list[str]:
        """The public paths of a flow: run and webhook, by endpoint name and by id."""
        return [f"/api/v1/{verb}/{key}" for key in (flow.endpoint_name, flow.id) for verb in ("run", "webhook")]

    def scraped(self, metrics: Metrics) -> bool:
        """Whether Prometheus scrapes the pods: Langflow serves /metrics on its metrics port."""
        return metrics.enabled


@dataclass(frozen=True, kw_only=True)
class LfxEngine:
    """`lfx serve` of the unit's flow files (Langflow 1.13's stateless executor, in the same image):
    no database, init container, superuser or secret key; one API key from a Secret
    (LangflowRuntimeProps.auth.api_key). Flows are addressed by their id: POST /flows/<id>/run
    answers {result, success, logs, type, component}; /flows/<id>/stream sends one end event.
    It keeps no chat memory, runs no webhooks and ignores tweaks: synthesis refuses flows that need them.

    workers: server processes per pod (default 1: one flow execution at a time per worker, and
    pods scale with the HPA; more run as gunicorn workers, each with its own copy of the flows).
    timeout: seconds one request may run before its worker is replaced (default 120; lfx applies it
    with workers > 1 only).
    sync_workers: gunicorn's blocking workers with workers > 1, so the kernel hands each request to
    an idle worker (lfx's advice for LLM flows; default True).
    resources: per pod (default 250m CPU/768Mi requested, 1 CPU/1Gi limit: measured ~640 MiB at rest
    on the official image's venv, so the request covers it and the limit leaves ~60 % headroom for
    peaks; ~19 CPU-seconds to ready, ~40 ms of CPU per request).
    autoscaling: default Autoscaling(min_replicas=2, max_replicas=6) (with a disruption budget).
    image: the image of its units (default None: the runtime's `image`, whose venv has lfx); point it
    at a lean build of `make images` by digest.
    requirements: the hash-locked requirements file that image was built from (`make images` writes
    images/<env>/<unit>/requirements.txt; default None: the official image, which has every
    component's packages). Synthesis refuses a flow whose components need a package it lacks.
    """

    workers: int = 1
    timeout: int = 120
    sync_workers: bool = True
    resources: Resources = Resources(cpu="250m", memory="768Mi", cpu_limit="1", memory_limit="1Gi")
    autoscaling: Autoscaling = Autoscaling(min_replicas=2, max_replicas=6)
    image: Image | None = None
    requirements: str | Path | None = None

    name: ClassVar[str] = "lfx"
    stateful: ClassVar[bool] = False

    def __post_init__(self) -> None:
        at_least("engine.workers", self.workers, 1)
        at_least("engine.timeout", self.timeout, 1)

    def refusal(self, flow: Flow) -> tuple[str, str, str] | None:
        """(component, reason, fix) of the first node lfx serve cannot run as the flow means it."""
        back = ("serve this flow with engine=Engine.langflow() (Flow.with_overrides(engine=...) or its FlowGroup), "
                "or remove the component")
        for node_type, display, edited in _nodes(flow):
            if node_type in MEMORY_COMPONENTS:
                return display, ("reads a session's earlier messages (chat memory), which lfx serve does not keep: "
                                 "every call would see an empty history"), back
            if node_type in WEBHOOK_COMPONENTS:
                return display, "is a webhook trigger, and lfx serve has no webhook route", back
            if node_type in CUSTOM_CODE_COMPONENTS or edited:
                return display, "runs the flow's own Python code, which the lfx runtime refuses (custom components off)", back
        if self.requirements is not None:
            available = installed(self.requirements)
            for display, package in flow_packages(flow):
                if package not in available:
                    return (display, f"needs the package {package}, which {self.requirements} (the image's) lacks",
                            "run `make images` again and rebuild the unit's image, or use the official image")
        return None

    def runs(self, flow: Flow) -> bool:
        """Whether this engine can serve `flow` (see refusal)."""
        return self.refusal(flow) is None

    def route_paths(self, flow: Flow) -> list[str]:
        """Only the run and stream paths of the flow, by id: never /flows, upload, delete or the docs."""
        return [f"/flows/{flow.id}/{verb}" for verb in ("run", "stream")]

    def scraped(self, metrics: Metrics) -> bool:
        """lfx serve has no Prometheus endpoint."""
        return False

    def args(self, flows_path: str) -> list[str]:
        """`lfx serve` flags: host and port only come from flags (LANGFLOW_HOST/PORT are ignored)."""
        args = ["serve", flows_path, "--host", "0.0.0.0", "--port", str(PORT), "--log-level", "info",
                "--no-check-variables", "--workers", str(self.workers)]
        if self.workers > 1:
            args += ["--timeout", str(self.timeout)]
            if self.sync_workers:
                args.append("--use-sync-workers")
        return args

    def env(self, auth: Auth, env: Mapping[str, str], secrets: Mapping[str, SecretKey]) -> list[dict[str, Any]]:
        """No telemetry, no network lookups at start, custom code and code interpreters off, HOME and
        config under /tmp; the API key by Secret reference."""
        if auth.api_key is None:
            raise ConfigError("auth.api_key", "is None, but Engine.lfx() authenticates every call with one API key",
                              "use Auth.from_secret('langflow-runtime-auth', api_key=True) or set api_key=SecretKey(...)")
        plain = {
            "HOME": LFX_HOME,
            "LANGFLOW_CONFIG_DIR": LFX_HOME,
            "DO_NOT_TRACK": "true",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LANGFLOW_ALLOW_CUSTOM_COMPONENTS": "false",
            "LANGFLOW_BLOCK_CODE_INTERPRETER_COMPONENTS": "true",
            **env,
        }
        entries = [{"name": name, "value": value} for name, value in plain.items()]
        return [*entries, auth.api_key.env("LANGFLOW_API_KEY"), *secret_env(secrets)]


RuntimeEngine = LangflowEngine | LfxEngine
"""Every engine class; `Engine`'s factories return one of them."""


class Engine:
    """What serves a runtime's flows. Static factories; choose per LangflowRuntime
    (`LangflowRuntimeProps.engine`) and override per FlowGroup or Flow (`engine=`)."""

    @staticmethod
    def langflow(*, resources: Resources | None = None, autoscaling: Autoscaling | None = None) -> LangflowEngine:
        """The full Langflow server (`langflow run`): for flows with chat memory or webhooks."""
        default = LangflowEngine()
        return LangflowEngine(resources=resources or default.resources, autoscaling=autoscaling or default.autoscaling)

    @staticmethod
    def lfx(*, workers: int = 1, timeout: int = 120, sync_workers: bool = True, resources: Resources | None = None,
            autoscaling: Autoscaling | None = None, image: Image | None = None,
            requirements: str | Path | None = None) -> LfxEngine:
        """Stateless `lfx serve` of the unit's flows: about half the memory and a third of the start-up CPU."""
        default = LfxEngine()
        return LfxEngine(workers=workers, timeout=timeout, sync_workers=sync_workers, image=image, requirements=requirements,
                         resources=resources or default.resources, autoscaling=autoscaling or default.autoscaling)


def check_engine(engine: object, where: str) -> None:
    if not isinstance(engine, (LangflowEngine, LfxEngine)):
        raise ConfigError(where, f"{engine!r} is not a runtime engine", "use Engine.langflow() or Engine.lfx(...)")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(requirements: str | Path) -> frozenset[str]:
    """The (normalized) distribution names a requirements file installs."""
    try:
        text = Path(requirements).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"engine.requirements {str(requirements)!r}", f"cannot be read ({error.strerror})",
                          "run `make images` and commit the file, or point at the requirements file of the image") from None
    return frozenset(_normalized(m) for m in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*[=<>~!;]",
                                                         text, re.M))


def flow_packages(flow: Flow) -> list[tuple[str, str]]:
    """(component, distribution) for every package a flow's nodes import or load for their model
    provider, as `lfx requirements` derives them (stdlib and lfx itself left out)."""
    if flow.content is None:
        return []
    found: list[tuple[str, str]] = []
    for node in json.loads(flow.content).get("data", {}).get("nodes", []):
        data = node.get("data", {}) if isinstance(node, Mapping) else {}
        inner = data.get("node", {}) if isinstance(data.get("node"), Mapping) else {}
        template = inner.get("template", {}) if isinstance(inner.get("template"), Mapping) else {}
        display = f"{inner.get('display_name') or data.get('type') or '?'} ({data.get('id') or node.get('id') or '?'})"
        code = template.get("code", {}).get("value") if isinstance(template.get("code"), Mapping) else None
        modules: set[str] = set()
        try:
            tree = ast.parse(code) if isinstance(code, str) else None
        except SyntaxError:
            tree = None
        for statement in ast.walk(tree) if tree else []:
            if isinstance(statement, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in statement.names}
            elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                modules.add(statement.module.split(".")[0])
        packages = {_normalized(IMPORT_PACKAGES.get(m, m)) for m in modules
                    if m not in sys.stdlib_module_names and m not in INTERNAL_IMPORTS}
        for field_name in ("model", "agent_llm", "embedding_model"):
            value = template.get(field_name, {}).get("value") if isinstance(template.get(field_name), Mapping) else None
            for choice in value if isinstance(value, list) else []:
                provider = choice.get("provider") if isinstance(choice, Mapping) else None
                if provider in PROVIDER_PACKAGES:
                    packages.add(PROVIDER_PACKAGES[provider])
        found += [(display, package) for package in sorted(packages)]
    return found


def _nodes(flow: Flow) -> list[tuple[str, str, bool]]:
    """(type, display name, edited) of every node, including those inside grouped components."""
    if flow.content is None:
        return []
    found: list[tuple[str, str, bool]] = []
    pending = [json.loads(flow.content).get("data")]
    while pending:
        data = pending.pop()
        nodes = data.get("nodes") if isinstance(data, Mapping) else None
        for node in nodes if isinstance(nodes, list) else []:
            node_data = node.get("data") if isinstance(node, Mapping) else None
            if not isinstance(node_data, Mapping):
                continue
            inner = node_data.get("node")
            if not isinstance(inner, Mapping):
                inner = {}
            node_type = str(node_data.get("type") or "")
            display = str(inner.get("display_name") or node_type or node_data.get("id") or "?")
            found.append((node_type, f"{display} ({node_data.get('id') or node.get('id') or '?'})",
                          bool(inner.get("edited"))))
            if isinstance(inner.get("flow"), Mapping):
                pending.append(inner["flow"].get("data"))
    return found


def uses_memory(flow: Flow) -> bool:
    """Whether a flow reads earlier messages of a session back (Message History, Agent memory)."""
    return any(node_type in MEMORY_COMPONENTS for node_type, _, _ in _nodes(flow))


def state_model(database: DatabaseChoice, engines: Sequence[RuntimeEngine] = ()) -> str:
    """One sentence on where a runtime's state lives, for the synthesis summary."""
    if engines and not any(engine.stateful for engine in engines):
        names = ", ".join(sorted({engine.name for engine in engines}))
        return (f"stateless ({names}): no database; a pod keeps nothing between calls and serves "
                "its own copy of its unit's flow files")
    if isinstance(database, ExternalPostgres):
        return (f"state per unit and revision: each revision's replicas share a database on {database.host} "
                "(chat history, variables, transactions); a new revision starts with an empty one")
    return ("state per pod: chat history, variables and transactions stay in the pod that served them and go "
            "with it; every pod serves its own copy of its unit's flow files")
