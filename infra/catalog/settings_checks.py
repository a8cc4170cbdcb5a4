"""One stack's settings checked from its config: the models, the stack file's own lines, the coupons.

Settings come from the config the engine hands the program (`get`), so a value
set through PULUMI_CONFIG is checked like one in the stack file; the stack file
itself is checked for what the engine would silently ignore (an unknown
`billing:` key) or keep in plain text (a secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.catalog import guards
from infra.catalog.guards import SECRET_KEYS, ConfigGetter
from infra.catalog.models import Catalog
from infra.catalog.settings import NAMESPACE, Coupon, StackSettings
from infra.catalog.validation import is_structured, suggest, validate, validate_keyed
from infra.catalog.values import check_slug
from infra.core import sources
from infra.core.problems import Problem
from infra.core.redact import shown, values_hidden
from infra.core.sources import Document, Path_, dotted

# Set with `pulumi config set`, read by guards and the program, not part of the settings model.
CREDENTIAL_SETTINGS = (guards.APP_KEY, guards.PUBLISHABLE_KEY, guards.WEBHOOK_SECRET)


def read_settings(
    doc: Document, get: ConfigGetter
) -> tuple[StackSettings | None, dict[str, Coupon], list[Problem]]:
    """The settings (None when any is wrong), the coupons that validated, and every problem."""
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
    coupons, found = validate_keyed(Coupon, raw_coupons, check_slug, doc, ("config", coupons_key), shown=1)
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
    return problems + stack_file_secrets(doc, (*SECRET_KEYS, guards.WEBHOOK_SECRET))


def stack_file_secrets(doc: Document, keys: Iterable[str]) -> list[Problem]:
    """A secret in a stack file must be a `secure:` value, never plain text."""
    config = doc.data.get("config") if isinstance(doc.data, dict) else None
    if not isinstance(config, dict):
        return []
    problems = []
    for key in keys:
        value = config.get(key)
        if value is not None and not (isinstance(value, dict) and set(value) == {"secure"}):
            problems.append(doc.in_file(("config", key), "a secret is stored in plain text; remove the "
                                        f"line and run {guards.store_secret(key, None)}", key))
    return problems


def coupons_against_catalog(
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
