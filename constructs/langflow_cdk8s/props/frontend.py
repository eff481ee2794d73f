"""Who serves the IDE's UI: a typed choice between the backend's own image and the split nginx image."""

from __future__ import annotations

from dataclasses import dataclass, field

from .image import Image
from .pod import PodOptions
from .resources import Resources
from .validation import at_least

NGINX_RESOURCES = Resources(cpu="300m", memory="512Mi", cpu_limit="1", memory_limit="512Mi")
"""The official chart's frontend resources (nginx serving static files stays far below them)."""


@dataclass(frozen=True, kw_only=True)
class BundledFrontend:
    """The UI from the backend's own image: `langflow run` (not backend-only) serves the built UI,
    shipped in the langflow package's `frontend/` folder, at `/` next to the API at `/api`, from one
    process, one Service and the one image every Langflow release publishes."""


@dataclass(frozen=True, kw_only=True)
class NginxFrontend:
    """The UI from the separate nginx image (`langflowai/langflow-frontend`) in its own Deployment,
    Service and NetworkPolicy, proxying the API to the backend; the backend runs backend-only.
    Its publication has failed in several Langflow releases: pin a tag that exists.

    image: default langflowai/langflow-frontend:1.13.0.
    replicas: default 2, so the UI survives a node drain.
    resources: default 300m/512Mi requested (the chart's), 1 CPU/512Mi limit.
    pod: escape hatch for the frontend pod (scheduling, extra env/volumes, sidecars…).
    """

    image: Image = field(default_factory=Image.langflow_frontend)
    replicas: int = 2
    resources: Resources = NGINX_RESOURCES
    pod: PodOptions = PodOptions()

    def __post_init__(self) -> None:
        at_least("frontend.replicas", self.replicas, 1)


FrontendChoice = BundledFrontend | NginxFrontend


class Frontend:
    """Factories for the IDE's `frontend` prop."""

    @staticmethod
    def bundled() -> BundledFrontend:
        """The UI served by the Langflow backend itself, from the main image (the default)."""
        return BundledFrontend()

    @staticmethod
    def nginx(*, image: Image = Image.langflow_frontend(), replicas: int = 2, resources: Resources = NGINX_RESOURCES,
              pod: PodOptions = PodOptions()) -> NginxFrontend:
        """The split nginx frontend image in its own Deployment, Service and NetworkPolicy (the
        official chart's layout)."""
        return NginxFrontend(image=image, replicas=replicas, resources=resources, pod=pod)
