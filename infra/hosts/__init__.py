"""Hosts: where the app reads its values. One small interface (`host.Host`), one module per host.

`HOSTS` maps each `billing:host` value to its host. The program, `diff`,
`verify` and the policy pack ask a stack's host (`of(settings)`) and never
name one. Importing this package loads only the standard library and infra.core.
"""

from __future__ import annotations

from infra.core.problems import Problem
from infra.core.snapshot import Snapshot
from infra.core.sources import Document
from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.host import HOST_SETTING, Host, StackSettings, Target
from infra.hosts.vercel import VercelHost

__all__ = ["DEFAULT", "HOSTS", "HOST_SETTING", "Host", "StackSettings", "Target", "check", "named", "of"]

DEFAULT = "vercel"
HOSTS: dict[str, Host] = {host.key: host for host in (VercelHost(), CloudflareHost())}


def named(key: str | None) -> Host:
    """The host for a `billing:host` value; the default when unset or unknown (validation reports it)."""
    return HOSTS.get(key or DEFAULT, HOSTS[DEFAULT])


def of(settings: StackSettings) -> Host:
    return HOSTS[settings.host]


def check(stack: str, settings: StackSettings, doc: Document, files: Snapshot) -> list[Problem]:
    """The stack's host has its settings, and no other host's: a leftover would be silently ignored."""
    host = of(settings)
    problems = host.check(stack, settings, doc, files)
    given = settings.model_dump(by_alias=True)
    for other in HOSTS.values():
        for key in other.settings:
            if other is not host and key not in host.settings and given.get(key) is not None:
                problems.append(doc.problem(("config", key), f"is a {other.title} setting, but this "
                                            f"stack's host is {host.key} ({HOST_SETTING}); remove it", key))
    return problems
