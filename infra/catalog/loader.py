"""Load and check a whole deployment (catalog + one stack's settings) at once.

Loading is here: which files, in which order, and which problem speaks first;
the checks themselves are `settings_checks` (the stack's settings),
`catalog_checks` (the catalog as a whole), `guards` and the host's own.

Nothing here touches Pulumi resources: the program and the command line call
`load_deployment`, which either returns frozen models or raises ConfigError
with every problem found, each located as `file:line: field: fix`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from infra import hosts
from infra.catalog import adoption, guards, hosting, placeholders, stack_files
from infra.catalog.catalog_checks import check_catalog, deployer_manifest
from infra.catalog.deployment import Deployment
from infra.catalog.guards import ConfigGetter
from infra.catalog.models import Catalog
from infra.catalog.settings import NAMESPACE, Coupon, StackSettings
from infra.catalog.settings_checks import coupons_against_catalog, read_settings, stack_file_secrets
from infra.catalog.stack_files import Origin
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import ConfigError, Problem
from infra.core.redact import describe, has_secret, secret_shaped, shown, values_hidden
from infra.core.snapshot import Snapshot
from infra.core.sources import Document

_CATALOG_KEY = f"{NAMESPACE}:catalog"


def load_deployment(
    stack: str, project_dir: Path, get: ConfigGetter, origin: Origin | None = None,
    examples_refused: bool = True, files: Snapshot | None = None,
) -> Deployment:
    """Validate the stack's settings, the catalog and the guards; raise on any problem.

    `origin` says which config keys came from elsewhere than the stack file,
    so their problems are not placed at a line of it. The repository's example
    values are refused on live unless `examples_refused` is False (`keys`, which
    only prints a checklist), and are otherwise notices. `files` is the command's
    snapshot of the project, when it has one: every file is read from it, once.
    """
    files = files or Snapshot(project_dir)
    stack_doc = stack_files.open_stack(stack, files, origin)
    problems: list[Problem] = list(stack_doc.problems)
    settings: StackSettings | None = None
    coupons: dict[str, Coupon] = {}
    # A stack file that does not read cleanly is reported alone: its settings
    # would only add "required field is missing" for what the file does hold.
    if not problems:
        with values_hidden():  # a setting may hold a pasted secret: describe values, never quote them
            settings, coupons, found = read_settings(stack_doc, get)
        problems += found

    catalog_rel = settings.catalog if settings else _catalog_path(get)
    catalog_doc = _catalog_document(files, catalog_rel, stack_doc, get)
    problems += catalog_doc.problems
    catalog: Catalog | None = None
    if catalog_doc.data is not None:
        catalog, found = check_catalog(catalog_doc)
        problems += found
        if catalog is not None:
            problems += coupons_against_catalog(coupons, catalog, stack_doc)
            problems += deployer_manifest(catalog, coupons, catalog_doc)
            problems += stack_file_secrets(stack_doc, catalog.hosting.extra_keys().values())
    if settings is not None:
        host = hosts.of(settings)
        host_problems = hosts.check(stack, settings, stack_doc, files)
        problems += host_problems
        hosted = hosting.hosted_config(catalog) if catalog else []
        problems += guards.check_stack(stack, settings.mode, get, stack_doc, host.token, hosted)
        if catalog is not None and not host_problems:  # a host's own sharing rule speaks first
            problems += stack_files.shared_slots(stack, files, settings, catalog, stack_doc,
                                                 _catalog_at(files))
    notices: list[Problem] = []
    if settings is not None and catalog is not None:
        # The repository's examples: an error on live, a warning on test (where make plan uses them).
        examples = placeholders.found(stack, settings, coupons, catalog, stack_doc, catalog_doc)
        (problems if settings.mode == "live" and examples_refused else notices).extend(examples)
    adopted: dict[tuple[str, str], str] = {}
    if settings is not None and settings.adopt and catalog is not None:
        adopted, found = _adoption(files, settings.adopt, catalog, stack, get, stack_doc,
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
    files: Snapshot, catalog_rel: str, stack_doc: Document, get: ConfigGetter,
) -> Document:
    doc = files.document(catalog_rel)
    if doc.data is None and get(_CATALOG_KEY) and any(p.field == "(file)" for p in doc.problems):
        # A path that names no readable file may be anything pasted there: quoted only when it
        # cannot be a secret, as every setting is. (A copy: the snapshot's document is shared.)
        reason = "; ".join(p.message for p in doc.problems)
        with values_hidden():
            named = shown(catalog_rel)
        doc = dataclasses.replace(doc, problems=[stack_doc.problem(
            ("config", _CATALOG_KEY), f"{named} names no catalog it can read ({reason})", _CATALOG_KEY)])
    return doc


def _catalog_at(files: Snapshot) -> Callable[[str], Catalog | None]:
    """Another stack's catalog (by its path in the project), or None when it does not validate."""
    def read(path: str) -> Catalog | None:
        return check_catalog(files.document(path))[0]
    return read


def _adoption(
    files: Snapshot, path: str, catalog: Catalog, stack: str, get: ConfigGetter, stack_doc: Document,
    host: adoption.HostValues | None,
) -> tuple[dict[tuple[str, str], str], list[Problem]]:
    text, problems = files.text(path)
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
            "never returns. Either give it once: "
            f"{guards.store_secret(guards.WEBHOOK_SECRET, stack, 'the whsec_... secret')} "
            "(Dashboard > Webhooks > the endpoint > Reveal), or remove the "
            f"webhook entry from {path}: the first up then creates a new endpoint with a new secret, "
            "the app is redeployed with it, and you delete the old endpoint", guards.WEBHOOK_SECRET))
    return adopted, problems


def _problem_order(problem: Problem) -> tuple[str, int, str]:
    return (problem.file, problem.line or 0, problem.field)


def _catalog_path(get: ConfigGetter) -> str:
    return get(_CATALOG_KEY) or DEFAULT_CATALOG
