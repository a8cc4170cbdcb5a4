"""The bounded request (infra.clients.http) as an httpx transport, for SDKs built on httpx.

Cloudflare's official SDK sends through httpx; giving it this transport puts
its calls under the same rules as every other request here: one total
deadline, a cap on the answer, no redirect followed. The answer is asked for
uncompressed and handed over without its Content-Encoding, because the cap
counts the bytes read: a compressed answer could expand far past it.
"""

from __future__ import annotations

import httpx

from infra.clients import http


class BoundedHttpxTransport(httpx.BaseTransport):
    def __init__(self, limits: http.Limits) -> None:
        self.limits = limits

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() != "accept-encoding"}
        headers["Accept-Encoding"] = "identity"
        try:
            answer = http.request(request.method, str(request.url), headers, request.read() or None,
                                  self.limits)
        except http.NetworkError as error:
            failure = httpx.ReadTimeout if error.kind == "timeout" else httpx.TransportError
            raise failure(str(error), request=request) from error
        kept = [(name, value) for name, value in answer.headers.items() if name != "content-encoding"]
        return httpx.Response(answer.status, headers=kept, content=answer.body, request=request)
