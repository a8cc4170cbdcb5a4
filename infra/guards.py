"""Guards that refuse to mix Stripe modes, checked before any resource exists.

A key is only ever shown by its prefix (`sk_live_`), never its body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Literal

from infra.hosts import HOSTS
from infra.problems import Problem
from infra.sources import Document

# Reads one config key (`billing:mode`) as the engine hands it to a program:
# a string, structured values as JSON; None when unset.
ConfigGetter = Callable[[str], str | None]

MODES = ("test", "live")
_PREFIX = re.compile(r"^(sk|rk|pk)_(test|live)_")


def key_prefix(key: str) -> str:
    """What may be shown of a key: its kind and mode, or a hint that it has neither."""
    match = _PREFIX.match(key)
    if match:
        return match.group(0)
    if key.startswith("whsec_"):
        return "whsec_"
    return "an unrecognised prefix"


def key_mode(key: str) -> str | None:
    match = _PREFIX.match(key)
    return match.group(2) if match else None


# The config keys holding credentials. The Stripe keys and each host's API token are
# secrets: a stack file may hold them only as `secure:` values.
DEPLOYER_KEY = "stripe:apiKey"
APP_KEY = "billing:appStripeKey"
PUBLISHABLE_KEY = "billing:publishableKey"
# Only for an adopted endpoint: Stripe returns a signing secret once, at creation.
WEBHOOK_SECRET = "billing:webhookSecret"  # noqa: S105 (a config key name)
SECRET_KEYS = (DEPLOYER_KEY, APP_KEY, *(host.token for host in HOSTS.values()))
Role = Literal["deployer", "app", "publishable"]
ROLE_KEYS: dict[Role, str] = {"deployer": DEPLOYER_KEY, "app": APP_KEY, "publishable": PUBLISHABLE_KEY}


def check_stack(
    stack: str, mode: str, get: ConfigGetter, doc: Document, required: Sequence[str] = (),
) -> list[Problem]:
    """The stack name, `billing:mode` and every key must agree; `required` config (the host's
    token, the secrets behind extra variables) must be set."""
    problems = []
    if stack in MODES and stack != mode:
        problems.append(doc.problem(
            ("config", "billing:mode"),
            f"stack {stack!r} must run in {stack} mode, but billing:mode is {mode!r}: "
            f"run `pulumi config set billing:mode {stack} --stack {stack}`",
            "billing:mode",
        ))
    for role, config_key in ROLE_KEYS.items():
        message = key_problem(role, mode, get(config_key))
        if message:
            problems.append(doc.problem(("config", config_key), f"{message}: {fix(role, mode, stack)}",
                                        config_key))
    app, deployer = get(APP_KEY), get(DEPLOYER_KEY)
    if mode == "live" and app and app == deployer:
        problems.append(doc.problem(
            ("config", APP_KEY),
            "the app would run with the deployer's key and its write access to products, prices "
            f"and webhooks; give the app its own restricted key: {fix('app', mode, stack)}",
            APP_KEY,
        ))
    for config_key in required:
        if not get(config_key):
            problems.append(doc.problem(
                ("config", config_key),
                f"is not set: run `pulumi config set --secret {config_key} <value> --stack {stack}`",
                config_key,
            ))
    return problems


def fix(role: Role, mode: str, stack: str) -> str:
    """The command that stores a key of the right kind for `role`."""
    expected = {"deployer": f"rk_{mode}_...", "app": f"rk_{mode}_...", "publishable": f"pk_{mode}_..."}[role]
    secret = "" if role == "publishable" else " --secret"
    return f"run `pulumi config set{secret} {ROLE_KEYS[role]} {expected} --stack {stack}`"


def key_problem(role: Role, mode: str, key: str | None) -> str | None:
    """Why `key` cannot serve `role` in `mode`, or None when it can. Shows only the prefix."""
    if not key:
        return "is not set"
    shown = key_prefix(key)
    kind = key[:2] if key_mode(key) else None
    if kind is None:
        return f"the value has {shown}; expected a Stripe {_expected(role, mode)} key"
    if role == "publishable":
        if kind != "pk":
            return (f"this is a secret key ({shown}), and the publishable key is shipped to browsers, "
                    f"where anyone can read it; use the {mode} publishable key (pk_{mode}_)")
    elif kind == "pk":
        return (f"a publishable key ({shown}) cannot call Stripe's API from a server; "
                f"use a {_expected(role, mode)} key")
    if key_mode(key) != mode:
        return f"the key is a {key_mode(key)}-mode key ({shown}) but the stack is in {mode} mode"
    if role == "app" and mode == "live" and kind == "sk":
        return (f"a full secret key ({shown}) can do anything on the live account: refunds, "
                "payouts, deleting customers; the app gets a restricted key (rk_live_) with only "
                "what its manifest grants (see `python -m infra keys --stack live`)")
    return None


def _expected(role: Role, mode: str) -> str:
    if role == "publishable":
        return f"publishable (pk_{mode}_)"
    if role == "app" and mode == "live":
        return "restricted (rk_live_)"
    return f"restricted or secret (rk_{mode}_/sk_{mode}_)"
