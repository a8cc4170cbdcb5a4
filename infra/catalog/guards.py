"""Guards that refuse to mix Stripe modes, checked before any resource exists.

A key is only ever shown by its prefix (`sk_live_`), never its body.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from infra.core.problems import Problem
from infra.core.redact import (
    MODES,
    SERVICE_KEYS,
    key_kind,
    key_mode,
    key_prefix,
    service_key_mode,
    stripe_prefix,
    wrong_mode,
)
from infra.core.sources import Document
from infra.hosts import HOSTS

# verify, pull and payment import these from here, as they always have (the rest is defined here).
__all__ = ["MODES", "key_mode", "key_prefix"]

# Reads one config key (`billing:mode`) as the engine hands it to a program:
# a string, structured values as JSON; None when unset.
ConfigGetter = Callable[[str], str | None]



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


@dataclass(frozen=True)
class Hosted:
    """A value the stack writes to its host from config, under the variable name the app reads."""

    name: str
    config_key: str
    kind: str | None = None
    """Whose key it is (`hosting.extra` `kind:`): that service's shapes are checked, not Stripe's."""


def check_stack(
    stack: str, mode: str, get: ConfigGetter, doc: Document, token: str, hosted: Sequence[Hosted] = (),
) -> list[Problem]:
    """The stack name, `billing:mode` and every key must agree; the host's API `token` and every
    hosted value must be set, and every hosted value must fit."""
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
    for config_key in (token, *(value.config_key for value in hosted)):
        if not get(config_key):
            problems.append(doc.problem(
                ("config", config_key),
                f"is not set: run {store_secret(config_key, stack)}",
                config_key,
            ))
    for value in hosted:
        message = hosted_problem(value, mode, get, token)
        if message:
            problems.append(doc.problem(("config", value.config_key), message, value.config_key))
    return problems


def hosted_problem(hosted: Hosted, mode: str, get: ConfigGetter, token: str) -> str | None:
    """Why a value may not be written to the host as `hosted.name`, whatever that name is.

    The roles' own rules (an app key, a publishable key) are checked by role;
    these hold for every other value (`hosting.extra`): the stack's mode only,
    no full live secret key, no signing secret copied by hand, never the
    deployer's credentials.
    """
    value = get(hosted.config_key)
    if not value:
        return None  # reported as not set
    kind, shown = key_kind(value), key_prefix(value)
    if value in (get(token), get(DEPLOYER_KEY) if mode == "live" else None):
        whose = f"the host's API token ({token})" if value == get(token) else "the deployer's Stripe key"
        return (f"holds {whose}, which would be written to the app's environment as {hosted.name}; "
                "give the app its own credential")
    if hosted.kind is not None:
        return _service_problem(hosted, value, mode)
    if kind == "whsec":
        return (f"holds a webhook signing secret (whsec_), written as {hosted.name}: the stack writes the "
                "endpoint's own secret itself, and a copy goes stale when the endpoint is replaced (or "
                "belongs to another stack's endpoint); remove it from hosting.extra")
    if kind is not None and wrong_mode(value, mode):
        return (f"holds a {key_mode(value)}-mode Stripe key ({shown}), written as {hosted.name}, but the "
                f"stack is in {mode} mode; set the {mode}-mode value")
    if kind == "sk" and mode == "live":
        return (f"holds a full live secret key ({shown}), written as {hosted.name}: it can refund, pay out "
                "and delete customers, whatever the variable is called; the app gets restricted keys "
                "(rk_live_) only. If it is another service's key with the same prefix (Clerk's), say so in "
                f"the catalog: `hosting.extra.{hosted.name}: {{key: {hosted.config_key}, kind: clerk}}`")
    return None


def _service_problem(hosted: Hosted, value: str, mode: str) -> str | None:
    """Why a value declared as service `hosted.kind`'s key may not be written in `mode`."""
    kind = str(hosted.kind)
    if "STRIPE" in hosted.name.upper():
        return (f"{hosted.name} is declared as a {kind} key, but its name is Stripe's: a Stripe key is "
                f"never exempt from the Stripe guards; remove `kind: {kind}` or rename the variable")
    found = service_key_mode(kind, value)
    prefixes = " or ".join(SERVICE_KEYS[kind][mode])
    if found is None:
        return (f"holds a value with {key_prefix(value)}, written as {hosted.name}, which is declared a "
                f"{kind} key; store the {mode} {kind} key ({prefixes}...)")
    if found != mode:
        return (f"holds a {found}-mode {kind} key ({key_prefix(value)}), written as {hosted.name}, but the "
                f"stack is in {mode} mode; store the {mode} one ({prefixes}...)")
    return None


def store_secret(config_key: str, stack: str | None, what: str = "the value") -> str:
    """The command that stores a secret, the value left off: the CLI then asks for it with echo
    off (pkg/v3 cmd/pulumi/config/config.go, ReadConsoleNoEcho when --secret), so it is never in
    argv or shell history, as a value typed on the line would be."""
    on = f" --stack {stack}" if stack else ""
    return f"`pulumi config set --secret {config_key}{on}` (it asks for {what} with echo off)"


def fix(role: Role, mode: str, stack: str) -> str:
    """The command that stores a key of the right kind for `role`."""
    expected = stripe_prefix("pk" if role == "publishable" else "rk", mode) + "..."
    if role == "publishable":  # public: shown and stored in plain text
        return f"run `pulumi config set {ROLE_KEYS[role]} {expected} --stack {stack}`"
    return f"run {store_secret(ROLE_KEYS[role], stack, f'the {expected} key')}"


def key_problem(role: Role, mode: str, key: str | None) -> str | None:
    """Why `key` cannot serve `role` in `mode`, or None when it can. Shows only the prefix."""
    if not key:
        return "is not set"
    shown = key_prefix(key)
    kind = key_kind(key) if key_mode(key) else None
    if kind is None:
        return f"the value has {shown}; expected a Stripe {_expected(role, mode)} key"
    if role == "publishable":
        if kind != "pk":
            return (f"this is a secret key ({shown}), and the publishable key is shipped to browsers, "
                    f"where anyone can read it; use the {mode} publishable key (pk_{mode}_)")
    elif kind == "pk":
        return (f"a publishable key ({shown}) cannot call Stripe's API from a server; "
                f"use a {_expected(role, mode)} key")
    wrong = wrong_mode(key, mode)
    if wrong is not None:
        return wrong
    if role == "app" and mode == "live" and kind == "sk":
        return (f"a full secret key ({shown}) can do anything on the live account: refunds, "
                "payouts, deleting customers; the app gets a restricted key (rk_live_) with only "
                "what its manifest grants (see `billing keys --stack live`)")
    return None


def _expected(role: Role, mode: str) -> str:
    if role == "publishable":
        return f"publishable (pk_{mode}_)"
    if role == "app" and mode == "live":
        return "restricted (rk_live_)"
    return f"restricted or secret (rk_{mode}_/sk_{mode}_)"
