"""`verify hosting` on Cloudflare: the Worker script holds exactly the secrets the stack declares.

Cloudflare never returns a secret's value, so the check is on names and
types: every declared name is there as a `secret_text`, and nothing is left
over that is named like a Stripe value (an old key or price ID the Worker
could still read).
"""

from __future__ import annotations

from infra.catalog import Catalog, Deployment, hosting
from infra.clients.cloudflare_api import SECRET_TEXT, CloudflareError, WorkerSecrets
from infra.core.checks import Check, Progress


def run(deployment: Deployment, api: WorkerSecrets, progress: Progress | None = None) -> list[Check]:
    say = progress or (lambda _: None)
    settings = deployment.settings
    account, script = str(settings.cloudflare_account_id), str(settings.worker_script)
    say(f"secrets of Worker script {script}")
    try:
        listed = {binding.name: binding for binding in api.list(account, script)}
    except CloudflareError as error:
        return [Check(f"secrets of {script}", "fail", str(error),
                      f"check {api.base}, the token (CLOUDFLARE_API_TOKEN or cloudflare:apiToken), "
                      "billing:cloudflareAccountId and billing:workerScript")]
    fix = f"run `pulumi up --stack {deployment.stack}`"
    checks = []
    declared = hosting.variables(deployment.catalog)
    for variable in declared:
        found = listed.get(variable.name)
        if found is None:
            checks.append(Check(f"secret {variable.name}", "fail", f"missing on {script}: the Worker reads "
                                f"undefined for {variable.describe()}", fix))
        elif found.type != SECRET_TEXT:
            checks.append(Check(f"secret {variable.name}", "fail", f"a {found.type} binding on {script}, "
                                f"not the {SECRET_TEXT} the Worker reads as a string", fix))
        else:
            checks.append(Check(f"secret {variable.name}", "pass",
                                f"on {script} as a {SECRET_TEXT} ({variable.describe()})"))
    names = {variable.name for variable in declared}
    for name in sorted(set(listed) - names):
        if looks_like_stripe(name, deployment.catalog):
            checks.append(Check(
                f"secret {name}", "fail",
                f"left over on {script}: not declared by the catalog, but named like a Stripe value, so the "
                "Worker may still read an old key or price ID",
                f"if nothing reads it: `wrangler secret delete {name} --name {script}`; if the app needs it, "
                "declare it in the catalog (`hosting.price_names`, `hosting.names` or `hosting.extra`)"))
    return checks


def looks_like_stripe(name: str, catalog: Catalog) -> bool:
    """A secret name that suggests a Stripe key, price, webhook secret or portal ID."""
    upper = name.upper()
    names = catalog.hosting.names
    return "STRIPE" in upper or upper.startswith(names.price_prefix) or upper in {
        names.secret_key, names.webhook_secret, names.publishable_key, names.portal_configuration}
