"""Stripe and Vercel on loopback, under their real host names, over real TLS.

The providers call `https://api.stripe.com` and `https://api.vercel.com` and have no
base-URL setting. Their HTTP clients use Go's default transport, which honours
`HTTPS_PROXY` and trusts the roots in `SSL_CERT_FILE`. So the engine runs with
`HTTPS_PROXY` pointing at this CONNECT proxy on 127.0.0.1: a tunnel to one of the two
names is answered here, with TLS under a certificate for that name signed by a CA made
for this run; a tunnel to any other host is refused and recorded, and the test fails.
Nothing leaves the machine and the machine's own trust store is untouched.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.servers.local_server import LocalServer

# host -> (method, path, query, headers, body) -> (status, JSON body)
App = Callable[[str, str, str, Any, bytes], tuple[int, Any]]
HOSTS = ("api.stripe.com", "api.vercel.com", "api.cloudflare.com")
MAX_BODY = 1 << 20


def make_ca(directory: Path, hosts: tuple[str, ...] = HOSTS) -> tuple[Path, Path, Path]:
    """A throwaway CA and one certificate naming every host: (ca.pem, cert.pem, key.pem)."""
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    ext = directory / "san.cnf"
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{h}" for h in hosts) + "\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
        "-days", "2", "-subj", "/CN=billing engine tests CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=api")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key


class LocalInternet:
    """The CONNECT proxy and the two APIs behind it; use as a context manager."""

    def __init__(self, directory: Path, apps: dict[str, App]) -> None:
        self.ca, cert, key = make_ca(directory, tuple(apps))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.refused: list[str] = []
        self.seen: list[tuple[str, str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            tunnel_host = ""

            def do_CONNECT(self) -> None:
                host, _, port = self.path.partition(":")
                if host not in apps or port != "443":
                    owner.refused.append(self.path)
                    self.send_error(403, "only the local Stripe and Vercel are reachable")
                    return
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                self.connection = context.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                self.tunnel_host = host
                self.close_connection = False

            def _serve(self) -> None:
                if not self.tunnel_host:  # a plain request to the proxy: someone skipped TLS
                    owner.refused.append(f"{self.command} {self.path} (not tunnelled)")
                    self.send_error(403, "plain HTTP is refused")
                    return
                path, _, query = self.path.partition("?")
                try:
                    body = self._body()
                except ValueError:  # a malformed chunk size or a body over the bound
                    self.send_error(413, "request body malformed or over the bound")
                    self.close_connection = True
                    return
                owner.seen.append((self.tunnel_host, self.command, path))
                status, answer = apps[self.tunnel_host](self.command, path, query, self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_local")
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

            def _body(self) -> bytes:
                """The request body, plain or chunked (stripe-go sends chunked), at most MAX_BODY."""
                if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
                    return self.rfile.read(min(int(self.headers.get("Content-Length") or 0), MAX_BODY))
                body = b""
                while len(body) <= MAX_BODY:
                    size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(1024).strip():
                            pass  # trailers
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline(8)
                raise ValueError("request body over the bound")

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = LocalServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.proxy_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def env(self) -> dict[str, str]:
        """What a Go process needs to reach the two APIs here and nothing else."""
        return {"HTTPS_PROXY": self.proxy_url, "HTTP_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
                "http_proxy": self.proxy_url, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "SSL_CERT_FILE": str(self.ca)}

    def __enter__(self) -> LocalInternet:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
