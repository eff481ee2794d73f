"""The architecture, as Langflow's reference deployment draws it: a development environment with
the full IDE, and a locked-down production environment serving each flow as its own service,
both deployed by Argo CD from this repository."""

from pathlib import Path

from langflow_cdk8s import (
    App,
    CloudProfile,
    Database,
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
from langflow_cdk8s.tooling.synth import synth

FLOWS = Path(__file__).parent / "flows"
GATEWAY = GatewayRef(name="platform", namespace="gateway-system", section_name="https")
"""The platform's shared Gateway (Gateway API) and its HTTPS listener, which holds the certificates."""
LFX = Engine.lfx()
LLM_KEYS = {"OPENAI_API_KEY": SecretKey(name="llm-api-keys", key="openai")}
METRICS = Metrics(monitor=Monitor.POD_MONITOR)   # the Prometheus Operator scrapes each workload's pods
PROD_SECRETS = SecretSource.external(           # External Secrets Operator, from the platform's store
    store="platform-secrets",
    remote={name: f"langflow/prod/{name}" for name in (
        "langflow-runtime-auth", "langflow-prod-db", "llm-api-keys", "astra-db")},
)


def build(app: App, *, repo_url: str = "https://github.com/example/langflow-k8s.git", revision: str = "main",
          argocd_namespace: str = "argocd", cluster: str = "https://kubernetes.default.svc") -> list[Environment]:
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
        argocd_namespace=argocd_namespace,
        destination_server=cluster,
        production_sync=SyncPolicy.production(),
    ))
    return [dev, prod]


if __name__ == "__main__":
    raise SystemExit(synth(build))
