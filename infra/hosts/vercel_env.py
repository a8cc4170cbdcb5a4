"""The app's environment on Vercel: the only module that imports the Vercel provider.

One project environment variable per (target, name). A changed variable
reaches users only with a new deployment, so the component compares what it
writes with what the stack's last update wrote and says which ones need a
redeploy.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from infra.hosting import TARGETS, HostedValue

DIGESTS_OUTPUT = "hostingDigests"


@dataclass(frozen=True)
class VercelEnvironmentArgs:
    stack: str
    mode: str
    project_id: str
    values: Sequence[HostedValue]
    api_token: pulumi.Input[str]
    team: str | None = None


class VercelEnvironment(pulumi.ComponentResource):
    """Every value the app reads, written to the Vercel targets of the stack's mode."""

    variable_names: dict[str, list[str]]
    """Variable names per target: names only, never values."""
    digests: pulumi.Output[dict[str, str]]
    """A digest per `target:NAME` of the value written; secret, and only compared, never shown."""
    redeploy_needed: pulumi.Output[list[str]]
    """`target:NAME` of each variable that differs from the last update's."""

    def __init__(
        self, name: str, args: VercelEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("billing:vercel:Environment", name, None, opts)
        provider = vercel.Provider(
            f"vercel-{args.mode}", api_token=args.api_token, team=args.team,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Not protected even on live: every variable is derived from code and config,
        # and protection would block the delete-before-replace below.
        child = pulumi.ResourceOptions(
            parent=self, provider=provider,
            # Vercel refuses a second variable with the same key and target
            # (ENV_ALREADY_EXISTS), and Pulumi would create the new one before deleting the old.
            delete_before_replace=True,
        )
        digests: dict[str, pulumi.Output[str]] = {}
        for target in TARGETS[args.mode]:
            for hosted in args.values:
                variable = hosted.variable
                vercel.ProjectEnvironmentVariable(
                    f"{target.name}-{variable.name}",
                    project_id=args.project_id,
                    key=variable.name,
                    value=hosted.value,
                    targets=[target.name],
                    sensitive=target.sensitive,
                    comment=f"Managed by Pulumi stack {args.stack}: {variable.describe()}. "
                            "Change it in code, not here.",
                    opts=child,
                )
                slot = f"{target.name}:{variable.name}"
                digests[slot] = hosted.value.apply(functools.partial(digest, slot))

        self.variable_names = {
            target.name: [hosted.variable.name for hosted in args.values] for target in TARGETS[args.mode]
        }
        slots = list(digests)
        self.digests = pulumi.Output.secret(pulumi.Output.all(*digests.values()).apply(
            lambda values: dict(zip(slots, values, strict=True))
        ))
        last_update = pulumi.StackReference(
            f"{name}-last-update", _own_stack_name(), opts=pulumi.ResourceOptions(parent=self),
        )
        # A stack that was never updated has no outputs (None rather than {} on some backends).
        previous = pulumi.Output.secret(last_update.outputs.apply(
            lambda outputs: (outputs or {}).get(DIGESTS_OUTPUT)
        ))
        # Only names leave this comparison, so the result need not stay secret.
        self.redeploy_needed = pulumi.Output.unsecret(
            pulumi.Output.all(previous, self.digests).apply(lambda both: _notice(both[0], both[1]))
        )
        self.register_outputs({
            "variable_names": self.variable_names,
            "digests": self.digests,
            "redeploy_needed": self.redeploy_needed,
        })


def _own_stack_name() -> str:
    # The stack reads its own last update's outputs; the local backend's organization
    # is "organization".
    organization = pulumi.get_organization() or "organization"
    return f"{organization}/{pulumi.get_project()}/{pulumi.get_stack()}"


def digest(slot: str, value: str) -> str:
    return hashlib.sha256(f"{slot}\0{value}".encode()).hexdigest()


def changed(previous: Mapping[str, str] | None, current: Mapping[str, str]) -> list[str]:
    """Slots whose value is new, different or gone since the last update."""
    if previous is None:
        return sorted(current)
    return sorted(slot for slot in set(previous) | set(current) if previous.get(slot) != current.get(slot))


# What makes a changed variable reach each target.
_REDEPLOY = {
    "production": "redeploy production (`vercel deploy --prod`, or Redeploy on the latest "
                  "production deployment in the Vercel dashboard)",
    "preview": "redeploy the previews in use",
    "development": "run `vercel env pull` where people develop",
}


def _notice(previous: Mapping[str, str] | None, current: Mapping[str, str]) -> list[str]:
    slots = changed(previous, current)
    if slots:
        by_target: dict[str, list[str]] = {}
        for slot in slots:
            target, name = slot.split(":", 1)
            by_target.setdefault(target, []).append(name)
        listing = "; ".join(f"{target}: {', '.join(names)}" for target, names in by_target.items())
        advice = "; ".join(_REDEPLOY[target] for target in by_target if target in _REDEPLOY)
        pulumi.log.warn(
            f"Vercel variables differ from this stack's last update ({listing}). Running deployments "
            "keep the old values "
            f"until the app is deployed again: {advice}."
        )
    return slots
