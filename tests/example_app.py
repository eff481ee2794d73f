"""The template's architecture as main.py ships it, owned by the tests.

Library behaviour that needs a whole app (snapshots, the Argo CD sync policies of a dev and a prod
environment, the Secrets they read, the gates' broken-copy checks, the README's quoted commands) is
tested on this app, with the flows in tests/fixtures/flows/. What main.py itself produces is checked
generically (tests on `ref`), so a team edits main.py and flows/ without touching tests/.
"""

from collections.abc import Mapping
from pathlib import Path

import cdk8s

from langflow_cdk8s import (
    CloudProfile,
    Database,
    Destination,
    Engine,
    Environment,
    EnvironmentProps,
    Exposure,
    Flow,
    GatewayRef,
    GitOps,
    GitOpsProps,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Metrics,
    Monitor,
    Quota,
    SecretKey,
    SecretSource,
    Stage,
    SyncPolicy,
    astra_db,
)

FLOWS = Path(__file__).parent / "fixtures" / "flows"
GATEWAY = GatewayRef(name="platform", namespace="gateway-system", section_name="https")
LFX = Engine.lfx()
LLM_KEYS = {"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}
METRICS = Metrics(monitor=Monitor.POD_MONITOR)
PROD_SECRETS = SecretSource.external(
    store="platform-secrets",
    remote={name: f"langflow/prod/{name}" for name in (
        "langflow-runtime-auth", "langflow-prod-db", "llm-api-keys", "astra-db")},
)
REPO = "https://github.com/example/langflow-k8s.git"


def build(app: cdk8s.App, *, repo_url: str = REPO, revision: str = "main",
          destinations: Mapping[str, Destination] | None = None) -> list[Environment]:
    dev = Environment(app, "dev", EnvironmentProps(
        stage=Stage.DEVELOPMENT,
        namespace="langflow-dev",
        profile=CloudProfile.generic(),
        monitoring_namespace="monitoring",
        quota=Quota(requests_cpu="8", requests_memory="16Gi", limits_cpu="16", limits_memory="24Gi"),
    ))
    LangflowIDE(dev, "ide", LangflowIDEProps(
        database=Database.sqlite(size="10Gi"),
        exposure=Exposure.gateway("langflow.dev.example.com", gateway=GATEWAY),
        secret_env={**LLM_KEYS, **astra_db("astra-db")},
        metrics=METRICS,
    ))

    prod = Environment(app, "prod", EnvironmentProps(
        stage=Stage.PRODUCTION,
        namespace="langflow-prod",
        profile=CloudProfile.generic(),
        monitoring_namespace="monitoring",
        quota=Quota(requests_cpu="32", requests_memory="64Gi", limits_cpu="64", limits_memory="64Gi", pods=80),
        secrets=PROD_SECRETS,
    ))
    LangflowRuntime(prod, "runtime", LangflowRuntimeProps(
        # Stateless lfx serve where a flow allows it; chat memory or a webhook needs the full server,
        # whose units keep their state in PostgreSQL (lfx units need no database).
        flows=[flow if LFX.runs(flow) else flow.with_overrides(engine=Engine.langflow()) for flow in Flow.from_folder(FLOWS)],
        engine=LFX,
        database=Database.external_postgres(host="langflow-db.prod.internal",
                                            password=SecretKey(name="langflow-prod-db", key="password")),
        exposure=Exposure.gateway("flows.example.com", gateway=GATEWAY),
        secret_env={**LLM_KEYS, **astra_db("astra-db")},
        metrics=METRICS,
    ))

    GitOps(app, "argocd", GitOpsProps(
        environments=[dev, prod],
        repo_url=repo_url,
        target_revision=revision,
        production_sync=SyncPolicy.production(),
        destinations=destinations or {},
    ))
    return [dev, prod]
