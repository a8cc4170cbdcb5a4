"""One change `diff` reports, and the helpers every part of `diff` shares."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from infra import hosts
from infra.catalog import Deployment, adoption
from infra.core import exits
from infra.stripe import provider_table

Severity = Literal["info", "warn", "error"]
GROUPS = ("plans", "prices", "entitlements", "webhook", "portal", "keys", "hosting", "stack")
Step = Literal["", "same", "create", "update", "replace", "delete", "no-op", "not cleared",
               "refused by Stripe"]


@dataclass(frozen=True)
class Change:
    group: str
    severity: Severity
    subject: str
    message: str
    resource: tuple[str, str] | None = None
    """The Stripe resource (type token, name) the change lands on, if any."""
    step: Step = ""
    """What the provider does to that resource, as the table predicts it."""
    fields: tuple[FieldChange, ...] = ()
    """Each provider input the change moves, old -> new, as a reviewer reads it."""
    sources: tuple[str, ...] = ()
    """Where the provider does what the message says (file and lines of the terraform provider):
    shown by `diff --explain`, in the markdown comment and in the JSON, not in the default text."""

    def explained(self) -> str:
        """The message with its provider citations."""
        return f"{self.message} ({'; '.join(self.sources)})" if self.sources else self.message


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: str
    new: str


def shown(value: Any) -> str:
    """A field's value as the change line prints it: `"Pro"`, `2900`, `{"tier": "gold"}`, `(none)`."""
    if value is None:
        return "(none)"
    return json.dumps(value, default=str, ensure_ascii=False, sort_keys=True)


def moved(path: str, old: Any, new: Any) -> FieldChange:
    return FieldChange(path, shown(old), shown(new))


def exit_status(changes: Iterable[Change]) -> int:
    severities = {c.severity for c in changes}
    return exits.REFUSED if "error" in severities else exits.FINDINGS if "warn" in severities else exits.OK


def written_to(deployment: Deployment) -> str:
    """Where the stack's host writes its values: `preview and development`, a Worker script."""
    return hosts.of(deployment.settings).where(deployment.settings)


def after_write(deployment: Deployment) -> str:
    """What makes a written value reach the app: a redeploy (Vercel), or nothing (a Worker)."""
    return hosts.of(deployment.settings).after_write(deployment.settings)


def _urn(stack: str, token: str, name: str) -> str:
    return f"urn:pulumi:{stack}::billing::{adoption.COMPONENT_TYPE}${token}::{name}"


def removed(head: Deployment, group: str, subject: str, token: str, name: str, what: str,
            kept: str, severity: Severity = "info", extra: str = "") -> Change:
    """A Stripe resource dropped from the program: the provider's Delete, or on live a refusal.
    `extra` says what the removal means beyond the provider's step."""
    resource = provider_table.RESOURCES[token]
    if head.mode == "live":
        return Change(group, "error", subject, (
            f"removed: {what} is protected on live, so `up` refuses to delete it and stops. Keep it "
            f"declared ({kept}); or, as a deliberate step before merging, run `pulumi state unprotect "
            f"'{_urn(head.stack, token, name)}' --stack {head.stack}`"), (token, name), "delete")
    done = {"deletes": "it is deleted in Stripe",
            "nothing": "only dropped from the stack: it stays in Stripe as it is",
            "nothing_if_in_use": "only dropped from the stack while it has prices: it stays in Stripe"}
    return Change(group, severity, subject, f"removed: {what}; {done[resource.delete]}{extra}",
                  (token, name), "delete", sources=(f"{resource.file} {resource.delete_source}",))


