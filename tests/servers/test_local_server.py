"""The local servers' own base: a client that hangs up is not reported, a handler's bug is."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from tests.servers.local_server import LocalServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/hung-up":
            raise BrokenPipeError(32, "Broken pipe")  # what writing to a client that left raises
        raise ValueError("a bug in the handler")

    def log_message(self, *args: object) -> None:
        pass


def test_a_client_that_hangs_up_is_not_reported_and_a_handlers_bug_is(capfd: pytest.CaptureFixture[str]) -> None:
    server = LocalServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        for path in ("/hung-up", "/bug"):
            connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
            connection.request("GET", path)
            with pytest.raises(http.client.RemoteDisconnected):
                connection.getresponse()
            connection.close()
    finally:
        server.shutdown()
        server.server_close()  # waits for every handler (block_on_close): each report is written by then
    err = capfd.readouterr().err
    assert "BrokenPipeError" not in err
    assert "ValueError: a bug in the handler" in err
