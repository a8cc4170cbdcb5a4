"""What went wrong with a provider's API, as one sentence that is safe to print.

Every client raises ApiError, whatever the cause: no answer, a refusal, a
redirect, or an answer of the wrong shape. Provider text (an error message)
is shown only after `redact` has removed anything token-shaped, because
providers quote keys back (Stripe's 401 and 403 messages carry the masked
key, `rk_test_****abcd`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from infra.clients.http import NetworkError
from infra.core.redact import KEY_KINDS, MODES

Kind = Literal[
    "auth", "permission", "not found", "rate limited", "server", "status", "redirect",
    "malformed", "too large", "paging",
    "timeout", "dns", "refused", "tls", "connection", "protocol", "url",
]
UNREACHABLE: frozenset[Kind] = frozenset({"timeout", "dns", "refused", "tls", "connection", "protocol",
                                          "url"})
"""No answer came: the next request to the same host would most likely fail the same way."""

_MAX_TEXT = 240
_REDACTED = "[redacted]"
_PATTERNS = (
    # Stripe keys, whole or masked as Stripe masks them in messages ('rk_test_****abcd', 'sk_live_...x').
    re.compile(rf"\b(?:{'|'.join(KEY_KINDS)})_(?:{'|'.join((*MODES, 'prod'))})_[\w*.…]*"),
    re.compile(r"\bwhsec_[\w*.…]*"),
    # Anything masked the way providers mask secrets: 'abcd****wxyz', 'abcd...wxyz'.
    re.compile(r"[\w-]*(?:\*{3,}|\.{3}|…)[\w*-]*(?<![.…])"),
    # A credential after its scheme: 'Bearer abc', 'token abc'.
    re.compile(r"(?i)\b(?:bearer|token|basic)\s+[\w.~+/=*-]+"),
    # Any other long opaque run of letters and digits (Vercel tokens, session IDs), unless it is
    # an object ID of the kind these APIs return (prod_..., price_..., prj_...): those help and are
    # not secret.
    re.compile(r"\b(?!(?:acct|prod|price|we|bpc|evt|req|prj|dpl|team|cus|sub)_)"
               r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}"),
)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Provider text with secrets, token-shaped runs and control characters removed, and bounded."""
    for secret in known:
        if secret:
            text = text.replace(secret, _REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(_REDACTED, text)
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1] + "…"


class ApiError(Exception):
    """A request that produced nothing usable; str() is the reason, safe to print."""

    def __init__(self, kind: Kind, reason: str, status: int | None = None,
                 permissions: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.kind: Kind = kind
        self.status = status
        self.permissions = permissions
        """For `permission`: the names the provider says would allow the call."""

    @property
    def unreachable(self) -> bool:
        return self.kind in UNREACHABLE

    def again(self) -> ApiError:
        """The same failure, for a request not sent because an earlier one found the host unreachable."""
        return ApiError(self.kind, f"{self} (on an earlier request; not tried again)", self.status)

    def fix(self, credential: str, base_variable: str) -> str:
        """The usual remedy; `credential` and `base_variable` name what the user sets."""
        return {
            "auth": f"check {credential}: the provider does not accept it",
            "permission": f"give {credential} the permission the provider names",
            "not found": f"check the ID and {base_variable}; a 404 is not a missing permission",
            "rate limited": "wait a minute and run it again",
            "server": "the provider failed; run it again later (and check its status page)",
            "redirect": f"point {base_variable} at the API itself; a redirect is never followed with a "
                        "credential",
            "malformed": f"the answer is not the provider's API: check {base_variable} (a proxy or "
                         "gateway?)",
            "too large": f"the answer is not the provider's API: check {base_variable}",
            "paging": f"the list never ends: check {base_variable} (a proxy or gateway?)",
            "dns": f"check the network, DNS and {base_variable}",
        }.get(self.kind, f"check the network and {base_variable}")


def from_network(error: NetworkError) -> ApiError:
    return ApiError(error.kind, str(error))


def from_status(status: int, provider_text: str | None, known: Iterable[str] = (),
                location: str | None = None) -> ApiError:
    """A non-2xx answer; the provider's own message is kept, redacted."""
    said = f": {redact(provider_text, known)}" if provider_text else ""
    if 300 <= status < 400:
        return redirected(status, location)
    if status == 401:
        return ApiError("auth", f"the credential was refused (401){said}", status)
    if status == 403:
        return ApiError("permission", f"permission denied (403){said}", status)
    if status == 404:
        return ApiError("not found", f"not found (404){said}", status)
    if status == 429:
        return ApiError("rate limited", f"rate limited (429){said}", status)
    if status >= 500:
        return ApiError("server", f"server error ({status}){said}", status)
    return ApiError("status", f"unexpected answer ({status}){said}", status)


def redirected(status: int, location: str | None) -> ApiError:
    return ApiError("redirect", f"answered with a redirect ({status} to {origin(location)}); not followed, "
                    "since the credential would go with it", status)


def origin(location: str | None) -> str:
    """Where a URL points, without its path or query (either may carry a token)."""
    if not location:
        return "nowhere"
    try:
        parts = urlsplit(location)
        where = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "an invalid URL"
    return redact(where) if parts.hostname else "a relative path"
