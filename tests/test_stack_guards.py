"""Stack settings and the guards that refuse to mix Stripe modes."""

from __future__ import annotations

import pytest

from infra.guards import key_prefix
from infra.loader import load_deployment
from infra.problems import ConfigError
from tests.conftest import Project, key


def refusal(project: Project, stack: str, config: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_deployment(stack, project.root, config.get)
    return caught.value.render()


def config(mode: str, api_key: str | None) -> dict[str, str]:
    values = {"billing:mode": mode, "billing:domain": "app.example.com"}
    if api_key is not None:
        values["stripe:apiKey"] = api_key
    return values


@pytest.mark.parametrize("stack", ["test", "live"])
@pytest.mark.parametrize("kind", ["sk", "rk"])
def test_matching_keys_are_accepted(project: Project, stack: str, kind: str) -> None:
    deployment = load_deployment(stack, project.root, config(stack, key(kind, stack)).get)
    assert deployment.mode == stack


@pytest.mark.parametrize(("stack", "kind", "mode"), [
    ("test", "sk", "live"), ("test", "rk", "live"), ("live", "sk", "test"), ("live", "rk", "test"),
])
def test_key_of_the_other_mode_is_refused(project: Project, stack: str, kind: str, mode: str) -> None:
    secret = key(kind, mode)
    message = refusal(project, stack, config(stack, secret))
    assert f"stripe:apiKey: the key is a {mode}-mode key ({kind}_{mode}_) but the stack is in " \
           f"{stack} mode" in message
    assert f"pulumi config set --secret stripe:apiKey <{stack} key> --stack {stack}" in message
    assert secret not in message and secret[8:] not in message


@pytest.mark.parametrize("bad", ["pk", "whsec", "garbage"])
def test_keys_that_cannot_deploy_are_refused(project: Project, bad: str) -> None:
    secret = key("pk", "test") if bad == "pk" else ("whsec_" + "x" * 30 if bad == "whsec" else "x" * 30)
    message = refusal(project, "test", config("test", secret))
    assert "stripe:apiKey" in message and secret not in message
    assert ("publishable key" in message) if bad == "pk" else ("expected sk_test_ or rk_test_" in message)


def test_missing_key_is_refused(project: Project) -> None:
    assert "the Stripe key Pulumi deploys with is not set" in refusal(project, "test", config("test", None))


def test_live_stack_must_be_live_mode(project: Project) -> None:
    message = refusal(project, "live", config("test", key("sk", "test")))
    assert "Pulumi.live.yaml:" in message
    assert "billing:mode: stack 'live' must run in live mode, but billing:mode is 'test'" in message


def test_other_stack_names_may_choose_their_mode(project: Project) -> None:
    project.stack("staging", "config:\n  billing:mode: test\n  billing:domain: s.example.com\n")
    values = {"billing:mode": "test", "billing:domain": "s.example.com", "stripe:apiKey": key("rk", "test")}
    assert load_deployment("staging", project.root, values.get).mode == "test"


def test_mode_must_be_test_or_live(project: Project) -> None:
    message = refusal(project, "test", config("prod", key("sk", "test")))
    assert "Pulumi.test.yaml:5: billing:mode: 'prod' is not allowed; use one of 'test' or 'live'" in message


def test_domain_is_a_host_name(project: Project) -> None:
    values = config("test", key("sk", "test")) | {"billing:domain": "https://app.example.com/"}
    message = refusal(project, "test", values)
    assert "billing:domain: 'https://app.example.com/' must be a host name only" in message
    assert "use 'app.example.com'" in message


def test_unknown_billing_setting_in_stack_file(project: Project) -> None:
    project.stack("test", "config:\n  billing:mode: test\n  billing:domian: x.example.com\n")
    message = refusal(project, "test", config("test", key("sk", "test")))
    assert "Pulumi.test.yaml:3: billing:domian: unknown setting; did you mean 'billing:domain'?" in message


def test_plain_text_secret_in_stack_file_is_refused(project: Project) -> None:
    secret = key("sk", "test")
    project.stack("test", f"config:\n  billing:mode: test\n  stripe:apiKey: {secret}\n")
    message = refusal(project, "test", config("test", secret))
    assert "Pulumi.test.yaml:3: stripe:apiKey: a secret is stored in plain text" in message
    assert secret not in message


def test_coupon_rules(project: Project) -> None:
    coupons = (
        '{"a": {"name": "A", "percent_off": 10, "amount_off": "5"},'
        ' "b": {"name": "B", "percent_off": 150},'
        ' "c": {"name": "C", "amount_off": "5.00"},'
        ' "d": {"name": "D", "percent_off": 10, "duration": "repeating"},'
        ' "e": {"name": "E", "percent_off": 10, "applies_to": ["free"]},'
        ' "f": {"name": "F", "percent_off": 10, "promotion_codes": {"bad code": {}}}}'
    )
    values = config("test", key("sk", "test")) | {"billing:coupons": coupons}
    message = refusal(project, "test", values)
    assert "billing:coupons.a: give exactly one of percent_off or amount_off" in message
    assert "billing:coupons.b: percent_off must be above 0 and at most 100" in message
    assert "billing:coupons.c: amount_off needs a currency" in message
    assert "billing:coupons.d: duration_in_months is required with" in message
    assert "billing:coupons.e.applies_to[0]: 'free' is not a paid plan of the catalog" in message
    assert "billing:coupons.f.promotion_codes.bad code: 'bad code' is not a promotion code" in message


def test_key_prefix_never_shows_the_body() -> None:
    secret = key("rk", "live")
    assert key_prefix(secret) == "rk_live_"
    assert key_prefix("whsec_" + "a" * 32) == "whsec_"
    assert key_prefix("something") == "an unrecognised prefix"
