"""An in-cluster PostgreSQL for development environments, hardened like everything else."""

from __future__ import annotations

from collections.abc import Mapping

from constructs import Construct

from .database import InClusterPostgres
from .environment import Environment
from .labels import selector_labels
from .network import NetworkPeer, Traffic
from .pod import container, empty_dir, pod_spec, volume_claim
from .resources import Resources
from .workload import ServicePort, Workload, emit_workload

RESOURCES = Resources(cpu="250m", memory="512Mi", cpu_limit="1", memory_limit="1Gi")


def emit_postgres(env: Environment, scope: Construct, *, name: str, instance: str, db: InClusterPostgres,
                  clients: Mapping[str, str]) -> None:
    """A one-replica StatefulSet with its claim, a Service and a policy that admits only `clients`."""
    data_mount = {"name": "data", "mountPath": "/var/lib/postgresql/data", "subPath": "pgdata"}
    main = container(
        name="postgres", image=db.image, ports={"postgres": 5432}, resources=RESOURCES,
        env=[{"name": "POSTGRES_DB", "value": db.database}, {"name": "POSTGRES_USER", "value": db.user},
             {"name": "POSTGRES_PASSWORD_FILE", "value": f"/etc/postgres-credentials/{db.password.key}"},
             {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
        mounts=[data_mount, {"name": "run", "mountPath": "/var/run/postgresql"}, {"name": "tmp", "mountPath": "/tmp"},
                {"name": "credentials", "mountPath": "/etc/postgres-credentials", "readOnly": True}],
    )
    # pg_isready is the honest check; an exec probe needs no HTTP port.
    ready = {"exec": {"command": ["pg_isready", "-U", db.user, "-d", db.database, "-h", "127.0.0.1"]}}
    main["startupProbe"] = {**ready, "periodSeconds": 5, "failureThreshold": 60}
    main["readinessProbe"] = {**ready, "periodSeconds": 10, "timeoutSeconds": 5}
    main["livenessProbe"] = {**ready, "periodSeconds": 20, "timeoutSeconds": 5, "failureThreshold": 6}
    pod = pod_spec(service_account=name, containers=[main], volumes=[empty_dir("run", "64Mi"), empty_dir("tmp", "256Mi"),
                            {"name": "credentials", "secret": {"secretName": db.password.name, "defaultMode": 0o440,
                                                                "items": [{"key": db.password.key, "path": db.password.key}]}}],
                   termination_grace_period_seconds=60)
    emit_workload(env, scope, Workload(
        name=name, instance=instance, component="database", version=db.image.tag, controller="StatefulSet",
        pod=pod, ports=[ServicePort(name="postgres", port=5432)],
        traffic=Traffic(ingress=[NetworkPeer.pods(clients, [5432], "Langflow backend")]),
        volume_claim_templates=[volume_claim("data", db.size, db.storage_class or env.profile.storage_class)],
    ))


def postgres_selector(instance: str) -> dict[str, str]:
    return selector_labels(instance=instance, component="database")


