"""The Mermaid diagram of one synthesized folder: workloads, Services, Ingress or HTTPRoutes and Gateway, references and the
connections NetworkPolicies allow, drawn from the YAML cdk8s wrote (so it cannot drift)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..mechanics.workload import WORKLOAD_KINDS
from .inventory import read_manifest, required_secrets

Manifest = dict[str, Any]

WELL_KNOWN_PORTS = {53: "DNS", 443: "HTTPS", 5432: "PostgreSQL", 6379: "Redis", 9090: "metrics"}
"""Names for edge labels: NetworkPolicies carry ports, not what listens on them."""



def read_folder(folder: Path) -> list[Manifest]:
    """The objects of one synthesized folder (one object per file, as cdk8s writes them here)."""
    return [read_manifest(path) for path in sorted(folder.glob("*.yaml"))]


def name_of(obj: Manifest) -> str:
    return str(obj["metadata"]["name"])


def sorted_objects(objects: Iterable[Manifest]) -> list[Manifest]:
    return sorted(objects, key=lambda o: (o["kind"], name_of(o)))


def of_kind(objects: Iterable[Manifest], *kinds: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] in kinds]


def namespace_of(objects: Sequence[Manifest]) -> str:
    names = [name_of(o) for o in of_kind(objects, "Namespace")]
    names += sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")})
    return names[0] if names else "default"


def _id(kind: str, name: str) -> str:
    """A Mermaid node id: stable across runs, readable in diffs, never a keyword such as `end`."""
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def pod_labels(workload: Manifest) -> dict[str, str]:
    return dict(workload["spec"]["template"]["metadata"].get("labels", {}))


def _ports(rule: Mapping[str, Any]) -> str:
    ports = rule.get("ports")
    if not ports:
        return "all ports"
    text = ", ".join(f"{p.get('port', 'any')}/{p.get('protocol', 'TCP')}" for p in ports)
    names = sorted({WELL_KNOWN_PORTS[p["port"]] for p in ports if p.get("port") in WELL_KNOWN_PORTS})
    return f"{text} {' '.join(names)}".strip()


def labels_text(labels: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _quoted(text: str) -> str:
    """Mermaid label text in double quotes (a quote inside would end it early)."""
    return '"' + text.replace('"', "#quot;") + '"'


class _Diagram:
    """Node declarations by group (hosts, the namespace, its Secrets, the outside) and edges, each
    rendered once, in insertion order."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.ns_id = _id("ns", namespace)
        self.hosts: dict[str, str] = {}
        self.inside: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.secrets_title = "Secrets you create (never in dist/)"
        self.outside: dict[str, str] = {}
        self.external_ids: dict[str, str] = {}
        self.edges: dict[str, None] = {}

    def node(self, group: dict[str, str], node_id: str, shape: str, label: str) -> str:
        """Declares a node once; `shape` is Mermaid's opening and closing brackets around a '|'."""
        opening, closing = shape.split("|")
        group.setdefault(node_id, f"{node_id}{opening}{_quoted(label)}{closing}")
        return node_id

    def external(self, label: str) -> str:
        """A node outside the namespace, one per distinct label."""
        if label not in self.external_ids:
            self.external_ids[label] = self.node(self.outside, f"ext{len(self.external_ids) + 1}", ">|]", label)
        return self.external_ids[label]

    def edge(self, source: str, arrow: str, target: str, label: str = "") -> None:
        self.edges[f"{source} {arrow}|{_quoted(label)}| {target}" if label else f"{source} {arrow} {target}"] = None

    def render(self, title: str) -> str:
        lines = ["flowchart LR"]
        lines += [f"  {declaration}" for declaration in self.hosts.values()]
        lines.append(f'  subgraph {self.ns_id}["{title}"]')
        lines += [f"    {declaration}" for declaration in self.inside.values()]
        if self.secrets:
            lines.append(f'    subgraph {_id("secrets", self.namespace)}["{self.secrets_title}"]')
            lines += [f"      {declaration}" for declaration in self.secrets.values()]
            lines.append("    end")
        lines.append("  end")
        lines += [f"  {declaration}" for declaration in self.outside.values()]
        lines += [f"  {edge}" for edge in self.edges]
        return "\n".join(lines)


def default_deny(policy: Manifest) -> list[str]:
    """The directions ('ingress', 'egress') a policy denies for every pod of the namespace."""
    spec = policy["spec"]
    if spec.get("podSelector"):
        return []
    return [d.lower() for d in ("Ingress", "Egress") if d in spec.get("policyTypes", []) and not spec.get(d.lower())]


def _workload_node(diagram: _Diagram, workload: Manifest) -> str:
    spec = workload["spec"]
    images = sorted({c["image"] for c in spec["template"]["spec"]["containers"]})
    label = [f"{workload['kind']} {name_of(workload)}", *images]
    if "replicas" in spec:
        label.append(f"replicas {spec['replicas']}")
    return diagram.node(diagram.inside, _id("wl", name_of(workload)), "[|]", "<br/>".join(label))


def _references(diagram: _Diagram, workload: Manifest, node: str) -> None:
    """Claims, ConfigMaps and Secrets the workload's pods use."""
    pod = workload["spec"]["template"]["spec"]
    containers = [*pod.get("initContainers", []), *pod["containers"]]
    mounts = {m["name"]: m["mountPath"] for c in containers for m in c.get("volumeMounts", [])}
    for template in workload["spec"].get("volumeClaimTemplates", []):
        claim = template["metadata"]["name"]
        spec = template["spec"]
        label = (f"claim {claim}-{name_of(workload)}-N<br/>{spec['resources']['requests']['storage']} "
                 f"{', '.join(spec.get('accessModes', []))}<br/>class {spec.get('storageClassName', '(cluster default)')}")
        target = diagram.node(diagram.inside, _id("claim", f"{name_of(workload)}_{claim}"), "[(|)]", label)
        diagram.edge(node, "-->", target, mounts.get(claim, ""))
    for volume in pod.get("volumes", []):
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            target = diagram.node(diagram.inside, _id("claim", claim), "[(|)]", f"PersistentVolumeClaim {claim}")
            diagram.edge(node, "-->", target, mounts.get(volume["name"], ""))
    config_maps = {v["configMap"]["name"]: mounts.get(v["name"], "") for v in pod.get("volumes", []) if "configMap" in v}
    config_maps |= {s["configMap"]["name"]: mounts.get(v["name"], "") for v in pod.get("volumes", [])
                    for s in v.get("projected", {}).get("sources", []) if "configMap" in s}
    config_maps |= {e["configMapRef"]["name"]: "env" for c in containers for e in c.get("envFrom", []) if "configMapRef" in e}
    config_maps |= {e["valueFrom"]["configMapKeyRef"]["name"]: "env" for c in containers for e in c.get("env", [])
                    if "configMapKeyRef" in e.get("valueFrom", {})}
    for name, how in sorted(config_maps.items()):
        diagram.edge(node, "-->", diagram.node(diagram.inside, _id("cm", name), "[/|/]", f"ConfigMap {name}"), how)
    for name in required_secrets([workload]):
        diagram.edge(node, "-->", _id("secret", name))


def _peer_nodes(diagram: _Diagram, peers: Sequence[Mapping[str, Any]] | None, workloads: Sequence[Manifest]) -> list[str]:
    """Node ids for the peers of one NetworkPolicy rule; a rule's IP blocks share one node."""
    if peers is None:
        return [diagram.external("anywhere")]
    nodes: list[str] = []
    blocks = [p["ipBlock"] for p in peers if "ipBlock" in p]
    if blocks:
        parts = []
        for block in blocks:
            name = "public internet" if block["cidr"] == "0.0.0.0/0" else block["cidr"]
            parts.append(f"{name} except {len(block['except'])} private ranges" if block.get("except") else name)
        nodes.append(diagram.external("<br/>".join(parts)))
    for peer in (p for p in peers if "ipBlock" not in p):
        pods = peer.get("podSelector", {}).get("matchLabels", {})
        if "namespaceSelector" in peer:
            labels = peer["namespaceSelector"].get("matchLabels", {})
            namespace = labels.get("kubernetes.io/metadata.name") or labels_text(labels) or "every namespace"
            nodes.append(diagram.external(f"namespace {namespace}" + (f"<br/>pods {labels_text(pods)}" if pods else "")))
            continue
        matched = [_id("wl", name_of(w)) for w in workloads if matches(pods, pod_labels(w))]
        nodes += matched or [diagram.node(diagram.inside, _id("pods", labels_text(pods)), "(|)", f"pods {labels_text(pods)}")]
    return nodes


def _network(diagram: _Diagram, policies: Sequence[Manifest], workloads: Sequence[Manifest]) -> None:
    """Dotted edges for every connection a NetworkPolicy allows."""
    for policy in policies:
        spec = policy["spec"]
        selector = spec.get("podSelector", {}).get("matchLabels", {})
        subjects = ([diagram.ns_id] if not selector
                    else [_id("wl", name_of(w)) for w in workloads if matches(selector, pod_labels(w))])
        for rule in spec.get("egress", []):
            for subject in subjects:
                for peer in _peer_nodes(diagram, rule.get("to"), workloads):
                    diagram.edge(subject, "-.->", peer, _ports(rule))
        for rule in spec.get("ingress", []):
            for subject in subjects:
                for peer in _peer_nodes(diagram, rule.get("from"), workloads):
                    diagram.edge(peer, "-.->", subject, _ports(rule))


def _external_secrets(diagram: _Diagram, external_secrets: Sequence[Manifest]) -> None:
    """Each ExternalSecret reads its store (outside the namespace) and creates its Secret."""
    if external_secrets:
        diagram.secrets_title = "Secrets External Secrets Operator creates (never in dist/)"
    for external in external_secrets:
        spec = external["spec"]
        store = spec.get("secretStoreRef", {})
        source = diagram.external(f"{store.get('kind', 'SecretStore')} {store.get('name', '')}")
        node = diagram.node(diagram.inside, _id("es", name_of(external)), "[/|/]",
                            f"ExternalSecret {name_of(external)}<br/>refresh {spec.get('refreshInterval', '1h')}")
        diagram.edge(source, "-->", node, "reads")
        diagram.edge(node, "-->", _id("secret", spec.get("target", {}).get("name") or name_of(external)), "creates")


def _monitors(diagram: _Diagram, objects: Sequence[Manifest], workloads: Sequence[Manifest],
              services: Sequence[Manifest]) -> None:
    """Each PodMonitor points at the workloads whose pods it selects, each ServiceMonitor at its Services."""
    for monitor in of_kind(objects, "PodMonitor", "ServiceMonitor"):
        spec = monitor["spec"]
        endpoints = spec.get("podMetricsEndpoints") or spec.get("endpoints") or []
        scraped = ", ".join(f"port {e.get('port', '?')} {e.get('path', '/metrics')}" for e in endpoints)
        node = diagram.node(diagram.inside, _id("mon", f"{monitor['kind']}_{name_of(monitor)}"), "[[|]]",
                            f"{monitor['kind']} {name_of(monitor)}<br/>{scraped}")
        selector = spec.get("selector", {}).get("matchLabels", {})
        if monitor["kind"] == "PodMonitor":
            targets = [_id("wl", name_of(w)) for w in workloads if matches(selector, pod_labels(w))]
        else:
            targets = [_id("svc", name_of(s)) for s in services
                       if matches(selector, s["metadata"].get("labels", {}))
                       and any(p.get("name") in {e.get("port") for e in endpoints} for p in s["spec"].get("ports", []))]
        for target in targets:
            diagram.edge(node, "-->", target, "scrapes")


def _sync(policy: Mapping[str, Any]) -> str:
    automated = policy.get("automated")
    if automated is None:
        return "manual sync"
    extras = [name for key, name in (("prune", "prune"), ("selfHeal", "self-heal")) if automated.get(key)]
    return ", ".join(["automated sync", *extras])


def _argocd(diagram: _Diagram, objects: Sequence[Manifest]) -> None:
    """Projects and Applications: which repository path each one syncs into which namespace."""
    for project in of_kind(objects, "AppProject"):
        diagram.node(diagram.inside, _id("project", name_of(project)), "[|]", f"AppProject {name_of(project)}")
    for app in of_kind(objects, "Application"):
        spec = app["spec"]
        node = diagram.node(diagram.inside, _id("app", name_of(app)), "([|])",
                            f"Application {name_of(app)}<br/>{_sync(spec.get('syncPolicy', {}))}")
        diagram.edge(_id("project", spec.get("project", "default")), "-->", node, "project")
        for source in spec.get("sources") or [spec["source"]]:
            repo = diagram.external(f"{source['repoURL']}<br/>{source.get('targetRevision', 'HEAD')}")
            diagram.edge(repo, "==>", node, source.get("path") or source.get("chart", ""))
        namespace = spec["destination"].get("namespace", "")
        target = diagram.ns_id if namespace == diagram.namespace else diagram.external(f"namespace {namespace}")
        diagram.edge(node, "==>", target, "applies to")


def diagram(objects: Sequence[Manifest]) -> str:
    """The Mermaid flowchart of one folder's objects."""
    objects = sorted_objects(objects)
    namespace = namespace_of(objects)
    graph = _Diagram(namespace)
    workloads = of_kind(objects, *WORKLOAD_KINDS)
    services = of_kind(objects, "Service")
    secrets = {**required_secrets(objects), **certificate_secrets(objects)}
    for name, keys in secrets.items():
        graph.node(graph.secrets, _id("secret", name), "{{|}}",
                   f"Secret {name}" + (f"<br/>{', '.join(sorted(keys))}" if keys else ""))

    _external_secrets(graph, of_kind(objects, "ExternalSecret"))

    for ingress in of_kind(objects, "Ingress"):
        spec = ingress["spec"]
        tls_hosts = {host for tls in spec.get("tls", []) for host in tls.get("hosts", [])}
        hosts = [rule.get("host", "*") for rule in spec.get("rules", [])]
        node = graph.node(graph.inside, _id("ing", name_of(ingress)), "[/|\\]",
                          f"Ingress {name_of(ingress)}<br/>class {spec.get('ingressClassName', '(default)')}")
        for host in hosts:
            scheme = "https" if host in tls_hosts else "http"
            graph.edge(graph.node(graph.hosts, _id("host", host), "([|])", f"{scheme}://{host}"), "==>", node)
        for name in required_secrets([ingress]):
            graph.edge(node, "-->", _id("secret", name), "TLS")
        paths: dict[str, list[str]] = {}
        for rule in spec.get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                paths.setdefault(path["backend"]["service"]["name"], []).append(path["path"])
        for target, prefixes in paths.items():
            graph.edge(node, "==>", _id("svc", target), "<br/>".join(prefixes))

    _gateway_api(graph, objects)

    for service in services:
        spec = service["spec"]
        ports = ", ".join(f"{p.get('name', '')} {p['port']}".strip() for p in spec.get("ports", []))
        node = graph.node(graph.inside, _id("svc", name_of(service)), "([|])",
                          f"Service {name_of(service)}<br/>{_service_type(spec)} {ports}")
        for workload in workloads:
            if spec.get("selector") and matches(spec["selector"], pod_labels(workload)):
                graph.edge(node, "==>", _id("wl", name_of(workload)))

    for workload in workloads:
        _references(graph, workload, _workload_node(graph, workload))
    for config_map in of_kind(objects, "ConfigMap"):
        graph.node(graph.inside, _id("cm", name_of(config_map)), "[/|/]", f"ConfigMap {name_of(config_map)}")

    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        spec = hpa["spec"]
        targets = ", ".join(f"{m['resource']['name']} {m['resource']['target'].get('averageUtilization', '?')}%"
                            for m in spec.get("metrics", []) if m.get("type") == "Resource")
        node = graph.node(graph.inside, _id("hpa", name_of(hpa)), "[[|]]",
                          f"HPA {name_of(hpa)}<br/>{spec.get('minReplicas', 1)}..{spec['maxReplicas']} replicas"
                          + (f" on {targets}" if targets else ""))
        graph.edge(node, "-->", _id("wl", spec["scaleTargetRef"]["name"]), "scales")
    for pdb in of_kind(objects, "PodDisruptionBudget"):
        spec = pdb["spec"]
        budget = (f"maxUnavailable {spec['maxUnavailable']}" if "maxUnavailable" in spec
                  else f"minAvailable {spec.get('minAvailable')}")
        node = graph.node(graph.inside, _id("pdb", name_of(pdb)), "[[|]]", f"PDB {name_of(pdb)}<br/>{budget}")
        for workload in workloads:
            if matches(spec.get("selector", {}).get("matchLabels", {}), pod_labels(workload)):
                graph.edge(node, "-->", _id("wl", name_of(workload)), "protects")

    _monitors(graph, objects, workloads, services)
    _network(graph, of_kind(objects, "NetworkPolicy"), workloads)
    _argocd(graph, objects)

    title = [f"namespace {namespace}"]
    for ns in of_kind(objects, "Namespace"):
        level = ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce")
        if level:
            title.append(f"Pod Security {level}")
    denied = [d for d in ("ingress", "egress") if any(d in default_deny(p) for p in of_kind(objects, "NetworkPolicy"))]
    if denied:
        title.append(f"default-deny {' and '.join(denied)}")
    return graph.render(" · ".join(title))




def certificate_secrets(objects: Sequence[Manifest]) -> dict[str, set[str]]:
    """TLS Secrets a Gateway reads, of its own namespace or through a ReferenceGrant from another."""
    names = [ref["name"] for gateway in of_kind(objects, "Gateway") for listener in gateway["spec"].get("listeners", [])
             for ref in listener.get("tls", {}).get("certificateRefs", []) if ref.get("kind", "Secret") == "Secret"]
    names += [to["name"] for grant in of_kind(objects, "ReferenceGrant") for to in grant["spec"]["to"]
              if to.get("group") == "" and to["kind"] == "Secret" and "name" in to]
    return {name: {"tls.crt", "tls.key"} for name in sorted(names)}


def _gateway_api(graph: _Diagram, objects: Sequence[Manifest]) -> None:
    """Hosts into HTTPRoutes, each attached to its Gateway (the environment's own, or the platform's
    outside the namespace), and its path prefixes to Services."""
    for gateway in of_kind(objects, "Gateway"):
        spec = gateway["spec"]
        node = graph.node(graph.inside, _id("gw", name_of(gateway)), "[/|\\]",
                          f"Gateway {name_of(gateway)}<br/>class {spec['gatewayClassName']}")
        for listener in spec.get("listeners", []):
            scheme = "https" if listener["protocol"] == "HTTPS" else "http"
            host = listener.get("hostname", "*")
            graph.edge(graph.node(graph.hosts, _id("host", host), "([|])", f"{scheme}://{host}"), "==>", node,
                       f"{listener['protocol']} {listener['port']}")
            for ref in listener.get("tls", {}).get("certificateRefs", []):
                graph.edge(node, "-->", _id("secret", ref["name"]), "TLS")
    for grant in of_kind(objects, "ReferenceGrant"):
        for source in grant["spec"]["from"]:
            outside = graph.external(f"{source['kind']}s of namespace {source['namespace']}")
            for target in grant["spec"]["to"]:
                graph.edge(outside, "-->", _id("secret", target["name"]) if target["kind"] == "Secret"
                           else graph.external(target["kind"]), f"ReferenceGrant {name_of(grant)}")
    for route in of_kind(objects, "HTTPRoute"):
        node = graph.node(graph.inside, _id("route", name_of(route)), "[\\|/]", f"HTTPRoute {name_of(route)}")
        for parent in route["spec"].get("parentRefs", []):
            listener = f" listener {parent['sectionName']}" if "sectionName" in parent else ""
            if parent.get("namespace", graph.namespace) == graph.namespace:
                source = _id("gw", parent["name"])
            else:
                source = graph.external(f"Gateway {parent['namespace']}/{parent['name']}{listener}")
                for host in route["spec"].get("hostnames", []):
                    graph.edge(graph.node(graph.hosts, _id("host", host), "([|])", f"https://{host}"), "==>", source)
            graph.edge(source, "==>", node, listener.strip())
        paths: dict[str, list[str]] = {}
        for rule in route["spec"].get("rules", []):
            for backend in rule.get("backendRefs", []):
                paths.setdefault(backend["name"], []).extend(m["path"]["value"] for m in rule.get("matches", []) if "path" in m)
        for target, prefixes in paths.items():
            graph.edge(node, "==>", _id("svc", target), "<br/>".join(prefixes))


def _service_type(spec: dict[str, Any]) -> str:
    """A headless Service is a ClusterIP Service without a cluster IP: say so."""
    return "headless" if spec.get("clusterIP") == "None" else spec.get("type", "ClusterIP")
