"""infra/clients against misbehaving servers on 127.0.0.1: deadlines, caps, redirects, paging, shapes."""

from __future__ import annotations

import argparse
import gzip
import math
import socket
import time
from typing import Any

import httpx
import pytest

from infra.clients import errors, http, paging, shapes
from infra.clients.errors import ApiError, redact
from infra.clients.httpx_transport import BoundedHttpxTransport
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.clients.vercel_api import Vercel
from tests.servers.hostile_server import (
    BEHAVIOURS,
    HostileServer,
    answer,
    drip,
    redirect_to,
    stall,
    stripe_list,
    vercel_env_pages,
)
from tests.support.project import key

DEADLINE = 0.2
SLACK = 0.7  # thread start, connect and teardown on a busy 2-core machine
LIMITS = http.Limits(DEADLINE)


def fetch(url: str, limits: http.Limits = LIMITS) -> http.Answer:
    return http.request("GET", url, {"Authorization": "Bearer secret-token"}, limits=limits)


@pytest.mark.parametrize("behaviour", [drip(), drip(in_headers=True), stall], ids=["body", "headers", "stall"])
def test_a_dripping_or_stalled_answer_ends_at_the_total_deadline(behaviour: Any) -> None:
    with HostileServer(behaviour) as server:
        started = time.monotonic()
        with pytest.raises(http.NetworkError) as raised:
            fetch(server.base + "/v1/products")
        seconds = time.monotonic() - started
    assert raised.value.kind == "timeout"
    assert f"no complete answer within {DEADLINE:g}s" in str(raised.value)
    # Per-read timeouts would never fire: a byte arrives every 0.05 s.
    assert DEADLINE <= seconds < DEADLINE + SLACK


def test_the_stage_that_stalled_is_named() -> None:
    with HostileServer(drip()) as server, pytest.raises(http.NetworkError, match=r"stalled reading the body \(\d+ bytes so far\)"):
        fetch(server.base)
    with HostileServer(stall) as server, pytest.raises(http.NetworkError, match="stalled waiting for the status line and headers"):
        fetch(server.base)


def test_a_redirect_is_returned_not_followed_and_the_token_stays_home() -> None:
    with HostileServer(answer(200, {"ok": True})) as elsewhere, \
            HostileServer(redirect_to(elsewhere.base)) as server:
        got = fetch(server.base + "/v10/projects/prj_1/env")
    assert got.status == 307 and got.redirect == elsewhere.base + "/v10/projects/prj_1/env"
    assert elsewhere.requests == []  # nothing, so no token, reached the other port
    assert server.requests[0].headers["Authorization"] == "Bearer secret-token"


def test_a_body_over_the_cap_is_refused_announced_or_not() -> None:
    small = http.Limits(DEADLINE, max_bytes=1024)
    with HostileServer(answer(200, b"x" * 5000)) as server, pytest.raises(http.NetworkError, match="announces 5000 bytes, over the 1 KiB cap"):
        fetch(server.base, small)

    def unannounced(h: Any) -> None:  # no Content-Length: read until close
        h.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n" + b"y" * 5000)

    with HostileServer(unannounced) as server, pytest.raises(http.NetworkError, match="over the 1 KiB cap") as raised:
        fetch(server.base, small)
    assert raised.value.kind == "too large"


def test_no_answer_is_named_for_what_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    # A name that does not resolve: answered at once, as a resolver that is reachable answers. (Where
    # the resolver itself stalls, as this sandbox's does under load, the total deadline ends the
    # request as a timeout, which is the truth there; the naming is what this test is about.)
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "api.billing-verify.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(http.NetworkError) as refused:
            fetch(f"http://127.0.0.1:{port}/")
    assert refused.value.kind == "refused" and f"connection refused by 127.0.0.1:{port}" in str(refused.value)
    with pytest.raises(http.NetworkError) as unknown:
        fetch("https://api.billing-verify.invalid/v1/products")
    assert unknown.value.kind == "dns"
    assert str(unknown.value) == "could not resolve host api.billing-verify.invalid"
    assert "refused" not in str(unknown.value)
    with pytest.raises(http.NetworkError, match="not an http"):
        fetch("file:///etc/passwd")


def test_the_environments_proxy_is_used_as_urllib_and_requests_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(answer(200, {"via": "proxy"})) as proxy:
        monkeypatch.setenv("http_proxy", f"http://user:p%40ss@127.0.0.1:{proxy.httpd.server_address[1]}")
        got = fetch("http://api.billing.test:8080/v1/products?limit=1")
        assert got.body == b'{"via": "proxy"}'
        seen = proxy.requests[0]
        assert seen.path == "http://api.billing.test:8080/v1/products?limit=1"
        assert seen.headers["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
        monkeypatch.setenv("no_proxy", "api.billing.test")
        with pytest.raises(http.NetworkError) as direct:
            fetch("http://api.billing.test:8080/")
        assert direct.value.kind == "dns" and len(proxy.requests) == 1


def test_https_goes_through_the_proxy_in_a_tunnel(monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileServer(answer(403, {"error": "tunnels not allowed"})) as proxy:
        monkeypatch.setenv("https_proxy", f"127.0.0.1:{proxy.httpd.server_address[1]}")
        with pytest.raises(http.NetworkError, match="Tunnel connection failed: 403") as raised:
            # What the tunnel is asked and answered is the point, not the deadline: time enough under load.
            fetch("https://api.stripe.com/v1/products", http.Limits(10))
    assert raised.value.kind == "connection"
    assert [(r.method, r.path) for r in proxy.requests] == [("CONNECT", "api.stripe.com:443")]
    assert "Authorization" not in proxy.requests[0].headers  # the key goes inside the tunnel only


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "-inf", "0", "301", "ten", ""])
def test_timeout_flag_refuses_what_is_not_a_deadline(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="greater than 0 and at most 300"):
        http.seconds_flag(text)


def test_timeout_flag_takes_seconds() -> None:
    assert http.seconds_flag("0.5") == 0.5 and http.seconds_flag("300") == 300
    assert not math.isnan(http.seconds_flag("1e1"))


# ------------------------------------------------------------------ errors


def test_redact_removes_keys_masked_keys_secrets_and_tokens_but_keeps_object_ids() -> None:
    live, vercel = key("sk", "live"), "vercel" + "T0ken" * 5
    text = (f"Invalid API Key provided: rk_test_****abcd and {live}; rk_live_...9xQz; pk_test_51Hx "
            f"whsec_{'a' * 32}; Authorization: Bearer {vercel}; token ghp_{'Z9' * 18}; "
            "No such price: 'price_1MoBy5LkdIwHu7ixZhnattbh' on account 'acct_1Local000000' (prj_Test123)")
    shown = redact(text)
    for secret in ("rk_test_", "abcd", live, "rk_live_", "9xQz", "pk_test_", "whsec_", vercel, "T0ken", "Z9Z9"):
        assert secret not in shown, secret
    for kept in ("price_1MoBy5LkdIwHu7ixZhnattbh", "acct_1Local000000", "prj_Test123", "No such price"):
        assert kept in shown
    assert redact("short", known=["short"]) == "[redacted]"
    assert redact("a\x1b[31mred\x07\nline") == "a [31mred  line"
    assert len(redact("word " * 200)) <= 240


@pytest.mark.parametrize(("status", "kind"), [(401, "auth"), (403, "permission"), (404, "not found"),
                                              (429, "rate limited"), (500, "server"), (503, "server"),
                                              (418, "status"), (302, "redirect")])
def test_each_status_has_its_own_kind(status: int, kind: str) -> None:
    error = errors.from_status(status, "message", location="https://evil.example:8443/x?token=abc")
    assert error.kind == kind and error.status == status
    if kind == "redirect":
        assert "https://evil.example:8443" in str(error) and "token=abc" not in str(error)
    assert (kind == "not found") == ("a 404 is not a missing permission" in error.fix("KEY", "BASE"))


# ------------------------------------------------------------------ paging and shapes


def test_paging_stops_at_a_repeated_cursor_and_at_the_cap() -> None:
    calls: list[str | None] = []

    def repeating(cursor: str | None) -> tuple[list[int], str | None]:
        calls.append(cursor)
        return [1], "same"

    with pytest.raises(ApiError, match="a page cursor it had already sent") as raised:
        list(paging.follow(repeating, "GET /v1/products"))
    assert raised.value.kind == "paging" and calls == [None, "same"]

    def endless(cursor: int | None) -> tuple[list[int], int | None]:
        return [cursor or 0], (cursor or 0) + 1

    with pytest.raises(ApiError, match="still more after 7 pages"):
        list(paging.follow(endless, "GET /v1/prices", max_pages=7))
    assert list(paging.follow(lambda c: ([c or 0], None if c == 3 else (c or 0) + 1), "x")) == [0, 1, 2, 3]


def test_shapes_name_the_first_field_that_is_wrong() -> None:
    spec: shapes.Spec = {"id": str, "metadata": shapes.Opt(shapes.STRINGS), "n": shapes.Opt(int),
                         "items": [{"url": shapes.URL}], "at": shapes.Opt(shapes.NUMBER)}
    good = {"id": "prod_1", "metadata": None, "items": [{"url": "https://a.example/x"}], "at": 1.5}
    assert shapes.problem(good, spec) is None
    assert shapes.problem({**good, "id": None}, spec) == "answer.id is missing, expected a string"
    assert shapes.problem({**good, "n": True}, spec) == "answer.n is true/false, expected an integer"
    assert shapes.problem({**good, "metadata": {"plan": 5}}, spec) == (
        "answer.metadata is an object, expected an object of strings")
    assert shapes.problem({**good, "items": [{"url": "https://[::1"}]}, spec) == (
        "answer.items[0].url is a string, expected a URL")
    assert shapes.problem({**good, "at": math.inf}, spec) == "answer.at is a number, expected a number"
    assert shapes.problem([], spec) == "answer is a list, expected an object"


# ------------------------------------------------------------------ the Stripe and Vercel clients


def test_stripe_python_gets_the_bounded_transport_deadline_and_all() -> None:
    read_key = key("rk", "test", "Dl1p")
    with HostileServer(drip()) as server:
        transport = BoundedTransport(LIMITS)
        account = Account(read_key, server.base, transport)
        with pytest.raises(ApiError) as first:
            account.products()
        started = time.monotonic()
        with pytest.raises(ApiError) as second:
            account.prices()
        again = time.monotonic() - started
    assert first.value.kind == "timeout" and second.value.kind == "timeout"
    assert again < 0.1 and "not tried again" in str(second.value)  # a dead host is not waited for twice
    assert len(server.requests) == 1
    assert transport.unreachable is not None


def test_stripe_redirects_are_refused_and_the_key_stays_home() -> None:
    read_key = key("rk", "test", "Rd1r")
    with HostileServer(stripe_list(repeat=False)) as elsewhere, \
            HostileServer(redirect_to(elsewhere.base, 302)) as server:
        with pytest.raises(ApiError) as raised:
            Account(read_key, server.base, BoundedTransport(LIMITS)).products()
        error = Account(read_key, server.base, BoundedTransport(LIMITS)).probe("/v1/balance")
    assert raised.value.kind == "redirect" and error is not None and error.kind == "redirect"
    assert elsewhere.requests == []
    assert f"302 to {elsewhere.base}" in str(raised.value)


@pytest.mark.parametrize("repeat", [True, False], ids=["same cursor", "endless"])
def test_stripe_lists_that_never_end_are_stopped(repeat: bool) -> None:
    with HostileServer(stripe_list(repeat)) as server:
        account = Account(key("rk", "test", "Pg1n"), server.base, BoundedTransport(LIMITS), max_pages=5)
        with pytest.raises(ApiError) as raised:
            account.products()
    assert raised.value.kind == "paging"
    assert len(server.requests) == (2 if repeat else 5)


def test_vercel_follows_pagination_next_as_until_and_stops_when_it_repeats() -> None:
    token = "vercel" + "T0ken" * 5
    with HostileServer(vercel_env_pages(repeat=False)) as server, pytest.raises(ApiError, match="still more after 4 pages"):
        Vercel(token, base=server.base, limits=LIMITS, max_pages=4).env("prj_1")
    assert [r.path.partition("?")[2] for r in server.requests] == [
        "", "until=1700000000000", "until=1699999999999", "until=1699999999998"]
    with HostileServer(vercel_env_pages(repeat=True)) as server, pytest.raises(ApiError, match="already sent"):
        Vercel(token, base=server.base, limits=LIMITS).env("prj_1")
    assert len(server.requests) == 2


def test_vercel_reads_every_page_and_a_single_target_string() -> None:
    pages = {None: ({"key": "A", "target": ["production"], "type": "sensitive"}, 5),
             "5": ({"key": "B", "target": "preview", "type": "encrypted"}, None)}

    def paged(h: Any) -> None:
        until = h.path.partition("until=")[2] or None
        entry, following = pages[until]
        h.send_json(200, {"envs": [entry], "pagination": {"count": 1, "next": following, "prev": None}})

    with HostileServer(paged) as server:
        found = Vercel("t" * 24, base=server.base, limits=LIMITS).env("prj_1")
    assert [(e["key"], e["target"]) for e in found] == [("A", ["production"]), ("B", ["preview"])]


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_every_misbehaviour_is_one_api_error_for_both_clients(name: str) -> None:
    stripe_key, token = key("rk", "test", "Hst1"), "vercel" + "Hst2" * 5
    with HostileServer(BEHAVIOURS[name]()) as server:
        failures = []
        for read in (lambda: Account(stripe_key, server.base, BoundedTransport(LIMITS)).webhook_endpoints(),
                     lambda: Vercel(token, base=server.base, limits=LIMITS).env("prj_1"),
                     lambda: Vercel(token, base=server.base, limits=LIMITS).latest_deployment("prj_1", "preview")):
            with pytest.raises(ApiError) as raised:
                read()
            failures.append(raised.value)
    for failure in failures:
        assert "Hst1" not in str(failure) and "Hst2" not in str(failure)
        if name.isdigit():
            assert failure.status == int(name)
    assert {f.kind for f in failures} <= {"timeout", "malformed", "server", "auth", "permission", "not found"}


def test_the_httpx_transport_never_inflates_an_answer_past_the_cap() -> None:
    bomb = gzip.compress(b"0" * 10_000_000)  # 10 KB on the wire, 10 MB inflated

    def compressed(h: Any) -> None:
        h.send(200, bomb, {"Content-Encoding": "gzip"})

    with HostileServer(compressed) as server:
        client = httpx.Client(transport=BoundedHttpxTransport(http.Limits(DEADLINE, max_bytes=65536)))
        got = client.get(server.base + "/accounts/x/workers/scripts/api/secrets")
    assert server.requests[0].headers["Accept-Encoding"] == "identity"
    assert len(got.content) == len(bomb)  # handed over as read, not inflated
