"""The standard `app.kubernetes.io/*` labels, and the stable subset that selectors use."""

from __future__ import annotations

APP_NAME = "langflow"
MANAGED_BY = "cdk8s"


def selector_labels(*, instance: str, component: str) -> dict[str, str]:
    """Identity labels only: selectors are immutable, so no version or chart revision goes in here."""
    return {
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
    }


def standard_labels(*, instance: str, component: str, version: str | None = None) -> dict[str, str]:
    """Every object carries these; `version` is left out of selectors (see selector_labels)."""
    labels = selector_labels(instance=instance, component=component)
    labels["app.kubernetes.io/part-of"] = APP_NAME
    labels["app.kubernetes.io/managed-by"] = MANAGED_BY
    if version:
        labels["app.kubernetes.io/version"] = version
    return labels


def environment_labels(environment: str) -> dict[str, str]:
    """What every object of an environment carries, also one a user adds with cdk8s-plus (the chart's
    labels): the standard labels without name and component, which only the library's objects know."""
    return {"app.kubernetes.io/instance": f"langflow-{environment}", "app.kubernetes.io/part-of": APP_NAME,
            "app.kubernetes.io/managed-by": MANAGED_BY}
