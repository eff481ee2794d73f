"""What dist/ exposes, read from whichever kind of exposure main.py chose (Gateway API HTTPRoutes
or Ingresses), so the end-to-end checks follow the choice instead of assuming one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def routes(objects: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(host, path prefix, Service name) for every path of every HTTPRoute and Ingress."""
    return [(host, path, service) for host, path, service, _ in backends(objects)]


def backends(objects: Iterable[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    """(host, path prefix, Service name, Service port) for every path of every HTTPRoute and Ingress."""
    found = []
    for obj in objects:
        if obj["kind"] == "HTTPRoute":
            found += [(host, match["path"]["value"], backend["name"], backend["port"]) for host in obj["spec"]["hostnames"]
                      for rule in obj["spec"]["rules"] for backend in rule["backendRefs"] for match in rule["matches"]]
        if obj["kind"] == "Ingress":
            found += [(rule["host"], path["path"], path["backend"]["service"]["name"], path["backend"]["service"]["port"]["number"])
                      for rule in obj["spec"]["rules"] for path in rule["http"]["paths"]]
    return found


def origin(objects: Iterable[dict[str, Any]]) -> str:
    """The browser origin of the folder's one host: https behind TLS (an Ingress with tls, a Gateway
    listener of our own with protocol HTTPS, or the platform's Gateway, whose listener holds the certificate)."""
    objects = list(objects)
    [host] = {host for host, _, _ in routes(objects)}
    secure = any(o["kind"] == "Ingress" and o["spec"].get("tls") for o in objects)
    for route in (o for o in objects if o["kind"] == "HTTPRoute"):
        for parent in route["spec"]["parentRefs"]:
            own = [listener for o in objects if o["kind"] == "Gateway" and o["metadata"]["name"] == parent["name"]
                   and "namespace" not in parent for listener in o["spec"]["listeners"]
                   if listener["name"] == parent.get("sectionName", listener["name"])]
            secure = secure or not own or any(listener["protocol"] == "HTTPS" for listener in own)
    return f"{'https' if secure else 'http'}://{host}"
