"""`billing pull --stack S --host`: adopt the variables already on the stack's Vercel project.

The Vercel provider creates a variable with a plain POST and no upsert
(terraform-provider-vercel, client/environment_variable.go), so a key that is
already on a target the stack writes fails its create half-way through the
first `up`. This step lists the project's variables (GET /v10/projects/{id}/env,
the version the provider lists with; values are never asked for), and for each
name and target the stack writes finds what is there:

- nothing: the first `up` creates it;
- one variable on exactly that target, of the type the stack writes: adopted
  (import ID `project_id/env_id`, as the provider's ImportState reads it), so
  the first `up` imports it and then updates its value in place;
- a variable of the other type (sensitive vs not), or one shared with other
  targets: a clash, refused with the fix, since the engine refuses an import
  that would replace and the other target's create would still fail.

The Stripe part of the import file (`billing pull`) is kept as it is. A
Cloudflare Worker's secrets are written with PUT, which overwrites, so there
is nothing to import there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra import hosts
from infra.catalog import Deployment, adoption, hosting, stack_config
from infra.clients import credentials, http
from infra.clients.credentials import VERCEL_API_BASE
from infra.clients.errors import ApiError
from infra.clients.vercel_api import Vercel
from infra.core import exits, writer
from infra.core.problems import ConfigError, Problem
from infra.core.snapshot import Snapshot
from infra.hosts.host import Target, value_name
from infra.hosts.vercel import TEAM

ENV_PAGE = "Project > Settings > Environment Variables"


@dataclass(frozen=True)
class Found:
    adopted: dict[tuple[str, str], str]
    """Import ID by (type, resource name)."""
    lines: list[str]
    """What is there and what the first `up` does with it: names, targets and types, never values."""
    clashes: list[Problem]


def _sensitive(entry: Mapping[str, Any]) -> bool:
    return entry.get("type") == "sensitive"


def _kind(entry: Mapping[str, Any]) -> str:
    return "sensitive" if _sensitive(entry) else f"not sensitive ({entry.get('type') or 'no type'})"


def match(envs: Sequence[Mapping[str, Any]], wanted: Sequence[tuple[Target, str]], value_type: str,
          id_prefix: str, where: str) -> Found:
    """What the project holds for each (target, name) the stack writes."""
    adopted: dict[tuple[str, str], str] = {}
    lines: list[str] = []
    clashes: list[Problem] = []
    for target, name in wanted:
        # A branch-specific variable never conflicts with one for the whole target.
        there = [e for e in envs if e.get("key") == name and target.name in e.get("target", ())
                 and not e.get("gitBranch")]
        field = f"{name} ({target.name})"
        wants = "sensitive" if target.sensitive else "not sensitive"
        if not there:
            continue
        entry = there[0]
        targets = sorted(str(t) for t in entry.get("target", ()))
        if targets != [target.name]:
            clashes.append(Problem(where, None, field, (
                f"one variable on the project holds it for {', '.join(targets)}; the stack writes one "
                f"variable per target ({wants} on {target.name}), and the create of the others would "
                f"still fail. Fix: in Vercel, {ENV_PAGE} > {name} > Edit, keep only {target.name} on it "
                "and remove the other targets (or delete it), then run `billing pull --host` again")))
        elif _sensitive(entry) != target.sensitive:
            clashes.append(Problem(where, None, field, (
                f"exists {_kind(entry)}, but the stack writes it {wants}; Vercel cannot change that in "
                "place and the engine refuses an import that would replace it. Fix: in Vercel, "
                f"{ENV_PAGE} > {name} > Delete (on {target.name}), then run `billing pull --host` again: "
                "the first `up` creates it")))
        elif not isinstance(entry.get("id"), str) or not entry["id"] or "/" in entry["id"]:
            clashes.append(Problem(where, None, field, "Vercel listed it without a usable ID; run "
                                   "`billing pull --host` again, or delete it in Vercel"))
        else:
            adopted[(value_type, value_name(target, name))] = id_prefix + entry["id"]
            lines.append(f"  - {name} on {target.name} ({_kind(entry)}): adopted; the first `up` imports it "
                         "and writes the stack's value in its place")
    return Found(adopted, lines, clashes)


def main(args: argparse.Namespace, out: TextIO) -> int:
    project: Path = args.project
    stack: str = args.stack
    try:
        config = stack_config.from_stack(project, stack)
        deployment = config.load()
        host = hosts.of(deployment.settings)
        values = adoption.host_values(deployment.catalog, deployment.settings)
        if values is None:
            print(f"{host.title}: {host.existing_values}. Nothing to pull for the host.", file=out)
            return exits.OK
        token = credentials.config_value(host.token_env, host.token, stack, project)
        found = _read(deployment, token, config.get(TEAM), args.timeout, values)
    except ApiError as error:
        print(f"could not read the Vercel project; nothing was written: {error}\n  fix: "
              f"{error.fix(f'{host.token_env} (or {host.token})', VERCEL_API_BASE)}", file=sys.stderr)
        return exits.REFUSED
    if found.clashes:
        print(ConfigError(found.clashes).render() + "\nnothing was written", file=sys.stderr)
        return exits.REFUSED
    relative = deployment.settings.adopt or str(Path("adopt") / stack / "import.json")
    path = project / relative
    try:
        document = _merged(config.files, relative, deployment, values, found.adopted)
        writer.write(writer.Target(path, (json.dumps(document, indent=2) + "\n").encode(),
                                   replaceable=lambda _: True), project, forbidden=(project / "stacks",))
    except (ConfigError, writer.WriteRefused) as error:
        print(error.render() if isinstance(error, ConfigError) else str(error), file=sys.stderr)
        return exits.REFUSED
    print(f"{host.location(deployment.settings)}: {len(found.adopted)} of the stack's variables are already "
          "there" + (":" if found.lines else "; the first `up` creates every one"), file=out)
    for line in found.lines:
        print(line, file=out)
    print(f"\nwrote {relative}", file=out)
    if not deployment.settings.adopt:
        print(f"next: pulumi config set billing:adopt {relative} --stack {stack}", file=out)
    return exits.OK


def _read(deployment: Deployment, token: str, team: str | None, timeout: float,
          values: adoption.HostValues) -> Found:
    settings = deployment.settings
    host = hosts.of(settings)
    envs = Vercel(token, team, limits=http.Limits(timeout)).env(str(settings.vercel_project))
    wanted = [(target, variable.name) for target in host.targets(settings)
              for variable in hosting.variables(deployment.catalog)]
    return match(envs, wanted, values.value_type, values.id_prefix, host.location(settings))


def _merged(files: Snapshot, relative: str, deployment: Deployment, values: adoption.HostValues,
            found: Mapping[tuple[str, str], str]) -> dict[str, Any]:
    """The import file with the Stripe entries it had (checked as `validate` checks them) and the
    host's entries replaced by what is on the project now (read once: the loader may have read it)."""
    kept: dict[tuple[str, str], str] = {}
    if (files.root / relative).exists():
        text, problems = files.text(relative)
        if text is None:
            raise ConfigError(problems)
        kept, problems = adoption.read(text, relative, deployment.catalog, values)
        if problems:
            raise ConfigError(problems)
    kept = {key: id_ for key, id_ in kept.items() if key[0] != values.value_type}
    return adoption.import_file({**kept, **found}, values)
