"""The app's environment on Vercel: the only module that imports the Vercel provider.

One project environment variable per (target, name). A changed variable
reaches users only with a new deployment, so the component says which ones
need a redeploy (infra.components.environment compares them with the last update).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pulumi
import pulumiverse_vercel as vercel

from infra.catalog import Deployment
from infra.components.environment import Environment, HostedValue
from infra.hosts.host import Target, value_name
from infra.hosts.vercel import REDEPLOY, TARGETS, VARIABLE, VercelHost


@dataclass(frozen=True)
class VercelEnvironmentArgs:
    stack: str
    mode: str
    project_id: str
    targets: Sequence[Target]
    values: Sequence[HostedValue]
    api_token: pulumi.Input[str]
    team: str | None = None
    adopted: Mapping[str, str] = field(default_factory=dict)
    """Import ID (`prj_.../<env id>`) by resource name, of variables already on the project."""


class VercelEnvironment(Environment):
    """Every value the app reads, written to the Vercel targets of the stack's mode."""

    noun = "Vercel variables"
    redeploy: ClassVar[Mapping[str, str] | None] = REDEPLOY

    def __init__(
        self, name: str, args: VercelEnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(VercelHost.component_type, name, None, opts)
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
        values: dict[str, pulumi.Output[str]] = {}
        for target in args.targets:
            for hosted in args.values:
                variable = hosted.variable
                resource = value_name(target, variable.name)
                existing = args.adopted.get(resource)
                vercel.ProjectEnvironmentVariable(
                    resource,
                    project_id=args.project_id,
                    key=variable.name,
                    value=hosted.value,
                    targets=[target.name],
                    sensitive=target.sensitive,
                    comment=f"Managed by Pulumi stack {args.stack}: {variable.describe()}. "
                            "Change it in code, not here.",
                    # A variable already there is imported, then updated in place: its create
                    # would fail (the provider's POST has no upsert).
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(import_=existing))
                    if existing else child,
                )
                values[f"{target.name}:{variable.name}"] = hosted.value
        self._finish(values, {
            target.name: [hosted.variable.name for hosted in args.values] for target in args.targets
        })


def environment(name: str, deployment: Deployment, values: Sequence[HostedValue]) -> VercelEnvironment:
    """The stack's Vercel environment: its targets, its project, the provider's token and team."""
    settings = deployment.settings
    config = pulumi.Config("vercel")
    return VercelEnvironment(name, VercelEnvironmentArgs(
        stack=deployment.stack, mode=deployment.mode, project_id=str(settings.vercel_project),
        targets=TARGETS[deployment.mode], values=values,
        api_token=config.require_secret("apiToken"),
        team=config.get("team"),
        adopted={name: id_ for (type_, name), id_ in deployment.adopted.items() if type_ == VARIABLE},
    ))
