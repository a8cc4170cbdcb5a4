"""Calls to Vercel's REST API: a project's env variables and latest deployments, and one write,
the redeploy of a target's latest deployment (`billing go-live`, after `up` changed variables).

There is no maintained Python SDK for Vercel's API, and three calls do not
need one: `infra.clients.http` with a Bearer token (a total deadline, a body
cap, and no redirect, so the token never reaches another origin). The env
list follows Vercel's pagination (`pagination.next`, sent back as `until`)
under a page cap and a repeated-cursor check. Answers are checked against
the shape read below; anything else is an ApiError. VERCEL_API_BASE
overrides the root.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from infra.clients import errors, http, paging, shapes
from infra.clients.credentials import VERCEL_API_BASE, api_base
from infra.clients.errors import ApiError
from infra.clients.shapes import NUMBER, Opt
from infra.hosts.vercel import VercelHost

DEFAULT_API_BASE = VercelHost.api_default
_ENV: shapes.Spec = {"key": str, "type": Opt(str), "target": [str], "updatedAt": Opt(NUMBER), "id": Opt(str),
                     "gitBranch": Opt(str)}
_PAGINATION: dict[str, shapes.Spec] = {"pagination": Opt({"next": Opt(NUMBER)})}
_DEPLOYMENTS: shapes.Spec = {"deployments": [{"createdAt": Opt(NUMBER), "created": Opt(NUMBER),
                                              "uid": Opt(str), "name": Opt(str)}]}
_CREATED: shapes.Spec = {"id": str, "readyState": Opt(str)}


class Vercel:
    def __init__(self, token: str, team: str | None = None, base: str | None = None,
                 limits: http.Limits | None = None, max_pages: int = paging.MAX_PAGES) -> None:
        self._token = token
        self.team = team
        self.base = base or api_base(VERCEL_API_BASE, DEFAULT_API_BASE, token)
        self.limits = limits or http.Limits()
        self.max_pages = max_pages

    def env(self, project: str) -> list[dict[str, Any]]:
        """Every variable of the project, values withheld (decrypt is never asked for); `target` a list."""
        path = f"/v10/projects/{urllib.parse.quote(project, safe='')}/env"

        def page(until: int | float | None) -> tuple[list[dict[str, Any]], int | float | None]:
            answer = self._get(path, {} if until is None else {"until": _number(until)})
            wrong = shapes.problem(answer, {"envs": [dict], **_PAGINATION})
            entries = [] if wrong else [_targets_listed(e) for e in answer["envs"]]
            wrong = wrong or shapes.problem(entries, [_ENV], "answer.envs")
            if wrong:
                raise ApiError("malformed", f"GET {path}: {errors.redact(wrong, [self._token])}")
            return entries, (answer.get("pagination") or {}).get("next")

        return list(paging.follow(page, f"GET {path}", self.max_pages))

    def latest_deployment(self, project: str, target: str) -> dict[str, Any] | None:
        """The newest READY deployment of `target` (production or preview), if any."""
        path = "/v6/deployments"
        answer = self._get(path, {"projectId": project, "target": target, "state": "READY", "limit": "1"})
        wrong = shapes.problem(answer, _DEPLOYMENTS)
        if wrong:
            raise ApiError("malformed", f"GET {path}: {errors.redact(wrong, [self._token])}")
        deployments: list[dict[str, Any]] = answer["deployments"]
        return deployments[0] if deployments else None

    def redeploy(self, project: str, target: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A new build of `target`'s latest READY deployment, which reads the variables as they are
        now: (the deployment redeployed, the new one), or None when the target has none yet.

        Vercel's "Create a new deployment" (POST /v13/deployments, docs/rest-api/deployments/
        create-a-new-deployment): `deploymentId` names "an existing deployment to redeploy",
        `target: production` assigns the production aliases (omitted, the target is preview), and
        `name`, the only required field, is the project name the deployment already carries.
        """
        latest = self.latest_deployment(project, target)
        if latest is None:
            return None
        uid, name = latest.get("uid"), latest.get("name")
        if not isinstance(uid, str) or not isinstance(name, str):
            raise ApiError("malformed", "GET /v6/deployments: the latest deployment has no uid or name")
        body = {"name": name, "deploymentId": uid, "project": project,
                **({"target": target} if target == "production" else {})}
        path = "/v13/deployments"
        answer = self._send("POST", path, {}, json.dumps(body).encode())
        wrong = shapes.problem(answer, _CREATED)
        if wrong:
            raise ApiError("malformed", f"POST {path}: {errors.redact(wrong, [self._token])}")
        created: dict[str, Any] = answer
        return latest, created

    def deployment_state(self, deployment: str) -> str:
        """A deployment's `readyState` (QUEUED, BUILDING, READY, ERROR, CANCELED...)."""
        path = f"/v13/deployments/{urllib.parse.quote(deployment, safe='')}"
        answer = self._get(path, {})
        wrong = shapes.problem(answer, {"readyState": str})
        if wrong:
            raise ApiError("malformed", f"GET {path}: {errors.redact(wrong, [self._token])}")
        return str(answer["readyState"])

    def _get(self, path: str, query: dict[str, str]) -> Any:
        return self._send("GET", path, query)

    def _send(self, method: str, path: str, query: dict[str, str], body: bytes | None = None) -> Any:
        if self.team:
            query = {**query, "teamId": self.team}
        url = f"{self.base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                   **({"Content-Type": "application/json"} if body is not None else {})}
        try:
            answer = http.request(method, url, headers, body, limits=self.limits)
        except http.NetworkError as error:
            raise errors.from_network(error) from None
        if not 200 <= answer.status < 300:
            raise errors.from_status(answer.status, _message(answer.body), [self._token], answer.redirect)
        try:
            return json.loads(answer.body, parse_constant=_not_json)
        except (ValueError, RecursionError):
            raise ApiError("malformed", f"{method} {path}: answered {answer.status} with a body that is "
                           "not JSON") from None


def _message(body: bytes) -> str | None:
    """Vercel's `{"error": {"message": ...}}`, if the body is that."""
    try:
        message = json.loads(body)["error"]["message"]
    except (ValueError, RecursionError, KeyError, TypeError):
        return None
    return message if isinstance(message, str) else None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _targets_listed(entry: dict[str, Any]) -> dict[str, Any]:
    """`target` as a list: Vercel's schema allows one environment as a plain string, or none."""
    target = entry.get("target")
    return {**entry, "target": [target] if isinstance(target, str) else [] if target is None else target}


def _number(value: int | float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
