"""Restricted keys as checklists: Stripe has no API to create them, so a person does.

Each manifest in the catalog becomes the exact steps on the Dashboard's
"Create restricted key" form for the stack's mode, and the command that
stores the key once it is revealed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TextIO

from infra import hosts
from infra.catalog import Deployment, KeyManifest
from infra.catalog.guards import APP_KEY, DEPLOYER_KEY, Role, fix, store_secret
from infra.commands.config import engine_config
from infra.commands.validate import warn
from infra.core import exits
from infra.core.escape import terminal
from infra.stripe.rak_names import TEST_MODE_LINK, create_link
from infra.stripe.reference import DASHBOARD_RESOURCES, api_keys_page


@dataclass(frozen=True)
class Checklist:
    role: Role
    key_name: str
    config_key: str
    manifest: KeyManifest
    used_by: str


def checklists(deployment: Deployment) -> list[Checklist]:
    keys = deployment.catalog.keys
    host = hosts.of(deployment.settings)
    where = ", ".join(target.name for target in host.targets(deployment.settings))
    variable = deployment.catalog.hosting.names.secret_key
    return [
        Checklist("app", f"billing-{deployment.stack}-app", APP_KEY, keys.app,
                  f"the app, as {variable} on {host.title} ({where})"),
        Checklist("deployer", f"billing-{deployment.stack}-deployer", DEPLOYER_KEY, keys.deployer,
                  "Pulumi, as the Stripe provider's key"),
    ]




def main(args: argparse.Namespace, out: TextIO) -> int:
    config = engine_config(args)
    # `keys` is step 7, before a live stack's own settings need be filled in (README).
    deployment = config.load(examples_refused=False)
    print(render(deployment), file=out)
    warn(deployment)
    return exits.OK


def render(deployment: Deployment) -> str:
    mode, stack = deployment.mode, deployment.stack
    host = hosts.of(deployment.settings)
    lines = [
        f"Restricted keys for stack {stack!r} ({mode} mode)",
        "Stripe has no API to create restricted keys: create each one by hand, exactly as listed.",
    ]
    for number, item in enumerate(checklists(deployment), start=1):
        lines += ["", *form(deployment, number, item)]
        lines.append(f"   [ ] Store it: {fix(item.role, mode, stack).removeprefix('run ')}")
    lines += [
        "",
        "Also store, once per stack:",
        f"   [ ] The publishable key (Developers > API keys, {api_keys_page(mode)}): "
        f"{fix('publishable', mode, stack).removeprefix('run ')}",
        "       It is public (it ships to browsers), so the stack file holds it in plain text; "
        "every other key and token is stored with --secret.",
        f"   [ ] {host.token_help}: {store_secret(host.token, stack, 'the token')}",
        "",
        f"Then run `billing validate --stack {stack} --from-pulumi`: it reads the stored keys through "
        "the pulumi CLI (decrypted in memory only), refuses a key of the wrong mode or kind, and never "
        "prints one. Without --from-pulumi the keys are sealed and are not checked.",
    ]
    return "\n".join(terminal(line) for line in lines)  # a manifest's purpose is the user's text


def form(deployment: Deployment, number: int, item: Checklist) -> list[str]:
    """One key's prefilled "Create restricted key" link and the form's checklist, up to revealing
    the key (`billing go-live` then asks for it at a hidden prompt). Not escaped: the caller does."""
    mode = deployment.mode
    granted = item.manifest.granted()
    link = create_link(mode, item.key_name, granted)
    lines = [
        f"{number}. The {item.role} key, used by {item.used_by}",
        f"   Purpose: {item.manifest.purpose}",
        f"   Prefilled form ({len(link.named)} of {len(granted)} permissions set; check them against "
        f"the list below): {link.url}",
    ]
    if link.by_hand:
        lines.append("   Not in the link (Stripe's name for it is not confirmed), set by hand: "
                     + ", ".join(f"{resource} {level.title()}" for resource, level in link.by_hand))
    if mode == "test":
        lines.append(f"   ({TEST_MODE_LINK})")
    lines += [
        f"   [ ] Open {api_keys_page(mode)} and click \"Create restricted key\""
        + (" (live mode: check the Dashboard is NOT in test mode)" if mode == "live" else ""),
        f"   [ ] Key name: {item.key_name}",
        "   [ ] Set these permissions:",
    ]
    for group, names in DASHBOARD_RESOURCES.items():
        for name in names:
            if name in granted:
                lines.append(f"         [ ] {name:<20} {granted[name].capitalize():<6} ({group})")
    untouched = [name for names in DASHBOARD_RESOURCES.values() for name in names if name not in granted]
    lines.append(f"   [ ] Leave every other resource at None, including: {', '.join(untouched)}")
    lines.append("   [ ] Click \"Create key\" and reveal it" + (
        " (a live key is shown once: store it before closing the dialog)" if mode == "live" else ""))
    return lines
