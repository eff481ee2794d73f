"""LangflowIDE: what the official langflow-ide chart does, without what its users report as broken."""

import pytest
from support import all_of, env_of, environment, find, main_container, pod

from langflow_cdk8s import (
    Auth,
    ConfigError,
    Database,
    Frontend,
    Image,
    IngressOptions,
    LangflowIDE,
    LangflowIDEProps,
    Metrics,
    ObjectStorage,
    PodOptions,
    RedisCache,
    Resources,
    SecretKey,
    ServiceType,
    Stage,
)

STORAGE = ObjectStorage(bucket="langflow-uploads", credentials="langflow-s3")


def ide(**props):
    env = environment(Stage.DEVELOPMENT)
    LangflowIDE(env, "ide", LangflowIDEProps(**props))
    return env


def test_backend_serves_ui_and_api_on_7860_with_writable_paths_under_a_read_only_root() -> None:
    env = ide()
    backend = find(env, "StatefulSet", "langflow-ide-backend")
    container = main_container(backend)
    variables = env_of(container)
    assert container["image"] == "langflowai/langflow:1.13.0"
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 7860, "metrics": 9090}
    assert variables["LANGFLOW_BACKEND_ONLY"] == "false"  # the UI from the langflow package, no second image
    assert not any("frontend" in o["metadata"]["name"] for o in env.objects)
    assert variables["LANGFLOW_HOST"] == "0.0.0.0"
    assert variables["LANGFLOW_CONFIG_DIR"] == "/app/langflow"
    assert variables["LANGFLOW_ALEMBIC_LOG_FILE"].startswith("/app/langflow/")
    assert variables["LANGFLOW_UPDATE_STARTER_PROJECTS"] == "false"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/app/data", "/app/langflow"} <= mounts


def test_probes_start_slowly_check_the_database_for_readiness_and_only_the_process_for_liveness() -> None:
    container = main_container(find(ide(), "StatefulSet"))
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    assert container["startupProbe"]["failureThreshold"] * container["startupProbe"]["periodSeconds"] >= 300
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_sqlite_lives_on_a_claim_with_one_pod_that_never_overlaps() -> None:
    env = ide(database=Database.sqlite(size="20Gi", storage_class="fast"))
    backend = find(env, "StatefulSet")
    assert backend["spec"]["replicas"] == 1
    claim = backend["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "fast"
    assert env_of(main_container(backend))["LANGFLOW_DATABASE_URL"] == "sqlite:////app/langflow/langflow.db"
    assert not all_of(env, "PodDisruptionBudget") or all(
        p["metadata"]["name"] != "langflow-ide-backend" for p in all_of(env, "PodDisruptionBudget"))


def test_sqlite_with_two_replicas_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"replicas: 2 with SQLite"):
        LangflowIDEProps(replicas=2)


def test_external_postgres_url_is_assembled_from_a_secret_without_writing_the_password() -> None:
    env = ide(replicas=3, object_storage=STORAGE, database=Database.external_postgres(
        host="db.example.com", password=SecretKey(name="db", key="password"), sslmode="verify-full"))
    backend = find(env, "Deployment", "langflow-ide-backend")
    variables = env_of(main_container(backend))
    assert variables["LANGFLOW_DATABASE_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert variables["LANGFLOW_DATABASE_URL"] == (
        "postgresql://langflow:$(LANGFLOW_DATABASE_PASSWORD)@db.example.com:5432/langflow?sslmode=verify-full")
    assert variables["LANGFLOW_EVENT_DELIVERY"] == "direct"
    assert backend["spec"]["replicas"] == 3
    assert find(env, "PodDisruptionBudget", "langflow-ide-backend")["spec"]["maxUnavailable"] == 1
    policy = find(env, "NetworkPolicy", "langflow-ide-backend")
    assert any(rule["ports"] == [{"protocol": "TCP", "port": 5432}] for rule in policy["spec"]["egress"])


def test_external_postgres_whole_url_from_a_secret_key() -> None:
    env = ide(database=Database.external_postgres_url(SecretKey(name="db", key="url"), sslmode="require"))
    variables = env_of(main_container(find(env, "Deployment", "langflow-ide-backend")))
    assert variables["LANGFLOW_DATABASE_URL_FROM_SECRET"] == {"secretKeyRef": {"name": "db", "key": "url"}}
    assert variables["LANGFLOW_DATABASE_URL"] == "$(LANGFLOW_DATABASE_URL_FROM_SECRET)?sslmode=require"


def test_in_cluster_postgres_is_a_hardened_statefulset_only_the_backend_reaches() -> None:
    env = ide(database=Database.in_cluster_postgres(credentials="pg"))
    postgres = find(env, "StatefulSet", "langflow-ide-postgres")
    container = main_container(postgres)
    assert container["image"].startswith("postgres:16")
    assert env_of(container)["POSTGRES_PASSWORD_FILE"] == "/etc/postgres-credentials/password"
    assert pod(postgres)["volumes"][-1]["secret"]["secretName"] == "pg"
    assert postgres["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    backend_url = env_of(main_container(find(env, "Deployment", "langflow-ide-backend")))["LANGFLOW_DATABASE_URL"]
    assert backend_url == "postgresql://langflow:$(LANGFLOW_DATABASE_PASSWORD)@langflow-ide-postgres:5432/langflow"
    policy = find(env, "NetworkPolicy", "langflow-ide-postgres")
    assert policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "backend"
    assert "egress" not in policy["spec"] and "Egress" in policy["spec"]["policyTypes"]  # denied, nothing allowed


def test_credentials_come_from_secrets_by_reference() -> None:
    variables = env_of(main_container(find(ide(auth=Auth.from_secret("ide-auth")), "StatefulSet")))
    assert variables["LANGFLOW_AUTO_LOGIN"] == "false"
    assert variables["LANGFLOW_NEW_USER_IS_ACTIVE"] == "false"
    for name, key in (("LANGFLOW_SUPERUSER", "superuser"), ("LANGFLOW_SUPERUSER_PASSWORD", "superuser-password"),
                      ("LANGFLOW_SECRET_KEY", "secret-key")):
        assert variables[name] == {"secretKeyRef": {"name": "ide-auth", "key": key}}


def test_split_frontend_is_nginx_on_8080_pointing_at_a_backend_only_backend() -> None:
    env = ide(frontend=Frontend.nginx())
    assert env_of(main_container(find(env, "StatefulSet")))["LANGFLOW_BACKEND_ONLY"] == "true"
    backend_from = find(env, "NetworkPolicy", "langflow-ide-backend")["spec"]["ingress"][0]["from"][0]
    assert backend_from["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "frontend"
    frontend = find(env, "Deployment", "langflow-ide-frontend")
    container = main_container(frontend)
    assert container["image"] == "langflowai/langflow-frontend:1.13.0"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    variables = env_of(container)
    assert variables["BACKEND_URL"] == "http://langflow-ide-backend.ns-test.svc.cluster.local:7860"
    assert variables["FRONTEND_PORT"] == "8080"
    assert {"/tmp", "/var/cache/nginx", "/nginx-access-log"} <= {m["mountPath"] for m in container["volumeMounts"]}
    assert frontend["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    service = find(env, "Service", "langflow-ide-frontend")
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}]
    assert service["spec"]["selector"] == frontend["spec"]["selector"]["matchLabels"]
    assert frontend["spec"]["replicas"] == 2


def test_split_frontend_options_reach_its_deployment() -> None:
    env = ide(frontend=Frontend.nginx(image=Image.langflow_frontend("1.12.0"), replicas=3,
                                      resources=Resources(cpu="100m", memory="128Mi"),
                                      pod=PodOptions(labels={"team": "ui"})))
    frontend = find(env, "Deployment", "langflow-ide-frontend")
    assert frontend["spec"]["replicas"] == 3
    assert main_container(frontend)["image"] == "langflowai/langflow-frontend:1.12.0"
    assert main_container(frontend)["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    assert frontend["spec"]["template"]["metadata"]["labels"]["team"] == "ui"
    assert "team" not in find(env, "StatefulSet")["spec"]["template"]["metadata"]["labels"]


def test_frontend_that_is_not_a_choice_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"frontend: 'nginx' is not a frontend choice"):
        LangflowIDEProps(frontend="nginx")
    with pytest.raises(ConfigError, match=r"frontend.replicas: 0 is below the minimum of 1"):
        Frontend.nginx(replicas=0)


def test_load_balancer_fronts_the_service_that_serves_the_ui() -> None:
    bundled = ide(service_type=ServiceType.LOAD_BALANCER)
    assert find(bundled, "Service", "langflow-ide-backend")["spec"]["type"] == "LoadBalancer"
    split = ide(service_type=ServiceType.LOAD_BALANCER, frontend=Frontend.nginx())
    assert find(split, "Service", "langflow-ide-frontend")["spec"]["type"] == "LoadBalancer"
    assert find(split, "Service", "langflow-ide-backend")["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_a_service_type_given_as_a_string_names_the_enum_member_to_use() -> None:
    with pytest.raises(ConfigError) as raised:
        LangflowIDEProps(service_type="LoadBalancer")  # type: ignore[arg-type]
    assert str(raised.value) == "service_type: 'LoadBalancer' is not a ServiceType\n  fix: use ServiceType.LOAD_BALANCER"


def test_requests_cover_measured_use() -> None:
    env = ide()
    # The backend holds ~1.0-1.1 GiB at rest: a 1Gi request made it the first pod evicted under node pressure.
    assert main_container(find(env, "StatefulSet"))["resources"] == {
        "requests": {"cpu": "500m", "memory": "1280Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}}  # canonical, as the API server stores it
    split = ide(frontend=Frontend.nginx())
    assert main_container(find(split, "Deployment"))["resources"]["requests"] == {"cpu": "300m", "memory": "512Mi"}


def routes(env) -> dict[str, tuple[str, str, int]]:
    ingress = find(env, "Ingress", "langflow-ide")
    return {p["path"]: (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
            for p in ingress["spec"]["rules"][0]["http"]["paths"]}


def test_ingress_routes_ui_and_api_to_the_one_backend_service() -> None:
    env = ide(exposure=IngressOptions(host="lf.example.com", tls_secret="lf-tls"))
    backend = ("Prefix", "langflow-ide-backend", 7860)
    assert routes(env) == {"/api": backend, "/": backend}
    assert env_of(main_container(find(env, "StatefulSet")))["LANGFLOW_CORS_ORIGINS"] == "https://lf.example.com"
    peers = find(env, "NetworkPolicy", "langflow-ide-backend")["spec"]["ingress"][0]
    assert peers["ports"] == [{"protocol": "TCP", "port": 7860}] and "namespaceSelector" in peers["from"][0]


def test_ingress_routes_ui_to_nginx_and_api_to_the_backend_with_class_and_tls() -> None:
    env = ide(exposure=IngressOptions(host="lf.example.com", tls_secret="lf-tls", annotations={"a": "b"}),
              frontend=Frontend.nginx())
    ingress = find(env, "Ingress", "langflow-ide")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["lf.example.com"], "secretName": "lf-tls"}]
    assert routes(env) == {"/api": ("Prefix", "langflow-ide-backend", 7860),
                           "/": ("Prefix", "langflow-ide-frontend", 8080)}
    assert ingress["metadata"]["annotations"] == {"a": "b", "argocd.argoproj.io/sync-wave": "2"}


def test_no_ingress_means_no_ingress_and_no_controller_access() -> None:
    env = ide()
    assert not all_of(env, "Ingress")
    policy = find(env, "NetworkPolicy", "langflow-ide-backend")["spec"]
    assert "ingress" not in policy and "Ingress" in policy["policyTypes"]  # denied, nothing allowed
    policy = find(ide(frontend=Frontend.nginx()), "NetworkPolicy", "langflow-ide-frontend")["spec"]
    assert "ingress" not in policy and "Ingress" in policy["policyTypes"]  # denied, nothing allowed


def test_ingress_without_tls_is_reported() -> None:
    env = ide(exposure=IngressOptions(host="lf.example.com"))
    assert any("without TLS" in w for w in env.warnings)


def test_metrics_port_and_scrape_annotations() -> None:
    env = environment(Stage.DEVELOPMENT, monitoring_namespace="monitoring")
    LangflowIDE(env, "ide", LangflowIDEProps(metrics=Metrics(port=9100)))
    backend = find(env, "StatefulSet")
    variables = env_of(main_container(backend))
    assert variables["LANGFLOW_PROMETHEUS_ENABLED"] == "true" and variables["LANGFLOW_PROMETHEUS_PORT"] == "9100"
    assert backend["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == "9100"
    # Without a monitoring namespace, default-deny blocks every scraper: nothing is announced.
    unscraped = find(ide(metrics=Metrics(port=9100)), "StatefulSet")
    assert "annotations" not in unscraped["spec"]["template"]["metadata"]
    off = find(ide(metrics=Metrics(enabled=False)), "StatefulSet")
    assert "annotations" not in off["spec"]["template"]["metadata"]
    assert [p["name"] for p in main_container(off)["ports"]] == ["http"]


def test_metrics_are_scraped_only_from_the_monitoring_namespace() -> None:
    env = environment(Stage.DEVELOPMENT, monitoring_namespace="monitoring")
    LangflowIDE(env, "ide", LangflowIDEProps())
    rules = find(env, "NetworkPolicy", "langflow-ide-backend")["spec"]["ingress"]
    scrape = [r for r in rules if r["ports"] == [{"protocol": "TCP", "port": 9090}]]
    assert scrape[0]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                                  "podSelector": {}}]


def test_redis_cache_for_several_replicas() -> None:
    redis = RedisCache(url=SecretKey(name="redis", key="url"), signing_key=SecretKey(name="redis", key="signing-key"))
    env = ide(replicas=2, database=Database.in_cluster_postgres(), redis=redis, object_storage=STORAGE)
    variables = env_of(main_container(find(env, "Deployment", "langflow-ide-backend")))
    assert variables["LANGFLOW_CACHE_TYPE"] == "redis"
    assert variables["LANGFLOW_REDIS_URL"] == {"secretKeyRef": {"name": "redis", "key": "url"}}
    assert variables["LANGFLOW_CACHE_SIGNING_KEY"] == {"secretKeyRef": {"name": "redis", "key": "signing-key"}}


def test_image_digest_is_pinned_when_given() -> None:
    digest = "sha256:" + "a" * 64
    env = ide(image=Image.langflow(digest=digest))
    backend = find(env, "StatefulSet")
    assert main_container(backend)["image"] == f"langflowai/langflow:1.13.0@{digest}"
    assert backend["metadata"]["labels"]["app.kubernetes.io/version"] == "1.13.0"


def test_escape_hatches_reach_the_pod() -> None:
    init = {"name": "init", "image": "envoyproxy/envoy:v1.31.2",
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}}
    sidecar = {**init, "name": "proxy", "probes": {"exec": {"command": ["true"]}}}
    options = PodOptions(node_selector={"pool": "ai"}, tolerations=[{"key": "gpu", "operator": "Exists"}],
                         affinity={"nodeAffinity": {}}, annotations={"team": "ml"}, labels={"cost-center": "42"},
                         env={"LANGFLOW_LOG_LEVEL": "debug"}, env_from=[{"secretRef": {"name": "extra"}}],
                         volumes=[{"name": "certs", "configMap": {"name": "ca"}}],
                         volume_mounts=[{"name": "certs", "mountPath": "/certs"}],
                         init_containers=[init], sidecars=[sidecar], image_pull_secrets=["regcred"],
                         priority_class_name="high")
    backend = find(ide(backend_pod=options), "StatefulSet")
    spec = pod(backend)
    assert spec["nodeSelector"] == {"pool": "ai"}
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    assert spec["affinity"] == {"nodeAffinity": {}}
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["priorityClassName"] == "high"
    assert [c["name"] for c in spec["containers"]] == ["langflow", "proxy"]
    assert spec["initContainers"][0]["name"] == "init"
    for extra in (spec["containers"][1], spec["initContainers"][0]):
        assert extra["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert backend["spec"]["template"]["metadata"]["annotations"]["team"] == "ml"
    assert backend["spec"]["template"]["metadata"]["labels"]["cost-center"] == "42"
    assert "cost-center" not in backend["spec"]["selector"]["matchLabels"]
    container = spec["containers"][0]
    assert env_of(container)["LANGFLOW_LOG_LEVEL"] == "debug"
    assert container["envFrom"] == [{"secretRef": {"name": "extra"}}]
    assert {"name": "certs", "mountPath": "/certs"} in container["volumeMounts"]


def test_sidecar_without_resources_is_refused() -> None:
    with pytest.raises(ConfigError, match="sidecars"):
        PodOptions(sidecars=[{"name": "x", "image": "busybox:1.36"}])


def test_extra_env_cannot_silently_override_a_managed_setting() -> None:
    with pytest.raises(ConfigError, match="LANGFLOW_DATABASE_URL set twice"):
        ide(backend_pod=PodOptions(env={"LANGFLOW_DATABASE_URL": "sqlite:////tmp/x.db"}))


def test_invalid_props_name_the_prop_and_the_value() -> None:
    with pytest.raises(ConfigError, match=r"resources.cpu: 'lots' is not a Kubernetes quantity"):
        Resources(cpu="lots", memory="1Gi")
    with pytest.raises(ConfigError, match=r"resources.memory_limit: '1Gi' is below the request '2Gi'"):
        Resources(cpu="1", memory="2Gi", memory_limit="1Gi")
    with pytest.raises(ConfigError, match=r"name: 'Not_DNS' is not a DNS-1123 label"):
        LangflowIDEProps(name="Not_DNS")


def test_invalid_host_and_empty_image_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"ingress.host: 'not a host'"):
        IngressOptions(host="not a host")
    with pytest.raises(ConfigError, match="image.repository"):
        Image(repository="", tag="1.13.0")
    with pytest.raises(ConfigError, match="'latest' is not a pinned version"):
        Image.langflow("latest")
