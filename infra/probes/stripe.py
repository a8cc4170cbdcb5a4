"""`verify stripe`: read the account and compare it with what the stack declares.

Only GET requests, and for the app key POSTs with no fields to objects that
cannot exist: Stripe checks the permission before it looks the object up, so
the answer ("No such ..." or a 403) proves Write without writing. The read
key (the deployer's, or any key that can read products, prices, webhook
endpoints and portal configurations) shows whether
the endpoint, catalog and portal are really there; the app key is then probed
inside and outside its manifest, to prove production holds a restricted key
with no more than it needs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from infra.catalog import Catalog, Deployment, KeyManifest, site_url
from infra.catalog.guards import key_prefix
from infra.clients.credentials import STRIPE_API_BASE, STRIPE_APP_KEY, key_sources
from infra.clients.errors import ApiError
from infra.clients.stripe_api import READ_PROBES, WRITE_PROBES, Account
from infra.core.checks import Check, Progress
from infra.core.redact import wrong_mode
from infra.probes import entitlements as verify_entitlements
from infra.stripe.rak_names import describe
from infra.stripe.reference import api_keys_page, dashboard_base

Read = TypeVar("Read")


def run(
    deployment: Deployment, read: Account, read_key: str,
    app: Account | None = None, app_key: str | None = None, progress: Progress | None = None,
) -> list[Check]:
    say = progress or (lambda _: None)
    catalog, mode = deployment.catalog, deployment.mode
    checks = [_key_prefix("read key", read_key, mode)]
    say("webhook endpoints")
    url = site_url(deployment.settings.domain, catalog.webhook.path)
    checks += _after_reading("webhook endpoint", "webhook endpoints", read.webhook_endpoints,
                             lambda endpoints: _webhook(catalog, url, endpoints))
    say("products and prices")
    checks += _after_reading("products and prices", "products and prices",
                             lambda: (read.products(), read.prices()),
                             lambda found: _catalog(catalog, *found))
    say("customer portal configurations")
    return_url = site_url(deployment.settings.domain, catalog.portal.return_path)
    checks += _after_reading("portal configuration", "customer portal configurations",
                             read.portal_configurations, lambda found: [_portal(return_url, found)])
    if catalog.entitlements:
        say("entitlement features")
        checks += verify_entitlements.run(catalog, read)
    checks.append(_livemode("read key", read, mode))
    if app is not None and app_key is not None:
        checks.append(_key_prefix("app key", app_key, mode))
        checks += _app_key(catalog.keys.app, app, mode, say)
        checks.append(_livemode("app key", app, mode))
    return checks


def _after_reading(
    name: str, what: str, read: Callable[[], Read], judge: Callable[[Read], list[Check]],
) -> list[Check]:
    """Judge what was read; when the read fails, one failed check says why, and the run goes on."""
    try:
        found = read()
    except ApiError as error:
        return [Check(name, "fail", f"could not read {what}: {error}", _fix(error))]
    return judge(found)


def _fix(error: ApiError, key: str = f"the read key, {key_sources('deployer')}") -> str:
    if error.kind == "permission":
        names = ", ".join(error.permissions) or "the permission Stripe names"
        return f"give {key} {names}: Read on products, prices, webhook endpoints and the customer portal"
    return error.fix(key, STRIPE_API_BASE)


def _key_prefix(role: str, key: str, mode: str) -> Check:
    name = f"{role} mode"
    if wrong_mode(key, mode):
        return Check(name, "fail", f"the {role} is {key_prefix(key)}..., not a {mode}-mode key",
                     f"use a {mode} key from {api_keys_page(mode)}")
    return Check(name, "pass", f"{key_prefix(key)}... matches the stack's {mode} mode")


def _livemode(role: str, account: Account, mode: str) -> Check:
    name = f"{role} livemode"
    expected = mode == "live"
    if not account.livemodes:
        return Check(name, "warn", "no object carried `livemode`; the mode was judged by the prefix alone")
    if account.livemodes != {expected}:
        return Check(name, "fail", f"Stripe answered with livemode={sorted(account.livemodes)} for a "
                     f"{mode} stack: the key belongs to the other mode",
                     f"use a {mode} key from {api_keys_page(mode)}")
    return Check(name, "pass", f"every response had livemode={expected}")


def _webhook(catalog: Catalog, url: str, endpoints: list[dict[str, Any]]) -> list[Check]:
    same_url = [e for e in endpoints if e.get("url") == url]
    enabled = [e for e in same_url if e.get("status") == "enabled"]
    if not same_url:
        return [Check("webhook endpoint", "fail", f"no endpoint for {url}; Stripe delivers nothing",
                      "run `pulumi up` for this stack")]
    if not enabled:
        return [Check("webhook endpoint", "fail", f"the endpoint for {url} is disabled; Stripe "
                      "delivers nothing (Stripe disables endpoints that keep failing)",
                      "fix the handler, then enable the endpoint in the Dashboard and `pulumi refresh`")]
    webhook = catalog.webhook
    expected = {webhook.api_version, *([webhook.next_api_version] if webhook.next_api_version else [])}
    checks = [Check("webhook endpoint", "pass", f"{enabled[0]['id']} is enabled for {url}")]
    if len(expected) > 1 and {e.get("api_version") for e in enabled} == expected and len(enabled) == 2:
        # An API version upgrade runs two endpoints on one URL on purpose, one per version.
        checks.append(Check("one endpoint per URL", "pass", "two enabled endpoints during the upgrade to "
                            f"{webhook.next_api_version}: the app verifies both secrets and dedupes on the "
                            "event id"))
    elif len(enabled) > 1:
        ids = ", ".join(e["id"] for e in enabled)
        checks.append(Check("one endpoint per URL", "fail", f"{len(enabled)} enabled endpoints "
                            f"({ids}) deliver every event to {url} twice",
                            "delete the ones this stack does not manage (its ID is the "
                            "webhookEndpointId output)"))
    else:
        checks.append(Check("one endpoint per URL", "pass", "no other enabled endpoint has this URL"))
    events = set(catalog.webhook.events)
    got = set(enabled[0].get("enabled_events") or ())
    if "*" in got:
        checks.append(Check("webhook events", "fail", "the endpoint subscribes to every event (`*`)",
                            "`pulumi up` sets the catalog's list"))
    elif got != events:
        missing, extra = sorted(events - got), sorted(got - events)
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not in the catalog {', '.join(extra)}" if extra else "") if part)
        checks.append(Check("webhook events", "fail", f"events differ from the catalog: {detail}",
                            "`pulumi up` (someone edited the endpoint in the Dashboard)"))
    else:
        checks.append(Check("webhook events", "pass", f"the catalog's {len(events)} events"))
    return checks


def _catalog(catalog: Catalog, products: list[dict[str, Any]], prices: list[dict[str, Any]]) -> list[Check]:
    checks = []
    by_id = {p["id"]: p for p in products}
    by_plan: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for product in products:
        plan = (product.get("metadata") or {}).get("plan")
        if product.get("active") and isinstance(plan, str):
            by_plan[plan.lower()].append(product)
    by_lookup_key = {p["lookup_key"]: p for p in prices if p.get("lookup_key")}
    for plan_key, plan in catalog.plans.items():
        if not plan.paid:
            continue
        found = by_plan.get(plan_key, [])
        wrong_case = [p for p in found if p["metadata"]["plan"] != plan_key]
        if not found:
            checks.append(Check(f"product {plan_key}", "fail", f"no active product has plan={plan_key!r} "
                                "metadata; the app cannot map a subscription to this plan",
                                "run `pulumi up` for this stack"))
        elif wrong_case:
            checks.append(Check(f"product {plan_key}", "fail", f"{wrong_case[0]['id']} has plan="
                                f"{wrong_case[0]['metadata']['plan']!r}; the app matches {plan_key!r}",
                                "`pulumi up` writes the catalog key (someone edited it by hand)"))
        elif len(found) > 1:
            checks.append(Check(f"product {plan_key}", "warn", f"{len(found)} active products "
                                f"({', '.join(p['id'] for p in found)}) say plan={plan_key!r}",
                                "archive the one the stack does not manage (see the productIds output)"))
        else:
            checks.append(Check(f"product {plan_key}", "pass", f"{found[0]['id']} is active"))
        for price_key, price in plan.prices.items():
            lookup_key = catalog.held_lookup_key(plan_key, price_key)
            if lookup_key is None:
                continue  # archived, and its lookup key moved to the price that took it over
            checks.append(_price(plan_key, lookup_key, price.archived,
                                 (price.currency, price.unit_amount, price.interval, price.interval_count),
                                 by_lookup_key.get(lookup_key), by_id))
    return checks


def _price(
    plan_key: str, lookup_key: str, archived: bool, terms: tuple[str, int, str, int],
    found: dict[str, Any] | None, products: dict[str, dict[str, Any]],
) -> Check:
    name = f"price {lookup_key}"
    if found is None:
        return Check(name, "fail", f"no price has lookup key {lookup_key!r}; the app's lookup finds nothing",
                     "run `pulumi up` for this stack")
    recurring = found.get("recurring") or {}
    got = (found.get("currency"), found.get("unit_amount"), recurring.get("interval"),
           recurring.get("interval_count"))
    if got != terms:
        return Check(name, "fail", f"{found['id']} charges {_terms(got)}, the catalog says {_terms(terms)}",
                     "a price's terms never change: if the catalog's are new, write them as a new price "
                     "that takes the lookup key over (`billing reprice`); otherwise someone moved "
                     "the lookup key by hand: `pulumi up` moves it back")
    metadata_plan = (found.get("metadata") or {}).get("plan")
    product_plan = (products.get(found.get("product") or "", {}).get("metadata") or {}).get("plan")
    for where, value in (("price", metadata_plan), ("product", product_plan)):
        if value != plan_key:
            return Check(name, "fail", f"{found['id']}: {where} metadata plan={value!r}, the app matches "
                         f"{plan_key!r}", "`pulumi up` rewrites the metadata from the catalog")
    if bool(found.get("active")) == archived:
        state = "active" if found.get("active") else "archived"
        meaning = (f"{found['id']} is still active though the catalog archives it: it stays purchasable"
                   if archived else f"{found['id']} is archived; new checkouts with it fail")
        return Check(name, "fail", f"{meaning} ({state})", "run `pulumi up` for this stack")
    return Check(name, "pass", f"{found['id']} {'archived' if archived else 'active'}, {_terms(got)}")


def _terms(terms: tuple[Any, ...]) -> str:
    currency, amount, interval, count = terms
    every = interval if count == 1 else f"{count} {interval}s"
    return f"{amount} {str(currency).upper()} (minor units) every {every}"


def _portal(return_url: str, configurations: list[dict[str, Any]]) -> Check:
    ours = [c for c in configurations if c.get("default_return_url") == return_url]
    active = [c for c in ours if c.get("active")]
    if active:
        return Check("portal configuration", "pass", f"{active[0]['id']} is active (returns to {return_url})")
    if ours:
        return Check("portal configuration", "fail", f"{ours[0]['id']} returns to {return_url} but is "
                     "inactive; portal sessions created with it fail", "run `pulumi up` for this stack")
    return Check("portal configuration", "fail", f"no portal configuration returns to {return_url}",
                 "run `pulumi up` for this stack")


def _app_key(manifest: KeyManifest, app: Account, mode: str, say: Progress) -> list[Check]:
    granted = manifest.granted()
    inside = [r for r in granted if r in READ_PROBES]
    outside = [r for r in READ_PROBES if r not in granted]
    checks = []
    for resource in inside:
        say(f"app key: read {resource}")
        refusal = app.probe(READ_PROBES[resource])
        name = f"app key reads {resource}"
        if refusal is None:
            checks.append(Check(name, "pass", "allowed, as its manifest says"))
        elif refusal.kind == "permission":
            needs = f" (Stripe asks for {describe(refusal.permissions)})" if refusal.permissions else ""
            checks.append(Check(name, "fail", f"refused with {refusal.status}{needs}: the app will fail "
                                "where it uses this", f"set {resource} to {granted[resource].title()} on the "
                                f"key at {api_keys_page(mode)}"))
        else:
            checks.append(Check(name, "fail", f"could not be checked: {refusal}", _fix(refusal, _APP_KEY)))
            if refusal.kind == "auth" or refusal.unreachable:
                return checks  # every other probe would end the same way
    over: list[str] = []
    refused: list[str] = []
    unjudged: list[tuple[str, ApiError]] = []
    for resource in outside:
        say(f"app key: read {resource} (outside the manifest)")
        refusal = app.probe(READ_PROBES[resource])
        if refusal is None:
            over.append(resource)
        elif refusal.kind == "permission":
            refused.extend(refusal.permissions or (resource,))
        else:
            unjudged.append((resource, refusal))
            if refusal.kind == "auth" or refusal.unreachable:
                break
    restriction = _restriction(outside, over, refused, unjudged, mode)
    checks.append(restriction)
    full_secret = bool(over) and len(over) == len(outside)
    for resource, level in granted.items():
        if resource not in WRITE_PROBES or (full_secret and level == "read"):
            continue  # a full secret key writes everywhere: the restriction check already says so
        say(f"app key: write {resource} (on an object that does not exist)")
        refusal = app.write_probe(WRITE_PROBES[resource])
        checks.append(_write(resource, level, refusal, mode))
        if refusal is not None and (refusal.kind == "auth" or refusal.unreachable):
            break
    return checks


def _write(resource: str, level: str, refusal: ApiError | None, mode: str) -> Check:
    """A write probe judged against the manifest: Write must be allowed, Read must be refused."""
    may = level == "write"
    name = f"app key {'writes' if may else 'cannot write'} {resource}"
    if refusal is None:
        if may:
            return Check(name, "pass", "allowed (Stripe answered \"No such ...\" to a write on an object "
                         "that does not exist), as its manifest says")
        return Check(name, "fail", f"the key may write {resource}, which its manifest leaves at Read: "
                     "over-privileged", f"set {resource} to Read on the key at {api_keys_page(mode)}")
    if refusal.kind == "permission":
        if not may:
            return Check(name, "pass", "refused with Stripe's permission error, as its manifest says (Read)")
        asks = f" (Stripe asks for {describe(refusal.permissions)})" if refusal.permissions else ""
        return Check(name, "fail", f"refused with {refusal.status}{asks}: the app will fail where it "
                     f"writes {resource}", f"set {resource} to Write on the key at {api_keys_page(mode)}")
    return Check(name, "fail", f"could not be checked: {refusal}", _fix(refusal, _APP_KEY))


_APP_KEY = f"the app key, {key_sources('app', STRIPE_APP_KEY)}"


def _restriction(
    outside: list[str], over: list[str], refused: list[str], unjudged: list[tuple[str, ApiError]], mode: str,
) -> Check:
    name = "app key is restricted"
    not_judged = (f"; {len(unjudged)} could not be judged ({unjudged[0][0]}: {unjudged[0][1]})"
                  if unjudged else "")
    if over and len(over) == len(outside):
        # The guards accept sk_test_ for the app in test mode (and refuse sk_live_): verify agrees.
        return Check(name, "fail" if mode == "live" else "warn", f"every call outside the manifest "
                     f"succeeded ({_few(over)}): this is a full secret key, which can "
                     + ("move money" if mode == "live" else "do anything in test mode and proves nothing "
                        "about the live key's manifest"), "create a restricted key (billing "
                     f"keys) and store it as billing:appStripeKey; see {dashboard_base(mode)}/apikeys")
    if over:
        return Check(name, "fail", f"the key can read {', '.join(over)}, which its manifest leaves at None: "
                     f"over-privileged{not_judged}", f"set those to None on the key at {api_keys_page(mode)}")
    if unjudged:
        proven = (f"{len(refused)} of {len(outside)} calls outside the manifest were refused with Stripe's "
                  "permission error" if refused else "no call outside the manifest was refused with Stripe's "
                  "permission error")
        return Check(name, "fail", f"restriction is unproven: {proven}{not_judged}",
                     _fix(unjudged[0][1], _APP_KEY))
    return Check(name, "pass", f"{len(outside)} calls outside the manifest were refused with Stripe's "
                 f"permission error ({_few(refused)})")


def _few(names: Iterable[str], most: int = 4) -> str:
    names = list(names)
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
