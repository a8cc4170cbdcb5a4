"""A JSON API on 127.0.0.1 for the tests' Stripe-, Vercel- and Cloudflare-shaped servers."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.servers.local_server import LocalServer

POLL_SECONDS = 0.05
# (method, path, query, Authorization header) -> (status, JSON body)
Answer = Callable[[str, str, dict[str, list[str]], "str | None"], tuple[int, dict[str, Any]]]
# The same, with the request body last (servers that are written to).
BodyAnswer = Callable[[str, str, dict[str, list[str]], "str | None", bytes], tuple[int, dict[str, Any]]]


class JsonServer:
    """Serves `answer` over real HTTP on an ephemeral port; use as a context manager."""

    def __init__(self, answer: Answer | None = None, headers: Callable[[], dict[str, str]] | None = None,
                 answer_body: BodyAnswer | None = None) -> None:
        extra = headers or dict

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply("GET")

            def do_POST(self) -> None:
                self._reply("POST")

            def do_DELETE(self) -> None:
                self._reply("DELETE")

            def do_PUT(self) -> None:
                self._reply("PUT")

            def _reply(self, method: str) -> None:
                url = urlparse(self.path)
                query, auth = parse_qs(url.query), self.headers.get("Authorization")
                if answer_body is not None:
                    sent = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    status, body = answer_body(method, url.path, query, auth, sent)
                else:
                    assert answer is not None
                    status, body = answer(method, url.path, query, auth)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in extra().items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = LocalServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def over_tls(self, certificate: Path) -> JsonServer:
        """Serve https with `certificate` (from `loopback_certificate`; its key lies beside it)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate.with_suffix(".key"))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base = self.base.replace("http://", "https://", 1)
        return self

    def __enter__(self) -> JsonServer:
        # A short poll: shutdown() waits up to one interval, at every test's teardown.
        threading.Thread(target=self.httpd.serve_forever, args=(POLL_SECONDS,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def loopback_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1, its key beside it: trusted through SSL_CERT_FILE, it lets
    a live key reach a local server over https, the only way the client sends one."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(directory / "loopback.key"), "-out", str(directory / "loopback.crt")],
                   check=True, capture_output=True, timeout=60)
    return directory / "loopback.crt"
