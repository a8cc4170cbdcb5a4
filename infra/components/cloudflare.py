"""The app's values as secrets of one Cloudflare Worker script, through a thin dynamic resource.

Why not the Cloudflare provider: pulumi-cloudflare 6.x removed the Worker
secret resource (`WorkersSecret`, gone in 6.2). What it keeps either changes
how the Worker reads a value (Secrets Store: `await env.NAME.get()`, a code
change) or takes the Worker's code over (`secret_text` bindings on
`WorkersScript`/`WorkerVersion`: Pulumi would upload the code `wrangler deploy`
uploads today). Cloudflare's script-secrets API sets one secret and nothing
else, as `wrangler secret put` does: `PUT /accounts/{account}/workers/scripts/
{script}/secrets`. Each `WorkerSecret` below is one such secret, written with
Cloudflare's official SDK (infra.clients.cloudflare_api); the Worker keeps
reading `env.NAME` as a plain string.

Secrecy: the value is a secret input and output (encrypted in state, never
shown). The API token is in no WorkerSecret's inputs: the pickled provider
holds nothing, and reads `cloudflare:apiToken` from the stack's config when
the engine configures it (pulumi.dynamic's `configure`). It is in state all
the same: the engine's default provider for dynamic resources records the
stack's config as its inputs, so the token is stored there, encrypted like
every secret of the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi import dynamic

from infra.catalog import Deployment
from infra.catalog.guards import store_secret
from infra.clients.cloudflare_api import SECRET_TEXT, CloudflareError, WorkerSecrets
from infra.components.environment import Environment, HostedValue
from infra.hosts.cloudflare import CloudflareHost

# Where a secret lives: a change to any of these makes it another secret.
LOCATION = ("accountId", "scriptName", "name")


class WorkerSecretProvider(dynamic.ResourceProvider):
    """Create and update put the secret (a new version of the script, deployed at once); delete
    removes it; read (`pulumi refresh`) checks it is still listed, since values cannot be read."""

    _token: str | None = None

    def configure(self, req: dynamic.ConfigureRequest) -> None:
        token = req.config.get(CloudflareHost.token)
        self._token = token if isinstance(token, str) and token else None

    def _api(self) -> WorkerSecrets:
        if not self._token:
            raise CloudflareError(f"{CloudflareHost.token} is not set: run "
                                  f"{store_secret(CloudflareHost.token, None, 'the token')}")
        return WorkerSecrets(self._token)

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        self._put(props)
        return dynamic.CreateResult("/".join(str(props[key]) for key in LOCATION), _state(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # Another name or script is another secret. It is deleted before the new one is written:
        # a replace the engine starts itself (`--target-replace`, a rename without an alias) keeps
        # the location, and create-then-delete would write the name and then delete it, leaving
        # the Worker without it while state says it is there.
        replaces = [key for key in LOCATION if olds.get(key) != news.get(key)]
        changes = bool(replaces) or any(olds.get(key) != news.get(key) for key in ("value", "type"))
        return dynamic.DiffResult(changes=changes, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        self._put(news)
        return dynamic.UpdateResult(_state(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # Already gone (deleted by hand, or the script was) is what delete wants.
        self._api().delete(props["accountId"], props["scriptName"], props["name"])

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        listed = self._api().list(props["accountId"], props["scriptName"])
        if any(binding.name == props.get("name") for binding in listed):
            return dynamic.ReadResult(id_, _state(props))
        return dynamic.ReadResult(None, {})  # gone: the next `up` writes it again

    def _put(self, props: dict[str, Any]) -> None:
        if props.get("type") != SECRET_TEXT:
            raise CloudflareError(f"{props.get('name')}: only {SECRET_TEXT} values are written to a Worker")
        self._api().put(props["accountId"], props["scriptName"], props["name"], props["value"])


def _state(props: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key != dynamic.dynamic.PROVIDER_KEY}


class WorkerSecret(dynamic.Resource, module="billing", name="WorkerSecret"):
    """One `secret_text` of a Worker script: what `wrangler secret put NAME` sets."""

    def __init__(self, resource_name: str, *, account: str, script: str, name: str,
                 value: pulumi.Input[str], opts: pulumi.ResourceOptions) -> None:
        super().__init__(WorkerSecretProvider(), resource_name, {
            "accountId": account, "scriptName": script, "name": name, "type": SECRET_TEXT,
            "value": pulumi.Output.secret(value),
        }, pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["value"])))


class WorkerEnvironment(Environment):
    """Every value the app reads, as a secret of the stack's own Worker script."""

    noun = "Worker secrets"
    redeploy = None  # a secret edit deploys a new version of the script at once

    def __init__(self, name: str, *, account: str, script: str, values: Sequence[HostedValue],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(CloudflareHost.component_type, name, None, opts)
        previous: WorkerSecret | None = None
        written: dict[str, pulumi.Output[str]] = {}
        for hosted in values:
            variable = hosted.variable
            previous = WorkerSecret(
                f"{script}-{variable.name}", account=account, script=script, name=variable.name,
                value=hosted.value,
                # Not protected even on live: every value is derived from code and config.
                # One write at a time: each one makes and deploys a new version of the script.
                # Deleted before replaced, whoever asks for the replace (see diff above).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous else None,
                                            delete_before_replace=True),
            )
            written[f"{script}:{variable.name}"] = hosted.value
        self._finish(written, {script: [hosted.variable.name for hosted in values]})


def environment(name: str, deployment: Deployment, values: Sequence[HostedValue]) -> WorkerEnvironment:
    """The stack's Worker script secrets."""
    settings = deployment.settings
    return WorkerEnvironment(name, account=str(settings.cloudflare_account_id),
                             script=str(settings.worker_script), values=values)
