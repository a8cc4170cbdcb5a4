"""stripe-python's HTTP client, replaced by one that is bounded and never follows a redirect.

stripe-python 16.1 picks `RequestsClient` when requests is installed: an 80 s
timeout per socket read (not per request, so a dripping server holds it
forever), no cap on the body, and redirects followed by requests' defaults.
This client sends each request through `infra.clients.http` instead: a total
deadline, a body cap, and a 3xx refused as an error. After one request finds
the host unreachable (no answer in time, DNS, refused), later requests fail
at once with the same reason, so a dead API costs one deadline, not one per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from infra.clients import errors, http
from infra.clients.errors import ApiError


class BoundedTransport(stripe.HTTPClient):
    name = "billing-bounded"

    def __init__(self, limits: http.Limits | None = None) -> None:
        super().__init__()
        self.limits = limits or http.Limits()
        self.unreachable: ApiError | None = None

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
        *, _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        if self.unreachable is not None:
            raise _connection_error(self.unreachable.again())
        body = post_data.encode() if isinstance(post_data, str) else post_data
        try:
            answer = http.request(method.upper(), url, headers, body, self.limits)
        except http.NetworkError as error:
            failure = errors.from_network(error)
            if failure.unreachable:
                self.unreachable = failure
            raise _connection_error(failure) from failure
        if answer.redirect is not None:
            raise _connection_error(errors.redirected(answer.status, answer.redirect))
        return answer.body.decode("utf-8", "replace"), answer.status, answer.headers

    def request_stream(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None,
        *, _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        raise NotImplementedError("verify and pull never stream")

    def close(self) -> None:
        """Nothing to close: every exchange has its own connection."""


def _connection_error(failure: ApiError) -> stripe.APIConnectionError:
    """What stripe-python expects from a client that got no usable answer; the cause rides along."""
    error = stripe.APIConnectionError(str(failure), should_retry=False)  # type: ignore[no-untyped-call]
    error.__cause__ = failure  # Account reads the reason back from here
    return error
