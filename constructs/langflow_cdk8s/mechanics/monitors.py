"""How Prometheus finds a workload's metrics port: a Prometheus Operator PodMonitor or ServiceMonitor
(monitoring.coreos.com/v1, typed bindings imported from the vendored CRDs), selecting exactly that
workload's pods, on the port the workload's NetworkPolicy opens to the monitoring namespace."""

from __future__ import annotations

import cdk8s
import cdk8s_plus_27 as kplus

from ..props.settings import Metrics, Monitor
from .backend import scrapers
from .site import Site
from .waves import metadata
from .workload import ServiceWorkload

METRICS_PATH = "/metrics"


def attach_monitor(site: Site, workload: ServiceWorkload, metrics: Metrics) -> cdk8s.ApiObject | None:
    """The workload's PodMonitor or ServiceMonitor (`workload.monitor`), when `metrics.monitor` asks for
    one and the environment lets its Prometheus in (see backend.scrapers); otherwise None. The bindings
    are imported here, so an app without monitors does not load them."""
    if metrics.monitor not in (Monitor.POD_MONITOR, Monitor.SERVICE_MONITOR) or not scrapers(site, metrics):
        return None
    labels = workload.labels
    selector = workload.selector
    if metrics.monitor is Monitor.POD_MONITOR:
        from imports.prometheus_podmonitor.com.coreos.monitoring import (
            PodMonitor,
            PodMonitorSpec,
            PodMonitorSpecPodMetricsEndpoints,
            PodMonitorSpecSelector,
        )
        workload.monitor = PodMonitor(workload, "monitor", metadata=metadata(
            "PodMonitor", workload.name, namespace=site.namespace_name, labels=labels), spec=PodMonitorSpec(
            selector=PodMonitorSpecSelector(match_labels=dict(selector)),
            pod_metrics_endpoints=[PodMonitorSpecPodMetricsEndpoints(port="metrics", path=METRICS_PATH)]))
        return workload.monitor
    from imports.prometheus_servicemonitor.com.coreos.monitoring import (
        ServiceMonitor,
        ServiceMonitorSpec,
        ServiceMonitorSpecEndpoints,
        ServiceMonitorSpecSelector,
    )
    # The Service gets the port (its headless twin does not, so no pod is scraped twice).
    workload.service.bind(metrics.port, name="metrics", target_port=metrics.port, protocol=kplus.Protocol.TCP)
    workload.monitor = ServiceMonitor(workload, "monitor", metadata=metadata(
        "ServiceMonitor", workload.name, namespace=site.namespace_name, labels=labels), spec=ServiceMonitorSpec(
        selector=ServiceMonitorSpecSelector(match_labels=dict(selector)),
        endpoints=[ServiceMonitorSpecEndpoints(port="metrics", path=METRICS_PATH)]))
    return workload.monitor
