"""Where `verify` and `pull` find keys and stack outputs, without ever printing one.

Order: an environment variable named for the purpose (STRIPE_API_KEY,
VERCEL_TOKEN...), then the engine-style PULUMI_CONFIG map, then the Pulumi CLI
(`pulumi config get`, `pulumi stack output --show-secrets`) when it is on PATH.
Stack files hold secrets encrypted, so without the CLI and its passphrase the
only sources are the environment; the error says which variable to export.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.catalog.guards import ROLE_KEYS, Role, fix, key_problem
from infra.clients import pulumi_cli
from infra.core import redact, sources
from infra.core.problems import ConfigError, Problem

STRIPE_API_BASE = "STRIPE_API_BASE"
VERCEL_API_BASE = "VERCEL_API_BASE"
STRIPE_API_KEY = "STRIPE_API_KEY"
"""Where every command that calls Stripe (`pull`, `verify stripe`, `verify payment`) looks for its key
first, before the stack's config key for the key's role."""
STRIPE_APP_KEY = "STRIPE_APP_KEY"
"""`verify stripe`'s second key, the app's, which it probes beside the read key."""


def api_base(variable: str, default: str, credential: str | None = None,
             env: Mapping[str, str] | None = None) -> str:
    """The API root, overridable for tests and compatible gateways, checked before any request.

    A credential travels only over https; plain http is accepted for a loopback address
    (127.0.0.1, ::1, localhost: the local servers of the tests), and never with a live
    Stripe key. `credential` is the key or token about to be sent.
    """
    env = os.environ if env is None else env
    base = (env.get(variable) or default).rstrip("/")
    try:
        parts = urlsplit(base)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is not None and parts.scheme == "https" and host:
        return base
    live = credential is not None and redact.key_mode(credential) == "live"
    if parts is not None and parts.scheme == "http" and host in LOOPBACK and not live:
        return base
    if parts is not None and parts.scheme == "http" and host in LOOPBACK:
        why = "is plain http, and a live key is sent only over https, even to this machine"
    elif parts is not None and parts.scheme == "http":
        why = f"is plain http to {host or 'no host'}: the credential would cross the network in clear text"
    else:
        why = "is not an https URL with a host"
    raise ConfigError([Problem("environment", None, variable, f"{why}; nothing was sent: unset it to use "
                               f"{default}, or give an https:// root (http:// only for 127.0.0.1, ::1 "
                               "or localhost, with test keys)")])


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def config_value(
    env_var: str, config_key: str, stack: str, project_dir: Path, env: Mapping[str, str] | None = None,
) -> str:
    return located_value(env_var, config_key, stack, project_dir, env)[0]


def located_value(
    env_var: str, config_key: str, stack: str, project_dir: Path, env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The value and where it came from: `env_var`, PULUMI_CONFIG, or the stack file (through the CLI)."""
    env = os.environ if env is None else env
    if env.get(env_var):
        if sources.unfit_text(env[env_var]):  # an undecodable byte arrives as a lone surrogate
            raise ConfigError([Problem("environment", None, env_var, "holds a NUL or a byte that is not "
                                       f"UTF-8; export {env_var} again from the Dashboard's copy button")])
        return env[env_var], env_var
    supplied = _pulumi_config(env)
    if supplied.get(config_key):
        return supplied[config_key], "PULUMI_CONFIG"
    value = _cli(["config", "get", config_key, "--stack", stack], project_dir)
    if value:
        return value, f"Pulumi.{stack}.yaml"
    raise ConfigError([Problem(
        f"Pulumi.{stack}.yaml", None, config_key,
        f"is needed and could not be read; export {env_var}, or run where the pulumi CLI can "
        f"decrypt the stack (`pulumi config get {config_key} --stack {stack}` must work)")])


def stripe_key(
    role: Role, mode: str, stack: str, project_dir: Path, env: Mapping[str, str] | None = None,
    env_var: str = STRIPE_API_KEY, rules: Role | None = None,
) -> str:
    """The Stripe key for `role` (from `env_var`, else the role's config key), refused before anything
    is sent when its kind or mode is wrong by the `rules` of that role (`role`'s own by default).

    Every command that calls Stripe reads its keys here, so a live key on the test stack (or a
    publishable key, or a signing secret) stops each of them the same way: exit REFUSED, nothing sent,
    in the same words.
    """
    config_key = ROLE_KEYS[role]
    value, source = located_value(env_var, config_key, stack, project_dir, env)
    message = key_problem(rules or role, mode, value)
    if message is None:
        return value
    how = (f"export {env_var} with a key of the right kind, or unset it to use {config_key}"
           if source == env_var else fix(role, mode, stack))
    raise ConfigError([Problem(source, None, config_key, f"{message}; nothing was sent: {how}")])


def key_sources(role: Role, env_var: str = STRIPE_API_KEY) -> str:
    """Where `stripe_key` looks for `role`'s key, in its order, as a fix names it."""
    return f"{env_var} (or {ROLE_KEYS[role]})"


def stack_output(name: str, stack: str, project_dir: Path) -> str | None:
    """One output of the deployed stack, or None without the CLI or before the first `up`."""
    return _cli(["stack", "output", name, "--stack", stack, "--show-secrets"], project_dir)


def stack_outputs(stack: str, project_dir: Path) -> Any:
    """Every output of the deployed stack as `pulumi stack output --json` prints it, secrets masked
    (never `--show-secrets`); None without the CLI, before the first `up`, or on bad JSON."""
    text = _cli(["stack", "output", "--json", "--stack", stack], project_dir)
    value, error = sources.parse_json(text) if text else (None, None)
    return value if error is None else None


def _pulumi_config(env: Mapping[str, str]) -> dict[str, str]:
    supplied, error = sources.parse_json(env.get("PULUMI_CONFIG") or "{}")
    if error is not None or not isinstance(supplied, dict):
        return {}  # `validate` reports it; never echo it
    return {str(k): str(v) for k, v in supplied.items()}


def _cli(args: list[str], project_dir: Path) -> str | None:
    """The CLI's answer, or None: no CLI, a failure, or an answer past pulumi_cli's bounds (its
    total deadline and size cap). Output is never shown: it may be a secret."""
    try:
        return pulumi_cli.run(args, project_dir).strip() or None
    except pulumi_cli.CliError:
        return None
