"""The example values this repository ships, recognised wherever a stack would use them.

The committed stack files and catalog hold examples (a Vercel project ID, the
example.com domains and portal URLs, a sample coupon) so that `make plan` runs
on a fresh clone. None of them may reach live: on a live stack each one is an
error, on a test stack a warning, each naming the file, line and what to put
there. This module is the one list of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.catalog.models import Catalog
from infra.catalog.settings import Coupon, StackSettings
from infra.core.problems import Problem
from infra.core.sources import Document

# RFC 2606 reserves these for documentation: no one serves a real app there.
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
# The IDs README and the committed stack files show (Vercel; the Cloudflare section's account).
EXAMPLE_IDS = {
    "billing:vercelProject": ("prj_ExampleProjectId",),
    "billing:cloudflareAccountId": ("0123456789abcdef0123456789abcdef",),
}
# The sample coupon of the committed Pulumi.test.yaml, known by its promotion code. The live
# file's SMOKETEST coupon is not an example: README's go-live step uses it.
SAMPLE_PROMOTION_CODES = ("LAUNCH20",)

_WHAT = {
    "billing:domain": "the host name your app is served on for this stack (no scheme)",
    "billing:vercelProject": "your Vercel project's ID (Vercel > the project > Settings > General > "
                             "Project ID)",
    "billing:cloudflareAccountId": "your Cloudflare account ID (`wrangler whoami`)",
    "privacy_policy_url": "the https URL of your privacy policy",
    "terms_of_service_url": "the https URL of your terms of service",
}


def example_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in EXAMPLE_DOMAINS)


def _url_host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


def found(
    stack: str, settings: StackSettings, coupons: Mapping[str, Coupon], catalog: Catalog,
    stack_doc: Document, catalog_doc: Document,
) -> list[Problem]:
    """Every shipped example the stack would use. The caller decides: error on live, warning on test."""
    problems = []
    if example_domain(settings.domain):
        problems.append(stack_doc.problem(("config", "billing:domain"), _message(
            "an example domain (example.com and its kin are reserved for documentation)",
            _WHAT["billing:domain"], f"pulumi config set billing:domain <host> --stack {stack}"),
            "billing:domain"))
    for key, examples in EXAMPLE_IDS.items():
        value = {"billing:vercelProject": settings.vercel_project,
                 "billing:cloudflareAccountId": settings.cloudflare_account_id}[key]
        if value in examples:
            problems.append(stack_doc.problem(("config", key), _message(
                "the repository's example ID", _WHAT[key],
                f"pulumi config set {key} <id> --stack {stack}"), key))
    profile = catalog.portal.business_profile
    for field in ("privacy_policy_url", "terms_of_service_url"):
        url = getattr(profile, field)
        if url and example_domain(_url_host(str(url))):
            problems.append(catalog_doc.in_file(("portal", "business_profile", field), _message(
                "an example URL, which the customer portal would show your customers", _WHAT[field],
                "edit the catalog")))
    for key, coupon in coupons.items():
        for code in coupon.promotion_codes:
            if code in SAMPLE_PROMOTION_CODES:
                problems.append(stack_doc.problem(
                    ("config", "billing:coupons", key),
                    f"is the repository's sample coupon (promotion code {code}): remove it from "
                    f"{stack_doc.file}, or change it into a coupon you mean to offer",
                    f"billing:coupons.{key}"))
    return problems


def _message(what: str, put: str, how: str) -> str:
    return f"is {what}; put {put} there: {how}"
