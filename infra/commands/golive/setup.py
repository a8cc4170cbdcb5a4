"""Steps 1 to 5 of go-live: the CLI and backend, the stack's settings, the stack with its own
passphrase, the keys typed at hidden prompts, and the policy pack's virtualenv.

The host's token the person already has (exported, or on the test stack) is
offered before its form (`reuse`); the publishable key is asked on the API keys
page the first restricted key's form is opened from.

Nothing here prints a secret: the passphrase and every key are read with echo
off, checked in memory with the guards the program uses (`key_problem`,
`hosted_problem`: a key of the wrong mode or kind is refused at its prompt and
nothing is stored), and stored through the CLI with the value on its stdin.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable

from infra import hosts
from infra.catalog import Deployment
from infra.catalog.guards import ROLE_KEYS, WEBHOOK_SECRET, Hosted, Role, hosted_problem, key_problem
from infra.catalog.hosting import hosted_config
from infra.clients import pulumi_cli
from infra.clients.credentials import STRIPE_API_KEY, STRIPE_APP_KEY
from infra.commands import keys as key_forms
from infra.commands.golive import reuse
from infra.commands.golive.context import PASSPHRASE, PASSPHRASE_FILE, Context, askable
from infra.commands.golive.terminal import Stop
from infra.core import exits
from infra.core.redact import key_kind, key_prefix, mask
from infra.probes.facts import Item
from infra.stripe.reference import api_keys_page

PASSPHRASE_TRIES = 3
_SHOWN = 20  # lines of a failed build shown


def say_items(ctx: Context, items: list[Item]) -> None:
    for item in items:
        ctx.term.say(f"  TODO  {item.what}")
        if item.fix:
            ctx.term.say(f"        fix: {item.fix}")


def engine(ctx: Context) -> None:
    """Step 1 is the person's to do (install the CLI, log in): say how, and stop."""
    say_items(ctx, ctx.open("engine"))
    raise Stop(exits.REFUSED, "the Pulumi CLI and a state backend come first")


def settings(ctx: Context) -> None:
    """Step 2: a setting is edited in a file, by the person: list each with its fix, and stop."""
    say_items(ctx, ctx.open("settings"))
    raise Stop(exits.REFUSED, f"edit the settings above (Pulumi.{ctx.stack}.yaml, the catalog); nothing "
                              "was changed")


def stack(ctx: Context) -> None:
    """Step 3: create the stack with its own passphrase, or read the passphrase of the one there."""
    found = [item for item in ctx.open("stack") if str(item.step) == "stack"]
    if any(item.field == "absent" for item in found):
        _create(ctx)
        return
    if found:  # not listed, or another organization's: making it again would duplicate it
        say_items(ctx, found)
        raise Stop(exits.REFUSED, f"stack {ctx.stack!r} could not be found as `--stack {ctx.stack}` names "
                                  "it; fix the above, nothing was created")
    unreadable = [item for item in ctx.open("stack") if PASSPHRASE in item.fix]
    if not unreadable:
        say_items(ctx, ctx.open("stack"))
        raise Stop(exits.REFUSED, "the stack's config cannot be read; fix the above")
    if not ctx.term.interactive or (os.environ.get(PASSPHRASE) and not ctx.passphrase_asked):
        say_items(ctx, unreadable)
        raise Stop(exits.REFUSED, f"{PASSPHRASE} does not open stack {ctx.stack!r}'s secrets: export this "
                                  "stack's own passphrase")
    for attempt in range(PASSPHRASE_TRIES):
        if attempt:
            ctx.term.say("That passphrase does not open the stack's secrets.")
        _ask_passphrase(ctx, new=False)
        if not [item for item in ctx.refresh().missing if PASSPHRASE in item.fix]:
            ctx.term.say("The passphrase opens the stack's secrets.")
            return
    raise Stop(exits.REFUSED, f"{PASSPHRASE_TRIES} passphrases did not open stack {ctx.stack!r}'s secrets")


def _create(ctx: Context) -> None:
    facts = ctx.facts or ctx.refresh()
    backend = next((item.what.removeprefix("logged in to ") for item in facts.items
                    if str(item.step) == "backend" and item.ok), "the backend")
    ctx.term.say(f"Stack {ctx.stack!r} does not exist in {backend}. It gets its own passphrase: every "
                 "secret in its config is encrypted with it, so keep it in a password manager"
                 + (" (the live one only where live deploys run)." if ctx.live else "."))
    if not ctx.term.confirm(f"Create stack {ctx.stack!r} (`pulumi stack init {ctx.stack} --secrets-provider "
                            "passphrase`)?"):
        raise Stop(exits.REFUSED, "declined: no stack was created")
    if ctx.term.interactive:
        # Never the one exported: that is most often the other stack's (README step 6 exports it),
        # and a live stack sealed with the test passphrase opens for whoever holds that one.
        if ctx.passphrase_given():
            ctx.term.say(f"The {PASSPHRASE} this shell exports is not used for a new stack: it is "
                         "probably another stack's. Type this stack's own.")
        _ask_passphrase(ctx, new=True)
    elif not ctx.passphrase_given():
        raise Stop(exits.REFUSED, f"export {PASSPHRASE} (stack {ctx.stack!r}'s own passphrase, from your "
                                  "CI's secrets) and run go-live again")
    ctx.engine().create()
    ctx.created.append(f"stack {ctx.stack!r} with its own passphrase (Pulumi.{ctx.stack}.yaml gains its "
                       "encryptionsalt: commit it)")
    ctx.term.say(f"Created stack {ctx.stack!r}.")


def _ask_passphrase(ctx: Context, new: bool) -> None:
    """Read the passphrase with echo off and keep it in this process's environment only: every CLI
    process gets it there, never on its command line, and nothing writes it to a file."""
    while True:
        first = ctx.term.secret(f"{'New p' if new else 'P'}assphrase for stack {ctx.stack!r} (hidden): ")
        if not first:
            raise Stop(exits.REFUSED, "no passphrase given")
        if not new:
            break
        if ctx.term.secret("The same passphrase again (hidden): ") == first:
            break
        ctx.term.say("The two differ; again.")
    os.environ[PASSPHRASE] = first
    os.environ.pop(PASSPHRASE_FILE, None)  # the typed one, not a file's, opens the stack from now on
    ctx.passphrase_asked = True


# ------------------------------------------------------------------------------------------ keys


def keys(ctx: Context) -> None:
    """Step 4: for each key still unset or refused, where to get it, then a hidden prompt."""
    deployment = ctx.deployment()
    kinds = askable(ctx.project, ctx.stack)
    wanted = _in_order(list(dict.fromkeys(str(item.field) for item in ctx.open("keys"))), kinds,
                       [item.config_key for item in key_forms.checklists(deployment)])
    for item in ctx.open("keys"):
        # The item's own fix is a `pulumi config set` line: here the value is asked for instead.
        ctx.term.say(f"  TODO  {item.what.split(': run `', 1)[0]}")
    ctx.term.say(f"Each value is read with echo off, checked at once (mode and kind), and stored in "
                 f"Pulumi.{ctx.stack}.yaml encrypted with the stack's passphrase; nothing else keeps it. "
                 "An empty answer stops here.")
    try:  # what is stored already, in memory only: the app key must not repeat the deployer's
        known = dict(pulumi_cli.decrypted_config(ctx.stack, ctx.project).values)
    except pulumi_cli.CliError as error:
        if ctx.live:  # without them, a live app key equal to the deployer's would pass unseen
            raise Stop(exits.FINDINGS, f"the keys stored on stack {ctx.stack!r} could not be read, to check "
                                       f"the app key is not the deployer's: {error}") from None
        known = {}
    checked_roles = {key: role for role, key in ROLE_KEYS.items()}
    forms = {item.config_key: (number, item)
             for number, item in enumerate(key_forms.checklists(deployment), start=1)}
    on_keys_page = False  # a restricted key's form, shown in this run, left the person on the API keys page
    for config_key in wanted:
        kind = kinds.get(config_key, "extra")
        check = _checker(deployment, config_key, kind, checked_roles.get(config_key), known)
        ctx.term.say("")
        found = reuse.host_token(ctx, hosts.of(deployment.settings), check) if kind == "token" else None
        if found is not None:
            _store(ctx, config_key, found.value, secret=True, source=found.source)
            known[config_key] = found.value
            continue
        if config_key in forms:
            number, checklist = forms[config_key]
            ctx.term.say("\n".join(key_forms.form(deployment, number, checklist)))
            ctx.term.acts.visited(f"Stripe Dashboard form: Create restricted key ({checklist.role})")
            on_keys_page = True
        elif kind == "publishable" and on_keys_page:
            # The same page the form was opened from: a value copied there, not another trip.
            page = api_keys_page(deployment.mode)
            ctx.term.say(f"The publishable key, on the same page ({page}): close the new key's dialog, and "
                         f"under Standard keys copy the Publishable key (pk_{deployment.mode}_...). {PUBLIC}")
        else:
            act, what = _where(deployment, config_key, kind)
            ctx.term.say(f"{act}: {what}")
            ctx.term.acts.visited(act)
        value = _ask_valid(ctx, config_key, kind, check)
        _store(ctx, config_key, value, secret=kind != "publishable")
        known[config_key] = value


PUBLIC = "It is public (it ships to browsers), so it is stored in plain text."


def _in_order(wanted: list[str], kinds: dict[str, str], form_keys: list[str]) -> list[str]:
    """The keys to ask for, as `askable` orders them, except the publishable key: right after the
    first restricted key's form, while the person is on the API keys page that shows it too."""
    order = {key: index for index, key in enumerate(kinds)}
    wanted = sorted(wanted, key=lambda key: order.get(key, len(order)))
    publishable = next((key for key in wanted if kinds.get(key) == "publishable"), None)
    first_form = next((key for key in wanted if key in form_keys), None)
    if publishable is not None and first_form is not None:
        wanted.remove(publishable)
        wanted.insert(wanted.index(first_form) + 1, publishable)
    return wanted


def _store(ctx: Context, config_key: str, value: str, secret: bool, source: str | None = None) -> None:
    pulumi_cli.set_config(ctx.stack, config_key, value, ctx.project, secret=secret)
    came = f", from {source}" if source else ""
    how = "encrypted" if secret else "public: plain text"
    ctx.created.append(f"{config_key} stored ({how}{came})")
    said = "as a secret" if secret else "(public, in plain text)"
    ctx.term.say(f"Stored {config_key} {said}{came}.")


def _ask_valid(ctx: Context, config_key: str, kind: str, check: Callable[[str], str | None]) -> str:
    expected = {"deployer": f"rk_{ctx.mode}_...", "app": f"rk_{ctx.mode}_...",
                "publishable": f"pk_{ctx.mode}_...", "webhook": "whsec_..."}.get(kind, "the value")
    while True:
        value = ctx.term.secret(f"{config_key} ({expected}, hidden): ")
        if not value:
            raise Stop(exits.REFUSED, f"no value for {config_key}; the keys stored so far are kept, and the "
                                      "next run asks only for the rest")
        problem = check(value)
        if problem is None:
            return value
        ctx.term.say(f"Refused, nothing stored: {config_key}: {problem}. Enter the right one.")


def _checker(deployment: Deployment, config_key: str, kind: str, role: Role | None,
             known: dict[str, str]) -> Callable[[str], str | None]:
    """The guards' rule for this key, run on the typed value before anything is stored."""
    mode = deployment.mode
    host = hosts.of(deployment.settings)

    def check(value: str) -> str | None:
        if any(c.isspace() for c in value) or not value.isprintable():
            return "it holds spaces or control characters; copy it again"
        if role is not None:
            problem = key_problem(role, mode, value)
            others = {"app": known.get(ROLE_KEYS["deployer"]), "deployer": known.get(ROLE_KEYS["app"])}
            other = others.get(role)
            if problem is None and mode == "live" and value == other:
                problem = ("the app would run with the deployer's key and its write access; the app and "
                           "the deployer each get their own restricted key")
            return problem
        if kind == "token":
            return (f"this is a Stripe value ({key_prefix(value)}), not a {host.title} token"
                    if key_kind(value) else None)
        if kind == "webhook":
            return None if value.startswith("whsec_") else f"it has {key_prefix(value)}, not a signing " \
                "secret (whsec_...)"
        hosted = next((h for h in hosted_config(deployment.catalog) if h.config_key == config_key),
                      Hosted(config_key, config_key))
        values = {**known, config_key: value}
        return hosted_problem(hosted, mode, values.get, host.token)

    return check


def _where(deployment: Deployment, config_key: str, kind: str) -> tuple[str, str]:
    """Where the person gets the value: (the page or form, as the acts name it; what to do there)."""
    host = hosts.of(deployment.settings)
    mode = deployment.mode
    if kind == "publishable":
        return ("Stripe Dashboard page: the publishable key",
                f"{api_keys_page(mode)} (Developers > API keys), under Standard keys, the Publishable key. "
                f"{PUBLIC}")
    if kind == "token":
        return f"{host.title} token form", f"{host.token_help}."
    if config_key == WEBHOOK_SECRET:
        return ("Stripe Dashboard page: the adopted endpoint's signing secret",
                "Developers > Webhooks > the endpoint > Reveal.")
    hosted = next((h for h in hosted_config(deployment.catalog) if h.config_key == config_key), None)
    whose = f"{hosted.kind}'s" if hosted is not None and hosted.kind else "its service's"
    name = f" (written to the app as {hosted.name})" if hosted is not None else ""
    return f"{whose} dashboard", f"the value of {config_key}{name}."


# -------------------------------------------------------------------------------- the policy pack

POLICY_BUILD = ["make", "policy-venv"]
POLICY_SECONDS = 15 * 60.0  # a virtualenv and the pack's requirements from PyPI, on a slow line


def policy(ctx: Context) -> None:
    """Step 5: `--policy-pack policies` needs `policies/venv`, which the CLI does not build for a local
    pack; without it the preview fails with a refused connection or waits at "Loading policy packs".
    So before the preview: `make policy-venv` after a yes, where this checkout's Makefile is."""
    say_items(ctx, ctx.open("policy"))
    command = " ".join(POLICY_BUILD)
    make = shutil.which(POLICY_BUILD[0])
    if make is None or not (ctx.project / "Makefile").is_file():
        raise Stop(exits.REFUSED, f"build it with `{command}` in this repository's checkout, then run "
                                  "go-live again")
    if not ctx.term.confirm(f"Build it now (`{command}`: a virtualenv under policies/ with the pack's "
                            "requirements)?"):
        raise Stop(exits.REFUSED, f"declined: run `{command}`, then go-live again")
    ctx.term.say(f"Building the policy pack's virtualenv (`{command}`)...")
    status, said = _build(make, ctx)
    if status is None:
        raise Stop(exits.FINDINGS, f"`{command}` did not end within {POLICY_SECONDS / 60:g} minutes; it and "
                                   "what it started were stopped")
    if status != 0:
        lines = [line for line in said.splitlines() if line.strip()][-_SHOWN:]
        ctx.term.say(mask("\n".join(lines)))
        raise Stop(exits.FINDINGS, f"`{command}` failed (exit {status}); its last lines are above")
    ctx.refresh()
    if ctx.open("policy"):
        raise Stop(exits.FINDINGS, f"`{command}` ended but the virtualenv is still not built")
    ctx.created.append(f"the policy pack's virtualenv ({command})")


# What the build never gets: it runs make, pip and whatever a package's build backend runs, none
# of which needs a passphrase, a key, a token or a cloud's credentials. By name (this run's own),
# then by shape (a state backend's or a cloud's: PULUMI_ACCESS_TOKEN, AWS_SECRET_ACCESS_KEY, ...).
# A denylist, not an allowlist: a build needs what a person's shell gives it (pyenv, proxies, CAs).
_WITHHELD = frozenset({PASSPHRASE, PASSPHRASE_FILE, STRIPE_API_KEY, STRIPE_APP_KEY}) | {
    name for host in hosts.HOSTS.values() for name in (host.token_env, host.provider_token_env) if name}
_WITHHELD_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSPHRASE", "CREDENTIAL", "API_KEY", "ACCESS_KEY",
                   "PRIVATE_KEY")
_WITHHELD_PREFIXES = ("AWS_", "AZURE_", "ARM_", "GOOGLE_", "GCP_", "CLOUDSDK_", "STRIPE_", "VERCEL_",
                      "CLOUDFLARE_")


def _withheld(name: str) -> bool:
    upper = name.upper()
    return (name in _WITHHELD or any(word in upper for word in _WITHHELD_WORDS)
            or upper.startswith(_WITHHELD_PREFIXES))


def _build(make: str, ctx: Context) -> tuple[int | None, str]:
    """`make policy-venv` in its own process group, without this run's secrets in its environment:
    (its exit status, or None when it ran past POLICY_SECONDS and the whole group was stopped; its
    output, the last 64 KiB)."""
    env = {name: value for name, value in os.environ.items() if not _withheld(name)}
    with tempfile.TemporaryFile() as said:
        process = subprocess.Popen([make, *POLICY_BUILD[1:]], cwd=ctx.project, stdin=subprocess.DEVNULL,  # noqa: S603
                                   stdout=said, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        status: int | None = None
        try:
            status = process.wait(POLICY_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if status is None:  # ran too long, or Ctrl-C: pip and anything else it started end too
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        said.seek(max(0, said.seek(0, os.SEEK_END) - 64 * 1024))
        return status, said.read().decode("utf-8", "replace")
