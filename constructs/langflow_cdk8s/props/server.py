"""The settings every Langflow server construct shares (the IDE's and the runtime's), validated once."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from .database import DatabaseChoice
from .exposure import Exposure
from .image import Image
from .posture import ObjectStorage, Posture, ProductionPreflight, Security
from .secrets import SecretKey, check_secret_keys
from .settings import Auth, Metrics, RedisCache
from .validation import at_least, dns_label, member


class ServiceType(enum.Enum):
    """The type of the Service in front of a Langflow server."""

    CLUSTER_IP = "ClusterIP"
    """Reachable inside the cluster only (through the exposure, if any)."""
    LOAD_BALANCER = "LoadBalancer"
    """A cloud load balancer, with the cloud profile's annotations (internal on EKS, GKE and AKS)."""


@dataclass(frozen=True, kw_only=True)
class LangflowServerProps:
    """What LangflowIDEProps and LangflowRuntimeProps share. name, database, auth, replicas and security
    have no default here: each variant states its own.

    name: prefix of every object name the construct creates (a DNS label).
    image: the Langflow image (default langflowai/langflow:1.13.0).
    database: where Langflow keeps its state: a Database.* choice.
    auth: superuser, secret key (and API key) by Secret reference.
    exposure: how the server is reached from outside: Exposure.gateway(...), Exposure.own_gateway(...)
    or Exposure.ingress(...); None (default) exposes nothing.
    service_type: the Service's type: ServiceType.CLUSTER_IP (default) or ServiceType.LOAD_BALANCER,
    which gets the cloud profile's load-balancer annotations.
    replicas: pod replicas.
    metrics: Prometheus on port 9090 (default enabled).
    redis: optional shared cache (default None).
    secret_env: env vars from Secrets, e.g. LLM API keys or `secrets.astra_db(...)` (default none).
    security: Langflow's security settings.
    object_storage: S3-compatible storage for files Langflow writes (default None: the pod's emptyDir).
    production_preflight: run Langflow's `prod` profile checks at boot (default None; needs PostgreSQL
    and object_storage).
    workers: Langflow worker processes per pod (LANGFLOW_WORKERS; default 1; more need job_queue).
    job_queue: Secret key with a redis:// URL for the shared job queue (default None; sets
    LANGFLOW_JOB_QUEUE_TYPE=redis and LANGFLOW_REDIS_QUEUE_URL).
    """

    name: str
    image: Image = field(default_factory=Image.langflow)
    database: DatabaseChoice
    auth: Auth
    exposure: Exposure | None = None
    service_type: ServiceType = ServiceType.CLUSTER_IP
    replicas: int
    metrics: Metrics = Metrics()
    redis: RedisCache | None = None
    secret_env: Mapping[str, SecretKey] = field(default_factory=dict)
    security: Security
    object_storage: ObjectStorage | None = None
    production_preflight: ProductionPreflight | None = None
    workers: int = 1
    job_queue: SecretKey | None = None

    def __post_init__(self) -> None:
        dns_label("name", self.name)
        member("service_type", self.service_type, ServiceType)
        check_secret_keys(self)
        at_least("replicas", self.replicas, 1)
        self.posture.check(self.database)

    @property
    def posture(self) -> Posture:
        """Langflow's security, storage and worker settings, checked together against the database."""
        return Posture(security=self.security, object_storage=self.object_storage,
                       preflight=self.production_preflight, workers=self.workers, job_queue=self.job_queue)
