"""Cloudflare Workers as a host: each value a secret of the stack's own Worker script.

What the runbook does with `wrangler secret put NAME`, per stack: the test
stack writes test values to its script (e.g. `api-staging`), the live stack
live values to its own (`api`). The Worker keeps reading `env.NAME` as a plain
string, and its code stays deployed by `wrangler deploy`. Every value is a
`secret_text`: none can be read back. Standard library and infra.core only
(see infra.hosts.host).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from infra.core.problems import Problem
from infra.core.snapshot import Snapshot
from infra.core.sources import Document
from infra.hosts.host import HOST_SETTING, Host, StackSettings, Target, mixed_mode_value

# The dynamic resource's type token (pulumi.dynamic: `pulumi-python:dynamic/<module>:<name>`).
WORKER_SECRET = "pulumi-python:dynamic/billing:WorkerSecret"  # noqa: S105 (a type token)
ACCOUNT = "billing:cloudflareAccountId"
SCRIPT = "billing:workerScript"


class CloudflareHost(Host):
    key = "cloudflare"
    title = "Cloudflare Workers"
    token = "cloudflare:apiToken"  # noqa: S105 (a config key name)
    token_env = "CLOUDFLARE_API_TOKEN"  # noqa: S105 (a variable name): wrangler's and the SDK's
    # No provider_token_env: the WorkerSecret provider reads `cloudflare:apiToken` from the stack's
    # config only (infra.components.cloudflare, `configure`); go-live offers token_env's token.
    token_help = ("A Cloudflare API token with Account > Workers Scripts > Edit "  # noqa: S105 (instructions)
                  "(dash.cloudflare.com/profile/api-tokens)")
    api_base_env = "CLOUDFLARE_BASE_URL"
    api_default = "https://api.cloudflare.com/client/v4"
    settings: ClassVar[Mapping[str, str]] = {
        ACCOUNT: "<account ID, 32 hex digits>", SCRIPT: "<the Worker's name, e.g. api-staging>"}

    applies_at_once = True
    value_type = WORKER_SECRET
    table_inputs = frozenset({"name", "scriptName", "type", "value", "accountId", "__provider"})
    component_type = "billing:cloudflare:Worker"
    existing_values = ("written with PUT, which overwrites: an existing secret of the same name is "
                       "replaced by the stack's value (nothing to import)")

    def targets(self, settings: StackSettings) -> tuple[Target, ...]:
        return (Target(str(settings.worker_script), sensitive=True),)

    def location(self, settings: StackSettings) -> str:
        return f"Worker script {settings.worker_script} (account {settings.cloudflare_account_id})"

    def after_write(self, settings: StackSettings) -> str:
        return f"no redeploy: {settings.worker_script} reads it as soon as `up` writes it"

    def check(self, stack: str, settings: StackSettings, doc: Document, files: Snapshot) -> list[Problem]:
        problems = super().check(stack, settings, doc, files)
        if settings.worker_script is None:
            return problems
        for other, other_doc in _other_stacks(files, stack):
            config = other_doc.data.get("config") if isinstance(other_doc.data, dict) else None
            if not isinstance(config, dict) or config.get(HOST_SETTING) != self.key:
                continue
            if config.get(SCRIPT) == settings.worker_script and config.get(ACCOUNT) in (
                    None, settings.cloudflare_account_id):
                line = other_doc.line_of(("config", SCRIPT))
                problems.append(doc.problem(
                    ("config", SCRIPT),
                    f"{settings.worker_script!r} is also the Worker script of stack {other!r} "
                    f"({other_doc.file}:{line}): each stack writes its own mode's values to its own script, "
                    "and two stacks on one script would overwrite each other's keys and mix test and live "
                    "values; "
                    f"give this stack its own Worker (`wrangler deploy --name ...`) and set `{SCRIPT}`",
                    SCRIPT))
        return problems

    def violations(self, resource_type: str, props: Mapping[str, Any], live: bool) -> list[str]:
        if resource_type != WORKER_SECRET:
            return []
        name, script = props.get("name"), props.get("scriptName")
        found = []
        if props.get("type") != "secret_text":
            found.append(f"{name} on {script}: written as {props.get('type')!r}; every value on a Worker "
                         "is a secret_text, which no one can read back")
        prefix = mixed_mode_value(props.get("value"), live)
        if prefix:
            found.append(f"{name} on {script}: a {prefix} key is written by a {'live' if live else 'test'} "
                         "stack; each stack's script gets only its own mode's values")
        return found

    def slots(self, props: Mapping[str, Any]) -> list[tuple[str, Target]]:
        target = Target(str(props.get("scriptName")), sensitive=props.get("type") == "secret_text")
        return [(str(props.get("name")), target)]


def _other_stacks(files: Snapshot, stack: str) -> list[tuple[str, Document]]:
    found = []
    for path in sorted(files.root.glob("Pulumi.*.yaml")):
        other = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if other != stack:
            found.append((other, files.document(path.name)))
    return found
