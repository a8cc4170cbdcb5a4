"""`diff` for what is not a Stripe object of the catalog: key manifests, host values, stack settings."""

from __future__ import annotations

from infra import hosts
from infra.catalog import Catalog, Deployment, KeyManifest, hosting
from infra.commands.diff.change import Change, after_write, written_to
from infra.commands.diff.coupons import coupons


def keys(base: Catalog, head: Catalog) -> list[Change]:
    changes = []
    for role in ("app", "deployer"):
        old: KeyManifest = getattr(base.keys, role)
        new: KeyManifest = getattr(head.keys, role)
        for resource in sorted(old.permissions.keys() | new.permissions.keys()):
            was, now = old.permissions.get(resource, "none"), new.permissions.get(resource, "none")
            if was != now:
                changes.append(Change("keys", "warn", f"{role} key", (
                    f"{resource}: {was.title()} -> {now.title()}. Manual Dashboard work (no API can change a "
                    f"restricted key): edit the {role} key in each mode, then "
                    "`billing verify stripe`")))
    return changes


def hosting_values(base: Deployment, head: Deployment) -> list[Change]:
    old = {v.name: v for v in hosting.variables(base.catalog)}
    new = {v.name: v for v in hosting.variables(head.catalog)}
    host = hosts.of(head.settings)
    targets, after = written_to(head), after_write(head)
    breaks = "as soon as `up` deletes it" if host.applies_at_once else "at its next deployment"
    changes = []
    for name in sorted(new.keys() - old.keys()):
        changes.append(Change("hosting", "warn", name,
                              f"added ({new[name].describe()}) on {targets} ({after})"))
    for name in sorted(old.keys() - new.keys()):
        changes.append(Change("hosting", "warn", name, f"deleted from {targets}: an app that still reads it "
                              f"breaks {breaks}"))
    return changes


def settings(base: Deployment, head: Deployment) -> list[Change]:
    changes = []
    if base.mode != head.mode:
        changes.append(Change("stack", "error", "billing:mode", f"{base.mode} -> {head.mode}: a stack never "
                              "changes mode; make a new stack"))
    was = hosts.of(base.settings).location(base.settings)
    now = hosts.of(head.settings).location(head.settings)
    if was != now:
        changes.append(Change("stack", "warn", "hosting", f"{was} -> {now}: every value is written to the "
                              "new place and deleted from the old one; an app still reading the old place "
                              "loses them"))
    changes += coupons(base, head)
    return changes


