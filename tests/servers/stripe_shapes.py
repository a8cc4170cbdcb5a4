"""Holding a local Stripe's answers to stripe-python's typed classes, and one over HTTP to ask.

For tests/servers/test_stripe_server_shapes.py (the catalog the provider makes) and
tests/servers/test_stripe_payments_shapes.py (what a payment makes): each attribute those
classes declare, at every depth of their nested classes, is in the answer, except the few
Stripe answers only in some cases (EXCEPTIONS, each with its reason).
"""

from __future__ import annotations

import json
import threading
import typing
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import stripe
import stripe.billing_portal
import stripe.checkout
import stripe.entitlements

from tests.servers.local_server import LocalServer

API_KEY = "sk_test_" + "local" * 4
MAX_BODY = 1 << 20

# Attributes stripe-python declares that Stripe answers only in some cases. Keyed by class
# __qualname__; `*` applies to every class.
EXCEPTIONS: dict[str, dict[str, str]] = {
    "*": {"deleted": "only on the answer to a DELETE (stripe-python: 'Always true for a deleted object')"},
    "Event": {"account": "only on an event of a connected account (stripe-python: 'The connected account "
                         "that originates the event')",
              "context": "only on an event another account's authentication is needed to fetch (stripe-python: "
                         "'Authentication context needed to fetch the event or related object')"},
    "WebhookEndpoint": {"secret": "only in the create answer (stripe-go v78 / stripe-python: 'Only returned "
                                  "at creation'); checked there by test_webhook_secret_only_on_create"},
}


# --- the server over HTTP ----------------------------------------------------------------
# (method, path, query, headers, body) -> (status, JSON body): tests/engine/stripe_server.py's `app(state)`
App = Callable[[str, str, str, Any, bytes], tuple[int, Any]]


class LocalStripe:
    """A local Stripe's `app` on 127.0.0.1 over plain HTTP, reads bounded; a context manager."""

    def __init__(self, answer: App) -> None:

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    status, body = 413, {"error": {"type": "invalid_request_error", "message": "too large"}}
                else:
                    path, _, query = self.path.partition("?")
                    status, body = answer(self.command, path, query, self.headers, self.rfile.read(length))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = LocalServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # No proxy from the environment: the request goes to loopback and nowhere else.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __enter__(self) -> LocalStripe:
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def call(self, method: str, path: str, params: dict[str, Any] | None = None,
             key: str = API_KEY, idempotency_key: str | None = None) -> tuple[int, dict[str, Any]]:
        encoded = form(params or {})
        url, data = self.base + path, None
        if method == "POST":
            data = encoded.encode()
        elif encoded:
            url += "?" + encoded
        request = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310 (http://127.0.0.1)
            "Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded",
            **({"Idempotency-Key": idempotency_key} if idempotency_key else {})})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def ok(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        status, body = self.call(method, path, params)
        assert status == 200, (method, path, body)
        return body


def form(params: dict[str, Any], prefix: str = "") -> str:
    """stripe-go's encoding: nested objects and arrays in brackets, arrays indexed."""
    from urllib.parse import quote

    pairs: list[str] = []

    def add(name: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(f"{name}[{key}]", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                add(f"{name}[{index}]", item)
        else:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            pairs.append(f"{quote(name, safe='[]')}={quote(text, safe='')}")

    for key, value in params.items():
        add(f"{prefix}[{key}]" if prefix else key, value)
    return "&".join(pairs)


# --- stripe-python's declared attributes -------------------------------------------------
def declared(cls: type) -> dict[str, Any]:
    """Every public, non-ClassVar attribute annotated on cls or a base, with its annotation.

    The annotations as stripe-python evaluates them at import (typing.get_type_hints cannot
    resolve its forward references to sibling modules); a reference left as a string or
    ForwardRef ('Feature', 'Product') is resolved by _resolve.
    """
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        for name, hint in vars(klass).get("__annotations__", {}).items():
            if name.startswith("_") or typing.get_origin(hint) is typing.ClassVar:
                continue
            if isinstance(hint, str) and hint.startswith(("ClassVar", "typing.ClassVar")):
                continue
            out[name] = hint
    return out


def _resolve(ref: Any) -> Any:
    """A forward reference to a resource class ('Price', 'Feature'), resolved against stripe."""
    name = ref.__forward_arg__ if isinstance(ref, typing.ForwardRef) else ref
    if isinstance(name, str):
        for where in (stripe, stripe.entitlements, stripe.billing_portal, stripe.checkout):
            found = getattr(where, name, None)
            if isinstance(found, type):
                return found
        return None
    return ref


def _shapes(hint: Any) -> list[tuple[str, type]]:
    """The StripeObject classes a type names: ("obj"|"list"|"map", class)."""
    hint = _resolve(hint)
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and issubclass(hint, stripe.StripeObject) and origin is None:
        return [("obj", hint)]
    args = typing.get_args(hint)
    if origin in (list, typing.List):  # noqa: UP006 (what stripe-python writes)
        return [("list", cls) for _, cls in _shapes(args[0])] if args else []
    if isinstance(origin, type) and issubclass(origin, stripe.StripeObject):  # UntypedStripeObject[T]: a map
        return [("map", cls) for _, cls in _shapes(args[-1])] if args else []
    return [shape for arg in args for shape in _shapes(arg)]


def hold(answer: Any, cls: type, where: str, seen: set[str], skip: frozenset[str] = frozenset()) -> None:
    """Every attribute cls declares is in answer, and so on down its nested classes."""
    assert isinstance(answer, dict), f"{where}: {answer!r} is not an object ({cls.__qualname__})"
    seen.add(cls.__qualname__)
    exempt = {**EXCEPTIONS["*"], **EXCEPTIONS.get(cls.__qualname__, {})}
    missing = sorted(n for n in declared(cls) if n not in answer and n not in exempt
                     and f"{where}.{n}" not in skip)
    assert not missing, f"{where} ({cls.__qualname__}) lacks {missing}; it answers {sorted(answer)}"
    for name, hint in declared(cls).items():
        value = answer.get(name)
        if value is None or isinstance(value, str):
            continue  # null, or an expandable field answered as an ID
        for shape, inner in _shapes(hint):
            if shape == "list" and isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        hold(item, inner, f"{where}.{name}[{index}]", seen, skip)
            elif shape == "map" and isinstance(value, dict) and value.get("object") != "list":
                # A map of objects; a ListObject (`{"object": "list", "data": [...]}`) is not one.
                for key, item in value.items():
                    hold(item, inner, f"{where}.{name}[{key}]", seen, skip)
            elif shape == "obj" and isinstance(value, dict) and value.get("object", "") != "list":
                hold(value, inner, f"{where}.{name}", seen, skip)


def nested(cls: type, top: type | None = None) -> set[str]:
    """The nested classes of cls (defined inside it), at every depth."""
    top = top or cls
    out: set[str] = set()
    for hint in declared(cls).values():
        for _, inner in _shapes(hint):
            name = inner.__qualname__
            if name.startswith(top.__qualname__ + ".") and name not in out:
                out |= {name, *nested(inner, top)}
    return out
