"""The Worker secret resource's provider and the bounded client, against a Cloudflare-shaped server.

The official SDK is pointed at 127.0.0.1 through its base URL; the provider
is configured the way the engine configures it (the stack's config), and its
create/update/diff/delete/read run against the server.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.clients.cloudflare_api import CloudflareError, WorkerSecrets
from infra.components.cloudflare import WorkerSecretProvider
from tests.servers.cloudflare_api_server import CloudflareServer, WorkerAccount, envelope
from tests.servers.json_server import JsonServer

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "cf" + "T0ken" * 8
VALUE = "rk_" + "test_" + "V4lue" * 5


@pytest.fixture
def account() -> WorkerAccount:
    made = WorkerAccount(ACCOUNT, TOKEN)
    made.script("api-staging")
    return made


def provider(token: str | None = TOKEN) -> WorkerSecretProvider:
    made = WorkerSecretProvider()
    made.configure(ConfigureRequest(Config({"cloudflare:apiToken": token} if token else {}, "billing")))
    return made


def props(name: str = "STRIPE_SECRET_KEY", value: str = VALUE, script: str = "api-staging") -> dict[str, Any]:
    return {"accountId": ACCOUNT, "scriptName": script, "name": name, "type": "secret_text", "value": value}


def test_create_update_read_delete_write_the_script_secret(account: WorkerAccount, cloudflare: CloudflareServer) -> None:
    cf = provider()
    created = cf.create(props())
    assert created.id == f"{ACCOUNT}/api-staging/STRIPE_SECRET_KEY"
    script = account.scripts["api-staging"]
    assert script.secrets == {"STRIPE_SECRET_KEY": VALUE}
    assert script.types["STRIPE_SECRET_KEY"] == "secret_text"  # noqa: S105 (a binding type)
    assert script.versions == 2  # each write is a new version, deployed: no code deploy needed

    rotated = "rk_" + "test_" + "R0tat" * 5
    olds, news = created.outs or {}, props(value=rotated)
    diff = cf.diff(created.id, olds, news)
    assert diff.changes is True and diff.replaces == []
    cf.update(created.id, olds, news)
    assert script.secrets["STRIPE_SECRET_KEY"] == rotated
    assert cf.diff(created.id, news, news).changes is False
    renamed = cf.diff(created.id, news, props(name="STRIPE_KEY", value=rotated))
    assert renamed.replaces == ["name"] and renamed.delete_before_replace is True

    assert cf.read(created.id, news).id == created.id
    cf.delete(created.id, news)  # a value removed from the catalog leaves the Worker
    assert script.secrets == {}
    assert cf.read(created.id, news).id is None  # refresh: gone, the next up writes it again
    cf.delete(created.id, news)  # already gone is fine
    assert {method for method, _ in account.requests} == {"PUT", "GET", "DELETE"}


def test_latest_version_not_deployed_is_reported_with_the_fix(account: WorkerAccount,
                                                              cloudflare: CloudflareServer) -> None:
    account.scripts["api-staging"].latest_deployed = False  # a `wrangler versions upload`, never deployed
    with pytest.raises(CloudflareError) as caught:
        provider().create(props())
    message = str(caught.value)
    assert caught.value.code == 10215
    assert "latest version is not the deployed one" in message and "workers-sdk#10585" in message
    assert "`wrangler versions deploy`" in message and "run `pulumi up` again" in message
    assert VALUE not in message and TOKEN not in message


def test_a_missing_script_or_a_refused_token_says_what_to_fix(account: WorkerAccount,
                                                             cloudflare: CloudflareServer) -> None:
    with pytest.raises(CloudflareError) as caught:
        provider().create(props(script="api"))
    assert "there is no Worker script 'api' in account" in str(caught.value)
    assert "`wrangler deploy`" in str(caught.value) and caught.value.code == 10007
    with pytest.raises(CloudflareError) as caught:
        provider("wrong" + "T0ken" * 6).create(props())
    assert caught.value.status == 403 and "refused the token" in str(caught.value)
    assert "Workers Scripts: Edit" in str(caught.value)
    with pytest.raises(CloudflareError) as caught:
        provider(None).create(props())
    assert "cloudflare:apiToken is not set" in str(caught.value)
    assert account.scripts["api-staging"].secrets == {}


def test_only_secret_text_is_written(cloudflare: CloudflareServer) -> None:
    with pytest.raises(CloudflareError, match="only secret_text"):
        provider().create({**props(), "type": "plain_text"})


def test_the_stored_provider_loads_in_the_provider_process_and_takes_the_token_from_config(
        account: WorkerAccount, cloudflare: CloudflareServer) -> None:
    from pulumi.dynamic.dynamic import serialize_provider

    stored = base64.b64decode(serialize_provider(WorkerSecretProvider()))  # what the program stores
    assert b"infra.components.cloudflare" in stored  # by reference: the provider process imports it
    loaded = dill.loads(stored)  # noqa: S301 (our own bytes)
    loaded.configure(ConfigureRequest(Config({"cloudflare:apiToken": TOKEN}, "billing")))
    loaded.create(props())
    assert account.scripts["api-staging"].secrets == {"STRIPE_SECRET_KEY": VALUE}


def test_an_error_echoing_what_we_sent_is_cleaned(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(method: str, path: str, query: Any, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        return 400, {"success": False, "errors": [{"code": 10021, "message": f"bad value {VALUE} for {TOKEN}"}],
                     "messages": [], "result": None}

    with JsonServer(answer_body=answer) as hostile, pytest.raises(CloudflareError) as caught:
        WorkerSecrets(TOKEN, base=hostile.base).put(ACCOUNT, "api-staging", "STRIPE_SECRET_KEY", VALUE)
    assert "[code 10021] bad value (hidden) for (hidden)" in str(caught.value)
    assert VALUE not in str(caught.value) and TOKEN not in str(caught.value)


def test_a_200_without_success_true_is_not_taken_for_success() -> None:
    def answer(method: str, path: str, query: Any, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {"success": False, "errors": [{"code": 1000, "message": "nope"}], "messages": [],
                     "result": []}

    with JsonServer(answer_body=answer) as odd, pytest.raises(CloudflareError, match="does not say `success"):
        WorkerSecrets(TOKEN, base=odd.base).list(ACCOUNT, "api-staging")


def test_a_redirect_is_not_followed_with_the_token() -> None:
    seen: list[str | None] = []

    def elsewhere(method: str, path: str, query: Any, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        seen.append(auth)
        return 200, envelope([])

    with JsonServer(answer_body=elsewhere) as other, JsonServer(
            answer_body=lambda *_: (307, {}), headers=lambda: {"Location": other.base + "/steal"}
    ) as redirecting, pytest.raises(CloudflareError) as caught:
        WorkerSecrets(TOKEN, base=redirecting.base).list(ACCOUNT, "api-staging")
    assert "a redirect; it is not followed" in str(caught.value)
    assert seen == []


def test_a_server_that_never_finishes_is_cut_at_the_deadline() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        while not stop.wait(0.05):
            try:
                connection.sendall(b" ")  # a byte at a time: no read ever times out
            except OSError:
                break
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    api = WorkerSecrets(TOKEN, base=f"http://127.0.0.1:{listener.getsockname()[1]}", deadline=0.5)
    start = time.monotonic()
    try:
        with pytest.raises(CloudflareError) as caught:
            api.list(ACCOUNT, "api-staging")
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - start < 3
    assert "no answer from" in str(caught.value) and "no complete answer within 0.5s" in str(caught.value)


def test_the_callers_total_deadline_bounds_each_request_and_is_named() -> None:
    # `verify`'s run deadline (until=) is less than the request's own: the request gets what is left.
    def slow(method: str, path: str, query: Any, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        time.sleep(3)
        return 200, envelope([])

    with JsonServer(answer_body=slow) as server:
        api = WorkerSecrets(TOKEN, base=server.base, deadline=10, until=time.monotonic() + 0.5)
        start = time.monotonic()
        with pytest.raises(CloudflareError) as caught:
            api.list(ACCOUNT, "api-staging")
        assert time.monotonic() - start < 2.5
    assert "what was left of the command's total deadline" in str(caught.value)


def test_an_answer_over_the_cap_is_refused() -> None:
    def huge(method: str, path: str, query: Any, auth: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        return 200, envelope([{"name": "X" * 100, "type": "secret_text"}] * 2000)

    with JsonServer(answer_body=huge) as big, pytest.raises(CloudflareError, match="over the 64 KiB cap"):
        WorkerSecrets(TOKEN, base=big.base, cap=65536).list(ACCOUNT, "api-staging")
