"""A Worker script's secrets through Cloudflare's official SDK, with bounded requests.

Used by the dynamic resource that writes each secret (`pulumi up`) and by
`verify hosting`. The SDK speaks the API (paths, auth, error mapping); this
module bounds what it may do: one attempt per call, and every exchange goes
through the project's one bounded request (infra.clients): a total deadline
(connect, headers and body), a cap on the answer's size, and no redirect
ever followed, so the token never reaches another address.
Answers are checked strictly (Cloudflare's envelope: `success`, `errors`,
`result`), and no error message carries the token or a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import cloudflare
import httpx

from infra.catalog.guards import store_secret
from infra.clients import http
from infra.clients.credentials import api_base
from infra.clients.errors import redact
from infra.clients.httpx_transport import BoundedHttpxTransport
from infra.hosts.cloudflare import CloudflareHost

DEFAULT_BASE = CloudflareHost.api_default
# The SDK's own variable for another API root (a gateway; the tests' local server).
BASE_ENV = CloudflareHost.api_base_env
TOKEN_ENV = "CLOUDFLARE_API_TOKEN"  # noqa: S105 (a variable name): wrangler's and the SDK's name
DEADLINE = 30.0
BODY_CAP = 1 << 20
# Cloudflare's error codes this project acts on (wrangler's own constants).
NOT_DEPLOYED = 10215
SCRIPT_NOT_FOUND = 10007
SECRET_TEXT = "secret_text"  # noqa: S105 (a binding type): the only kind `wrangler secret put` makes
_SHOWN = re.compile(r"[^\w .,:;'()\[\]/`\-]")


class CloudflareError(Exception):
    """A failed call, described without the token or any value sent."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Binding:
    name: str
    type: str


class WorkerSecrets:
    """The script-secrets API of one account: list names, put a secret_text, delete one."""

    def __init__(self, token: str, base: str | None = None, deadline: float = DEADLINE,
                 cap: int = BODY_CAP, until: float | None = None) -> None:
        """`deadline`: each request's; `until` (time.monotonic()): the caller's, for all of them."""
        self._token = token
        self.base = base or api_base(BASE_ENV, DEFAULT_BASE, token)
        timeout = httpx.Timeout(deadline, connect=min(deadline, 10.0))
        self._client = cloudflare.Cloudflare(
            api_token=token, base_url=self.base,
            # One attempt per call: `pulumi up` can simply run again, and a retried PUT
            # would deploy one more version of the Worker.
            max_retries=0, timeout=timeout,
            http_client=httpx.Client(transport=BoundedHttpxTransport(http.Limits(deadline, cap, until)),
                                     follow_redirects=False, timeout=timeout),
        )

    def list(self, account: str, script: str) -> list[Binding]:
        """Names and types of the script's secrets; Cloudflare never returns values."""
        answer = self._call(lambda s: s.list(script, account_id=account), script, account, ())
        if not isinstance(answer, list):
            raise CloudflareError("the answer's `result` is not a list of secrets")
        found = []
        for item in answer:
            if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                    and isinstance(item.get("type"), str)):
                raise CloudflareError("the answer lists a secret without a name and a type")
            found.append(Binding(item["name"][:200], item["type"][:50]))
        return found

    def put(self, account: str, script: str, name: str, value: str) -> None:
        """What `wrangler secret put NAME` does: a new version with the secret, deployed at once."""
        self._call(lambda s: s.update(script, account_id=account, name=name, text=value, type=SECRET_TEXT),
                   script, account, (value,))

    def delete(self, account: str, script: str, name: str) -> bool:
        """Remove a secret (a new version without it); False when it, or the script, was already gone."""
        try:
            self._call(lambda s: s.delete(name, account_id=account, script_name=script), script, account, ())
        except CloudflareError as error:
            if error.status == 404:
                return False
            raise
        return True

    def _call(self, request: Callable[[Any], Any], script: str, account: str, sent: Iterable[str]) -> Any:
        hidden = [self._token, *sent]
        try:
            raw = request(self._client.workers.scripts.secrets.with_raw_response)
            body = raw.http_response.json()
        except cloudflare.APIStatusError as error:
            raise _failure(error, script, account, hidden) from None
        except cloudflare.APIConnectionError as error:
            cause = error.__cause__
            detail = _clean(str(cause) if cause else error.message, hidden)
            raise CloudflareError(f"no answer from {self.base}: {detail}") from None
        except ValueError:
            raise CloudflareError("the answer is not JSON") from None
        if not isinstance(body, dict) or body.get("success") is not True:
            raise CloudflareError("the answer does not say `success: true`: "
                                  + _errors(body if isinstance(body, dict) else {}, hidden))
        return body.get("result")


def _failure(error: cloudflare.APIStatusError, script: str, account: str,
             hidden: list[str]) -> CloudflareError:
    status = error.status_code
    body = error.body if isinstance(error.body, dict) else {}
    codes = [e.get("code") for e in body.get("errors") or () if isinstance(e, dict)]
    code = next((c for c in codes if isinstance(c, int)), None)
    said = _errors(body, hidden)
    if 300 <= status < 400:
        return CloudflareError(f"answered {status}, a redirect; it is not followed, so the token is never "
                               "sent to another address: check CLOUDFLARE_BASE_URL", status, code)
    if code == NOT_DEPLOYED:
        return CloudflareError(
            f"Cloudflare refused to edit a secret of Worker script {script!r} because its latest version is "
            "not the deployed one (a `wrangler versions upload` that was never deployed, or a rollback; "
            "cloudflare/workers-sdk#10585): a secret edit deploys the latest version, so it is refused. "
            "Fix: deploy the latest version (`wrangler versions deploy`, or `wrangler deploy` of the code "
            "you mean to run), then run `pulumi up` again", status, code)
    if code == SCRIPT_NOT_FOUND or (status == 404 and "script" in said.lower()):
        return CloudflareError(f"there is no Worker script {script!r} in account {account}: deploy the "
                               "Worker first (`wrangler deploy`), or fix billing:workerScript / "
                               f"billing:cloudflareAccountId ({said})", status, code)
    if status in (401, 403):
        return CloudflareError(f"Cloudflare refused the token ({status}: {said}): it needs Workers Scripts: "
                               f"Edit on account {account}; set it with "
                               f"{store_secret(CloudflareHost.token, None, 'the token')}", status, code)
    return CloudflareError(f"Cloudflare answered {status}: {said}", status, code)


def _errors(body: dict[str, Any], hidden: list[str]) -> str:
    """`[code 10215] message` for each error, shortened, with anything we sent removed."""
    parts = []
    for item in list(body.get("errors") or ())[:3]:
        if isinstance(item, dict):
            code, message = item.get("code"), item.get("message")
            parts.append(f"[code {code if isinstance(code, int) else '?'}] "
                         + _clean(message if isinstance(message, str) else "", hidden))
    return "; ".join(parts) or "no error given"


def _clean(text: str, hidden: list[str]) -> str:
    """A server's text as it may be shown: never a value we sent nor anything token-shaped, printable,
    short."""
    for value in hidden:
        if value:
            text = text.replace(value, "(hidden)")
    return _SHOWN.sub("?", redact(text))[:200]
