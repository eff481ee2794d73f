"""LangflowRuntime: production flows served as standalone, independently scaled services."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cdk8s_plus_27 as kplus

from constructs import Construct

from ..errors import ConfigError
from ..mechanics.backend import (
    DatabaseWiring,
    backend_egress,
    scrape_annotations,
    scrapers,
    telemetry_egress,
    telemetry_env,
    wire_database,
)
from ..mechanics.containers import ContainerSpec, empty_dir, env_list
from ..mechanics.engines import ServerInputs, server
from ..mechanics.exposure import expose
from ..mechanics.labels import standard_labels
from ..mechanics.monitors import attach_monitor
from ..mechanics.networking import Traffic
from ..mechanics.postgres import revision_database
from ..mechanics.routes import Route
from ..mechanics.waves import COMPARE_OPTIONS, IGNORE_EXTRANEOUS, metadata
from ..mechanics.workload import REVISION_HISTORY, PodSpec, ServicePort, ServiceWorkload, Workload
from ..props.database import Database, DatabaseChoice, ExternalPostgres, InClusterPostgres, SqliteEphemeral, SqliteOnVolume
from ..props.delivery import BakedDelivery, ConfigMapDelivery, Delivery, DownloadDelivery, FlowDelivery
from ..props.engine import Engine, EngineDefault, RuntimeEngine, check_engine, state_model, uses_memory
from ..props.flow import CONFIG_MAP_LIMIT, Flow, FlowGroup, check_unique
from ..props.image import Image
from ..props.network import NetworkPeer
from ..props.pod import PodOptions
from ..props.posture import Security, merge_secrets, origins
from ..props.resources import Resources
from ..props.runnable import check_auth, check_runtime
from ..props.scaling import Autoscaling
from ..props.server import LangflowServerProps
from ..props.settings import PORT, Auth
from ..props.validation import at_least
from .environment import Environment, Stage

FLOWS_PATH = "/app/flows"
FETCH_RESOURCES = Resources(cpu="100m", memory="256Mi", cpu_limit="500m", memory_limit="256Mi")
SCRIPTS = Path(__file__).parent.parent / "mechanics"
"""Where the init containers' scripts live (run in the pods, never imported here)."""
_FETCH_SCRIPT = (SCRIPTS / "fetch_flows.py").read_text(encoding="utf-8")
_PREPARE_SCRIPT = (SCRIPTS / "prepare_database.py").read_text(encoding="utf-8")


@dataclass(frozen=True, kw_only=True)
class LangflowRuntimeProps(LangflowServerProps):
    """The runtime's settings; each flow (or FlowGroup) becomes its own Deployment.
    The fields it shares with the IDE are LangflowServerProps'.

    flows: Flow and FlowGroup objects (required, at least one; see Flow.from_folder).
    engine: what serves the flows: Engine.langflow() (default: the full server, every flow works)
    or Engine.lfx(...) (stateless `lfx serve`: no database, ~half the memory; synthesis refuses a
    flow that needs chat memory, webhooks or custom code on it). A FlowGroup or Flow may override it.
    name: prefix of object names (default "langflow-runtime": the flow `support-bot` runs as
    langflow-runtime-support-bot).
    image: default langflowai/langflow:1.13.0 (with FlowDelivery.baked_into_image: your image).
    delivery: FlowDelivery.config_maps() (default), .download(...) or .baked_into_image(...).
    database: where each pod keeps Langflow's state (flows as loaded, chat history, variables,
    transactions). Database.sqlite_ephemeral() (default): each pod has its own SQLite in its
    emptyDir, loaded from its own flow files; nothing is shared between pods.
    Database.external_postgres(host=...): each unit and revision gets its own database on that
    server (created by an init container; the role needs CREATEDB), shared by the replicas of
    that revision; the databases of the newest 5 revisions are kept for rollbacks.
    Either way a pod serves only its unit's flows, exactly as they were when it started.
    auth: superuser, secret key and API key by Secret reference
    (default Auth.from_secret("langflow-runtime-auth", api_key=True)).
    exposure: one host for all flows: Exposure.gateway(...) (an HTTPRoute on the platform's Gateway),
    Exposure.own_gateway(...) or Exposure.ingress(...), whose run and webhook paths route each flow to
    its own Service, so adding a flow adds routes, never a load balancer (default None: no exposure).
    service_type: each flow Service's type: ServiceType.CLUSTER_IP (default) or
    ServiceType.LOAD_BALANCER with the cloud profile's load-balancer annotations.
    resources: per pod (default EngineDefault.VALUE: the engine's measured sizing, see Engine).
    replicas: fixed replica count when autoscaling is None (default 3).
    autoscaling: default EngineDefault.VALUE: the engine's (langflow 3..6, lfx 2..6 replicas on 70 % CPU);
    None for a fixed replica count.
    secret_env: env vars from Secrets for every flow: LLM keys, `secrets.astra_db(...)` (default none).
    pod: escape hatches for every flow's pods (default none).
    termination_grace_period_seconds: time for running flows to finish on shutdown (default 60).
    security: Langflow's security settings (default Security.runtime(): only the server's own
    components, no code interpreters, no tweaks).
    object_storage: S3-compatible storage for files flows write (default None: each pod's emptyDir).
    production_preflight: run Langflow's `prod` profile checks at boot (default None; needs
    Database.external_postgres(...) and object_storage).
    workers: Langflow worker processes per pod (LANGFLOW_WORKERS; default 1: scale with pods, which
    the HPA measures; more need job_queue). Engine.lfx(workers=...) sets lfx's own.
    """

    flows: Sequence[Flow | FlowGroup]
    name: str = "langflow-runtime"
    engine: RuntimeEngine = field(default_factory=Engine.langflow)
    delivery: Delivery = field(default_factory=FlowDelivery.config_maps)
    database: DatabaseChoice = field(default_factory=Database.sqlite_ephemeral)
    auth: Auth = field(default_factory=lambda: Auth.from_secret("langflow-runtime-auth", api_key=True))
    resources: Resources | EngineDefault = EngineDefault.VALUE
    replicas: int = 3
    autoscaling: Autoscaling | EngineDefault | None = EngineDefault.VALUE
    pod: PodOptions = PodOptions()
    termination_grace_period_seconds: int = 60
    security: Security = field(default_factory=Security.runtime)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_engine(self.engine, "engine")
        at_least("termination_grace_period_seconds", self.termination_grace_period_seconds, 1)
        if not self.flows:
            raise ConfigError("flows", "is empty", "pass at least one Flow (for example Flow.from_folder('flows'))")
        if isinstance(self.database, (SqliteOnVolume, InClusterPostgres)):
            raise ConfigError("database", f"{type(self.database).__name__} does not fit a stateless runtime",
                              "use Database.external_postgres(...) or Database.sqlite_ephemeral()")
        if isinstance(self.database, ExternalPostgres) and self.database.url is not None:
            raise ConfigError("database", "Database.external_postgres_url(...) names one fixed database, but the "
                              "runtime gives each unit and revision its own",
                              "use Database.external_postgres(host=..., password=...) on the runtime")
        check_runtime(self.flows, self.security)


@dataclass(frozen=True)
class _Unit:
    """One Deployment's worth of flows, and the engine that serves them."""

    key: str
    name: str
    flows: Sequence[Flow]
    resources: Resources
    autoscaling: Autoscaling | None
    replicas: int
    env: Mapping[str, str]
    engine: RuntimeEngine


class LangflowRuntime(Construct):
    """Headless Langflow serving flows from files: one Deployment, Service, autoscaler, disruption
    budget and NetworkPolicy per flow (or per FlowGroup), and one HTTPRoute or Ingress routing to all of them.

    Its cdk8s-plus objects, by unit name (the flow's endpoint name, or the FlowGroup's name), to
    extend with the cdk8s-plus API (the environment hardens additions): `workloads[unit]` is a
    ServiceWorkload (.workload the Deployment, .container, .service, .autoscaler, .network_policy,
    ...), `exposure_objects` what the exposure built (HTTPRoutes, a Gateway, a ReferenceGrant or an
    Ingress), `ingress` the kplus.Ingress with Exposure.ingress, `flow_config_maps[endpoint]`
    the ConfigMap of a flow delivered by FlowDelivery.config_maps(), and `fetch_script` the init
    container's ConfigMap with FlowDelivery.download(), `database_script` the database-preparing
    init container's ConfigMap on PostgreSQL. `name` is props.name, the prefix of its object names.
    """

    def __init__(self, scope: Construct, id: str, props: LangflowRuntimeProps) -> None:
        env = Environment.of(scope)
        super().__init__(scope, id)
        check_auth(props.auth, production=env.stage is Stage.PRODUCTION, environment=env.name)
        self.name = props.name
        self._environment = env
        self._pod = props.pod
        self._script_names: dict[str, str] = {}
        flows = [flow for item in props.flows for flow in (item.flows if isinstance(item, FlowGroup) else [item])]
        # Endpoint names must be unique in the environment, across runtimes too: they share one host.
        # Checked before the units are named, so a clash names the two files rather than a unit.
        check_unique([*env.flows, *flows], f"environment {env.name!r}")
        self.units = self._units(props)
        self._check_engines()
        env.flows.extend(flows)
        self._check_delivery(props.delivery)
        env.note(f"{props.name}: {state_model(props.database, [unit.engine for unit in self.units])}")
        self._warn_per_pod_memory(env, props.database)
        self.workloads: dict[str, ServiceWorkload] = {}
        self.exposure_objects: list[Construct] = []
        self.flow_config_maps: dict[str, kplus.ConfigMap] = {}
        self.fetch_script: kplus.ConfigMap | None = None
        self.database_script: kplus.ConfigMap | None = None
        if isinstance(props.delivery, DownloadDelivery):
            self.fetch_script = self._script(env, props.image, "flow-fetcher", "fetch", file_name="fetch_flows.py", text=_FETCH_SCRIPT)
        if isinstance(props.database, ExternalPostgres) and any(unit.engine.stateful for unit in self.units):
            self.database_script = self._script(env, props.image, "database-preparer", "db", file_name="prepare_database.py",
                                                text=_PREPARE_SCRIPT)
        for unit in self.units:
            db, init = self._unit_database(env, props, unit)
            self._unit(env, props, unit, db, init)
        self._warn_missing_variables(env)
        if props.exposure:
            routes = [Route(path=path, service=self.workloads[unit.key].service, port=PORT)
                      for unit in self.units for flow in unit.flows for path in unit.engine.route_paths(flow)]
            self.exposure_objects = expose(env, self, "ingress", name=props.name, exposure=props.exposure, routes=routes,
                                           labels=standard_labels(instance=props.name, component="ingress",
                                                                  version=props.image.tag))
        self.ingress = next((o for o in self.exposure_objects if isinstance(o, kplus.Ingress)), None)

    @staticmethod
    def _units(props: LangflowRuntimeProps) -> list[_Unit]:
        def unit(name: str, flows: Sequence[Flow], source: Flow | FlowGroup) -> _Unit:
            full = f"{props.name}-{name}"
            if len(full) > 63:
                raise ConfigError(f"flow {name!r}", f"object name {full!r} is longer than 63 characters",
                                  "shorten the endpoint name or the runtime's name")
            replicas = source.replicas if source.replicas is not None else props.replicas
            at_least(f"replicas of {name!r}", replicas, 1)
            engine = source.engine or props.engine
            check_engine(engine, f"engine of {name!r}")
            resources = engine.resources if props.resources is EngineDefault.VALUE else props.resources
            autoscaling = engine.autoscaling if props.autoscaling is EngineDefault.VALUE else props.autoscaling
            return _Unit(key=name, name=full, flows=flows, resources=source.resources or resources,
                         autoscaling=source.autoscaling or autoscaling, replicas=replicas, env=source.env,
                         engine=engine)

        units = [unit(item.name, item.flows, item) if isinstance(item, FlowGroup) else unit(item.endpoint_name, [item], item)
                 for item in props.flows]
        seen: set[str] = set()
        for u in units:
            if len(u.flows) > 1 and any(f.engine not in (None, u.engine) for f in u.flows):
                raise ConfigError(f"FlowGroup {u.key!r}", "has a flow with its own engine, but a group's flows share "
                                  "one server", "set engine= on the FlowGroup, or serve that flow on its own")
            if u.name in seen:
                raise ConfigError("flows", f"two deployment units are both named {u.name!r}",
                                  "rename the FlowGroup, or the endpoint name it collides with")
            seen.add(u.name)
        return units

    def _check_engines(self) -> None:
        """A flow that cannot work on its unit's engine is refused, naming file, component and reason."""
        for unit, flow in ((u, f) for u in self.units for f in u.flows):
            if (refused := unit.engine.refusal(flow)) is not None:
                raise ConfigError(flow.source, f"component {refused[0]} {refused[1]} (unit {unit.name!r} runs on "
                                  f"Engine.{unit.engine.name}())", refused[2])

    def _check_delivery(self, delivery: Delivery) -> None:
        for flow in (f for unit in self.units for f in unit.flows):
            if isinstance(delivery, DownloadDelivery) and flow.url is None:
                raise ConfigError(flow.source, "is a file, but delivery is FlowDelivery.download()",
                                  "declare it with Flow.from_url(...), or use FlowDelivery.config_maps()")
            if not isinstance(delivery, DownloadDelivery) and flow.content is None:
                raise ConfigError(flow.source, "is a URL flow, which only FlowDelivery.download() can deliver",
                                  "use FlowDelivery.download(), or keep the file in the repository")
            if isinstance(delivery, ConfigMapDelivery) and len(flow.content or b"") > CONFIG_MAP_LIMIT:
                raise ConfigError(flow.source, f"is {len(flow.content or b'')} bytes, too large for a ConfigMap "
                                  f"(at most {CONFIG_MAP_LIMIT})",
                                  "deliver it with FlowDelivery.download(...) or FlowDelivery.baked_into_image(...)")
            if isinstance(delivery, BakedDelivery) and not flow.endpoint_from_file:
                raise ConfigError(flow.source, "has no endpoint_name, and a baked image delivers the file as it is",
                                  f"set \"endpoint_name\": \"{flow.endpoint_name}\" in the file you bake in")

    def missing_variables(self, flow: Flow) -> list[str]:
        """Global variables `flow` reads that no env var of its pods sets: the headless runtime has
        no stored variables, so Langflow reads each from the environment and fails the run without it.
        Unknown (empty) when the pods take env vars from `pod.env_from`, whose names are not visible here."""
        if self._pod.env_from:
            return []
        served = next((u for u in self.units if any(f.id == flow.id for f in u.flows)), None)
        # Secret-backed variables (the registry; for a flow not served yet the first unit's), and plain env.
        secrets = self._environment.secret_references.variables(self.workloads[(served or self.units[0]).key].reader)
        return sorted(flow.global_variables - {*secrets, *self._pod.env, *(served.env if served else {})})

    def _warn_missing_variables(self, env: Environment) -> None:
        for flow in (f for unit in self.units for f in unit.flows):
            missing = self.missing_variables(flow)
            if missing:
                env.warn(f"{flow.source} reads global variable(s) {', '.join(missing)}, which no env var of "
                         f"{self.name}'s pods sets: add them to its secret_env in main.py")

    def _warn_per_pod_memory(self, env: Environment, database: DatabaseChoice) -> None:
        """Chat memory read back from a per-pod database differs between replicas: say which flows."""
        if not isinstance(database, SqliteEphemeral):
            return
        for unit in self.units:
            most = unit.autoscaling.max_replicas if unit.autoscaling else unit.replicas
            for flow in unit.flows:
                if most > 1 and uses_memory(flow):
                    env.warn(f"{unit.name}: flow {flow.name!r} ({flow.source}) reads chat memory, which is per pod with "
                             f"Database.sqlite_ephemeral() and up to {most} replicas: a session's history depends on "
                             "the pod that answers (use Database.external_postgres, or one replica)")

    def _script(self, env: Environment, image: Image, component: str, short: str, *, file_name: str, text: str) -> kplus.ConfigMap:
        """An init container's script in an immutable ConfigMap named after its content."""
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        name = f"{self.name}-{short}-{digest}"
        self._script_names[short] = name
        labels = standard_labels(instance=self.name, component=component, version=image.tag)
        return kplus.ConfigMap(self, f"{short}-script", immutable=True, data={file_name: text},
                               metadata=metadata("ConfigMap", name, namespace=env.namespace_name, labels=labels,
                                                 annotations={COMPARE_OPTIONS: IGNORE_EXTRANEOUS}))

    def _unit_database(self, env: Environment, props: LangflowRuntimeProps,
                       unit: _Unit) -> tuple[DatabaseWiring | None, list[ContainerSpec]]:
        """The database wiring of one unit, and the init container that prepares it (PostgreSQL);
        none for an engine without state."""
        db = props.database
        if not unit.engine.stateful:
            return None, []
        if not isinstance(db, ExternalPostgres):
            return wire_database(db, storage_class=env.profile.storage_class), []
        assert db.host is not None and db.password is not None
        prefix, target = revision_database(db.database, unit.key, props.image.reference, unit.flows)
        settings = {"PGHOST": db.host, "PGPORT": str(db.port), "PGUSER": db.user, "PGDATABASE": db.database,
                    "PGSSLMODE": db.sslmode or "prefer", "PGCONNECT_TIMEOUT": "30", "TARGET_DATABASE": target,
                    "UNIT_PREFIX": prefix, "KEEP": str(REVISION_HISTORY)}
        init = ContainerSpec(name="prepare-database", image=props.image, ports={}, resources=FETCH_RESOURCES,
                             env=[*env_list(settings), db.password.env("PGPASSWORD")],
                             mounts=[{"name": "db-script", "mountPath": "/opt/langflow-db", "readOnly": True}],
                             command=["python", "/opt/langflow-db/prepare_database.py"])
        wiring = wire_database(replace(db, database=target), storage_class=env.profile.storage_class)
        script = {"name": "db-script", "configMap": {"name": self._script_names["db"]}}
        return replace(wiring, extra_volumes=[script]), [init]

    def _flow_volumes(self, env: Environment, props: LangflowRuntimeProps, unit: _Unit,
                      labels: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[ContainerSpec], str]:
        """Volumes, main-container mounts, init containers and the load path for the delivery mode."""
        delivery = props.delivery
        if isinstance(delivery, BakedDelivery):
            return [], [], [], delivery.path
        mount = {"name": "flows", "mountPath": FLOWS_PATH, "readOnly": True}
        if isinstance(delivery, ConfigMapDelivery):
            sources = []
            for flow in unit.flows:
                name = f"flow-{flow.endpoint_name}-{flow.content_hash}"
                self.flow_config_maps[flow.endpoint_name] = kplus.ConfigMap(
                    self, f"{flow.endpoint_name}-flow", immutable=True,
                    metadata=metadata("ConfigMap", name, namespace=env.namespace_name,
                                      labels={**labels, "langflow.org/flow-id": flow.id},
                                      annotations={COMPARE_OPTIONS: IGNORE_EXTRANEOUS}),
                    data={flow.file_name: (flow.content or b"").decode()})
                sources.append({"configMap": {"name": name}})
            return [{"name": "flows", "projected": {"defaultMode": 0o444, "sources": sources}}], [mount], [], FLOWS_PATH
        fetch_script = self._script_names["fetch"]
        fetch_mounts: list[dict[str, Any]] = [{"name": "flows", "mountPath": FLOWS_PATH},
                                              {"name": "fetch", "mountPath": "/opt/fetch", "readOnly": True}]
        fetch_env = [{"name": "FLOWS_DIR", "value": FLOWS_PATH},
                     {"name": "FLOWS", "value": json.dumps([{"id": f.id, "url": f.url, "endpoint_name": f.endpoint_name}
                                                            for f in unit.flows], separators=(",", ":"))}]
        volumes = [empty_dir("flows", "256Mi"), {"name": "fetch", "configMap": {"name": fetch_script}}]
        if delivery.auth_header is not None:
            fetch_mounts.append({"name": "auth", "mountPath": "/etc/flow-auth", "readOnly": True})
            fetch_env.append({"name": "AUTH_HEADER_FILE", "value": f"/etc/flow-auth/{delivery.auth_header.key}"})
            header = delivery.auth_header
            volumes.append({"name": "auth", "secret": {"secretName": header.name, "defaultMode": 0o400,
                                                       "items": [{"key": header.key, "path": header.key}]}})
        init = ContainerSpec(name="fetch-flows", image=props.image, ports={}, env=fetch_env,
                             resources=FETCH_RESOURCES, mounts=fetch_mounts, command=["python", "/opt/fetch/fetch_flows.py"])
        return volumes, [mount], [init], FLOWS_PATH

    def _unit(self, env: Environment, props: LangflowRuntimeProps, unit: _Unit, db: DatabaseWiring | None,
              db_init: list[ContainerSpec]) -> None:
        engine = unit.engine
        labels = standard_labels(instance=unit.name, component="runtime", version=props.image.tag)
        flow_volumes, flow_mounts, inits, load_path = self._flow_volumes(env, props, unit, labels)
        inits = [*db_init, *inits]
        options = props.pod
        settings: dict[str, str] = dict(telemetry_env(props.metrics, unit.name))
        secrets = dict(props.secret_env)
        if engine.stateful:
            service_url = f"http://{unit.name}.{env.namespace_name}.svc.cluster.local:{PORT}"
            posture_settings, posture_secrets = props.posture.env(origins=origins(props.exposure, [service_url], env.profile),
                                                                  behind_proxy=props.exposure is not None)
            settings.update(posture_settings)
            secrets = merge_secrets("secret_env", props.secret_env, posture_secrets)
        main, volumes = server(engine, ServerInputs(
            image=props.image, resources=unit.resources, flows_path=load_path,
            mounts=[*flow_mounts, *options.volume_mounts], secrets=secrets, env={**options.env, **unit.env},
            env_from=options.env_from, auth=props.auth, metrics=props.metrics, database=db, settings=settings,
            redis=props.redis))
        scraped = engine.scraped(props.metrics)
        ingress_peers = [props.exposure.entry(env.profile, (PORT,))] if props.exposure else []
        monitoring = scrapers(env, props.metrics) if scraped else [  # health checks, on the one port there is
            NetworkPeer.namespace(env.monitoring_namespace, [PORT], "monitoring")] if env.monitoring_namespace else []
        egress = ([*backend_egress(env, db, props.redis), *props.posture.egress()] if db else list(env.external_apis)) + \
            list(telemetry_egress(props.metrics))
        self.workloads[unit.key] = ServiceWorkload(self, unit.key, env, Workload(
            name=unit.name, instance=unit.name, component="runtime", version=props.image.tag,
            replicas=unit.replicas, autoscaling=unit.autoscaling, spread=True,
            pod=PodSpec(containers=[main], init_containers=inits,
                        volumes=[*volumes, *flow_volumes], options=options,
                        termination_grace_period_seconds=props.termination_grace_period_seconds),
            pod_annotations={**(scrape_annotations(env, props.metrics) if scraped else {}), **options.annotations},
            pod_labels=options.labels,
            ports=[ServicePort(name="http", port=PORT)], service_type=props.service_type,
            traffic=Traffic(ingress=[*ingress_peers, *monitoring], egress=egress),
        ))
        if scraped:  # an engine without a metrics port (lfx) gets no monitor that would select nothing
            attach_monitor(env, self.workloads[unit.key], props.metrics)

