"""`pull` for the webhook endpoint: the app's one endpoint, adopted when its API version is pinned."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlparse

from infra.catalog import adoption, guards
from infra.commands.pull.findings import Finding
from infra.core.redact import url_shown
from infra.stripe.reference import api_versions, webhook_event_types

DEFAULT_EVENTS = ["checkout.session.completed", "customer.subscription.created",
                  "customer.subscription.updated", "customer.subscription.deleted"]
DEFAULT_WEBHOOK_PATH = "/webhook/stripe"


def read(
    endpoints: list[dict[str, Any]], domain: str | None, stack: str, findings: list[Finding],
    adopted: dict[tuple[str, str], str],
) -> tuple[dict[str, Any], str | None]:
    enabled = [e for e in endpoints if e.get("status") == "enabled" and str(e.get("url", "")).startswith("https://")]
    if domain:
        enabled = [e for e in enabled if urlparse(e["url"]).hostname == domain] or enabled
    by_url: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for endpoint in enabled:
        by_url[endpoint["url"]].append(endpoint)
    if not by_url:
        findings.append(Finding("note", "webhook", "no enabled https endpoint; the first up creates one "
                                f"at {DEFAULT_WEBHOOK_PATH} with a new secret"))
        created = {"path": DEFAULT_WEBHOOK_PATH, "api_version": _newest_version(), "events": DEFAULT_EVENTS}
        return created, domain
    # The URL with the most events is the app's; ties go to the oldest endpoint.
    url = max(by_url, key=lambda u: (len(by_url[u][0].get("enabled_events") or ()), -min(
        e.get("created") or 0 for e in by_url[u])))
    same = sorted(by_url[url], key=lambda e: ((e.get("metadata") or {}).get("managed_by") != "pulumi",
                                              e.get("created") or 0))
    endpoint = same[0]
    for twin in same[1:]:
        findings.append(Finding("misfit", twin["id"], f"a second enabled endpoint for {url_shown(url)}: "
                                f"every event is delivered twice; not adopted (adopted: {endpoint['id']}): "
                                "delete it"))
    for other in (u for u in by_url if u != url):
        findings.append(Finding("misfit", by_url[other][0]["id"], "an endpoint for another URL "
                                f"({url_shown(other)}); not adopted: delete it if nothing listens there"))
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if domain and host != domain:
        findings.append(Finding("in place", endpoint["id"], f"URL host {host} differs from billing:domain "
                                f"{domain}; the first up points the endpoint at {domain}"))
    domain = domain or host
    known = webhook_event_types()
    events = [e for e in endpoint.get("enabled_events") or () if e in known]
    if "*" in (endpoint.get("enabled_events") or ()):
        findings.append(Finding("in place", endpoint["id"], "subscribes to every event (`*`); the catalog "
                                "lists events, so the first up narrows it to the subscription events"))
        events = DEFAULT_EVENTS
    elif not events:
        events = DEFAULT_EVENTS
    found = endpoint.get("api_version")
    pinned = isinstance(found, str) and found in api_versions()
    version: str = found if isinstance(found, str) and pinned else _newest_version()
    if not pinned:
        # Adopting it would need a replace (api_version is ForceNew), and the engine refuses to
        # replace a resource it is importing: the first `up` would stop. So it is not adopted.
        findings.append(Finding("misfit", endpoint["id"], f"no pinned API version Stripe's library knows "
                                f"({endpoint.get('api_version')!r}), and Stripe cannot change an endpoint's "
                                f"version: not adopted (the engine refuses an import that would replace). "
                                f"The first up creates a new endpoint on {version} with a new signing "
                                "secret and writes it to the host; redeploy the app, then delete this one "
                                "(until then both receive every event, so the handler must dedupe)"))
    webhook: dict[str, Any] = {"path": parsed.path or "/", "api_version": version, "events": events}
    if endpoint.get("description"):
        webhook["description"] = endpoint["description"]
    if not pinned:
        return webhook, domain
    if not endpoint.get("description"):
        findings.append(Finding("in place", endpoint["id"], f"the first up sets the description "
                                f"'billing stack {stack}'"))
    findings.append(Finding("in place", endpoint["id"], "the first up adds metadata managed_by=pulumi and "
                            f"stack={stack}"))
    findings.append(Finding(
        "note", endpoint["id"], "Stripe never returns an existing endpoint's signing secret. Give it once: "
        f"{guards.store_secret(guards.WEBHOOK_SECRET, stack, 'the whsec_... secret')} (Dashboard > "
        "Webhooks > Reveal). Or remove the webhook entry from the import file: the first up then creates "
        "a new endpoint with a new secret, the app is redeployed with it, and you delete this one"))
    adopted[(adoption.WEBHOOK, adoption.webhook_name(version))] = endpoint["id"]
    return webhook, domain


def _newest_version() -> str:
    return max(api_versions())
