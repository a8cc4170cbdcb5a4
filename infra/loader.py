"""Load and check a whole deployment (catalog + one stack's settings) at once.

Nothing here touches Pulumi resources: the program and the command line call
`load_deployment`, which either returns frozen models or raises ConfigError
with every problem found, each located as `file:line: field: fix`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infra import adoption, entitlements, guards, hosting, hosts, sources, tier_contract
from infra.catalog import (
    Catalog,
    Coupon,
    Entitlement,
    Hosting,
    Keys,
    Plan,
    Portal,
    StackSettings,
    Webhook,
    check_feature_key,
    check_slug,
)
from infra.guards import SECRET_KEYS, ConfigGetter
from infra.problems import ConfigError, Problem
from infra.sources import Document, Path_, dotted

M = TypeVar("M", bound=BaseModel)

NAMESPACE = "billing"
# Set with `pulumi config set`, read by guards and the program, not part of the settings model.
CREDENTIAL_SETTINGS = (guards.APP_KEY, guards.PUBLISHABLE_KEY, guards.WEBHOOK_SECRET)


@dataclass(frozen=True)
class Deployment:
    """Everything one stack declares, checked as a whole."""

    stack: str
    settings: StackSettings
    catalog: Catalog
    adopted: adoption.Adopted = dataclasses.field(default_factory=dict)
    """Existing Stripe objects the program adopts (`billing:adopt`), by (type, name)."""

    @property
    def mode(self) -> str:
        return self.settings.mode


def stack_file(project_dir: Path, stack: str) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def load_deployment(stack: str, project_dir: Path, get: ConfigGetter) -> Deployment:
    """Validate the stack's settings, the catalog and the guards; raise on any problem."""
    stack_doc = sources.read(stack_file(project_dir, stack), f"Pulumi.{stack}.yaml")
    problems: list[Problem] = list(stack_doc.problems)
    settings, coupons, found = _settings(stack_doc, get)
    problems += found

    catalog_rel = settings.catalog if settings else _catalog_path(get)
    catalog_doc = sources.read(project_dir / catalog_rel, catalog_rel)
    problems += catalog_doc.problems
    catalog: Catalog | None = None
    if catalog_doc.data is not None:
        catalog, found = _catalog(catalog_doc)
        problems += found
        if catalog is not None:
            problems += _coupons_against_catalog(coupons, catalog, stack_doc)
            problems += _deployer_manifest(catalog, coupons, catalog_doc)
            problems += _stack_file_secrets(stack_doc, catalog.hosting.extra.values())
    if settings is not None:
        host = hosts.of(settings)
        problems += host.check(stack, settings, stack_doc, project_dir)
        extra = list(catalog.hosting.extra.values()) if catalog else []
        problems += guards.check_stack(stack, settings.mode, get, stack_doc, required=[host.token, *extra])
    adopted: dict[tuple[str, str], str] = {}
    if settings is not None and settings.adopt and catalog is not None:
        adopted, found = _adoption(project_dir, settings.adopt, catalog, stack, get, stack_doc)
        problems += found
    if problems or settings is None or catalog is None:
        raise ConfigError(sorted(set(problems), key=_problem_order))
    return Deployment(stack=stack, settings=settings, catalog=catalog, adopted=adopted)


def _adoption(
    project_dir: Path, path: str, catalog: Catalog, stack: str, get: ConfigGetter, stack_doc: Document,
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    file = project_dir / path
    if not file.is_file():
        return {}, [stack_doc.problem(("config", "billing:adopt"), f"{path} does not exist; write it with "
                                      f"`python -m infra pull --stack {stack}`", "billing:adopt")]
    adopted, problems = adoption.read(file.read_text(), path, catalog)
    secret = get(guards.WEBHOOK_SECRET)
    endpoint = (adoption.WEBHOOK, adoption.webhook_name(catalog.webhook.api_version))
    if endpoint in adopted and not (secret or "").startswith("whsec_"):
        state = "is not set" if not secret else f"holds a value with {guards.key_prefix(secret)}"
        problems.append(stack_doc.problem(
            ("config", guards.WEBHOOK_SECRET),
            f"{state}, and {path} adopts the existing webhook endpoint, whose signing secret Stripe "
            "never returns. Either give it once: `pulumi config set --secret billing:webhookSecret "
            f"whsec_... --stack {stack}` (Dashboard > Webhooks > the endpoint > Reveal), or remove the "
            f"webhook entry from {path}: the first up then creates a new endpoint with a new secret, "
            "the app is redeployed with it, and you delete the old endpoint", guards.WEBHOOK_SECRET))
    return adopted, problems


def _problem_order(problem: Problem) -> tuple[str, int, str]:
    return (problem.file, problem.line or 0, problem.field)


def _catalog_path(get: ConfigGetter) -> str:
    value = get(f"{NAMESPACE}:catalog")
    default = StackSettings.model_fields["catalog"].default
    return value if value else str(default)


# ---------------------------------------------------------------- catalog


def check_catalog(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """The catalog alone, checked as a whole (commands that edit it validate before writing)."""
    return _catalog(doc)


def _catalog(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """Each plan and section is checked on its own, so one mistake hides no other."""
    raw = doc.data
    if not isinstance(raw, dict):
        return None, [doc.problem((), "the catalog must be a mapping with `plans:` and `webhook:`")]
    problems = _unknown_keys(doc, (), raw, Catalog)
    plans: dict[str, Plan] = {}
    raw_plans = raw.get("plans")
    if not isinstance(raw_plans, dict) or not raw_plans:
        problems.append(doc.problem(("plans",), "declare at least one plan under `plans:`"))
        raw_plans = {}
    for key, raw_plan in raw_plans.items():
        try:
            check_slug(key)
        except ValueError as error:
            problems.append(doc.problem(("plans", key), str(error)))
            continue
        plan, found = _validate(Plan, raw_plan, doc, ("plans", key))
        problems += found
        if plan is not None:
            plans[key] = plan
    webhook, found = _validate(Webhook, raw.get("webhook"), doc, ("webhook",), required=True)
    problems += found
    portal, found = _validate(Portal, raw.get("portal", {}), doc, ("portal",))
    problems += found
    hosting_section, found = _validate(Hosting, raw.get("hosting", {}), doc, ("hosting",))
    problems += found
    keys, found = _validate(Keys, raw.get("keys", {}), doc, ("keys",))
    problems += found
    features, found = _features(doc, raw.get("entitlements"))
    problems += found
    problems += _lookup_key_clashes(plans, doc)
    if portal is not None:
        problems += _portal_against_plans(portal, raw_plans, plans, doc)
    if features is not None and len(plans) == len(raw_plans):
        problems += entitlements.check(features, plans, webhook, doc)
    if problems or webhook is None or portal is None or hosting_section is None or keys is None \
            or features is None:
        return None, problems
    catalog = Catalog(plans=plans, webhook=webhook, entitlements=features, portal=portal,
                      hosting=hosting_section, keys=keys)
    problems = _hosting_against_catalog(catalog, doc)
    return (None, problems) if problems else (catalog, [])


def _features(doc: Document, raw: Any) -> tuple[dict[str, Entitlement] | None, list[Problem]]:
    """`entitlements:`, each feature checked on its own like plans."""
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return None, [doc.problem(("entitlements",), "expected a mapping of lookup key -> {name: ...}, "
                                  "like `premium_reports: {name: Premium reports}`")]
    features: dict[str, Entitlement] = {}
    problems: list[Problem] = []
    for key, raw_feature in raw.items():
        try:
            check_feature_key(key)
        except ValueError as error:
            problems.append(doc.problem(("entitlements", key), str(error)))
            continue
        feature, found = _validate(Entitlement, raw_feature, doc, ("entitlements", key), required=True)
        problems += found
        if feature is not None:
            features[key] = feature
    return (None, problems) if problems else (features, [])


# A host caps one variable's size (Cloudflare documents 5 KB for a Worker's; not verified live).
TIERS_MAX_BYTES = 5000


def _hosting_against_catalog(catalog: Catalog, doc: Document) -> list[Problem]:
    problems = []
    if catalog.hosting.names.tiers:
        # Sized as written: with a price ID of Stripe's usual length for every price.
        ids = {catalog.price_id_key(p, k): "price_" + "x" * 24 for p, k, _ in catalog.prices()}
        size = len(tier_contract.to_json(tier_contract.build(catalog, "live", "live", ids), compact=True))
        if size > TIERS_MAX_BYTES:
            problems.append(doc.problem(("hosting", "names", "tiers"), (
                f"the tier contract is {size} bytes, over the {TIERS_MAX_BYTES} a host variable can hold; "
                "remove `tiers:` and ship `python -m infra export --format ts` with the app instead")))
    active = {catalog.lookup_key(p, k) for p, k, price in catalog.prices() if not price.archived}
    for lookup_key in catalog.hosting.price_names:
        if lookup_key not in active:
            problems.append(doc.problem(
                ("hosting", "price_names", lookup_key),
                f"{lookup_key!r} is not the lookup key of an active price; use one of: "
                f"{', '.join(sorted(active))}",
            ))
    for first, second in hosting.clashes(catalog):
        path: Path_ = ("hosting",)
        if second.source == "config":
            path = ("hosting", "extra", second.name)
        elif second.source == "price" and second.ref in catalog.hosting.price_names:
            path = ("hosting", "price_names", second.ref)
        problems.append(doc.problem(
            path,
            f"{second.name} would hold both {first.describe()} and {second.describe()}; "
            "give one of them another name under `hosting:`",
        ))
    return problems


def _deployer_manifest(catalog: Catalog, coupons: Mapping[str, Coupon], doc: Document) -> list[Problem]:
    """The deployer key must be able to write what this stack manages, or `up` stops halfway."""
    granted = catalog.keys.deployer.permissions
    needed = ["Products", "Prices", "Webhook endpoints", "Customer portal"]
    if coupons:
        needed.append("Coupons")
    if any(coupon.promotion_codes for coupon in coupons.values()):
        needed.append("Promotion codes")
    missing = [name for name in needed if granted.get(name) != "write"]
    if not missing:
        return []
    return [doc.problem(
        ("keys", "deployer", "permissions"),
        f"the program creates and updates these, so the deployer key needs Write on: "
        f"{', '.join(missing)}; add `{missing[0]}: write`",
    )]


def _lookup_key_clashes(plans: Mapping[str, Plan], doc: Document) -> list[Problem]:
    """One price holds a lookup key: archived prices may share the key of the one active price
    that took it over (they give it up), but two active prices, or two holders, may not."""
    holders: dict[str, list[tuple[str, str, bool]]] = {}
    for plan_key, plan in plans.items():
        for price_key, price in plan.prices.items():
            key = price.lookup_key or f"{plan_key}_{price_key}"
            holders.setdefault(key, []).append((plan_key, price_key, price.archived))
    problems = []
    for key, prices in holders.items():
        active = [(p, k) for p, k, archived in prices if not archived]
        if len(prices) == 1 or len(active) == 1:
            continue
        first = f"plans.{prices[0][0]}.prices.{prices[0][1]}"
        for plan_key, price_key, _ in prices[1:]:
            why = ("two active prices" if len(active) > 1 else
                   "archived prices only give a key up to the active price that takes it over")
            problems.append(doc.problem(
                ("plans", plan_key, "prices", price_key, "lookup_key"),
                f"lookup key {key!r} is already used by {first}: {why}; the app finds prices "
                "by lookup key, so one price holds each: set a different lookup_key",
            ))
    return problems


def _portal_against_plans(
    portal: Portal, raw_plans: Mapping[str, Any], plans: Mapping[str, Plan], doc: Document
) -> list[Problem]:
    if portal.plan_switching is None:
        return []
    problems = []
    for index, key in enumerate(portal.plan_switching.plans):
        path: Path_ = ("portal", "plan_switching", "plans", index)
        if key not in raw_plans:
            problems.append(doc.problem(path, f"{key!r} is not a plan in this catalog; "
                                        f"use one of: {', '.join(raw_plans)}"))
        elif key in plans and not plans[key].paid:
            problems.append(doc.problem(path, f"plan {key!r} is free and has no Stripe product to switch "
                                        "to: remove it from the list"))
        elif key in plans and not any(not p.archived for p in plans[key].prices.values()) \
                and portal.plan_switching.enabled:
            problems.append(doc.problem(path, f"plan {key!r} has no active price, so customers "
                                        "cannot switch to it: remove it from the list"))
    return problems


# ---------------------------------------------------------------- stack settings


def _settings(
    doc: Document, get: ConfigGetter
) -> tuple[StackSettings | None, dict[str, Coupon], list[Problem]]:
    problems: list[Problem] = []
    if isinstance(doc.data, dict) and isinstance(doc.data.get("config"), dict):
        problems += _stack_file_keys(doc, doc.data["config"])
    raw: dict[str, Any] = {}
    for name, field in StackSettings.model_fields.items():
        key = str(field.alias)
        value = get(key)
        if value is None:
            continue
        if _is_structured(StackSettings, name):
            try:
                raw[key] = json.loads(value, parse_float=Decimal)
            except json.JSONDecodeError:
                problems.append(doc.problem(("config", key), "not valid structured config; set it "
                                            f"with `pulumi config set --path {key}...`", key))
                continue
        else:
            raw[key] = value
    # Coupons are checked one by one, like plans, so one bad coupon hides no other problem.
    coupons_key = str(StackSettings.model_fields["coupons"].alias)
    raw_coupons = raw.pop(coupons_key, {})
    coupons: dict[str, Coupon] = {}
    if not isinstance(raw_coupons, dict):
        raw[coupons_key] = raw_coupons  # let the model report the wrong type
        raw_coupons = {}
    for name, raw_coupon in raw_coupons.items():
        path: Path_ = ("config", coupons_key, name)
        try:
            check_slug(name)
        except ValueError as error:
            problems.append(doc.problem(path, str(error), dotted(path[1:])))
            continue
        coupon, found = _validate(Coupon, raw_coupon, doc, path, shown=1)
        problems += found
        if coupon is not None:
            coupons[name] = coupon
    settings, found = _validate(StackSettings, raw, doc, ("config",), shown=1)
    problems += found
    if settings is None or len(coupons) != len(raw_coupons):
        return None, coupons, problems
    return settings.model_copy(update={"coupons": coupons}), coupons, problems


def _stack_file_keys(doc: Document, config: Mapping[str, Any]) -> list[Problem]:
    known = [str(f.alias) for f in StackSettings.model_fields.values()] + list(CREDENTIAL_SETTINGS)
    problems = []
    for key in config:
        if key.startswith(f"{NAMESPACE}:") and key not in known:
            problems.append(doc.problem(("config", key), "unknown setting" + _suggest(key, known), key))
    return problems + _stack_file_secrets(doc, (*SECRET_KEYS, guards.WEBHOOK_SECRET))


def _stack_file_secrets(doc: Document, keys: Iterable[str]) -> list[Problem]:
    """A secret in a stack file must be a `secure:` value, never plain text."""
    config = doc.data.get("config") if isinstance(doc.data, dict) else None
    if not isinstance(config, dict):
        return []
    problems = []
    for key in keys:
        value = config.get(key)
        if value is not None and not (isinstance(value, dict) and set(value) == {"secure"}):
            problems.append(doc.problem(("config", key), "a secret is stored in plain text; remove the "
                                        f"line and run `pulumi config set --secret {key} ...`", key))
    return problems


def _coupons_against_catalog(
    coupons: Mapping[str, Coupon], catalog: Catalog, doc: Document
) -> list[Problem]:
    paid = [key for key, plan in catalog.plans.items() if plan.paid]
    problems = []
    for coupon_key, coupon in coupons.items():
        for index, plan in enumerate(coupon.applies_to):
            if plan not in paid:
                path: Path_ = ("config", f"{NAMESPACE}:coupons", coupon_key, "applies_to", index)
                problems.append(doc.problem(path, f"{plan!r} is not a paid plan of the catalog; "
                                            f"use one of: {', '.join(paid)}", dotted(path[1:])))
    return problems


# ---------------------------------------------------------------- pydantic -> problems


def _validate(
    model: type[M], raw: Any, doc: Document, path: Path_, required: bool = False, shown: int = 0,
) -> tuple[M | None, list[Problem]]:
    """Validate `raw` found at `path`; problems name the field from `path[shown:]` on."""
    if raw is None and required:
        return None, [doc.problem(path, f"required section is missing; add `{path[-1]}:`")]
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw), []
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            loc = tuple(part for part in item["loc"] if part != "[key]")
            full: Path_ = (*path, *loc)
            problems.append(doc.problem(full, _message(item, model, loc), dotted(full[shown:])))
        return None, problems


def _message(item: Mapping[str, Any], model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"required field is missing; add `{name}:`"
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        return "unknown field" + _suggest(name, allowed)
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", item["msg"]))
    if kind == "literal_error":
        return f"{value!r} is not allowed; use one of {ctx.get('expected')}"
    expected = {
        "string_type": "text", "int_type": "a whole number", "bool_type": "true or false",
        "dict_type": "a mapping of keys to values", "model_type": "a mapping of fields",
        "model_attributes_type": "a mapping of fields", "list_type": "a list",
        "decimal_type": "a decimal number",
    }.get(kind)
    if expected:
        return f"expected {expected}, got {_yaml_type(value)}"
    return f"{item['msg'][0].lower()}{item['msg'][1:]}"


def _yaml_type(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    names = {bool: "true/false", int: "a number", Decimal: "a number", float: "a number",
             str: "text", list: "a list", dict: "a mapping"}
    shown = repr(value) if isinstance(value, str | int | Decimal | float) else ""
    return f"{names.get(type(value), type(value).__name__)} {shown}".strip()


def _suggest(name: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = ", ".join(allowed)
    return f"{hint} (allowed: {listing})" if allowed else hint


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from `model`."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) in (dict, list):
            current = typing.get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and `X | None` down to X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
            continue
        return annotation


def _is_structured(model: type[BaseModel], name: str) -> bool:
    return typing.get_origin(_unwrap(model.model_fields[name].annotation)) in (dict, list)


def _unknown_keys(
    doc: Document, path: Path_, raw: Mapping[str, Any], model: type[BaseModel]
) -> list[Problem]:
    allowed = list(model.model_fields)
    return [doc.problem((*path, key), "unknown section" + _suggest(key, allowed))
            for key in raw if key not in allowed]
