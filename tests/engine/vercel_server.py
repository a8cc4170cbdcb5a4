"""A stateful Vercel project-environment-variable API for the real provider binary.

It answers the calls vercel/terraform-provider-vercel's client makes for
`vercel_project_environment_variable`: create (POST /v10/projects/{id}/env, with
Vercel's 400 ENV_CONFLICT when the key already exists on one of the targets), read
(GET /v10/projects/{id}/env/{env}), list (GET /v8 and /v10 .../env), update (PATCH
/v10/...), delete (DELETE /v8/...); the latest deployments `billing verify hosting`
compares with (GET /v6/deployments); and the redeploy `billing go-live` asks for (POST
/v13/deployments with `deploymentId` and the required `name`, then GET /v13/deployments/{id}:
built, READY, by the time it is asked for). A sensitive variable's value is never answered.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass
class VercelState:
    project_id: str
    token: str
    envs: dict[str, Obj] = field(default_factory=dict)
    deployments: list[Obj] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str, value: str, targets: list[str], kind: str) -> Obj:
        """A variable that exists before any `up` (a team's existing project)."""
        now = int(time.time() * 1000)
        env = {"id": secrets.token_hex(8), "key": key, "value": value, "target": targets, "type": kind,
               "gitBranch": None, "comment": "", "customEnvironmentIds": [], "configurationId": None,
               "createdAt": now, "updatedAt": now, "createdBy": "user_local", "updatedBy": None,
               "decrypted": False}
        self.envs[env["id"]] = env
        return env

    def deploy(self, target: str) -> Obj:
        """A READY deployment made now (`vercel deploy`, or a push that builds the preview)."""
        made = {"uid": "dpl_" + secrets.token_hex(8), "name": "app", "target": target, "state": "READY",
                "readyState": "READY", "createdAt": int(time.time() * 1000) + 1}
        self.deployments.insert(0, made)
        return made

    def by_key(self, key: str) -> list[Obj]:
        return [e for e in self.envs.values() if e["key"] == key]


def _shown(env: Obj, decrypt: bool) -> Obj:
    out = {k: v for k, v in env.items()}
    if env["type"] == "sensitive":
        out.pop("value")
    elif not decrypt:
        out["value"] = "eyJ2IjoiZW5jcnlwdGVkIn0"  # Vercel answers the encrypted blob unless decrypt=true
    else:
        out["decrypted"] = True
    return out


def handle(state: VercelState, method: str, path: str, query: str, headers: Any, body: bytes
           ) -> tuple[int, Obj]:
    with state.lock:
        state.requests.append((method, path))
        if headers.get("Authorization") != f"Bearer {state.token}":
            return 403, {"error": {"code": "forbidden", "message": "Not authorized", "invalidToken": True}}
        project = re.fullmatch(r"/v[0-9]+/projects/([^/]+)", path)
        if project and method == "GET":  # the provider checks the project exists before it writes
            if project.group(1) != state.project_id:
                return 404, {"error": {"code": "not_found", "message": "Project not found"}}
            return 200, {"id": state.project_id, "name": "app", "accountId": "team_local",
                         "framework": "nextjs", "env": [_shown(e, False) for e in state.envs.values()]}
        if path == "/v6/deployments" and method == "GET":  # newest first, as Vercel lists them
            asked = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
            found_deployments = [d for d in state.deployments if asked.get("target") in (None, d["target"])
                                 and asked.get("projectId") == state.project_id]
            return 200, {"deployments": found_deployments[:int(asked.get("limit", "20"))], "pagination": {}}
        if path.startswith("/v13/deployments"):
            return _redeploy(state, method, path, body)
        found = re.fullmatch(r"/v(8|9|10)/projects/([^/]+)/env(?:/([^/]+))?", path)
        if not found or found.group(2) != state.project_id:
            return 404, {"error": {"code": "not_found", "message": "Project not found"}}
        env_id = found.group(3)
        decrypt = "decrypt=true" in query
        if env_id is None and method == "GET":
            return 200, {"envs": [_shown(e, decrypt) for e in state.envs.values()]}
        try:
            sent = json.loads(body or b"{}")
        except ValueError:
            return 400, {"error": {"code": "bad_request", "message": "Invalid JSON body"}}
        if env_id is None and method == "POST":
            return _create(state, sent)
        env = state.envs.get(env_id or "")
        if env is None:
            return 404, {"error": {"code": "not_found", "message": "Environment Variable not found"}}
        if method == "GET":
            return 200, _shown(env, decrypt=True)
        if method == "PATCH":
            for key in ("value", "target", "type", "comment", "gitBranch", "customEnvironmentIds"):
                if key in sent:
                    env[key] = sent[key]
            env["updatedAt"] = int(time.time() * 1000)
            return 200, _shown(env, decrypt=False)
        if method == "DELETE":
            del state.envs[env["id"]]
            return 200, _shown(env, decrypt=False)
        return 405, {"error": {"code": "method_not_allowed", "message": method}}


def _create(state: VercelState, sent: Obj) -> tuple[int, Obj]:
    key, targets = sent.get("key", ""), list(sent.get("target") or [])
    for existing in state.by_key(key):
        clash = sorted(set(existing["target"]) & set(targets))
        if clash and existing.get("gitBranch") == sent.get("gitBranch"):
            return 400, {"error": {
                "code": "ENV_CONFLICT", "key": key, "envVarKey": key, "target": clash,
                "gitBranch": sent.get("gitBranch"),
                "message": f'A variable with the name `{key}` already exists for the target '
                           f'{",".join(clash)} on branch undefined'}}
    env = state.add(key, sent.get("value", ""), targets, sent.get("type", "encrypted"))
    env["comment"] = sent.get("comment", "")
    env["gitBranch"] = sent.get("gitBranch")
    return 201, {"created": _shown(env, decrypt=False), "failed": []}


def _redeploy(state: VercelState, method: str, path: str, body: bytes) -> tuple[int, Obj]:
    one = re.fullmatch(r"/v13/deployments/([^/]+)", path)
    if method == "GET" and one:
        made = next((d for d in state.deployments if d["uid"] == one.group(1)), None)
        if made is None:
            return 404, {"error": {"code": "not_found", "message": "Deployment not found"}}
        made["state"] = made["readyState"] = "READY"
        return 200, {"id": made["uid"], "readyState": "READY", "name": made["name"], "target": made["target"]}
    if method != "POST" or path != "/v13/deployments":
        return 404, {"error": {"code": "not_found", "message": "The requested endpoint was not found"}}
    sent = json.loads(body or b"{}")
    old = next((d for d in state.deployments if d["uid"] == sent.get("deploymentId")), None)
    if not isinstance(sent.get("name"), str):
        return 400, {"error": {"code": "bad_request", "message": "Invalid request: missing required property `name`."}}
    if old is None:
        return 404, {"error": {"code": "not_found", "message": "Deployment not found"}}
    made = state.deploy(sent.get("target") or "preview")
    made["state"] = made["readyState"] = "QUEUED"
    return 200, {"id": made["uid"], "readyState": "QUEUED", "name": made["name"]}
