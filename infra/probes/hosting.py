"""`verify hosting` and `status`: the read-only probes of the stack's host, found by the host's key."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from infra.catalog import Deployment
from infra.catalog.guards import ConfigGetter
from infra.clients.cloudflare_api import WorkerSecrets
from infra.clients.http import Limits
from infra.clients.vercel_api import Vercel
from infra.core.checks import Check, Progress
from infra.hosts.cloudflare import CloudflareHost
from infra.hosts.vercel import PROJECT, TEAM, VercelHost
from infra.probes import cloudflare, vercel

Probe = Callable[[Deployment, str, ConfigGetter, Progress, Limits], list[Check]]


def _vercel(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
            limits: Limits) -> list[Check]:
    return vercel.run(deployment, Vercel(token, get(TEAM), limits=limits), progress)


def _cloudflare(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
                limits: Limits) -> list[Check]:
    secrets = WorkerSecrets(token, deadline=limits.seconds, until=limits.until)
    return cloudflare.run(deployment, secrets, progress)


# The one place a host's key meets its probes.
_PROBES: dict[str, Probe] = {VercelHost.key: _vercel, CloudflareHost.key: _cloudflare}


# A host whose running app reads a value only after a deployment: what it says about the values
# the last update wrote. A host that applies each write at once has no entry.
RedeployProbe = Callable[[ConfigGetter, str, Mapping[str, Sequence[str]], Sequence[str], Limits], list[Check]]


def _vercel_redeploy(get: ConfigGetter, token: str, names: Mapping[str, Sequence[str]],
                     changed: Sequence[str], limits: Limits) -> list[Check]:
    return vercel.redeploy(Vercel(token, get(TEAM), limits=limits), str(get(PROJECT)), names, changed)


_REDEPLOY: dict[str, RedeployProbe] = {VercelHost.key: _vercel_redeploy}


def redeploy(host: str, get: ConfigGetter, token: str, names: Mapping[str, Sequence[str]],
             changed: Sequence[str], limits: Limits) -> list[Check]:
    """Per deployed target, whether its running app has every value `names` lists (target -> names,
    the stack's hostingVariables output); `changed` is what the last update wrote (redeployNeeded).
    Read-only; nothing for a host that applies each write at once."""
    probe = _REDEPLOY.get(host)
    return probe(get, token, names, changed, limits) if probe else []


def run(deployment: Deployment, token: str, get: ConfigGetter, progress: Progress,
        limits: Limits) -> list[Check]:
    """Read-only checks that the host holds what the stack declares, each request within `limits`."""
    return _PROBES[deployment.settings.host](deployment, token, get, progress, limits)
