"""The validation gates, as plain functions over manifests so the tests can run each one on the
committed dist/ and on deliberately broken copies alike.

Every gate returns a list of readable errors, each starting with the file it is about; an empty
list means the gate passes. A tree is folders of `*.yaml` files, one folder per environment
(`dist/<env>/Kind.name.k8s.yaml`), which is what "the same environment" means below.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions

ROOT = Path(__file__).resolve().parent.parent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster on dist/
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"

# --------------------------------------------------------------------------------------------
# Manifests


@dataclass(frozen=True)
class Manifest:
    """One object and the file it came from, relative to the tree's root (`prod/Service.x.k8s.yaml`)."""

    path: str
    obj: dict[str, Any]

    @property
    def env(self) -> str:
        """The environment folder: objects only refer to objects of their own environment."""
        return self.path.split("/", 1)[0] if "/" in self.path else ""

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", ""))


def load_tree(root: Path) -> list[Manifest]:
    """Every object of every `*.yaml` file under `root`, in path order."""
    manifests = []
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root).as_posix()
        for document in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER):
            if document is not None:
                manifests.append(Manifest(relative, document))
    return manifests


def write_tree(root: Path, manifests: Iterable[Manifest]) -> Path:
    """Writes each manifest to `root/<path>` (one object per file), for gates that read files."""
    for manifest in manifests:
        target = root / manifest.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.dump(manifest.obj, Dumper=_DUMPER, sort_keys=False), encoding="utf-8")
    return root


# --------------------------------------------------------------------------------------------
# Schema gate

CRD_GROUPS = frozenset({"argoproj.io", "external-secrets.io", "monitoring.coreos.com"})
"""API groups of custom resources: no OpenAPI schema is bundled for them, so the schema gate skips
them rather than failing. Their typed bindings (imports/) check them as they are built, and
`crd_schema_errors` validates the output against the CRDs' own schema, unknown fields refused
(the CRDs the bindings were generated from are committed in imports/crds/, so that runs everywhere)."""

CRDS = ROOT / "imports" / "crds"


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown fields refused, as `kubectl apply` (strict field validation) refuses them;
    the API server would otherwise prune a misspelt field without a word."""
    out = dict(schema)
    if "properties" in schema:
        out["properties"] = {name: _strict(sub) for name, sub in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            out[key] = _strict(schema[key])
    return out


@functools.cache
def _crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator | None]:
    """(apiVersion, kind) -> a validator of that version's strict schema (None: the version is not
    served), for every CRD committed in imports/crds/."""
    schemas: dict[tuple[str, str], jsonschema.Draft7Validator | None] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schemas[(f"{group}/{version['name']}", kind)] = (jsonschema.Draft7Validator(
                _strict(version["schema"]["openAPIV3Schema"])) if version.get("served") else None)
    return schemas


def crd_schema_errors(manifests: Iterable[Manifest]) -> list[str]:
    """Every object whose API group has a CRD in imports/crds/, validated strictly (unknown fields
    refused) against the schema of its apiVersion's version; a version the CRD does not have or does
    not serve, or a kind of such a group without a CRD, is an error too."""
    schemas = _crd_validators()
    groups = {api_group(api_version) for api_version, _ in schemas}
    errors = []
    for m in manifests:
        api_version, kind = m.obj.get("apiVersion"), m.obj.get("kind")
        if not isinstance(api_version, str) or api_group(api_version) not in groups:
            continue
        if (api_version, kind) not in schemas:
            errors.append(f"{m.path}: no CRD in imports/crds/ defines {kind} in {api_version}")
            continue
        validator = schemas[(api_version, kind)]
        if validator is None:
            errors.append(f"{m.path}: {kind} {api_version} is not served by its CRD (the API server refuses it)")
            continue
        errors += [f"{m.path}: {error.json_path}: {error.message}"
                   for error in validator.iter_errors(m.obj)]
    return errors

OLDEST_VERSION = "1.27.0"
"""The oldest Kubernetes the manifests must still apply to."""


def newest_version() -> str:
    """The newest Kubernetes whose schemas kubernetes-validate bundles (e.g. '1.37.0')."""
    return all_versions()[-1]


def api_group(api_version: str) -> str:
    """'apps/v1' -> 'apps'; 'v1' (the core group) -> ''."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def schema_errors(manifests: Iterable[Manifest], version: str) -> list[str]:
    """Strict validation (unknown fields are errors) against Kubernetes `version`'s OpenAPI schemas.

    A kind without a schema is an error (kubernetes-validate only warns): it is a removed API
    version or a typo, unless its group is a known CRD group (CRD_GROUPS), which is skipped.
    """
    errors = []
    for m in manifests:
        api_version, kind = m.obj.get("apiVersion"), m.obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            errors.append(f"{m.path}: no apiVersion or kind")
            continue
        if api_group(api_version) in CRD_GROUPS:
            continue
        try:
            kubernetes_validate.validate(m.obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top level)"
            errors.append(f"{m.path}: {where}: {error.message} (Kubernetes {error.version}, strict)")
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"{m.path}: Kubernetes {version} has no {kind} in {api_version} "
                          "(a removed API version, a typo, or a CRD group missing from CRD_GROUPS)")
    return errors


# --------------------------------------------------------------------------------------------
# Policy gate (checkov)


@dataclass(frozen=True)
class CheckResult:
    """One check on one resource, as checkov reports it."""

    check_id: str
    check_name: str
    path: str
    resource: str
    comment: str = ""


@dataclass(frozen=True)
class CheckovReport:
    """The parts of checkov's JSON report the gate reads; paths are relative to the scanned folder."""

    passed: list[CheckResult]
    failed: list[CheckResult]
    skipped: list[CheckResult]
    parsing_errors: list[str]
    resource_count: int

    def failed_ids(self, path: str) -> set[str]:
        return {r.check_id for r in self.failed if r.path == path}


def start_checkov(directory: Path) -> Callable[[], CheckovReport]:
    """Starts checkov's Kubernetes checks over every file under `directory`, offline (~3 s a run),
    and returns what waits for its report: two runs started together overlap on two cores."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: run `make test`, which installs it from requirements-checkov.lock")
    command = [str(CHECKOV), "-d", ".", "--framework", "kubernetes", "--skip-download", "--compact", "-o", "json"]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "LOG_LEVEL": "ERROR"})

    def report() -> CheckovReport:
        stdout, stderr = process.communicate(timeout=300)
        if process.returncode not in (0, 1):  # 1 means "some check failed"; anything else is checkov failing
            raise RuntimeError(f"checkov exited with {process.returncode}:\n{stderr[-2000:]}")
        return parse_checkov(json.loads(stdout))

    return report


def parse_checkov(report: Any) -> CheckovReport:
    """checkov's JSON output: one report, or a list of them (one per framework)."""
    reports = report if isinstance(report, list) else [report]
    passed: list[CheckResult] = []
    failed: list[CheckResult] = []
    skipped: list[CheckResult] = []
    parsing_errors: list[str] = []
    resources = 0
    for part in reports:
        resources += part.get("summary", {}).get("resource_count", 0)
        results = part.get("results", {})  # an empty folder yields a bare summary
        for bucket, raw in ((passed, results.get("passed_checks", [])), (failed, results.get("failed_checks", [])),
                            (skipped, results.get("skipped_checks", []))):
            bucket += [CheckResult(check_id=r["check_id"], check_name=r.get("check_name") or "",
                                   path=r["file_path"].lstrip("/"), resource=r.get("resource") or "",
                                   comment=(r.get("check_result") or {}).get("suppress_comment") or "")
                       for r in raw]
        parsing_errors += [str(p).lstrip("/") for p in results.get("parsing_errors", [])]
    return CheckovReport(passed=passed, failed=failed, skipped=skipped, parsing_errors=parsing_errors,
                         resource_count=resources)


def policy_errors(report: CheckovReport) -> list[str]:
    """Zero failed checks, every file parsed, and something was scanned at all."""
    errors = [f"{r.path}: {r.check_id} {r.check_name} ({r.resource})" for r in report.failed]
    errors += [f"{path}: checkov could not parse it" for path in report.parsing_errors]
    if report.resource_count == 0:
        errors.append("checkov found no Kubernetes resources to check")
    return errors


SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip[1-9][0-9]*$")


def skip_annotation_errors(manifests: Iterable[Manifest], allowed: Mapping[str, str]) -> list[str]:
    """Every `checkov.io/*` annotation is a `checkov.io/skipN: ID=reason` whose ID is in `allowed`
    with exactly its reason, at most once per object: a new skip must change `allowed` first."""
    errors = []
    for m in manifests:
        seen: set[str] = set()
        for key, value in sorted((m.obj.get("metadata", {}).get("annotations") or {}).items()):
            if not key.startswith("checkov.io/"):
                continue
            if not SKIP_ANNOTATION.match(key):
                errors.append(f"{m.path}: annotation {key!r} is not checkov.io/skipN")
                continue
            check_id, sep, reason = str(value).partition("=")
            if not sep:
                errors.append(f"{m.path}: {key}: {value!r} is not ID=reason")
            elif check_id not in allowed:
                errors.append(f"{m.path}: {key} skips {check_id}, which is not an allowed skip")
            elif reason != allowed[check_id]:
                errors.append(f"{m.path}: {key} skips {check_id} with {reason!r}, not the reviewed reason "
                              f"{allowed[check_id]!r}")
            if check_id in seen:
                errors.append(f"{m.path}: {check_id} is skipped twice")
            seen.add(check_id)
    return errors


def strip_skips(manifests: Iterable[Manifest]) -> list[Manifest]:
    """The same objects without checkov's skip annotations, to show each skip is still needed."""
    stripped = []
    for m in manifests:
        obj = json.loads(json.dumps(m.obj))
        annotations = obj.get("metadata", {}).get("annotations") or {}
        for key in [k for k in annotations if k.startswith("checkov.io/")]:
            del annotations[key]
        if "annotations" in obj.get("metadata", {}) and not annotations:
            del obj["metadata"]["annotations"]
        stripped.append(Manifest(m.path, obj))
    return stripped


# --------------------------------------------------------------------------------------------
# Semantic gate: what schemas cannot see

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PORT_NAME = re.compile(r"^(?=.*[a-z])(?!.*--)[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # IANA_SVC_NAME, at most 15
QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$")
_UNITS = {"Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
          "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60, "n": Decimal("1e-9"), "u": Decimal("1e-6"),
          "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"),
          "T": Decimal("1e12"), "P": Decimal("1e15"), "E": Decimal("1e18")}
IMAGE = re.compile(r"^(?P<name>[^@\s]+?)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
                   r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")


def parse_quantity(value: object) -> Decimal | None:
    """A Kubernetes quantity in base units, or None when it does not parse."""
    match = QUANTITY.match(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if not match:
        return None
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    return number * (_UNITS[suffix] if suffix in _UNITS else Decimal(10) ** int(suffix[1:]))


@dataclass(frozen=True)
class PodTemplate:
    """A workload's pod template, with where it came from."""

    manifest: Manifest
    labels: Mapping[str, str]
    spec: Mapping[str, Any]

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        return [*self.spec.get("initContainers", []), *self.spec.get("containers", [])]

    @property
    def port_names(self) -> set[str]:
        return {p["name"] for c in self.spec.get("containers", []) for p in c.get("ports", []) if "name" in p}

    @property
    def port_numbers(self) -> set[int]:
        return {p["containerPort"] for c in self.spec.get("containers", []) for p in c.get("ports", [])}


def pod_template(m: Manifest) -> PodTemplate | None:
    if m.kind not in WORKLOAD_KINDS:
        return None
    spec = m.obj.get("spec", {})
    if m.kind == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template", {})
    return PodTemplate(m, template.get("metadata", {}).get("labels") or {}, template.get("spec", {}))


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set. An empty or missing
    selector matches nothing here: a selector that selects everything is never what was meant."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


@dataclass
class _Env:
    """The objects of one environment, indexed the way references look them up."""

    manifests: list[Manifest]
    by_kind: dict[str, dict[str, Manifest]] = field(default_factory=dict)
    pods: list[PodTemplate] = field(default_factory=list)

    def __post_init__(self) -> None:
        for m in self.manifests:
            self.by_kind.setdefault(m.kind, {})[m.name] = m
            template = pod_template(m)
            if template is not None:
                self.pods.append(template)

    def named(self, kind: str, name: str) -> Manifest | None:
        return self.by_kind.get(kind, {}).get(name)

    def selected(self, selector: Mapping[str, Any] | None) -> list[PodTemplate]:
        return [p for p in self.pods if selector_matches(selector, p.labels)]


def _environments(manifests: Iterable[Manifest]) -> Iterator[_Env]:
    groups: dict[str, list[Manifest]] = {}
    for m in manifests:
        groups.setdefault(m.env, []).append(m)
    for env in sorted(groups):
        yield _Env(groups[env])


def check_names(env: _Env) -> list[str]:
    """Object, namespace, container and volume names are DNS-1123 labels of at most 63
    characters; port names are IANA service names of at most 15 (what a Service targets)."""
    errors = []

    def label(where: str, what: str, value: object) -> None:
        if not isinstance(value, str) or len(value) > 63 or not DNS_LABEL.match(value):
            errors.append(f"{where}: {what} {value!r} is not a DNS-1123 label of at most 63 characters")

    for m in env.manifests:
        label(m.path, "name", m.obj.get("metadata", {}).get("name"))
        if "namespace" in m.obj.get("metadata", {}):
            label(m.path, "namespace", m.obj["metadata"]["namespace"])
    for pod in env.pods:
        for c in pod.containers:
            label(pod.manifest.path, "container name", c.get("name"))
            for port in c.get("ports", []):
                if "name" in port and (len(port["name"]) > 15 or not PORT_NAME.match(port["name"])):
                    errors.append(f"{pod.manifest.path}: port name {port['name']!r} of container {c.get('name')!r} "
                                  "is not an IANA service name of at most 15 characters")
        for volume in pod.spec.get("volumes", []):
            label(pod.manifest.path, "volume name", volume.get("name"))
    return errors


def check_workload_selectors(env: _Env) -> list[str]:
    """A controller whose selector misses its own pod template is rejected or orphans its pods."""
    errors = []
    for pod in env.pods:
        spec = pod.manifest.obj.get("spec", {})
        if pod.manifest.kind == "CronJob":
            spec = spec.get("jobTemplate", {}).get("spec", {})
        selector = spec.get("selector")
        if pod.manifest.kind == "Job" and selector is None:
            continue  # the Job controller generates it
        if not selector_matches(selector, pod.labels):
            errors.append(f"{pod.manifest.path}: selector {json.dumps(selector, sort_keys=True)} does not match "
                          f"its pod template labels {json.dumps(dict(pod.labels), sort_keys=True)}")
    return errors


def _port_exposed(pods: Sequence[PodTemplate], target: object) -> bool:
    if isinstance(target, str) and not target.isdigit():
        return all(target in p.port_names for p in pods)
    return all(int(str(target)) in p.port_numbers for p in pods)


def check_services(env: _Env) -> list[str]:
    """Every Service selects the pods of some workload here, and each port targets a port every
    selected pod declares (by name or number): otherwise the Service has no endpoints."""
    errors = []
    for m in env.by_kind.get("Service", {}).values():
        spec = m.obj.get("spec", {})
        if spec.get("type") == "ExternalName":
            continue
        selector = spec.get("selector")
        pods = env.selected({"matchLabels": selector} if selector else None)
        if not pods:
            errors.append(f"{m.path}: selector {json.dumps(selector, sort_keys=True)} selects no pods of any workload "
                          f"in {m.env}/")
            continue
        for port in spec.get("ports", []):
            target = port.get("targetPort", port.get("port"))
            if not _port_exposed(pods, target):
                owners = ", ".join(p.manifest.path for p in pods)
                errors.append(f"{m.path}: port {port.get('name', port.get('port'))!r} targets {target!r}, "
                              f"which the selected pods ({owners}) do not expose")
    return errors


def check_ingresses(env: _Env) -> list[str]:
    """Every Ingress backend names a Service here and one of its ports."""
    errors = []
    for m in env.by_kind.get("Ingress", {}).values():
        spec = m.obj.get("spec", {})
        backends = [spec["defaultBackend"]] if "defaultBackend" in spec else []
        backends += [p["backend"] for rule in spec.get("rules", []) for p in rule.get("http", {}).get("paths", [])]
        for backend in backends:
            if "service" not in backend:
                continue
            name, port = backend["service"]["name"], backend["service"].get("port", {})
            service = env.named("Service", name)
            if service is None:
                errors.append(f"{m.path}: backend Service {name!r} does not exist in {m.env}/")
                continue
            ports = service.obj.get("spec", {}).get("ports", [])
            if ("name" in port and port["name"] not in {p.get("name") for p in ports}) or (
                    "number" in port and port["number"] not in {p.get("port") for p in ports}):
                errors.append(f"{m.path}: backend port {port} is not a port of Service {name!r}")
    return errors


def check_references(env: _Env, documented_secrets: Mapping[str, set[str]]) -> list[str]:
    """Every ConfigMap, Secret, PersistentVolumeClaim and ServiceAccount a pod uses exists here
    (keys included); a Secret may instead be a documented external one (`documented_secrets`,
    name -> keys, an empty set meaning the whole Secret), since secret values never enter dist/. Every volume mount names a volume or,
    in a StatefulSet, a volumeClaimTemplate; named probe ports are ports of their container."""
    errors = []

    def config_map(where: str, name: str, key: str | None) -> None:
        found = env.named("ConfigMap", name)
        if found is None:
            errors.append(f"{where}: ConfigMap {name!r} does not exist in {env.manifests[0].env}/")
        elif key is not None and key not in {**found.obj.get("data", {}), **found.obj.get("binaryData", {})}:
            errors.append(f"{where}: ConfigMap {name!r} has no key {key!r}")

    def secret(where: str, name: str, key: str | None) -> None:
        found = env.named("Secret", name)
        if found is not None:
            if key is not None and key not in {**found.obj.get("data", {}), **found.obj.get("stringData", {})}:
                errors.append(f"{where}: Secret {name!r} has no key {key!r}")
        elif name not in documented_secrets:
            errors.append(f"{where}: Secret {name!r} neither exists in {env.manifests[0].env}/ "
                          "nor is a documented external Secret (inventory.required_secrets)")
        elif key is not None and documented_secrets[name] and key not in documented_secrets[name]:
            errors.append(f"{where}: key {key!r} of Secret {name!r} is not documented "
                          f"(documented: {sorted(documented_secrets[name])})")

    for pod in env.pods:
        where = pod.manifest.path
        account = pod.spec.get("serviceAccountName")
        if account and account != "default" and env.named("ServiceAccount", account) is None:
            errors.append(f"{where}: ServiceAccount {account!r} does not exist in {pod.manifest.env}/")
        for pull in pod.spec.get("imagePullSecrets", []):
            secret(where, pull["name"], None)
        volumes = {v.get("name"): v for v in pod.spec.get("volumes", [])}
        for volume in volumes.values():
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                if env.named("PersistentVolumeClaim", claim) is None:
                    errors.append(f"{where}: PersistentVolumeClaim {claim!r} does not exist in {pod.manifest.env}/")
            # A plain volume and each source of a projected one reference ConfigMaps and Secrets alike
            # (a volume names its Secret `secretName`, a projected source `name`).
            for source in [volume, *volume.get("projected", {}).get("sources", [])]:
                if "configMap" in source:
                    for item in source["configMap"].get("items", []) or [None]:
                        config_map(where, source["configMap"]["name"], item and item["key"])
                if "secret" in source:
                    name = source["secret"].get("secretName") or source["secret"]["name"]
                    for item in source["secret"].get("items", []) or [None]:
                        secret(where, name, item and item["key"])
        claims = set()
        if pod.manifest.kind == "StatefulSet":
            claims = {t.get("metadata", {}).get("name") for t in pod.manifest.obj["spec"].get("volumeClaimTemplates", [])}
        for c in pod.containers:
            for entry in c.get("env", []):
                source = entry.get("valueFrom", {})
                if "configMapKeyRef" in source:
                    config_map(where, source["configMapKeyRef"]["name"], source["configMapKeyRef"]["key"])
                if "secretKeyRef" in source:
                    secret(where, source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
            for entry in c.get("envFrom", []):
                if "configMapRef" in entry:
                    config_map(where, entry["configMapRef"]["name"], None)
                if "secretRef" in entry:
                    secret(where, entry["secretRef"]["name"], None)
            for mount in c.get("volumeMounts", []):
                if mount["name"] not in volumes and mount["name"] not in claims:
                    errors.append(f"{where}: container {c.get('name')!r} mounts {mount['name']!r}, "
                                  "which is neither a volume nor a volumeClaimTemplate")
            own_ports = {p.get("name") for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                handler = c.get(probe, {})
                port = (handler.get("httpGet") or handler.get("tcpSocket") or {}).get("port")
                if isinstance(port, str) and not port.isdigit() and port not in own_ports:
                    errors.append(f"{where}: {probe} of container {c.get('name')!r} targets port {port!r}, "
                                  "which the container does not declare")
        if pod.manifest.kind == "StatefulSet":
            service = pod.manifest.obj["spec"].get("serviceName")
            governing = env.named("Service", service) if service else None
            if service and governing is None:
                errors.append(f"{where}: serviceName {service!r} is not a Service in {pod.manifest.env}/")
            elif governing is not None and governing.obj["spec"].get("clusterIP") != "None":
                errors.append(f"{where}: serviceName {service!r} is not headless (clusterIP: None), so pods get no DNS names")
    for m in env.by_kind.get("Ingress", {}).values():
        for tls in m.obj.get("spec", {}).get("tls", []):
            if "secretName" in tls:
                secret(m.path, tls["secretName"], None)
    return errors


def check_scaling(env: _Env) -> list[str]:
    """HPAs scale an existing workload that leaves `replicas` to them (a fixed count would be
    reset on every sync), within min <= max; PodDisruptionBudgets select some workload's pods."""
    errors = []
    for m in env.by_kind.get("HorizontalPodAutoscaler", {}).values():
        spec = m.obj.get("spec", {})
        ref = spec.get("scaleTargetRef", {})
        target = env.named(ref.get("kind", ""), ref.get("name", ""))
        if target is None or pod_template(target) is None:
            errors.append(f"{m.path}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not a workload in {m.env}/")
        elif ref.get("apiVersion") != target.obj.get("apiVersion"):
            errors.append(f"{m.path}: scaleTargetRef apiVersion {ref.get('apiVersion')!r} is not "
                          f"{target.obj.get('apiVersion')!r} of {target.path}")
        elif "replicas" in target.obj.get("spec", {}):
            errors.append(f"{target.path}: sets replicas although {m.path} scales it")
        if spec.get("minReplicas", 1) > spec.get("maxReplicas", 0):
            errors.append(f"{m.path}: minReplicas {spec.get('minReplicas')} is above maxReplicas {spec.get('maxReplicas')}")
    for m in env.by_kind.get("PodDisruptionBudget", {}).values():
        selector = m.obj.get("spec", {}).get("selector")
        if not env.selected(selector):
            errors.append(f"{m.path}: selector {json.dumps(selector, sort_keys=True)} selects no pods of any "
                          f"workload in {m.env}/")
    return errors


def check_resources(env: _Env) -> list[str]:
    """Every container, init containers included, requests CPU and memory and limits memory,
    with quantities that parse and requests no larger than limits (the API server refuses that)."""
    errors = []
    for pod in env.pods:
        for c in pod.containers:
            where = f"{pod.manifest.path}: container {c.get('name')!r}"
            resources = c.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            for part, values, resource in (("requests", requests, "cpu"), ("requests", requests, "memory"),
                                           ("limits", limits, "memory")):
                if resource not in values:
                    errors.append(f"{where} has no {part}.{resource}")
            for part, values in (("requests", requests), ("limits", limits)):
                for resource, value in values.items():
                    if parse_quantity(value) is None:
                        errors.append(f"{where}: {part}.{resource} {value!r} is not a quantity")
            for resource in set(requests) & set(limits):
                request, limit = parse_quantity(requests[resource]), parse_quantity(limits[resource])
                if request is not None and limit is not None and request > limit:
                    errors.append(f"{where}: requests.{resource} {requests[resource]!r} is above the limit "
                                  f"{limits[resource]!r}")
    return errors


def check_images(env: _Env) -> list[str]:
    """Every image is pinned: a digest, or a tag other than `latest`."""
    errors = []
    for pod in env.pods:
        for c in pod.containers:
            image = c.get("image", "")
            match = IMAGE.match(image) if isinstance(image, str) else None
            if not match:
                errors.append(f"{pod.manifest.path}: container {c.get('name')!r} image {image!r} is not an image reference")
            elif not match.group("digest") and match.group("tag") in (None, "latest"):
                errors.append(f"{pod.manifest.path}: container {c.get('name')!r} image {image!r} is not pinned "
                              "to a tag other than latest or to a digest")
    return errors


def semantic_errors(manifests: Iterable[Manifest],
                    documented_secrets: Mapping[str, set[str]] | None = None) -> list[str]:
    """Every semantic check over every environment of a tree. External Secrets are documented by
    `inventory.required_secrets` of each environment's objects unless `documented_secrets` is given."""
    from langflow_cdk8s.tooling.inventory import required_secrets

    errors = []
    for env in _environments(manifests):
        documented = (required_secrets(m.obj for m in env.manifests) if documented_secrets is None
                      else documented_secrets)
        for check in (check_names, check_workload_selectors, check_services, check_ingresses, check_scaling,
                      check_resources, check_images):
            errors += check(env)
        errors += check_references(env, documented)
    return list(dict.fromkeys(errors))  # one Ingress may route several paths to the same missing Service
