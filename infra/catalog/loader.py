"""Load and check a whole deployment (catalog + one stack's settings) at once.

Nothing here touches Pulumi resources: the program and the command line call
`load_deployment`, which either returns frozen models or raises ConfigError
with every problem found, each located as `file:line: field: fix`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from infra import hosts
from infra.catalog import adoption, entitlements, guards, hosting, placeholders, stack_files, tier_contract
from infra.catalog.deployment import Deployment
from infra.catalog.guards import SECRET_KEYS, ConfigGetter
from infra.catalog.models import (
    ENTITLEMENTS,
    Catalog,
    Entitlement,
    Hosting,
    Keys,
    Plan,
    Portal,
    Webhook,
    lookup_key_for,
)
from infra.catalog.settings import Coupon, StackSettings
from infra.catalog.stack_files import Origin
from infra.catalog.validation import M, is_structured, suggest, unknown_keys, validate
from infra.catalog.values import check_feature_key, check_slug, slug_for
from infra.core import sources
from infra.core.problems import ConfigError, Problem
from infra.core.redact import describe, has_secret, secret_shaped, shown, values_hidden
from infra.core.sources import Document, Path_, dotted

NAMESPACE = "billing"
# Set with `pulumi config set`, read by guards and the program, not part of the settings model.
CREDENTIAL_SETTINGS = (guards.APP_KEY, guards.PUBLISHABLE_KEY, guards.WEBHOOK_SECRET)
_CATALOG_KEY = f"{NAMESPACE}:catalog"
DEFAULT_CATALOG = str(StackSettings.model_fields["catalog"].default)


def load_deployment(
    stack: str, project_dir: Path, get: ConfigGetter, origin: Origin | None = None,
    examples_refused: bool = True,
) -> Deployment:
    """Validate the stack's settings, the catalog and the guards; raise on any problem.

    `origin` says which config keys came from elsewhere than the stack file,
    so their problems are not placed at a line of it. The repository's example
    values are refused on live unless `examples_refused` is False (`keys`, which
    only prints a checklist), and are otherwise notices.
    """
    stack_doc = stack_files.open_stack(stack, project_dir, origin)
    problems: list[Problem] = list(stack_doc.problems)
    settings: StackSettings | None = None
    coupons: dict[str, Coupon] = {}
    # A stack file that does not read cleanly is reported alone: its settings
    # would only add "required field is missing" for what the file does hold.
    if not problems:
        with values_hidden():  # a setting may hold a pasted secret: describe values, never quote them
            settings, coupons, found = _settings(stack_doc, get)
        problems += found

    catalog_rel = settings.catalog if settings else _catalog_path(get)
    catalog_doc = _catalog_document(project_dir, catalog_rel, stack_doc, get)
    problems += catalog_doc.problems
    catalog: Catalog | None = None
    if catalog_doc.data is not None:
        catalog, found = _catalog(catalog_doc)
        problems += found
        if catalog is not None:
            problems += _coupons_against_catalog(coupons, catalog, stack_doc)
            problems += _deployer_manifest(catalog, coupons, catalog_doc)
            problems += _stack_file_secrets(stack_doc, catalog.hosting.extra_keys().values())
    if settings is not None:
        host = hosts.of(settings)
        host_problems = hosts.check(stack, settings, stack_doc, project_dir)
        problems += host_problems
        hosted = hosting.hosted_config(catalog) if catalog else []
        problems += guards.check_stack(stack, settings.mode, get, stack_doc, host.token, hosted)
        if catalog is not None and not host_problems:  # a host's own sharing rule speaks first
            problems += stack_files.shared_slots(stack, project_dir, settings, catalog, stack_doc,
                                                 _catalog_at(project_dir))
    notices: list[Problem] = []
    if settings is not None and catalog is not None:
        # The repository's examples: an error on live, a warning on test (where make plan uses them).
        examples = placeholders.found(stack, settings, coupons, catalog, stack_doc, catalog_doc)
        (problems if settings.mode == "live" and examples_refused else notices).extend(examples)
    adopted: dict[tuple[str, str], str] = {}
    if settings is not None and settings.adopt and catalog is not None:
        adopted, found = _adoption(project_dir, settings.adopt, catalog, stack, get, stack_doc,
                                   adoption.host_values(catalog, settings))
        problems += found
    problems += _plain_secrets(catalog_doc, stack_doc, get, {p.field for p in problems})
    if problems or settings is None or catalog is None:
        raise ConfigError(sorted(set(problems), key=_problem_order))
    return Deployment(stack=stack, settings=settings, catalog=catalog, adopted=adopted,
                      notices=tuple(sorted(set(notices), key=_problem_order)))


def _plain_secrets(
    catalog_doc: Document, stack_doc: Document, get: ConfigGetter, reported: set[str],
) -> list[Problem]:
    """A secret's shape in the catalog or a plain setting (a coupon name, a description, a key) is
    refused: both are committed, printed by `plan` and sent to Stripe as customer-facing text."""
    found = [catalog_doc.problem(path, f"holds {describe(value)}: a secret never goes in the catalog, "
                                 "which is committed and printed; remove it, and store a secret the app "
                                 "needs with `pulumi config set --secret`")
             for path, value in secret_shaped(catalog_doc.data)]
    for key in (str(f.alias) for f in StackSettings.model_fields.values()):
        value = get(key)
        if value and has_secret(value) and key not in reported:
            found.append(stack_doc.problem(("config", key), (
                "holds a secret's shape in plain text: a plain setting is committed and printed; remove "
                "it, and store a secret with `pulumi config set --secret`"), key))
    return found


def _catalog_document(
    project_dir: Path, catalog_rel: str, stack_doc: Document, get: ConfigGetter,
) -> Document:
    doc = sources.read(project_dir / catalog_rel, catalog_rel)
    if doc.data is None and get(_CATALOG_KEY) and any(p.field == "(file)" for p in doc.problems):
        # A path that names no readable file may be anything pasted there: quoted only when it
        # cannot be a secret, as every setting is.
        reason = "; ".join(p.message for p in doc.problems)
        with values_hidden():
            named = shown(catalog_rel)
        doc.problems = [stack_doc.problem(("config", _CATALOG_KEY), f"{named} names no catalog it can "
                                          f"read ({reason})", _CATALOG_KEY)]
    return doc


def _catalog_at(project_dir: Path) -> Callable[[str], Catalog | None]:
    """Reads another stack's catalog (by its path in the project), or None when it does not validate."""
    def read(path: str) -> Catalog | None:
        return _catalog(sources.read(project_dir / path, path))[0]
    return read


def _adoption(
    project_dir: Path, path: str, catalog: Catalog, stack: str, get: ConfigGetter, stack_doc: Document,
    host: adoption.HostValues | None,
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    text, problems = sources.read_text(project_dir / path, path)
    if text is None:
        # Said without the path: the setting may hold anything pasted there.
        reason = "; ".join(p.message for p in problems)
        return {}, [stack_doc.problem(("config", "billing:adopt"), f"{describe(path)} names no import file "
                                      f"it can read ({reason}); write it with `billing pull "
                                      f"--stack {stack}`", "billing:adopt")]
    adopted, problems = adoption.read(text, path, catalog, host)
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
    return get(_CATALOG_KEY) or DEFAULT_CATALOG


# ---------------------------------------------------------------- catalog


def check_catalog(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """The catalog alone, checked as a whole (commands that edit it validate before writing)."""
    return _catalog(doc)


def _catalog(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    catalog, problems = _catalog_models(doc)
    # A value the reader refused (`amount: 010`) is None to the models: its own problem says it all.
    refused = {problem.field for problem in doc.problems}
    return catalog, [problem for problem in problems if problem.field not in refused]


def _catalog_models(doc: Document) -> tuple[Catalog | None, list[Problem]]:
    """Each plan and section is checked on its own, so one mistake hides no other."""
    raw = doc.data
    if not isinstance(raw, dict):
        return None, [doc.problem((), "the catalog must be a mapping with `plans:` and `webhook:`")]
    problems = unknown_keys(doc, (), raw, Catalog)
    raw_plans = raw.get("plans")
    if not isinstance(raw_plans, dict) or not raw_plans:
        problems.append(doc.problem(("plans",), "declare at least one plan under `plans:`"))
        raw_plans = {}
    plans, found = _keyed(Plan, raw_plans, check_slug, doc, ("plans",))
    problems += found
    webhook, found = validate(Webhook, raw.get("webhook"), doc, ("webhook",), required=True)
    problems += found
    portal, found = validate(Portal, raw.get("portal", {}), doc, ("portal",))
    problems += found
    hosting_section, found = validate(Hosting, raw.get("hosting", {}), doc, ("hosting",))
    problems += found
    keys, found = validate(Keys, raw.get("keys", {}), doc, ("keys",))
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
    features, problems = _keyed(Entitlement, raw, check_feature_key, doc, ("entitlements",), required=True)
    return (None, problems) if problems else (features, [])


def _keyed(
    model: type[M], raw: Mapping[str, Any], check_key: Callable[[str], str], doc: Document, path: Path_,
    required: bool = False, shown: int = 0,
) -> tuple[dict[str, M], list[Problem]]:
    """Entries keyed by a stable key (plans, features, coupons), each checked on its own, so one
    mistake hides no other; a bad key is reported instead of its entry."""
    entries: dict[str, M] = {}
    problems: list[Problem] = []
    for key, raw_entry in raw.items():
        at: Path_ = (*path, key)
        try:
            check_key(key)
        except ValueError as error:
            problems.append(doc.problem(at, str(error), dotted(at[shown:])))
            key_ok = False
        else:
            key_ok = True
        # A bad key hides nothing beneath it: its entry is checked all the same, and left out.
        entry, found = validate(model, raw_entry, doc, at, required=required, shown=shown)
        problems += found
        if entry is not None and key_ok:
            entries[key] = entry
    return entries, problems


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
                "remove `tiers:` and ship `billing export --format ts` with the app instead")))
    active = {catalog.lookup_key(p, k) for p, k, price in catalog.prices() if not price.archived}
    for lookup_key in catalog.hosting.price_names:
        if lookup_key not in active:
            problems.append(doc.problem(
                ("hosting", "price_names", lookup_key),
                f"{shown(lookup_key)} is not the lookup key of an active price; use one of: "
                f"{', '.join(sorted(active))}",
            ))
    for first, second in hosting.clashes(catalog):
        problems.append(doc.problem(
            _named_at(second, catalog),
            f"{second.name} would hold both {first.describe()} and {second.describe()}; "
            "give one of them another name under `hosting:`",
        ))
    for variable in hosting.variables(catalog):
        prefix = hosting.browser_prefix(variable.name)
        if variable.secret and prefix:
            public = " (hosting.extra holds secrets only)" if variable.source == "config" else ""
            problems.append(doc.problem(_named_at(variable, catalog), (
                f"{variable.name} would hold {variable.describe()}, a secret{public}, but frameworks build "
                f"variables named {prefix}... into the JavaScript every visitor downloads; give it a name "
                f"without {prefix}")))
    return problems


def _named_at(variable: hosting.Variable, catalog: Catalog) -> Path_:
    """Where the catalog names `variable` (or would, under `hosting.names`)."""
    if variable.source == "config":
        return ("hosting", "extra", variable.name)
    if variable.source == "price":
        return ("hosting", "price_names", variable.ref) if variable.ref in catalog.hosting.price_names \
            else ("hosting", "names", "price_prefix")
    field = {"app_key": "secret_key"}.get(variable.source, variable.source)
    return ("hosting", "names", field)


def _deployer_manifest(catalog: Catalog, coupons: Mapping[str, Coupon], doc: Document) -> list[Problem]:
    """The deployer key must be able to write what this stack manages, or `up` stops halfway."""
    granted = catalog.keys.deployer.permissions
    needed = ["Products", "Prices", "Webhook endpoints", "Customer portal"]
    if coupons:
        needed.append("Coupons")
    if any(coupon.promotion_codes for coupon in coupons.values()):
        needed.append("Promotion codes")
    if catalog.entitlements:
        needed.append(ENTITLEMENTS)
    missing = [name for name in needed if granted.get(name) != "write"]
    problems = [] if not missing else [doc.problem(
        ("keys", "deployer", "permissions"),
        f"the program creates and updates these, so the deployer key needs Write on: "
        f"{', '.join(missing)}; add `{missing[0]}: write`",
    )]
    if catalog.entitlements and catalog.keys.app.permissions.get(ENTITLEMENTS) not in ("read", "write"):
        problems.append(doc.problem(
            ("keys", "app", "permissions"),
            "the catalog declares entitlements, and the app lists a customer's active entitlements to "
            "gate on them (GET /v1/entitlements/active_entitlements), so the app key needs Read on "
            f"{ENTITLEMENTS}; add `{ENTITLEMENTS}: read`"))
    return problems


def _lookup_key_clashes(plans: Mapping[str, Plan], doc: Document) -> list[Problem]:
    """One price holds a lookup key: archived prices may share the key of the one active price
    that took it over (they give it up), but two active prices, or two holders, may not."""
    holders: dict[str, list[tuple[str, str, bool]]] = {}
    for plan_key, plan in plans.items():
        for price_key, price in plan.prices.items():
            key = lookup_key_for(plan_key, price_key, price.lookup_key)
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
                f"lookup key {shown(key)} is already used by {first}: {why}; the app finds prices "
                "by lookup key, so one price holds each: set a different lookup_key",
            ))
    return problems


def _portal_against_plans(
    portal: Portal, raw_plans: Mapping[str, Any], plans: Mapping[str, Plan], doc: Document
) -> list[Problem]:
    if portal.plan_switching is None:
        return []
    problems = []
    sound = [key for key in raw_plans if _sound(key)]
    # A reference to what a bad plan key is told to become (`Pro` -> 'pro') is that key's problem.
    renamed = {slug_for(key) for key in raw_plans if not _sound(key)}
    for index, key in enumerate(portal.plan_switching.plans):
        path: Path_ = ("portal", "plan_switching", "plans", index)
        if key not in raw_plans and key not in renamed:
            problems.append(doc.problem(path, f"{shown(key)} is not a plan in this catalog; "
                                        f"use one of: {', '.join(sound) or '(no valid plan key yet)'}"))
        elif key in plans and not plans[key].paid:
            problems.append(doc.problem(path, f"plan {key!r} is free and has no Stripe product to switch "
                                        "to: remove it from the list"))
        elif key in plans and not plans[key].active_prices() \
                and portal.plan_switching.enabled:
            problems.append(doc.problem(path, f"plan {key!r} has no active price, so customers "
                                        "cannot switch to it: remove it from the list"))
    return problems


def _sound(plan_key: Any) -> bool:
    try:
        check_slug(plan_key)
    except (ValueError, TypeError):
        return False
    return True


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
        if is_structured(StackSettings, name):
            parsed, error = sources.parse_json(value)
            if error:
                problems.append(doc.problem(("config", key), f"not valid structured config ({error}); set "
                                            f"it with `pulumi config set --path {key}...`", key))
                continue
            raw[key] = parsed
        else:
            raw[key] = value
    # Coupons are checked one by one, like plans, so one bad coupon hides no other problem.
    coupons_key = str(StackSettings.model_fields["coupons"].alias)
    raw_coupons = raw.pop(coupons_key, {})
    if not isinstance(raw_coupons, dict):
        raw[coupons_key] = raw_coupons  # let the model report the wrong type
        raw_coupons = {}
    coupons, found = _keyed(Coupon, raw_coupons, check_slug, doc, ("config", coupons_key), shown=1)
    problems += found
    settings, found = validate(StackSettings, raw, doc, ("config",), shown=1)
    problems += found
    if settings is None or len(coupons) != len(raw_coupons):
        return None, coupons, problems
    return settings.model_copy(update={"coupons": coupons}), coupons, problems


def _stack_file_keys(doc: Document, config: Mapping[str, Any]) -> list[Problem]:
    known = [str(f.alias) for f in StackSettings.model_fields.values()] + list(CREDENTIAL_SETTINGS)
    problems = []
    for key in config:
        if key.startswith(f"{NAMESPACE}:") and key not in known:
            problems.append(doc.in_file(("config", key), "unknown setting" + suggest(key, known), key))
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
            problems.append(doc.in_file(("config", key), "a secret is stored in plain text; remove the "
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
                with values_hidden():
                    problems.append(doc.problem(path, f"{shown(plan)} is not a paid plan of the catalog; "
                                                f"use one of: {', '.join(paid)}", dotted(path[1:])))
    return problems
