"""Read-only calls to Vercel's REST API: a project's env variables and latest deployments.

There is no maintained Python SDK for Vercel's API, and two GETs do not
need one: urllib with a Bearer token. VERCEL_API_BASE overrides the root.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from infra.credentials import VERCEL_API_BASE, api_base

DEFAULT_API_BASE = "https://api.vercel.com"


class VercelError(Exception):
    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class Vercel:
    def __init__(self, token: str, team: str | None = None, base: str | None = None,
                 timeout: float = 30.0) -> None:
        self._token = token
        self.team = team
        self.base = base or api_base(VERCEL_API_BASE, DEFAULT_API_BASE)
        self.timeout = timeout

    def env(self, project: str) -> list[dict[str, Any]]:
        """Every variable of the project, values withheld (decrypt is never asked for)."""
        answer = self._get(f"/v10/projects/{urllib.parse.quote(project)}/env", {})
        envs = answer.get("envs", [])
        return [e for e in envs if isinstance(e, dict)] if isinstance(envs, list) else []

    def latest_deployment(self, project: str, target: str) -> dict[str, Any] | None:
        """The newest READY deployment of `target` (production or preview), if any."""
        answer = self._get("/v6/deployments", {"projectId": project, "target": target,
                                               "state": "READY", "limit": "1"})
        deployments = answer.get("deployments") or []
        return deployments[0] if deployments else None

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        if self.team:
            query = {**query, "teamId": self.team}
        url = f"{self.base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(  # noqa: S310 (the base is https or the user's override)
            url, headers={"Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 (base is ours)
                body: dict[str, Any] = json.load(answer)
                return body
        except urllib.error.HTTPError as error:
            raise VercelError(error.code, _message(error)) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise VercelError(None, f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.load(error)
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {error.code}"
