"""Adopting existing Stripe objects: the resource names the program uses, and the import file.

`pull` writes an import file in `pulumi import --file` format mapping each
resource name the program declares to an existing object's ID. A stack that
sets `billing:adopt` to that file has the program pass each ID as the
resource's `import` option, so the first `pulumi up` adopts the objects under
the program's own parent and provider instead of creating duplicates. Since
Pulumi 3.174 an object whose inputs differ is imported and then updated in
place; only a difference that would replace it is refused. Once adopted, the
option is ignored and can be removed.

The same file adopts the host's values where the host cannot overwrite one
(Vercel: `pull --host` lists the variables already on the project), under the
component that writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra import hosts
from infra.catalog import entitlements, hosting
from infra.catalog.models import Catalog
from infra.catalog.settings import StackSettings
from infra.core import sources
from infra.core.problems import Problem
from infra.core.redact import shown
from infra.hosts.host import value_name
from infra.stripe import provider_table

COMPONENT_TYPE = "billing:stripe:Billing"
COMPONENT_NAME = "billing"
PRODUCT = provider_table.PRODUCT.token
PRICE = provider_table.PRICE.token
WEBHOOK = provider_table.WEBHOOK_ENDPOINT.token
PORTAL = provider_table.PORTAL_CONFIGURATION.token
FEATURE = provider_table.ENTITLEMENTS_FEATURE.token
# Product features are never adopted: the provider's Read takes the product from state, so an
# import has none and fails (provider_table, PRODUCT_FEATURE).
ID_PREFIXES = {PRODUCT: "prod_", PRICE: "price_", WEBHOOK: "we_", PORTAL: "bpc_", FEATURE: "feat_"}
# A whole Stripe ID: its type's prefix, then letters and digits only (no `/`, `.`, newline or ESC
# can reach `plan`, the import or a URL). `fullmatch`, never `match`: `$` admits a final newline.
ID_PATTERNS = {type_: re.compile(re.escape(prefix) + "[A-Za-z0-9]{1,250}", re.ASCII)
               for type_, prefix in ID_PREFIXES.items()}
WEBHOOK_NAME = "webhook"
"""The endpoint's name before endpoints were named by version; kept as an alias of the main one."""
PORTAL_NAME = "portal"
HOSTING_NAME = "hosting"
"""The component that writes the app's values to its host (__main__.py)."""

Adopted = Mapping[tuple[str, str], str]
"""Existing object ID by (type token, resource name)."""


def price_name(plan: str, price: str) -> str:
    return f"{plan}-{price}"


def webhook_name(api_version: str) -> str:
    """An endpoint is named by its API version: a version never changes on an endpoint (it is a
    new endpoint with a new secret), so an upgrade adds a second one instead of renaming."""
    return f"{WEBHOOK_NAME}-{api_version}"


def resource_names(catalog: Catalog) -> dict[tuple[str, str], str]:
    """Every adoptable resource the program declares for `catalog`, with what it is."""
    names: dict[tuple[str, str], str] = {}
    for key, plan in catalog.plans.items():
        if plan.paid:
            names[(PRODUCT, key)] = f"the product of plan {key!r}"
    for plan_key, price_key, _ in catalog.prices():
        names[(PRICE, price_name(plan_key, price_key))] = f"price {catalog.lookup_key(plan_key, price_key)!r}"
    names[(WEBHOOK, webhook_name(catalog.webhook.api_version))] = "the webhook endpoint"
    names[(PORTAL, PORTAL_NAME)] = "the customer portal configuration"
    for key in catalog.entitlements:
        names[(FEATURE, entitlements.feature_name(key))] = f"feature {key!r}"
    return names


@dataclass(frozen=True)
class HostValues:
    """The host values a stack may adopt: each resource name with what it is, and how IDs start."""

    value_type: str
    component_type: str
    names: Mapping[str, str]
    id_prefix: str


def host_values(catalog: Catalog, settings: StackSettings) -> HostValues | None:
    """Every value the stack writes to a host that cannot overwrite one; None for one that can."""
    host = hosts.of(settings)
    prefix = host.import_prefix(settings)
    if prefix is None:
        return None
    names = {value_name(target, variable.name): f"{variable.name} on {target.name}"
             for target in host.targets(settings) for variable in hosting.variables(catalog)}
    return HostValues(host.value_type, host.component_type, names, prefix)


def import_file(adopted: Adopted, host: HostValues | None = None) -> dict[str, Any]:
    """The `pulumi import --file` document: an empty parent component, then each object under it
    (the host's values under the host's component)."""
    resources: list[dict[str, Any]] = [{"type": COMPONENT_TYPE, "name": COMPONENT_NAME, "component": True}]
    hosted = {key: id_ for key, id_ in adopted.items() if host is not None and key[0] == host.value_type}
    resources += [{"type": type_, "name": name, "id": id_, "parent": COMPONENT_NAME}
                  for (type_, name), id_ in adopted.items() if (type_, name) not in hosted]
    if host is not None and hosted:
        resources.append({"type": host.component_type, "name": HOSTING_NAME, "component": True})
        resources += [{"type": type_, "name": name, "id": id_, "parent": HOSTING_NAME}
                      for (type_, name), id_ in hosted.items()]
    return {"resources": resources}


def summary(adopted: Adopted) -> list[str]:
    """What the first `up` adopts instead of creating, by kind: names and IDs, never values."""
    stripe = [id_ for (type_, _), id_ in adopted.items() if type_ in ID_PREFIXES]
    host = sorted(name for type_, name in adopted if type_ not in ID_PREFIXES)
    lines = [f"adopts {len(stripe)} existing Stripe objects: {', '.join(stripe)}"] if stripe else []
    if host:
        lines.append(f"adopts {len(host)} existing host variables (imported, then given the stack's "
                     f"value): {', '.join(host)}")
    return lines


def _host_entry(entry: dict[str, Any], field: str, file: str, host: HostValues) -> Problem | None:
    """What is wrong with an import entry of a host value, if anything."""
    name, id_ = entry.get("name"), entry.get("id")
    if not isinstance(name, str) or name not in host.names:
        known = ", ".join(sorted(host.names))
        return Problem(file, None, f"{field}.name", f"the program writes no host value named {shown(name)} "
                       f"(it writes: {known}); run `billing pull --host` again after changing the catalog")
    rest = id_[len(host.id_prefix):] if isinstance(id_, str) and id_.startswith(host.id_prefix) else ""
    if not rest or "/" in rest:
        return Problem(file, None, f"{field}.id", f"{name!r} needs an import ID {host.id_prefix}<env id> "
                       f"(this stack's project); got {shown(id_)}; run `billing pull --host` again")
    if entry.get("parent") != HOSTING_NAME:
        return Problem(file, None, f"{field}.parent", f"must be {HOSTING_NAME!r}: the program declares "
                       "every host value under that component")
    return None


def read(
    text: str, file: str, catalog: Catalog, host: HostValues | None = None,
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    """The IDs an import file adopts, each checked against the names the program declares."""
    data, error = sources.parse_json(text)
    if error is not None:
        return {}, [Problem(file, None, "(file)", f"{error}; write it again with `billing pull`")]
    entries = data.get("resources") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return {}, [Problem(file, None, "resources", "expected a list of resources, as `pull` writes")]
    declared = resource_names(catalog)
    adopted: dict[tuple[str, str], str] = {}
    first: dict[object, str] = {}  # (type, name) and ID -> where it was first adopted
    problems = []
    for index, (entry, line) in enumerate(zip(entries, _lines(text, len(entries)), strict=True)):
        field = f"resources[{index}]"
        where = f"resources[{index}]" + (f" (line {line})" if line else "")
        if not isinstance(entry, dict):
            problems.append(Problem(file, line, field, "expected an object with type, name and id"))
            continue
        type_, name, id_ = entry.get("type"), entry.get("name"), entry.get("id")
        if entry.get("component") and (type_, name) == (COMPONENT_TYPE, COMPONENT_NAME):
            continue
        if host is not None and entry.get("component") and (type_, name) == (host.component_type,
                                                                           HOSTING_NAME):
            continue
        if host is not None and type_ == host.value_type:
            wrong = _host_entry(entry, field, file, host)
            if wrong:
                problems.append(wrong)
            else:
                adopted[(type_, str(name))] = str(entry["id"])
            continue
        if not isinstance(type_, str) or not isinstance(name, str) or (type_, name) not in declared:
            known = ", ".join(sorted(n for t, n in declared if t == type_)) or "none"
            kind = type_ if isinstance(type_, str) and type_ in ID_PREFIXES else shown(type_)
            problems.append(Problem(file, line, f"{field}.name", f"the program declares no {kind} named "
                                    f"{shown(name)} (it declares: {known}); pull again after changing the "
                                    "catalog"))
            continue
        prefix = ID_PREFIXES[str(type_)]
        if not isinstance(id_, str) or not ID_PATTERNS[type_].fullmatch(id_):
            problems.append(Problem(file, line, f"{field}.id", f"{name!r} needs a Stripe ID starting with "
                                    f"{prefix}, then only letters and digits; got {shown(id_)}"))
            continue
        if entry.get("parent") != COMPONENT_NAME:
            problems.append(Problem(file, line, f"{field}.parent", f"must be {COMPONENT_NAME!r}: the program "
                                    "declares every Stripe resource under that component"))
            continue
        for seen, what in (((type_, name), f"{name!r}"), (id_, f"ID {id_}")):
            if seen in first:
                problems.append(Problem(file, line, field, f"adopts {what} again ({first[seen]} already "
                                        f"does): keep one of the two entries, {first[seen]} or {where}"))
        if any(seen in first for seen in ((type_, name), id_)):
            continue
        first[(type_, name)] = first[id_] = where
        adopted[(str(type_), str(name))] = id_
    return adopted, problems


def _lines(text: str, count: int) -> list[int | None]:
    """The line each entry of `resources` starts on, or None for all when the text is not laid out
    as one JSON document with that list (the entries are then named by index alone)."""
    decoder = json.JSONDecoder()
    try:
        data, _ = decoder.raw_decode(text.lstrip("\ufeff \t\r\n"))
        start = text.index("[", text.index('"resources"')) + 1
        lines: list[int | None] = []
        position = start
        for _ in range(count):
            while text[position] in " \t\r\n,":
                position += 1
            lines.append(text.count("\n", 0, position) + 1)
            _, position = decoder.raw_decode(text, position)
    except (ValueError, IndexError):
        return [None] * count
    return lines if isinstance(data, dict) else [None] * count
