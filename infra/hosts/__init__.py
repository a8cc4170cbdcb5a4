"""Hosts: where the app reads its values. One small interface (`host.Host`), one module per host.

`HOSTS` maps each `billing:host` value to its host. The program, `diff`,
`verify` and the policy pack ask a stack's host (`of(settings)`) and never
name one. Importing this package loads only the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.host import HOST_SETTING, Host, Target
from infra.hosts.vercel import VercelHost

if TYPE_CHECKING:
    from infra.catalog.models import StackSettings

__all__ = ["DEFAULT", "HOSTS", "HOST_SETTING", "Host", "Target", "named", "of"]

DEFAULT = "vercel"
HOSTS: dict[str, Host] = {host.key: host for host in (VercelHost(), CloudflareHost())}


def named(key: str | None) -> Host:
    """The host for a `billing:host` value; the default when unset or unknown (validation reports it)."""
    return HOSTS.get(key or DEFAULT, HOSTS[DEFAULT])


def of(settings: StackSettings) -> Host:
    return HOSTS[settings.host]
