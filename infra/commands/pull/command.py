"""`billing pull --stack S [--out DIR]`: write catalog.yaml and import.json for an account.

Read-only against Stripe, and nothing is sent with a key of the wrong kind or
mode. The result is checked before anything is written (a refused one leaves
nothing on disk); once written, it is validated exactly as `validate` will see
it when billing:adopt points at it (exit FINDINGS when that would refuse, with
its problems). The import file uses the names the program declares.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import yaml

from infra.catalog import adoption, stack_config
from infra.catalog.guards import DEPLOYER_KEY
from infra.clients import credentials, http
from infra.clients.credentials import STRIPE_API_BASE
from infra.clients.errors import ApiError
from infra.clients.stripe_api import Account
from infra.clients.stripe_transport import BoundedTransport
from infra.commands.pull import account as pull
from infra.commands.pull import host as pull_host
from infra.core import exits, sources, writer
from infra.core.escape import terminal
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import ConfigError, Problem
from infra.core.redact import has_secret, mask, secret_shaped
from infra.core.snapshot import Snapshot
from infra.stripe.rak_names import describe

HEADER = """\
# Pulled from the Stripe account of stack {stack!r} ({mode} mode) by `billing pull`.
# Review it, then make it the catalog ({catalog}, or point billing:catalog
# here), and set billing:adopt to the import file beside it, so the first
# `pulumi up` adopts these objects instead of creating new ones. See README,
# "Adopting an existing account".
"""


def main(args: argparse.Namespace, out: TextIO) -> int:
    if args.host:
        return pull_host.main(args, out)
    project: Path = args.project
    stack: str = args.stack
    try:
        config = stack_config.from_stack(project, stack)
        mode = config.get("billing:mode") or stack
        key = credentials.stripe_key("deployer", mode, stack, project)
        account = Account(key, transport=BoundedTransport(http.Limits(args.timeout)))
        pulled = pull.pull(account, stack, config.get("billing:domain"),
                           progress=lambda step: print(f"reading {step}...", file=sys.stderr))
        if account.livemodes and account.livemodes != {mode == "live"}:
            raise ConfigError([Problem(credentials.STRIPE_API_KEY, None, DEPLOYER_KEY,
                                       f"Stripe answered with livemode={sorted(account.livemodes)} for a "
                                       f"{mode} stack; nothing was written")])
        _refuse_unfit(pulled)
    except ApiError as error:
        print(f"could not read the Stripe account; nothing was written: {error}\n  fix: {refusal(error)}",
              file=sys.stderr)
        return exits.REFUSED
    directory: Path = args.out or project / "adopt" / stack
    catalog_path, import_path = directory / "catalog.yaml", directory / "import.json"
    header = HEADER.format(stack=stack, mode=mode, catalog=DEFAULT_CATALOG)
    targets = [
        writer.Target(catalog_path, (header + yaml.safe_dump(
            pulled.catalog, sort_keys=False, allow_unicode=True, width=100)).encode("utf-8"),
            replaceable=_begins(HEADER.split("{", 1)[0])),
        writer.Target(import_path, (json.dumps(adoption.import_file(pulled.adopted), indent=2) + "\n")
                      .encode("utf-8"), replaceable=_begins(_IMPORT_START)),
    ]
    for line in pull.report(pulled):
        print(terminal(line), file=out)  # IDs, names and URLs are the server's
    inside = project if _within(directory, project) else Path(os.path.abspath(directory)).parent
    forbidden = (project / "stacks",)
    try:
        for target in targets:
            writer.check(target, inside, args.force, forbidden)
        _check_result(config.files, stack, targets, pulled.domain)
        with writer.stage(targets, inside, args.force, forbidden) as staged:
            staged.commit()
    except writer.WriteRefused as error:
        print(error, file=sys.stderr)
        return exits.REFUSED
    except writer.WrittenInPart as error:  # something was written: never "refused, nothing done"
        print(error, file=sys.stderr)
        return exits.FINDINGS
    config.files.forget(catalog_path, import_path)  # what was read there before is replaced
    print(f"\nwrote {_shown(catalog_path, project)} and {_shown(import_path, project)}", file=out)
    return _validate(config.files, stack, catalog_path, import_path, out)


def _validate(files: Snapshot, stack: str, catalog: Path, imports: Path, out: TextIO) -> int:
    """Load the stack as `validate` will once its next step is done: billing:catalog and
    billing:adopt pointing at the pulled files, and nothing else assumed (no signing secret, no
    domain the stack does not set), so `validate: ok` here means `validate` says ok there."""
    project = files.root
    overrides = {"billing:catalog": _shown(catalog, project), "billing:adopt": _shown(imports, project)}
    config = stack_config.from_stack(project, stack, overrides=overrides, overrides_from="pull", files=files)
    try:
        config.load()
    except ConfigError as error:
        print(f"validate: not yet ok; once billing:catalog and billing:adopt point at these files, "
              f"`billing validate --stack {stack}` reports the problems below: fix them, then run it",
              file=out)
        print(error.render(), file=sys.stderr)
        return exits.FINDINGS
    print(f"validate: ok (stack {stack!r} with the pulled catalog and import file)", file=out)
    return exits.OK


# How the import file `pull` writes begins: a file that does not is not one it wrote.
_IMPORT_START = json.dumps(adoption.import_file({}), indent=2).rsplit("}", 2)[0]


def _begins(start: str) -> Callable[[Path], bool]:
    """Whether an existing file begins as `pull` writes it (so pulling again may replace it)."""
    marker = start.encode("utf-8")

    def written_by_pull(path: Path) -> bool:
        with path.open("rb") as file:
            return file.read(len(marker)) == marker
    return written_by_pull


def _within(path: Path, root: Path) -> bool:
    where, top = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    return where.is_relative_to(top) and where != top


def _refuse_unfit(pulled: pull.Pulled) -> None:
    """Account data holding a secret's shape is never written to a file meant for review and git,
    nor text no file can hold (a NUL, a lone surrogate in the server's JSON)."""
    unfit = [sources.unfit_text(pulled.catalog, "catalog"),
             sources.unfit_text({f"{t} {n}": i for (t, n), i in pulled.adopted.items()}, "IDs")]
    problems = [Problem("the Stripe account", None, "(answer)", f"{reason}: remove it in the Dashboard "
                        "and pull again; nothing was written") for reason in unfit if reason]
    if problems:
        raise ConfigError(problems)
    problems = [Problem("the Stripe account", None, ".".join(map(str, place)) or "(value)",
                        f"holds a secret's shape ({mask(value)}); remove the secret from that object in the "
                        "Dashboard (and roll the key: it was readable to anyone with read access), then pull "
                        "again; nothing was written")
                for place, value in secret_shaped(pulled.catalog)]
    problems += [Problem("the Stripe account", None, f"{type_} {name}",
                         f"its ID holds a secret's shape ({mask(id_)}); nothing was written")
                 for (type_, name), id_ in pulled.adopted.items() if has_secret(id_)]
    if problems:
        raise ConfigError(problems)


def refusal(error: ApiError) -> str:
    """What to do about a read that failed (its reason is already safe to print)."""
    key = credentials.key_sources("deployer")
    if error.kind == "permission":
        names = describe(error.permissions) or "a permission"
        return (f"the key lacks {names}; give it Read on products, prices, webhook endpoints and the "
                "customer portal (the deployer manifest has these)")
    if error.kind == "auth":
        return f"the key is not valid for this account (401); check {key}"
    return error.fix(key, STRIPE_API_BASE)


def _check_result(files: Snapshot, stack: str, targets: list[writer.Target], domain: str | None) -> None:
    """Load the stack with the pulled files before either is written, so a result that cannot
    be right (a catalog that does not validate) leaves nothing on disk. What only the user's
    next steps supply (the signing secret, the domain) is assumed here; `_validate` after the
    write assumes nothing. Problems name the files as they will be written."""
    with tempfile.TemporaryDirectory(prefix="billing-pull-") as scratch:
        staged = {}
        for target in targets:
            copy = Path(scratch) / target.path.name
            copy.write_bytes(target.data)
            staged[str(copy)] = _shown(target.path, files.root)
        catalog, imports = staged
        overrides = {"billing:catalog": catalog, "billing:adopt": imports}
        if domain:
            overrides.setdefault("billing:domain", domain)
        config = stack_config.from_stack(files.root, stack, overrides=overrides, overrides_from="pull",
                                         files=files)
        values = dict(config.values)
        # Only the shape matters here; the real secret is given once with `pulumi config set`.
        values.setdefault("billing:webhookSecret", stack_config.placeholder("billing:webhookSecret", "test"))
        try:
            dataclasses.replace(config, values=values).load()
        except ConfigError as error:
            raise ConfigError(Problem(_named(p.file, staged), p.line, p.field, _named(p.message, staged))
                              for p in error.problems) from None


def _named(text: str, staged: dict[str, str]) -> str:
    for scratch, final in staged.items():
        text = text.replace(scratch, final)
    return text


def _shown(path: Path, project: Path) -> str:
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path.resolve())
