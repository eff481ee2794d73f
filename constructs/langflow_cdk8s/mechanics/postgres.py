"""An in-cluster PostgreSQL for development environments, hardened like everything else."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from constructs import Construct

from ..props.database import InClusterPostgres
from ..props.flow import Flow
from ..props.network import NetworkPeer
from ..props.resources import Resources
from .containers import CommandProbes, ContainerSpec, empty_dir, volume_claim
from .labels import selector_labels
from .networking import Traffic
from .site import Site
from .workload import Controller, PodSpec, ServicePort, ServiceWorkload, Workload

RESOURCES = Resources(cpu="250m", memory="512Mi", cpu_limit="1", memory_limit="1Gi")


def postgres(site: Site, scope: Construct, *, name: str, instance: str, db: InClusterPostgres,
             clients: Mapping[str, str]) -> ServiceWorkload:
    """A one-replica StatefulSet with its claim, a Service and a policy that admits only `clients`."""
    main = ContainerSpec(
        name="postgres", image=db.image, ports={"postgres": 5432}, resources=RESOURCES,
        env=[{"name": "POSTGRES_DB", "value": db.database}, {"name": "POSTGRES_USER", "value": db.user},
             {"name": "POSTGRES_PASSWORD_FILE", "value": f"/etc/postgres-credentials/{db.password.key}"},
             {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
        mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data", "subPath": "pgdata"},
                {"name": "run", "mountPath": "/var/run/postgresql"}, {"name": "tmp", "mountPath": "/tmp"},
                {"name": "credentials", "mountPath": "/etc/postgres-credentials", "readOnly": True}],
        # pg_isready is the honest check; an exec probe needs no HTTP port.
        probes=CommandProbes(command=("pg_isready", "-U", db.user, "-d", db.database, "-h", "127.0.0.1")),
    )
    volumes = [empty_dir("run", "64Mi"), empty_dir("tmp", "256Mi"),
               {"name": "credentials", "secret": {"secretName": db.password.name, "defaultMode": 0o440,
                                                  "items": [{"key": db.password.key, "path": db.password.key}]}}]
    return ServiceWorkload(scope, "postgres", site, Workload(
        name=name, instance=instance, component="database", version=db.image.tag, controller=Controller.STATEFUL_SET,
        pod=PodSpec(containers=[main], volumes=volumes, termination_grace_period_seconds=60),
        ports=[ServicePort(name="postgres", port=5432)],
        traffic=Traffic(ingress=[NetworkPeer.pods(clients, [5432], "Langflow backend")]),
        volume_claim_templates=[volume_claim("data", db.size, db.storage_class or site.profile.storage_class)],
    ))


def postgres_selector(instance: str) -> dict[str, str]:
    return selector_labels(instance=instance, component="database")


def revision_database(database: str, unit: str, image: str, flows: Sequence[Flow]) -> tuple[str, str]:
    """(prefix, name) of the database for one unit's revision: `<database>_<unit>_<10 hex>`, the
    hex from the image and the flows' content, so pods of one revision share it and no other pod
    writes to it. Within PostgreSQL's 63-character identifiers; a long unit name keeps a hash."""
    slug = unit.replace("-", "_")
    room = 63 - len(database) - 12
    if len(slug) > room:
        slug = f"{slug[:room - 5]}_{hashlib.sha256(unit.encode()).hexdigest()[:4]}"
    revision = hashlib.sha256(json.dumps([image, sorted((f.id, f.content_hash) for f in flows)]).encode()).hexdigest()
    prefix = f"{database}_{slug}_"
    return prefix, prefix + revision[:10]
