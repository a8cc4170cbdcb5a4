"""The app's webhook endpoint on 127.0.0.1: a receiver function served over real HTTP, and the
receiver README tells users to write (stripe-python's construct_event with a tolerance)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import stripe

from tests.servers.json_server import POLL_SECONDS
from tests.servers.local_server import LocalServer

# A receiver takes (raw body, Stripe-Signature header or None, secret) and returns a status.
Receiver = Callable[[bytes, "str | None", str], int]


def reference(body: bytes, header: str | None, secret: str) -> int:
    """What the README tells users to write: construct_event with an explicit tolerance."""
    try:
        stripe.Webhook.construct_event(body, header, secret, tolerance=300)
    except (stripe.SignatureVerificationError, ValueError):
        return 400
    return 200


def crashes_on_unhandled_type(body: bytes, header: str | None, secret: str) -> int:
    status = reference(body, header, secret)
    return 500 if status == 200 else status


@pytest.fixture
def secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@pytest.fixture
def serve(secret: str) -> Iterator[Callable[[Receiver], str]]:
    servers: list[LocalServer] = []

    def start(receiver: Receiver) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver(body, self.headers.get("Stripe-Signature"), secret)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = LocalServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/webhook/stripe"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
