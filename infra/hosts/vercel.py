"""Vercel as a host: project environment variables, scoped per target by mode.

`live` writes production only, and `test` writes preview and development, so
the two stacks never own the same (name, target) pair and cannot overwrite
each other. Standard library and infra.core only (see infra.hosts.host).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from infra.hosts.host import Host, StackSettings, Target, mixed_mode_value

VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"
COMPONENT = "billing:vercel:Environment"
PROJECT = "billing:vercelProject"
TEAM = "vercel:team"

TARGETS: dict[str, tuple[Target, ...]] = {
    "live": (Target("production", sensitive=True),),
    # Vercel refuses sensitive development variables, which is why development only
    # ever gets test values.
    "test": (Target("preview", sensitive=True), Target("development", sensitive=False)),
}

# What makes a variable written to each target reach the app that reads it: the program's
# notice after an update, `verify hosting` and `billing status` all say it from here.
REDEPLOY: Mapping[str, str] = {
    "production": "redeploy production (`vercel deploy --prod`, or Redeploy on the latest "
                  "production deployment in the Vercel dashboard)",
    "preview": "redeploy the previews in use (`vercel deploy` makes a new one; or Redeploy on each in the "
               "Vercel dashboard)",
    "development": "run `vercel env pull` where people develop",
}
# What makes a target's first deployment, so that an app there reads the variables at all.
FIRST_DEPLOY: Mapping[str, str] = {
    "production": "deploy the app to production (`vercel deploy --prod`, or a push to the production "
                  "branch)",
    "preview": "deploy a preview (`vercel deploy`, or a push to any other branch)",
}
# The targets whose app runs on Vercel, so a deployment's time can be compared with a
# variable's; development runs on people's machines.
DEPLOYED_TARGETS = ("production", "preview")


class VercelHost(Host):
    key = "vercel"
    title = "Vercel"
    token = "vercel:apiToken"  # noqa: S105 (a config key name)
    token_env = "VERCEL_TOKEN"  # noqa: S105 (a variable name)
    # terraform-provider-vercel, vercel/provider.go, `Configure`: with no `api_token` in the
    # provider's config, `apiToken = os.Getenv("VERCEL_API_TOKEN")`; pulumiverse/pulumi-vercel's
    # provider/resources.go maps no other variable onto it.
    provider_token_env = "VERCEL_API_TOKEN"  # noqa: S105 (a variable name)
    token_help = "A Vercel token (vercel.com/account/tokens)"  # noqa: S105 (instructions)
    api_base_env = "VERCEL_API_BASE"
    api_default = "https://api.vercel.com"
    settings: ClassVar[Mapping[str, str]] = {PROJECT: "prj_..."}

    applies_at_once = False
    value_type = VARIABLE
    table_inputs = frozenset({"key", "targets", "sensitive", "value", "projectId", "comment"})
    component_type = COMPONENT
    # The provider's create is a POST with no upsert (terraform-provider-vercel,
    # client/environment_variable.go): an existing key on the target fails it.
    existing_values = ("an existing variable of the same name and target fails its create, unless "
                       "`billing pull --host` put it in the import file (then it is adopted)")

    def targets(self, settings: StackSettings) -> tuple[Target, ...]:
        return TARGETS[settings.mode]

    def location(self, settings: StackSettings) -> str:
        return f"Vercel project {settings.vercel_project}"

    def import_prefix(self, settings: StackSettings) -> str | None:
        # The provider's ImportState takes `[team_id/]project_id/env_id`; without the team, it
        # uses the provider's own (`vercel:team`), the one every variable is written with.
        return f"{settings.vercel_project}/"

    def after_write(self, settings: StackSettings) -> str:
        return f"redeploy {self.where(settings)}"

    def violations(self, resource_type: str, props: Mapping[str, Any], live: bool) -> list[str]:
        if resource_type != VARIABLE:
            return []
        found = []
        targets = list(props.get("targets") or ())
        key = props.get("key")
        if "development" in targets and live:
            found.append(f"{key}: a live stack writes to the development target; live secrets must only "
                         "reach production (development values are readable by every developer)")
        elif "development" in targets and mixed_mode_value(props.get("value"), live=False):
            found.append(f"{key}: a live-mode key is sent to development")
        exposed = [t for t in targets if t in ("production", "preview")]
        if exposed and props.get("sensitive") is not True:
            found.append(f"{key}: not sensitive on {', '.join(exposed)}; a secret there must be sensitive "
                         "so no one can read it back from Vercel")
        return found

    def slots(self, props: Mapping[str, Any]) -> list[tuple[str, Target]]:
        sensitive = props.get("sensitive") is True
        return [(str(props.get("key")), Target(str(target), sensitive))
                for target in props.get("targets") or ()]
