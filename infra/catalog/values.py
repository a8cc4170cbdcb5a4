"""One value each: the patterns and checks a single catalog or stack setting must pass.

`catalog` builds its models from these types; checks that span the whole
catalog live in `catalog_checks`. Every message says what is wrong and how to fix it,
and never quotes a value that could be a secret.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from infra import hosts
from infra.catalog.money import parse_amount
from infra.core.problems import did_you_mean
from infra.core.redact import SERVICE_KEYS, may_echo, shown
from infra.stripe import reference as ref

# Every pattern is used with fullmatch (`$` would accept a trailing newline), ASCII only.
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)
_HOST = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]",
                   re.ASCII)
_LOOKUP_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}", re.ASCII)
# A feature's lookup key is what the app checks: lowercase, and at most Stripe's 80 characters.
_FEATURE_KEY = re.compile(r"[a-z][a-z0-9_]{0,79}", re.ASCII)
_PROMO_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{2,39}", re.ASCII)
_URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", re.ASCII)
_HTTPS_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][\x21-\x7e]*)?", re.ASCII)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,254}", re.ASCII)
_CONFIG_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*:[A-Za-z][A-Za-z0-9_.-]*", re.ASCII)
_VERCEL_PROJECT = re.compile(r"prj_[A-Za-z0-9]{1,64}", re.ASCII)
_VERCEL_TEAM = re.compile(r"team_[A-Za-z0-9]{1,64}|[a-z0-9][a-z0-9-]{0,47}", re.ASCII)
_CLOUDFLARE_ACCOUNT = re.compile(r"[0-9a-f]{32}", re.ASCII)
# Worker names as wrangler accepts them.
_WORKER_SCRIPT = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?", re.ASCII)
# Config keys the program reads itself; an extra app variable cannot reuse them.
RESERVED_CONFIG = ("stripe:apiKey", "vercel:apiToken", "vercel:team")


def slug_for(value: str, fallback: str = "name") -> str:
    """The nearest valid slug: what `check_slug` proposes, and what `pull` names plans with."""
    if _SLUG.fullmatch(value):
        return value
    suggestion = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_") or fallback
    if not suggestion[0].isalpha():
        suggestion = "x_" + suggestion
    return suggestion[:40]


def is_lookup_key(value: str) -> bool:
    return bool(_LOOKUP_KEY.fullmatch(value))


def check_slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a lowercase slug (a-z, 0-9, _, starting with a letter); "
            f"it becomes Stripe metadata and resource names that the app matches exactly"
            + (f": use {slug_for(value)!r}" if may_echo(value) else "")
        )
    return value


def _currency(value: str) -> str:
    if value != value.lower() and value.lower() in ref.CURRENCIES:
        raise ValueError(f"write currency codes in lowercase, as Stripe's API wants: {value.lower()!r}")
    if value not in ref.CURRENCIES:
        raise ValueError(
            f"{shown(value)} is not a currency Stripe supports{did_you_mean(value, ref.CURRENCIES)} "
            "(use a lowercase ISO 4217 code such as 'usd' or 'eur')"
        )
    return value


def _https_url(value: str) -> str:
    if not _HTTPS_URL.fullmatch(value):
        raise ValueError(f"{shown(value)} is not an https URL (no spaces or line breaks; non-ASCII host "
                         "names in their xn-- form); Stripe shows it to customers: use https://...")
    return value


def _url_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"{shown(value)} must start with '/'; it is appended to https://<domain>"
                         + (f": use {'/' + value!r}" if may_echo(value) else ""))
    if not _URL_PATH.fullmatch(value) or "//" in value:
        raise ValueError(f"{shown(value)} is not a plain URL path; remove spaces, line breaks, '?', '#' "
                         "and '//'")
    return value


def _event(value: str) -> str:
    if value == "*":
        raise ValueError(
            "the '*' wildcard subscribes to every event, including ones the handler has never "
            "seen; list the event types the handler processes"
        )
    known = ref.webhook_event_types()
    if value not in known:
        raise ValueError(
            f"{shown(value)} is not a Stripe event type{did_you_mean(value, known)} "
            "(the list comes from stripe-python's WebhookEndpointCreateParams)"
        )
    return value


def _api_version(value: str) -> str:
    known = ref.api_versions()
    if value not in known:
        raise ValueError(
            f"{shown(value)} is not a Stripe API version; pin the version the webhook handler is "
            f"written against: {_version_hint(value)}"
        )
    return value


def _version_hint(value: str) -> str:
    """The nearest named release on or after the date typed, else the newest; never an old one.

    A near-miss by spelling (difflib) would offer `2012-10-26` for `2026-10-28`.
    """
    named = sorted(v for v in ref.api_versions() if "." in v)  # releases are named since 2024
    date = value[:10] if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value[:10], re.ASCII) else None
    later = [v for v in named if date is not None and v[:10] >= date]
    if later and later[0] != named[-1]:
        return f"the nearest release on or after that date is {later[0]!r}; the newest is {named[-1]!r}"
    return f"the newest is {named[-1]!r}"


def _hostname(value: str) -> str:
    if "://" in value or "/" in value:
        host = value.split("://", 1)[-1].split("/", 1)[0]
        raise ValueError(f"{shown(value)} must be a host name only, without scheme or path"
                         + (f": use {host!r}" if may_echo(value) else ", like 'app.example.com'"))
    if not _HOST.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a lowercase DNS host name like 'app.example.com'")
    return value


def _lookup_key(value: str) -> str:
    if not is_lookup_key(value):
        raise ValueError(f"{shown(value)} is not a lookup key; use letters, digits and _ . : - (at most 200)")
    return value


def check_feature_key(value: str) -> str:
    if not _FEATURE_KEY.fullmatch(value):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", value.lower(), flags=re.ASCII).strip("_")[:80] or "feature"
        raise ValueError(
            f"{shown(value)} is not a feature lookup key: a lowercase slug (a-z, 0-9, _, starting with a "
            f"letter, at most 80); the app checks it exactly"
            + (f": use {suggestion!r}" if may_echo(value) else "")
        )
    return value


def _promo_code(value: str) -> str:
    if not _PROMO_CODE.fullmatch(value):
        example = re.sub(r"[^A-Z0-9_-]", "", value.upper(), flags=re.ASCII)[:40] if may_echo(value) else ""
        raise ValueError(
            f"{shown(value)} is not a promotion code customers can type; use 3-40 of A-Z, 0-9, _ and -, "
            f"like {example if len(example) >= 3 else 'LAUNCH'!r}"
        )
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        suggestion = re.sub(r"[^A-Z0-9_]+", "_", value.upper(), flags=re.ASCII).strip("_") or "NAME"
        suggestion = suggestion if may_echo(value) else "NAME"
        raise ValueError(
            f"{shown(value)} is not an environment variable name the app can read everywhere; "
            f"use capitals, digits and _, starting with a letter: {suggestion!r}"
        )
    return value


def _config_key(value: str) -> str:
    if not _CONFIG_KEY.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a Pulumi config key; write it as namespace:name, "
            "like 'app:clerkSecretKey'"
        )
    if value in RESERVED_CONFIG or value.startswith("billing:"):
        raise ValueError(
            f"{shown(value)} is read by the program itself; give the app's value its own key, like 'app:...'"
        )
    return value


def _vercel_project(value: str) -> str:
    if not _VERCEL_PROJECT.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a Vercel project ID; copy it from the project's Settings > General "
            "(prj_...)"
        )
    return value


def _cloudflare_account(value: str) -> str:
    if not _CLOUDFLARE_ACCOUNT.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a Cloudflare account ID (32 hex digits); copy it from the "
                         "dashboard's Workers & Pages overview, or `wrangler whoami`")
    return value


def _worker_script(value: str) -> str:
    if not _WORKER_SCRIPT.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a Worker name: lowercase letters, digits, - and _, at most "
                         "63; use the `name` in the Worker's wrangler.toml (e.g. api-staging)")
    return value


def _host(value: str) -> str:
    if value not in hosts.HOSTS:
        raise ValueError(f"{shown(value)} is not a host this program writes to; use one of: "
                         f"{', '.join(hosts.HOSTS)}")
    return value


def _service_kind(value: str) -> str:
    if value not in SERVICE_KEYS:
        raise ValueError(f"{shown(value)} is not a service whose keys the guards know; use one of: "
                         f"{', '.join(SERVICE_KEYS)}, or leave `kind` out for a value with no key shape "
                         "(a database URL)")
    return value


def _vercel_team(value: str) -> str:
    if not _VERCEL_TEAM.fullmatch(value):
        raise ValueError(f"{shown(value)} is neither a Vercel team ID (team_...) nor a team slug (lowercase "
                         "letters, digits and -); copy it from the team's Settings > General")
    return value


def _dashboard_resource(value: str) -> str:
    if value not in ref.DASHBOARD_RESOURCE_NAMES:
        lowered = {name.lower(): name for name in ref.DASHBOARD_RESOURCE_NAMES}
        if value.lower() in lowered:
            raise ValueError(f"write it as the Dashboard does: {lowered[value.lower()]!r}")
        raise ValueError(
            f"{shown(value)} is not a resource on Stripe's restricted key form"
            f"{did_you_mean(value, ref.DASHBOARD_RESOURCE_NAMES)} "
            f"(known: {', '.join(sorted(ref.DASHBOARD_RESOURCE_NAMES))})"
        )
    return value


Key = Annotated[str, AfterValidator(check_slug)]
Amount = Annotated[Decimal, BeforeValidator(parse_amount)]
Currency = Annotated[str, AfterValidator(_currency)]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
UrlPath = Annotated[str, AfterValidator(_url_path)]
EventType = Annotated[str, AfterValidator(_event)]
ApiVersion = Annotated[str, AfterValidator(_api_version)]
Hostname = Annotated[str, AfterValidator(_hostname)]
LookupKey = Annotated[str, AfterValidator(_lookup_key)]
FeatureKey = Annotated[str, AfterValidator(check_feature_key)]
PromoCode = Annotated[str, AfterValidator(_promo_code)]
EnvName = Annotated[str, AfterValidator(_env_name)]
ConfigKey = Annotated[str, AfterValidator(_config_key)]
VercelProject = Annotated[str, AfterValidator(_vercel_project)]
CloudflareAccount = Annotated[str, AfterValidator(_cloudflare_account)]
WorkerScript = Annotated[str, AfterValidator(_worker_script)]
HostName = Annotated[str, AfterValidator(_host)]
VercelTeam = Annotated[str, AfterValidator(_vercel_team)]
ServiceKind = Annotated[str, AfterValidator(_service_kind)]
DashboardResource = Annotated[str, AfterValidator(_dashboard_resource)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
PositiveInt = Annotated[int, Field(ge=1)]
Metadata = dict[Annotated[str, Field(min_length=1, max_length=40)], Annotated[str, Field(max_length=500)]]
Proration = Literal["none", "create_prorations", "always_invoice"]
