"""An HTTP server on 127.0.0.1 that misbehaves on purpose, for the clients' and commands' tests.

Each behaviour is what a broken or hostile API or webhook endpoint does over
real HTTP: drip an answer a byte at a time, stall, redirect to another port,
page forever, answer malformed JSON, or refuse with a message that quotes the
caller's credential back. Every loop here is bounded (a byte cap, a wait that
ends at shutdown), so a client that does stop waiting leaves nothing running.
Every request is recorded with its headers, so a test can prove where a
credential went.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any

from tests.servers.json_server import POLL_SECONDS
from tests.servers.local_server import LocalServer


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_CONNECT(self) -> None:  # a client asking this server, as a proxy, for a tunnel
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.owner.requests.append(Seen(self.command, self.path, dict(self.headers.items())))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped waiting
            self.server.owner.behaviour(self)

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, body: Any) -> None:
        self.send(status, json.dumps(body).encode())

    @property
    def credential(self) -> str:
        return (self.headers.get("Authorization") or "").removeprefix("Bearer ")

    @property
    def stopping(self) -> threading.Event:
        return self.server.owner.stop

    def log_message(self, *args: Any) -> None:
        pass


class Server(LocalServer):
    owner: HostileServer


Behaviour = Callable[[Handler], None]


class HostileServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.owner = self
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HostileServer:
        # Polled more often than JsonServer: the hostile matrix starts and stops one server per case.
        threading.Thread(target=self.httpd.serve_forever, args=(POLL_SECONDS / 5,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()  # ends every stalled or dripping handler
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------ behaviours


def drip(every: float = 0.05, most: int = 400, in_headers: bool = False) -> Behaviour:
    """A 200 that arrives a byte at a time (its body, or its headers): never a pause long enough for a
    per-read timeout to fire."""

    def behave(h: Handler) -> None:
        start = b"HTTP/1.1 200 OK\r\n" + (b"" if in_headers else f"Content-Length: {most}\r\n\r\n".encode())
        h.wfile.write(start)
        h.wfile.flush()
        for _ in range(most):
            if h.stopping.wait(every):
                return
            h.wfile.write(b"." if not in_headers else b"X")
            h.wfile.flush()

    return behave


def stall(h: Handler) -> None:
    """Read the request, then say nothing until the test ends."""
    h.stopping.wait(30)


def redirect_to(base: str, status: int = 307) -> Behaviour:
    """Send the caller to another origin (another port), same path: where a credential must not follow."""
    return lambda h: h.send(status, b"", {"Location": base + h.path})


def answer(status: int, body: Any) -> Behaviour:
    """A fixed answer: JSON for objects, raw for bytes (malformed JSON, HTML from a proxy...)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lambda h: h.send(status, raw)


def echoing_error(status: int) -> Behaviour:
    """A Stripe-, Vercel- or Cloudflare-shaped error whose message quotes the credential back, whole and
    masked."""

    def behave(h: Handler) -> None:
        key = h.credential
        message = (f"Invalid API Key provided: {key[:8]}****{key[-4:]}; you sent "
                   f"'Authorization: Bearer {key}' (key {key})")
        # Stripe's and Vercel's `error` object, and Cloudflare's `errors` list, in one body.
        h.send_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                       "code": "forbidden"},
                             "success": False, "errors": [{"code": 10000, "message": message}]})

    return behave


def stripe_list(repeat: bool) -> Behaviour:
    """A Stripe list that always says has_more: the same page every time, or a new object every time."""
    serial = count()

    def behave(h: Handler) -> None:
        suffix = "same" if repeat else str(next(serial))
        h.send_json(200, {"object": "list", "url": h.path.split("?")[0], "has_more": True, "data": [
            {"id": f"obj_{suffix}", "object": "product", "active": True, "livemode": False,
             "metadata": {}, "name": "x", "product": "prod_x", "currency": "usd", "url": "https://x.test/",
             "status": "enabled", "enabled_events": []}]})

    return behave


def vercel_env_pages(repeat: bool) -> Behaviour:
    """Vercel's env list that always names a next page: the same cursor, or a new one each time."""
    serial = count(1_700_000_000_000, -1)

    def behave(h: Handler) -> None:
        cursor = 1_700_000_000_000 if repeat else next(serial)
        h.send_json(200, {"envs": [], "pagination": {"count": 0, "next": cursor, "prev": None}})

    return behave


BEHAVIOURS: dict[str, Callable[[], Behaviour]] = {
    "drip": drip,
    "stall": lambda: stall,
    "malformed JSON": lambda: answer(200, b'{"data": [ {"id": "prod_1",'),
    "wrong types": lambda: answer(200, {"object": "list", "data": [{"id": 5, "active": "yes"}],
                                        "has_more": "no", "envs": {"key": 1}, "deployments": 7}),
    "not JSON at all": lambda: answer(502, b"<html><body>Bad gateway</body></html>"),
    "401": lambda: echoing_error(401),
    "403": lambda: echoing_error(403),
    "404": lambda: echoing_error(404),
    "500": lambda: echoing_error(500),
    "503": lambda: answer(503, b""),
}


def elapsed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = run()
    return result, time.monotonic() - started
