"""A small client for the parts of Langflow 1.13's REST API that `make promote` reads (standard
library only). Every failure becomes a ConfigError, so the command ends in two readable lines.

Endpoints (langflow/api/v1/flows.py and projects.py in the 1.13.0 wheel), authenticated by an
API key in the ``x-api-key`` header:
  GET /api/v1/flows/?header_flows=true&get_all=true&remove_example_flows=true   flow headers
  GET /api/v1/flows/{id}                                                        one flow, as its owner sees it
  GET /api/v1/projects/                                                         projects (folders)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import ConfigError

URL_ENV = "LANGFLOW_IDE_URL"
KEY_ENV = "LANGFLOW_IDE_API_KEY"
TIMEOUT_SECONDS = 30


def base_url(value: str | None) -> str:
    """The IDE's URL without a trailing slash (or /api/v1, which people paste from the API docs)."""
    if not value or not value.strip():
        raise ConfigError(URL_ENV, "is not set",
                          f"export {URL_ENV}=https://langflow.dev.example.com (the dev IDE), or "
                          "http://localhost:7860 with kubectl -n langflow-dev port-forward svc/langflow-ide-backend 7860")
    url = value.strip().rstrip("/")
    url = url.removesuffix("/api/v1").rstrip("/")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(URL_ENV, f"{value!r} is not an http(s) URL", "set it to the IDE's address, such as https://langflow.dev.example.com")
    return url


def api_key(value: str | None) -> str:
    if not value or not value.strip():
        raise ConfigError(KEY_ENV, "is not set",
                          f"create an API key in the IDE (Settings > Langflow API Keys) and export {KEY_ENV}=... in your shell")
    return value.strip()


class LangflowAPI:
    """Reads flows and projects from one Langflow IDE as the owner of the API key."""

    def __init__(self, url: str, key: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self._key = key  # sent as a header only; never printed, logged or written
        self.timeout = timeout

    def flow_headers(self) -> list[dict[str, Any]]:
        """The key owner's flows (name, id, endpoint_name, folder_id; no graph), starter examples excluded."""
        headers = self._get_list("/api/v1/flows/?header_flows=true&get_all=true&remove_example_flows=true", "flows")
        return [h for h in headers if not h.get("is_component")]

    def projects(self) -> list[dict[str, Any]]:
        return self._get_list("/api/v1/projects/", "projects")

    def flow(self, flow_id: str) -> Any:
        """One flow's full JSON, as stored (the owner sees password-field values: promote checks them)."""
        return self._get(f"/api/v1/flows/{urllib.parse.quote(flow_id)}")

    def _get_list(self, path: str, what: str) -> list[dict[str, Any]]:
        body = self._get(path)
        if not isinstance(body, list) or not all(isinstance(item, dict) and "id" in item for item in body):
            raise ConfigError(f"GET {self.url}{path}", f"answered with something other than a list of {what}",
                              f"point {URL_ENV} at the dev IDE (Langflow 1.13), not at another service")
        return body

    def _get(self, path: str) -> Any:
        where = f"GET {self.url}{path}"
        request = urllib.request.Request(self.url + path, headers={"x-api-key": self._key, "accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                content_type = response.headers.get("content-type", "")
        except urllib.error.HTTPError as error:
            raise self._http_error(where, error) from None
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConfigError(f"{URL_ENV} {self.url}", f"cannot be reached ({reason})",
                              "check the URL and that the dev IDE is running; from outside the cluster use its "
                              "ingress host or kubectl -n langflow-dev port-forward svc/langflow-ide-backend 7860") from None
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = content_type.split(";")[0] or "no content type"
            raise ConfigError(where, f"answered with a response that is not JSON ({kind}, {len(raw)} bytes)",
                              f"point {URL_ENV} at the IDE's API (the backend, which serves /api/v1), "
                              "not at a login page, proxy or the frontend alone") from None

    def _http_error(self, where: str, error: urllib.error.HTTPError) -> ConfigError:
        detail = _detail(error)
        if error.code in (401, 403):
            return ConfigError(KEY_ENV, f"was refused by the IDE at {self.url} (HTTP {error.code}{detail})",
                               "create a new API key in that IDE (Settings > Langflow API Keys) and export it again")
        return ConfigError(where, f"failed with HTTP {error.code}{detail}",
                           f"check that {URL_ENV} is the dev IDE running Langflow 1.13, and its logs")


def _detail(error: urllib.error.HTTPError) -> str:
    """FastAPI's `{"detail": ...}` text, when there is one (it never holds the key)."""
    try:
        detail = json.loads(error.read()).get("detail")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError, OSError, ValueError):
        return ""
    return f": {detail}" if isinstance(detail, str) and detail else ""
