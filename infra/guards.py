"""Guards that refuse to mix Stripe modes, checked before any resource exists.

A key is only ever shown by its prefix (`sk_live_`), never its body.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


def check_stack(stack: str, mode: str, get: ConfigGetter, doc: Document) -> list[Problem]:
    """The stack name, `billing:mode` and the deployer key must all agree."""
    problems = []
    if stack in MODES and stack != mode:
        problems.append(doc.problem(
            ("config", "billing:mode"),
            f"stack {stack!r} must run in {stack} mode, but billing:mode is {mode!r}: "
            f"run `pulumi config set billing:mode {stack} --stack {stack}`",
            "billing:mode",
        ))
    problems += _deployer_key(stack, mode, get("stripe:apiKey"), doc)
    return problems


def _deployer_key(stack: str, mode: str, key: str | None, doc: Document) -> list[Problem]:
    path = ("config", "stripe:apiKey")
    fix = f"run `pulumi config set --secret stripe:apiKey <{mode} key> --stack {stack}`"
    if not key:
        return [doc.problem(path, f"the Stripe key Pulumi deploys with is not set; {fix}",
                            "stripe:apiKey")]
    shown = key_prefix(key)
    if key.startswith("pk_"):
        return [doc.problem(path, f"a publishable key ({shown}) cannot manage products; use a "
                            f"secret or restricted {mode} key (sk_{mode}_/rk_{mode}_): {fix}",
                            "stripe:apiKey")]
    if key_mode(key) is None:
        return [doc.problem(path, f"the key has {shown}; expected sk_{mode}_ or rk_{mode}_: {fix}",
                            "stripe:apiKey")]
    if key_mode(key) != mode:
        return [doc.problem(path, f"the key is a {key_mode(key)}-mode key ({shown}) but the stack "
                            f"is in {mode} mode; {fix}", "stripe:apiKey")]
    return []
