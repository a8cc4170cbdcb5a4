"""A Cloudflare-API-shaped server on 127.0.0.1: one account's Worker scripts and their secrets.

Answers the script-secrets calls as Cloudflare does, in its envelope
(`{"success", "errors", "messages", "result"}`): list names and types (never
values), PUT a secret_text (a new version, deployed), DELETE one. Its
failures use Cloudflare's codes: 10000 for a token or account it refuses,
10007 for a script that does not exist, and 10215 when the script's latest
version is not the deployed one (cloudflare/workers-sdk#10585). Records every
request; keeps each value only so tests can check what was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.servers.json_server import JsonServer

PREFIX = "/client/v4"
_SECRETS = re.compile(PREFIX + r"/accounts/([^/]+)/workers/scripts/([^/]+)/secrets(?:/([^/]+))?")


def envelope(result: Any = None, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"success": not errors, "errors": errors or [], "messages": [], "result": result}


def error(code: int, message: str) -> dict[str, Any]:
    return envelope(errors=[{"code": code, "message": message}])


@dataclass
class Script:
    secrets: dict[str, str] = field(default_factory=dict)  # name -> value
    types: dict[str, str] = field(default_factory=dict)
    versions: int = 1
    latest_deployed: bool = True


@dataclass
class WorkerAccount:
    account_id: str
    token: str
    scripts: dict[str, Script] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def script(self, name: str, **secrets: str) -> Script:
        made = self.scripts.setdefault(name, Script())
        for key, value in secrets.items():
            made.secrets[key], made.types[key] = value, "secret_text"
        return made

    def answer(self, method: str, path: str, query: dict[str, list[str]], auth: str | None, body: bytes
               ) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path))
        match = _SECRETS.fullmatch(path)
        if auth != f"Bearer {self.token}" or (match and match.group(1) != self.account_id):
            return 403, error(10000, "Authentication error")
        if match is None:
            return 404, error(7003, "Could not route to " + path + ", perhaps your object identifier is invalid?")
        script = self.scripts.get(match.group(2))
        if script is None:
            return 404, error(10007, "This Worker does not exist on your account.")
        name = match.group(3)
        if method == "GET" and name is None:
            return 200, envelope([{"name": n, "type": script.types[n]} for n in sorted(script.secrets)])
        if method in ("PUT", "DELETE") and not script.latest_deployed:
            return 400, error(10215, "Secret edit failed. You attempted to modify a secret, but the latest "
                                     "version of your Worker isn't currently deployed.")
        if method == "PUT" and name is None:
            sent = json.loads(body)
            script.secrets[sent["name"]], script.types[sent["name"]] = sent["text"], sent["type"]
            script.versions += 1
            return 200, envelope({"name": sent["name"], "type": sent["type"]})
        if method == "DELETE" and name is not None:
            if name not in script.secrets:
                return 404, error(10056, "Binding name not found")
            del script.secrets[name], script.types[name]
            script.versions += 1
            return 200, envelope(None)
        return 405, error(10405, "Method not allowed")


class CloudflareServer(JsonServer):
    def __init__(self, account: WorkerAccount) -> None:
        super().__init__(answer_body=account.answer)

    @property
    def api(self) -> str:
        """The base URL the SDK is pointed at (Cloudflare's own ends in /client/v4)."""
        return self.base + PREFIX


@pytest.fixture
def cloudflare(account: WorkerAccount, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudflareServer]:
    """The test module's `account` served on 127.0.0.1, with the SDK's base URL pointed at it."""
    with CloudflareServer(account) as running:
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", running.api)
        yield running
