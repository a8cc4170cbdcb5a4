"""`verify hosting`: the read-only probes of the stack's host, found by the host's key."""

from __future__ import annotations

from collections.abc import Callable

from infra.catalog import Deployment
from infra.catalog.guards import ConfigGetter
from infra.clients.cloudflare_api import WorkerSecrets
from infra.clients.http import Limits
from infra.clients.vercel_api import Vercel
from infra.core.checks import Check, Progress
from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.vercel import TEAM, VercelHost
from infra.probes import cloudflare, vercel

Probe = Callable[[Deployment, str, ConfigGetter, Progress, Limits], list[Check]]


def _vercel(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
            limits: Limits) -> list[Check]:
    return vercel.run(deployment, Vercel(token, get(TEAM), limits=limits), progress)


def _cloudflare(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
                limits: Limits) -> list[Check]:
    return cloudflare.run(deployment, WorkerSecrets(token, deadline=limits.seconds), progress)


# The one place a host's key meets its probes.
_PROBES: dict[str, Probe] = {VercelHost.key: _vercel, CloudflareHost.key: _cloudflare}


def run(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
        limits: Limits) -> list[Check]:
    """Read-only checks that the host holds what the stack declares, each request within `limits`."""
    return _PROBES[deployment.settings.host](deployment, token, get, progress, limits)
