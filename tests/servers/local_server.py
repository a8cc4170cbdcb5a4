"""The HTTP server every local test server runs on: ThreadingHTTPServer, quiet when a client hangs up.

A client that stops reading mid-answer (every deadline and size-cap test makes one) is not the
server's error, and printing its traceback from the handler's thread is harmful as well as noisy:
Python 3.11's traceback module runs `ast.parse` to underline the failing expression, and 3.11
keeps the AST constructor's recursion count in state all threads share (CPython gh-106905), so a
test parsing source in its own thread at that moment failed with "SystemError: AST constructor
recursion depth mismatch". Any other error in a handler is still printed.
"""

from __future__ import annotations

import ssl
import sys
from http.server import ThreadingHTTPServer
from typing import Any

HUNG_UP = (ConnectionError, ssl.SSLEOFError, ssl.SSLZeroReturnError)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], HUNG_UP):
            return
        super().handle_error(request, client_address)
