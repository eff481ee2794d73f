"""Apps and flows that test modules in several folders build on (a test module imports helpers from
here, never from another test module)."""

from __future__ import annotations

import cdk8s
import example_app
from conftest import runnable_starters
from support import QUOTA

from langflow_cdk8s import (
    Database,
    Environment,
    EnvironmentProps,
    Flow,
    FlowDelivery,
    Frontend,
    GitOps,
    GitOpsProps,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    LangflowRuntime,
    LangflowRuntimeProps,
    Metrics,
    Monitor,
    RedisCache,
    SecretKey,
    SecretSource,
    ServiceType,
    Stage,
)

STARTER_FLOWS = Flow.from_folder(runnable_starters())
"""Langflow's starter templates that run without a model (tests/fixtures/starter_flows)."""


def every_option_on(app: cdk8s.App) -> list[Environment]:
    """A variant with every option that adds objects: in-cluster PostgreSQL, ingress, Redis, the nginx frontend, download delivery,
    Secrets from a store, Prometheus Operator monitors."""
    dev = Environment(app, "dev", EnvironmentProps(stage=Stage.DEVELOPMENT, namespace="opt-dev", quota=QUOTA,
                                                    monitoring_namespace="monitoring"))
    LangflowIDE(dev, "ide", LangflowIDEProps(database=Database.in_cluster_postgres(),
                                             exposure=IngressOptions(host="ide.example.com", tls_secret="tls"),
                                             service_type=ServiceType.LOAD_BALANCER, frontend=Frontend.nginx(),
                                             metrics=Metrics(monitor=Monitor.SERVICE_MONITOR),
                                             redis=RedisCache(url=SecretKey(name="r", key="url"),
                                                              signing_key=SecretKey(name="r", key="key"))))
    prod = Environment(app, "prod", EnvironmentProps(
        stage=Stage.PRODUCTION, namespace="opt-prod", quota=QUOTA, monitoring_namespace="monitoring",
        secrets=SecretSource.external(store="vault", remote={"h": "h", "tls": "tls", "langflow-runtime-auth": "auth"})))
    LangflowRuntime(prod, "runtime", LangflowRuntimeProps(metrics=Metrics(monitor=Monitor.POD_MONITOR),
        flows=[Flow.from_url("https://flows.example.com/a.json", id="0b7f4b44-2b3c-4ae1-9b0e-1c6f1b0b9d11", name="A")],
        delivery=FlowDelivery.download(auth_header=SecretKey(name="h", key="header")),
        exposure=IngressOptions(host="flows.example.com", tls_secret="tls")))
    LangflowRuntime(prod, "files", LangflowRuntimeProps(name="files", flows=Flow.from_folder(example_app.FLOWS)))
    GitOps(app, "argocd", GitOpsProps(environments=[dev, prod], repo_url="https://example.com/r.git"))
    return [dev, prod]
