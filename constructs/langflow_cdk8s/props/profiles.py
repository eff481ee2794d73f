"""Cloud portability: the few details that differ between EKS, GKE, AKS, kind and a generic cluster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ConfigError
from .exposure import CertificateSource
from .network import PRIVATE_RANGES, NetworkPeer

SECRETS = frozenset({CertificateSource.SECRET})
GKE_LOAD_BALANCERS = ("35.191.0.0/16", "130.211.0.0/22")
"""Google's front ends and health checkers: where GKE's external load balancers reach pods from."""


@dataclass(frozen=True, kw_only=True)
class CloudProfile:
    """Storage, ingress and load-balancer details of one kind of cluster. Use a static factory.

    name: the profile's name, shown in the summary.
    storage_class: StorageClass for claims; None uses the cluster's default class.
    ingress_class: `ingressClassName` of every Ingress.
    ingress_annotations: controller-specific Ingress annotations (no rewrites: none are needed).
    ingress_group_annotation: the annotation that puts Ingresses on one shared load balancer,
    set to a name derived from the host (None: the controller has no such grouping).
    ingress_controller_namespace: where an in-cluster ingress controller runs, for NetworkPolicies.
    ingress_source_cidrs: where a cloud load balancer's traffic and health checks come from when
    the controller is outside the cluster and reaches pods directly.
    load_balancer_annotations: added to Services of type LoadBalancer.
    certificates: where this cluster's load balancers take TLS certificates from (default: Secrets).
    gateway_class: the GatewayClass of a Gateway of the environment's own (default None: the
    cluster's implementation is not known; Exposure.own_gateway then needs class_name).
    gateway_source_cidrs: where a cloud Gateway's load balancer reaches pods from (default none: an
    in-cluster implementation, whose proxies are pods).
    """

    name: str
    storage_class: str | None = None
    ingress_class: str = "nginx"
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)
    ingress_group_annotation: str | None = None
    ingress_controller_namespace: str | None = "ingress-nginx"
    ingress_source_cidrs: tuple[str, ...] = ()
    load_balancer_annotations: Mapping[str, str] = field(default_factory=dict)
    certificates: frozenset[CertificateSource] = SECRETS
    gateway_class: str | None = None
    gateway_source_cidrs: tuple[str, ...] = ()

    @staticmethod
    def generic() -> CloudProfile:
        """Any conformant cluster: for Gateway API any conformant implementation (its proxies in the
        Gateway's namespace, a TLS Secret per listener); for Ingress ingress-nginx (one shared
        controller Service, so one load balancer for every Ingress); the default StorageClass."""
        return CloudProfile(name="generic")

    @staticmethod
    def kind() -> CloudProfile:
        """A local kind cluster: its `standard` local-path class and ingress-nginx."""
        return CloudProfile(name="kind", storage_class="standard")

    @staticmethod
    def eks() -> CloudProfile:
        """Amazon EKS with the AWS Load Balancer Controller (ALB Ingress, IP targets) and the
        `gp2` class every EKS cluster has. The controller makes one ALB per Ingress unless Ingresses
        share `group.name`: each host's Ingress names its own group, so a host is one ALB. Gateway API
        through the same controller (GatewayClass `aws-alb-gateway-class`, controller
        gateway.k8s.aws/alb). Certificates come from ACM, never from Secrets: the ALB attaches the
        ACM certificate that matches the host."""
        return CloudProfile(
            name="eks",
            storage_class="gp2",
            ingress_class="alb",
            ingress_annotations={
                "alb.ingress.kubernetes.io/scheme": "internet-facing",
                "alb.ingress.kubernetes.io/target-type": "ip",
                "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]',
                "alb.ingress.kubernetes.io/healthcheck-path": "/health",
            },
            ingress_group_annotation="alb.ingress.kubernetes.io/group.name",
            ingress_controller_namespace=None,
            ingress_source_cidrs=PRIVATE_RANGES,
            certificates=frozenset({CertificateSource.ACM}),
            gateway_class="aws-alb-gateway-class",
            gateway_source_cidrs=PRIVATE_RANGES,
            load_balancer_annotations={
                "service.beta.kubernetes.io/aws-load-balancer-type": "external",
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
                "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
            },
        )

    @staticmethod
    def gke() -> CloudProfile:
        """Google GKE: the built-in `gce` Ingress (container-native load balancing through NEGs)
        and the default `standard-rwo` class. GKE makes one load balancer and IP per Ingress and
        has no grouping: the library emits one Ingress per host. Gateway API through GKE's own
        `gke-l7-global-external-managed` class, with a TLS Secret or a Google-managed certificate
        map (Certificate.google_managed)."""
        return CloudProfile(
            name="gke",
            storage_class="standard-rwo",
            ingress_class="gce",
            ingress_annotations={},
            ingress_controller_namespace=None,
            ingress_source_cidrs=GKE_LOAD_BALANCERS,
            certificates=frozenset({CertificateSource.SECRET, CertificateSource.GOOGLE_MANAGED}),
            gateway_class="gke-l7-global-external-managed",
            gateway_source_cidrs=GKE_LOAD_BALANCERS,
            load_balancer_annotations={"networking.gke.io/load-balancer-type": "Internal"},
        )

    @staticmethod
    def aks() -> CloudProfile:
        """Azure AKS with the application routing add-on (managed nginx: one load balancer for every
        Ingress of the class) and the default `managed-csi` class. Gateway API through Application
        Gateway for Containers (GatewayClass `azure-alb-external`, TLS Secrets), which reaches pods
        from its subnet in the cluster's virtual network."""
        return CloudProfile(
            name="aks",
            storage_class="managed-csi",
            ingress_class="webapprouting.kubernetes.azure.com",
            ingress_controller_namespace="app-routing-system",
            gateway_class="azure-alb-external",
            gateway_source_cidrs=PRIVATE_RANGES,
            load_balancer_annotations={"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
        )

    def ingress_peer(self, ports: tuple[int | str, ...]) -> NetworkPeer:
        """Where Ingress traffic enters pods from, for the serving ports' NetworkPolicy rule."""
        if self.ingress_controller_namespace:
            return NetworkPeer.namespace(self.ingress_controller_namespace, ports, "ingress controller")
        return NetworkPeer.cidr_blocks(self.ingress_source_cidrs, ports, "cloud load balancer")

    @staticmethod
    def named(name: str) -> CloudProfile:
        """A profile by name, for configuration read from elsewhere."""
        factories = {"generic": CloudProfile.generic, "kind": CloudProfile.kind, "eks": CloudProfile.eks,
                     "gke": CloudProfile.gke, "aks": CloudProfile.aks}
        if name not in factories:
            raise ConfigError("profile", f"{name!r} is not a known cloud profile",
                              f"use one of: {', '.join(sorted(factories))}")
        return factories[name]()
