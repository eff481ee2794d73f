"""LangflowIDE: the development environment's full Langflow (UI + API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import cdk8s_plus_27 as kplus

from constructs import Construct

from ..errors import ConfigError
from ..mechanics.backend import (
    backend_container,
    backend_egress,
    backend_volumes,
    scrape_annotations,
    scrapers,
    telemetry_egress,
    telemetry_env,
    wire_database,
)
from ..mechanics.containers import ContainerSpec, HttpProbes, empty_dir, env_list
from ..mechanics.exposure import expose
from ..mechanics.labels import selector_labels, standard_labels
from ..mechanics.monitors import attach_monitor
from ..mechanics.networking import Traffic
from ..mechanics.postgres import postgres, postgres_selector
from ..mechanics.routes import Route
from ..mechanics.workload import Controller, PodSpec, ServicePort, ServiceWorkload, Workload
from ..props.database import Database, DatabaseChoice, InClusterPostgres, SqliteEphemeral, SqliteOnVolume
from ..props.frontend import BundledFrontend, Frontend, FrontendChoice, NginxFrontend
from ..props.network import NetworkPeer
from ..props.pod import PodOptions
from ..props.posture import Security, merge_secrets, origins
from ..props.resources import Resources
from ..props.server import LangflowServerProps, ServiceType
from ..props.settings import PORT, Auth
from .environment import Environment

FRONTEND_PORT = 8080
FRONTEND_PROBES = HttpProbes(port="http", startup_path="/index.html", readiness_path="/index.html",
                             liveness_path="/index.html", startup_timeout_seconds=60)


@dataclass(frozen=True, kw_only=True)
class LangflowIDEProps(LangflowServerProps):
    """The IDE's settings; every default is what a secure single-team dev environment wants.
    The fields it shares with the runtime are LangflowServerProps'.

    name: prefix of every object name (default "langflow-ide": objects are langflow-ide-backend, -frontend).
    image: backend image (default langflowai/langflow:1.13.0).
    frontend: who serves the UI: Frontend.bundled() (default: the backend's own image serves UI and
    API from one process, one Service) or Frontend.nginx(...) (the split nginx image in its own
    Deployment, the official chart's layout).
    database: Database.sqlite() (default, 5Gi claim, one replica), Database.external_postgres(...)
    or Database.in_cluster_postgres().
    auth: credentials by Secret reference (default Auth.from_secret("langflow-ide-auth"), auto-login off).
    exposure: how the IDE is reached from outside: Exposure.gateway(...) (an HTTPRoute on the platform's
    Gateway), Exposure.own_gateway(...) or Exposure.ingress(...); None (default) exposes nothing.
    service_type: the type of the Service serving the UI (the backend's, or the nginx frontend's):
    ServiceType.CLUSTER_IP (default) or ServiceType.LOAD_BALANCER, which gets the cloud profile's
    load-balancer annotations (an internal load balancer on EKS, GKE and AKS).
    replicas: backend replicas (default 1; more need PostgreSQL).
    backend_resources: default 500m/1280Mi requested, 2 CPU/2Gi limit (measured ~1.0-1.1 GiB at rest and
    at peak: the request covers it, so the backend is not the first pod evicted; the limit leaves half).
    redis: optional shared cache for several replicas (default None).
    secret_env: env vars from Secrets, e.g. LLM API keys or `secrets.astra_db(...)` (default none).
    security: Langflow's security settings (default Security.ide(): custom component code for admins only).
    object_storage: S3-compatible storage for uploads (default None: the pod's emptyDir; required
    with more than one replica, which would otherwise each keep their own uploads).
    production_preflight: run Langflow's `prod` profile checks at boot (default None; needs
    PostgreSQL and object_storage).
    backend_pod: escape hatch (scheduling, extra env/volumes, sidecars…); the nginx frontend's is
    Frontend.nginx(pod=...).
    """

    name: str = "langflow-ide"
    frontend: FrontendChoice = field(default_factory=Frontend.bundled)
    database: DatabaseChoice = field(default_factory=Database.sqlite)
    auth: Auth = field(default_factory=lambda: Auth.from_secret("langflow-ide-auth"))
    replicas: int = 1
    backend_resources: Resources = Resources(cpu="500m", memory="1280Mi", cpu_limit="2", memory_limit="2Gi")
    security: Security = field(default_factory=Security.ide)
    backend_pod: PodOptions = PodOptions()

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.name) > 40:
            raise ConfigError("name", f"{self.name!r} is longer than 40 characters",
                              "shorten it: object names append '-frontend' and claim suffixes to it")
        if not isinstance(self.frontend, (BundledFrontend, NginxFrontend)):
            raise ConfigError("frontend", f"{self.frontend!r} is not a frontend choice",
                              "use Frontend.bundled() (the default) or Frontend.nginx(...)")
        if isinstance(self.database, SqliteOnVolume) and self.replicas > 1:
            raise ConfigError("replicas", f"{self.replicas} with SQLite on a ReadWriteOnce volume",
                              "use replicas=1, or Database.external_postgres(...) / in_cluster_postgres() for more")
        if isinstance(self.database, SqliteEphemeral):
            raise ConfigError("database", "Database.sqlite_ephemeral() in the IDE would lose every flow on restart",
                              "use Database.sqlite() (a claim) or PostgreSQL")
        if self.replicas > 1 and self.object_storage is None:
            raise ConfigError("replicas", f"{self.replicas} replicas without object storage: each would keep "
                              "its own uploads", "set object_storage=ObjectStorage(bucket=...), or use replicas=1")


class LangflowIDE(Construct):
    """The Langflow IDE, hardened and with secrets by reference: a backend StatefulSet or Deployment
    that serves the UI itself (the default), or beside it the official chart's nginx frontend.

    Its cdk8s-plus objects, to extend with the cdk8s-plus API (the environment hardens additions):
    backend (ServiceWorkload: .workload is a StatefulSet with SQLite on a claim, else a Deployment;
    .container, .service, .network_policy, ...), frontend (ServiceWorkload with the nginx Deployment
    with Frontend.nginx(...), else None), postgres (ServiceWorkload, with Database.in_cluster_postgres(),
    else None), exposure_objects (what the exposure built: an HTTPRoute, a Gateway, a ReferenceGrant or
    a kplus.Ingress) and ingress (the kplus.Ingress with Exposure.ingress, else None). `name` is props.name,
    the prefix of its object names.
    """

    def __init__(self, scope: Construct, id: str, props: LangflowIDEProps = LangflowIDEProps()) -> None:
        env = Environment.of(scope)
        super().__init__(scope, id)
        self.name = props.name
        version = props.image.tag
        backend, frontend = f"{props.name}-backend", f"{props.name}-frontend"
        backend_selector = selector_labels(instance=props.name, component="backend")
        frontend_selector = selector_labels(instance=props.name, component="frontend")
        postgres_name = f"{props.name}-postgres"
        nginx = props.frontend if isinstance(props.frontend, NginxFrontend) else None
        backend_url = f"http://{backend}.{env.namespace_name}.svc.cluster.local:{PORT}"

        db = wire_database(props.database, storage_class=env.profile.storage_class, postgres_service=postgres_name,
                           postgres_labels=postgres_selector(props.name))
        # Stated either way: what the pod serves never depends on an image's own default.
        settings = {"LANGFLOW_BACKEND_ONLY": "true" if nginx else "false"}
        if props.replicas > 1:
            # Build events must not depend on which replica a follow-up request lands on.
            settings["LANGFLOW_EVENT_DELIVERY"] = "direct"
        ui_url = f"http://{frontend}.{env.namespace_name}.svc.cluster.local:{FRONTEND_PORT}" if nginx else backend_url
        posture_settings, posture_secrets = props.posture.env(origins=origins(props.exposure, [ui_url], env.profile),
                                                              behind_proxy=props.exposure is not None)
        settings.update({**posture_settings, **telemetry_env(props.metrics, backend)})
        options = props.backend_pod
        main = backend_container(image=props.image, resources=props.backend_resources, database=db, auth=props.auth,
                                 metrics=props.metrics, settings=settings,
                                 secrets=merge_secrets("secret_env", props.secret_env, posture_secrets),
                                 extra_env=options.env, env_from=options.env_from, mounts=options.volume_mounts,
                                 redis=props.redis)
        stateful = db.claim is not None
        backend_ingress = [NetworkPeer.pods(frontend_selector, [PORT], "IDE frontend")] if nginx else []
        if props.exposure:
            backend_ingress.append(props.exposure.entry(env.profile, (PORT,)))
        backend_ingress += scrapers(env, props.metrics)
        egress = [*backend_egress(env, db, props.redis), *props.posture.egress(), *telemetry_egress(props.metrics)]
        self.backend = ServiceWorkload(self, "backend", env, Workload(
            name=backend, instance=props.name, component="backend", version=version,
            controller=Controller.STATEFUL_SET if stateful else Controller.DEPLOYMENT, replicas=props.replicas,
            pod=PodSpec(containers=[main], volumes=backend_volumes(db), options=options,
                        termination_grace_period_seconds=60),
            pod_annotations={**scrape_annotations(env, props.metrics), **options.annotations}, pod_labels=options.labels,
            ports=[ServicePort(name="http", port=PORT)],
            service_type=ServiceType.CLUSTER_IP if nginx else props.service_type,
            traffic=Traffic(ingress=backend_ingress, egress=egress),
            volume_claim_templates=[db.claim] if db.claim else (), spread=props.replicas > 1,
        ))
        attach_monitor(env, self.backend, props.metrics)

        self.frontend: ServiceWorkload | None = None
        if nginx:
            self.frontend = self._nginx(env, nginx, props, name=frontend, backend_url=backend_url,
                                        backend_selector=backend_selector)

        self.postgres: ServiceWorkload | None = None
        if isinstance(props.database, InClusterPostgres):
            self.postgres = postgres(env, self, name=postgres_name, instance=props.name, db=props.database,
                                     clients=backend_selector)

        self.exposure_objects: list[Construct] = []
        if props.exposure:
            # The API straight to the backend (long-running builds and streaming skip a proxy hop and
            # its timeouts); the UI from whichever Service serves it.
            ui = (self.frontend.service, FRONTEND_PORT) if self.frontend else (self.backend.service, PORT)
            self.exposure_objects = expose(
                env, self, "ingress", name=props.name, exposure=props.exposure,
                labels=standard_labels(instance=props.name, component="ingress", version=version),
                routes=[Route(path="/api", service=self.backend.service, port=PORT), Route(path="/", service=ui[0], port=ui[1])])
        self.ingress = next((o for o in self.exposure_objects if isinstance(o, kplus.Ingress)), None)

    def _nginx(self, env: Environment, nginx: NginxFrontend, props: LangflowIDEProps, *, name: str, backend_url: str,
               backend_selector: Mapping[str, str]) -> ServiceWorkload:
        """The split frontend: nginx serving the built UI and proxying /api to the backend Service."""
        options = nginx.pod
        container = ContainerSpec(
            name="frontend", image=nginx.image, ports={"http": FRONTEND_PORT},
            env=env_list({"BACKEND_URL": backend_url, "FRONTEND_PORT": str(FRONTEND_PORT), **options.env}),
            env_from=options.env_from, resources=nginx.resources, probes=FRONTEND_PROBES,
            mounts=[{"name": "tmp", "mountPath": "/tmp"}, {"name": "nginx-cache", "mountPath": "/var/cache/nginx"},
                    {"name": "nginx-logs", "mountPath": "/nginx-access-log"}, *options.volume_mounts],
        )
        return ServiceWorkload(self, "frontend", env, Workload(
            name=name, instance=props.name, component="frontend", version=nginx.image.tag, replicas=nginx.replicas,
            pod=PodSpec(containers=[container], options=options,
                        volumes=[empty_dir("tmp", "256Mi"), empty_dir("nginx-cache", "256Mi"),
                                 empty_dir("nginx-logs", "64Mi")]),
            pod_annotations=options.annotations, pod_labels=options.labels,
            ports=[ServicePort(name="http", port=FRONTEND_PORT)], service_type=props.service_type,
            traffic=Traffic(ingress=[props.exposure.entry(env.profile, (FRONTEND_PORT,))] if props.exposure else [],
                            egress=[NetworkPeer.pods(backend_selector, [PORT], "IDE backend")]),
            spread=nginx.replicas > 1,
        ))
