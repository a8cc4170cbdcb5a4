"""Stack settings and the guards that refuse to mix Stripe modes."""

from __future__ import annotations

import pytest

from infra.catalog import load_deployment
from infra.catalog.guards import ROLE_KEYS, Role, key_prefix
from infra.core.problems import ConfigError
from tests.support.project import STACK_FILES, Project, key, run_cli, stack_config

pytestmark = pytest.mark.pure


def refusal(project: Project, stack: str, config: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_deployment(stack, project.root, config.get)
    return caught.value.render()


PREFIXES = ["sk_test", "sk_live", "rk_test", "rk_live", "pk_test", "pk_live", "whsec", "garbage", "missing"]
ACCEPTED = {
    ("test", "deployer"): {"sk_test", "rk_test"},
    ("live", "deployer"): {"sk_live", "rk_live"},
    ("test", "app"): {"sk_test", "rk_test"},
    ("live", "app"): {"rk_live"},  # a full sk_live_ key never reaches production
    ("test", "publishable"): {"pk_test"},
    ("live", "publishable"): {"pk_live"},
}


def value_for(prefix: str) -> str | None:
    if prefix == "missing":
        return None
    if prefix == "whsec":
        return "whsec_" + "W" * 32
    if prefix == "garbage":
        return "G" * 32
    kind, mode = prefix.split("_")
    return key(kind, mode, "Mtrx")


def expected_reason(mode: str, role: str, prefix: str) -> str:
    """The reason a refusal must give; written from the rules, not from the code."""
    if prefix == "missing":
        return "is not set"
    if prefix == "whsec":
        return "the value has whsec_"
    if prefix == "garbage":
        return "the value has an unrecognised prefix"
    kind, key_mode = prefix.split("_")
    if role == "publishable" and kind != "pk":
        return f"this is a secret key ({prefix}_), and the publishable key is shipped to browsers"
    if role != "publishable" and kind == "pk":
        return f"a publishable key ({prefix}_) cannot call Stripe's API from a server"
    if key_mode != mode:
        return f"the key is a {key_mode}-mode key ({prefix}_) but the stack is in {mode} mode"
    assert (mode, role, prefix) == ("live", "app", "sk_live")
    return "a full secret key (sk_live_) can do anything on the live account"


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("role", ["deployer", "app", "publishable"])
@pytest.mark.parametrize("mode", ["test", "live"])
def test_every_mode_role_and_prefix(project: Project, mode: str, role: Role, prefix: str) -> None:
    config_key = ROLE_KEYS[role]
    config = stack_config(mode)
    value = value_for(prefix)
    if value is None:
        del config[config_key]
    else:
        config[config_key] = value
    if prefix in ACCEPTED[(mode, role)]:
        assert load_deployment(mode, project.root, config.get).mode == mode
        return
    message = refusal(project, mode, config)
    assert f"{config_key}: {expected_reason(mode, role, prefix)}" in message
    wanted = {"publishable": f"pk_{mode}_...", "app": f"rk_{mode}_...", "deployer": f"rk_{mode}_..."}[role]
    if role == "publishable":  # public: the value on the line is fine
        assert f"run `pulumi config set {config_key} {wanted} --stack {mode}`" in message
    else:  # a secret is left off the line, so the CLI asks for it with echo off
        assert f"run `pulumi config set --secret {config_key} --stack {mode}` (it asks for the {wanted} key " \
               "with echo off)" in message
    assert "1 problem found" in message  # only the key in question is refused
    if value is not None:
        assert value not in message and value[8:] not in message


def test_live_app_key_may_not_be_the_deployer_key(project: Project) -> None:
    shared = key("rk", "live", "Same")
    config = stack_config("live", **{"stripe:apiKey": shared, "billing:appStripeKey": shared})
    message = refusal(project, "live", config)
    assert "billing:appStripeKey: the app would run with the deployer's key" in message
    assert shared not in message
    # On test one sk_test_ key for both is a common start, and harmless.
    same_test = key("sk", "test", "Same")
    config = stack_config("test", **{"stripe:apiKey": same_test, "billing:appStripeKey": same_test})
    assert load_deployment("test", project.root, config.get).mode == "test"


def test_vercel_token_is_required(project: Project) -> None:
    config = stack_config("test")
    del config["vercel:apiToken"]
    message = refusal(project, "test", config)
    assert "vercel:apiToken: is not set: run `pulumi config set --secret vercel:apiToken --stack test` (it asks " \
        "for the value with echo off)" in message


def test_vercel_project_is_required_and_checked(project: Project) -> None:
    config = stack_config("test")
    del config["billing:vercelProject"]
    project.stack("test", "config:\n  billing:mode: test\n")
    assert "billing:vercelProject: required field is missing" in refusal(project, "test", config)
    config["billing:vercelProject"] = "my-app"
    assert "billing:vercelProject: 'my-app' is not a Vercel project ID; copy it from the " \
           "project's Settings > General (prj_...)" in refusal(project, "test", config)


def test_matching_keys_are_accepted_for_both_kinds(project: Project) -> None:
    for stack in ("test", "live"):
        for kind in ("sk", "rk"):
            config = stack_config(stack, **{"stripe:apiKey": key(kind, stack, "Kind")})
            assert load_deployment(stack, project.root, config.get).mode == stack


def test_live_stack_must_be_live_mode(project: Project) -> None:
    message = refusal(project, "live", stack_config("test"))
    assert "Pulumi.live.yaml:" in message
    assert "billing:mode: stack 'live' must run in live mode, but billing:mode is 'test'" in message


def test_other_stack_names_may_choose_their_mode(project: Project) -> None:
    project.stack("staging", "config:\n  billing:mode: test\n  billing:domain: s.example.com\n")
    values = stack_config("test", **{"billing:domain": "s.example.com", "billing:vercelProject": "prj_Staging"})
    assert load_deployment("staging", project.root, values.get).mode == "test"


def test_mode_must_be_test_or_live(project: Project) -> None:
    message = refusal(project, "test", stack_config("prod"))
    lines = (project.root / "Pulumi.test.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.strip().startswith("billing:mode:"))
    # A mode is no secret: what was typed is shown.
    assert f"Pulumi.test.yaml:{line}: billing:mode: 'prod' is not allowed; use one of 'test' " \
           "or 'live'" in message


def test_domain_is_a_host_name(project: Project) -> None:
    values = stack_config("test") | {"billing:domain": "https://app.example.com/"}
    message = refusal(project, "test", values)
    assert "billing:domain: 'https://app.example.com/' must be a host name only, without scheme or path: " \
           "use 'app.example.com'" in message


def test_unknown_billing_setting_in_stack_file(project: Project) -> None:
    project.stack("test", "config:\n  billing:mode: test\n  billing:domian: x.example.com\n")
    message = refusal(project, "test", stack_config("test"))
    assert "Pulumi.test.yaml:3: billing:domian: unknown setting; did you mean 'billing:domain'?" in message


def test_plain_text_secret_in_stack_file_is_refused(project: Project) -> None:
    config = stack_config("test")
    lines = "".join(f"  {name}: {config[name]}\n" for name in ("stripe:apiKey", "billing:appStripeKey",
                                                                "vercel:apiToken", "billing:publishableKey"))
    project.stack("test", f"config:\n  billing:mode: test\n{lines}")
    message = refusal(project, "test", config)
    assert "Pulumi.test.yaml:3: stripe:apiKey: a secret is stored in plain text" in message
    assert "Pulumi.test.yaml:4: billing:appStripeKey: a secret is stored in plain text" in message
    assert "Pulumi.test.yaml:5: vercel:apiToken: a secret is stored in plain text" in message
    assert "billing:publishableKey" not in message  # public by design: plain text is fine
    assert "3 problems found" in message
    for name in ("stripe:apiKey", "billing:appStripeKey", "vercel:apiToken"):
        assert config[name] not in message


def test_coupon_rules(project: Project) -> None:
    coupons = (
        '{"a": {"name": "A", "percent_off": 10, "amount_off": "5"},'
        ' "b": {"name": "B", "percent_off": 150},'
        ' "c": {"name": "C", "amount_off": "5.00"},'
        ' "d": {"name": "D", "percent_off": 10, "duration": "repeating"},'
        ' "e": {"name": "E", "percent_off": 10, "applies_to": ["free"]},'
        ' "f": {"name": "F", "percent_off": 10, "promotion_codes": {"bad code": {}}}}'
    )
    values = stack_config("test") | {"billing:coupons": coupons}
    message = refusal(project, "test", values)
    assert "billing:coupons.a: give exactly one of percent_off or amount_off" in message
    assert "billing:coupons.b: percent_off must be above 0 and at most 100" in message
    assert "billing:coupons.c: amount_off needs a currency" in message
    assert "billing:coupons.d: duration_in_months is required with" in message
    assert "billing:coupons.e.applies_to[0]: 'free' is not a paid plan of the catalog; use " \
           "one of: pro, enterprise" in message
    assert "billing:coupons.f.promotion_codes.bad code: 'bad code' is not a promotion code" in message


def test_key_prefix_never_shows_the_body() -> None:
    secret = key("rk", "live")
    assert key_prefix(secret) == "rk_live_"
    assert key_prefix("whsec_" + "a" * 32) == "whsec_"
    assert key_prefix("something") == "an unrecognised prefix"


def test_a_setting_outside_config_is_refused_not_ignored(project: Project) -> None:
    """Pulumi ignores a stack file's unknown top-level keys; coupons written there would
    silently not exist (found by the real-engine tests' own stack files)."""
    project.stack("test", STACK_FILES["test"] + "billing:coupons:\n  launch: {name: L, percent_off: 5, duration: once}\n")
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2 and "billing:coupons: is outside `config:`" in err, err
