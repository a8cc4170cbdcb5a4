"""A Vercel-shaped API on 127.0.0.1: a project's env variables and its deployments.

Answers GET /v10/projects/{id}/env and GET /v6/deployments as Vercel does
(values of sensitive variables are never in the list; times in milliseconds;
deployments newest first, filtered by project, target and state),
and 403 `forbidden` for a token it does not know. Records every request. It
also redeploys (POST /v13/deployments with `deploymentId`, `name` required, as
Vercel's "Create a new deployment"): the new deployment is QUEUED, then READY
once it has been asked for (GET /v13/deployments/{id}).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from tests.servers.json_server import JsonServer


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class VercelProject:
    project_id: str
    token: str
    envs: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    """Path -> the status Vercel answers there instead, with Vercel's error body."""
    created: list[dict[str, Any]] = field(default_factory=list)
    """The body of every POST /v13/deployments."""

    def env(self, key: str, targets: list[str], sensitive: bool, updated: int | None = None) -> dict[str, Any]:
        stamp = updated or now_ms()
        entry = {"id": secrets.token_hex(8), "key": key, "type": "sensitive" if sensitive else "encrypted",
                 "target": targets, "configurationId": None, "createdAt": stamp, "updatedAt": stamp,
                 "createdBy": "user_local", "updatedBy": None, "decrypted": False}
        if not sensitive:
            entry["value"] = "eyJ2IjoiZW5jcnlwdGVkIn0"  # Vercel returns the encrypted blob, not the value
        self.envs.append(entry)
        return entry

    def deployment(self, target: str, created: int) -> dict[str, Any]:
        item = {"uid": "dpl_" + secrets.token_hex(10), "name": "app", "url": "app-local.vercel.app",
                "created": created, "createdAt": created, "state": "READY", "readyState": "READY",
                "target": target, "type": "LAMBDAS", "creator": {"uid": "user_local"}}
        self.deployments.insert(0, item)
        return item

    def answer(self, method: str, path: str, query: dict[str, list[str]], auth: str | None
               ) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path, query))
        if auth != f"Bearer {self.token}":
            return 403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}
        if path in self.failures:
            return self.failures[path], {"error": {"code": "internal_server_error",
                                                   "message": "An unexpected error occurred."}}
        if method != "GET":
            return 405, {"error": {"code": "method_not_allowed", "message": "read only"}}
        if path == f"/v10/projects/{self.project_id}/env":
            return 200, {"envs": self.envs}
        if path.startswith("/v10/projects/"):
            return 404, {"error": {"code": "not_found", "message": "Project not found"}}
        if path == "/v6/deployments":
            # Newest first, as Vercel lists them, whatever order the test made them in.
            found = sorted((d for d in self.deployments
                            if query.get("projectId") == [self.project_id]
                            and d["target"] == query.get("target", [d["target"]])[0]
                            and d["state"] == query.get("state", [d["state"]])[0]),
                           key=lambda d: -int(d.get("createdAt") or 0))
            limit = int(query.get("limit", ["20"])[0])
            return 200, {"deployments": found[:limit],
                         "pagination": {"count": min(limit, len(found)), "next": None, "prev": None}}
        return 404, {"error": {"code": "not_found", "message": "The requested endpoint was not found"}}


    def answer_body(self, method: str, path: str, query: dict[str, list[str]], auth: str | None, body: bytes
                    ) -> tuple[int, dict[str, Any]]:
        one = re.fullmatch(r"/v13/deployments/([^/]+)", path)
        if auth != f"Bearer {self.token}" or path in self.failures or not (
                (method, path) == ("POST", "/v13/deployments") or (method == "GET" and one)):
            return self.answer(method, path, query, auth)
        self.requests.append((method, path, query))
        if one:
            found = next((d for d in self.deployments if d["uid"] == one.group(1)), None)
            if found is None:
                return 404, {"error": {"code": "not_found", "message": "Deployment not found"}}
            found["state"] = found["readyState"] = "READY"  # built by the time it is asked for
            return 200, {"id": found["uid"], "readyState": found["readyState"],
                         "name": found["name"], "url": found["url"], "target": found["target"]}
        sent = json.loads(body or b"{}")
        self.created.append(sent)
        old = next((d for d in self.deployments if d["uid"] == sent.get("deploymentId")), None)
        if not isinstance(sent.get("name"), str):
            return 400, {"error": {"code": "bad_request", "message": "Invalid request: missing required "
                                                                      "property `name`."}}
        if old is None:
            return 404, {"error": {"code": "not_found", "message": "Deployment not found"}}
        made = self.deployment(sent.get("target") or "preview", now_ms() + 1)
        made["state"] = made["readyState"] = "QUEUED"
        return 200, {"id": made["uid"], "readyState": "QUEUED", "name": made["name"], "url": made["url"]}


class VercelServer(JsonServer):
    def __init__(self, project: VercelProject) -> None:
        super().__init__(answer_body=project.answer_body)
