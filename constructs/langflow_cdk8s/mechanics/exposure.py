"""The exposure seam: which function builds the objects of each kind of exposure.

A workload hands its routes (mechanics/routes.py `Route`) and its Exposure to `expose`; adding a
kind is its class in props/ and one entry in BUILDERS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from constructs import Construct

from ..errors import ConfigError
from ..props.exposure import Exposure, GatewayRoute, OwnGateway
from ..props.ingress import IngressOptions
from .gateway import attached_routes, own_gateway_routes
from .routes import Route, ingress
from .site import Site

Builder = Callable[..., Any]


def _ingress(site: Site, scope: Construct, id: str, *, name: str, labels: Mapping[str, str], options: IngressOptions,
             routes: Sequence[Route]) -> list[Construct]:
    return [ingress(site, scope, id, name=name, labels=labels, options=options, routes=routes)]


BUILDERS: dict[type[Exposure], Builder] = {
    IngressOptions: _ingress,
    GatewayRoute: attached_routes,
    OwnGateway: own_gateway_routes,
}
"""Kind of exposure -> the function that builds its objects (with the keyword arguments of `expose`)."""


def expose(site: Site, scope: Construct, id: str, *, name: str, labels: Mapping[str, str], exposure: Exposure,
           routes: Sequence[Route]) -> list[Construct]:
    """The objects that route `routes` from `exposure.host` to their Services (Ingress, HTTPRoutes, ...)."""
    builder = BUILDERS.get(type(exposure))
    if builder is None:
        raise ConfigError("exposure", f"{type(exposure).__name__} has no builder",
                          "register it in langflow_cdk8s/mechanics/exposure.py BUILDERS")
    return list(builder(site, scope, id, name=name, labels=labels, options=exposure, routes=routes))
