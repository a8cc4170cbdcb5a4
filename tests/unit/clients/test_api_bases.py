"""A credential travels only over https: an http API root is for loopback and test keys alone."""

from __future__ import annotations

import pytest

from infra.clients.credentials import api_base
from infra.core import exits
from infra.core.problems import ConfigError
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.support.project import Project, key, run_cli

DEFAULT = "https://api.stripe.com"
TEST, LIVE = key("sk", "test"), key("sk", "live")


@pytest.mark.parametrize(("base", "credential"), [
    ("https://gateway.example.com/", LIVE), ("http://127.0.0.1:8123", TEST), ("http://[::1]:8123", TEST),
    ("http://localhost:8123", TEST), ("http://LOCALHOST", key("rk", "test")), ("http://127.0.0.1", "a-token"),
    (None, LIVE)])
def test_https_or_a_loopback_address_with_a_test_key_is_accepted(base: str | None, credential: str) -> None:
    env = {"STRIPE_API_BASE": base} if base else {}
    assert api_base("STRIPE_API_BASE", DEFAULT, credential, env) == (base or DEFAULT).rstrip("/")


@pytest.mark.parametrize(("base", "credential", "said"), [
    ("http://127.0.0.1:8123", LIVE, "a live key is sent only over https"),
    ("http://[::1]:8123", key("rk", "live"), "a live key is sent only over https"),
    ("http://api.example.com", TEST, "plain http to api.example.com"),
    ("http://127.0.0.1.nip.io", TEST, "plain http to 127.0.0.1.nip.io"),
    ("http://localhost@evil.example", TEST, "plain http to evil.example"),
    ("http://10.0.0.1", "a-token", "plain http to 10.0.0.1"),
    ("ftp://127.0.0.1", TEST, "is not an https URL with a host"),
    ("https://", TEST, "is not an https URL with a host"),
    ("http://[::1", TEST, "is not an https URL with a host"),
])
def test_anything_else_is_refused_naming_the_variable_and_the_fix(base: str, credential: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        api_base("VERCEL_API_BASE", "https://api.vercel.com", credential, {"VERCEL_API_BASE": base})
    text = raised.value.render()
    assert text.startswith("1 problem found:\n  environment: VERCEL_API_BASE: ")
    assert said in text and "nothing was sent" in text
    assert "unset it to use https://api.vercel.com, or give an https:// root" in text
    assert credential not in text


LIVE_STACK = """\
config:
  billing:mode: live
  billing:domain: shop.test
  billing:vercelProject: prj_Test123
"""


def test_pull_with_a_live_key_over_http_sends_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = StripeAccount(livemode=True)
    live = key("rk", "live", "Pull")
    account.keys = {live: None}
    with StripeServer(account) as server:
        monkeypatch.setenv("STRIPE_API_BASE", server.base)
        monkeypatch.setenv("STRIPE_API_KEY", live)
        monkeypatch.delenv("PULUMI_CONFIG", raising=False)
        project.stack("live", LIVE_STACK)
        code, out, err = run_cli("pull", "--stack", "live", "--project", str(project.root))
    assert code == exits.REFUSED, out + err
    assert "STRIPE_API_BASE: is plain http, and a live key is sent only over https" in err
    assert account.requests == [] and live not in err
    assert not (project.root / "adopt").exists()


def test_verify_hosting_with_an_http_host_sends_nothing(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERCEL_API_BASE", "http://api.vercel.example")
    monkeypatch.setenv("VERCEL_TOKEN", "vercel" + "T0ken" * 5)
    code, out, err = run_cli("verify", "hosting", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED, out + err
    assert "VERCEL_API_BASE: is plain http to api.vercel.example" in err and "nothing was sent" in err
