"""A stack's config as the Pulumi engine hands it to the program, built offline.

The engine passes config as a flat map (`billing:mode` -> "test", structured
values as JSON) through PULUMI_CONFIG, with PULUMI_CONFIG_SECRET_KEYS naming
the secret ones. `validate` and `plan` build the same map from
Pulumi.<stack>.yaml, take secrets from those variables when set, and use
mode-correct placeholders otherwise: encrypted `secure:` values stay sealed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra import hosts
from infra.catalog.deployment import Deployment
from infra.catalog.guards import APP_KEY, DEPLOYER_KEY, PUBLISHABLE_KEY, SECRET_KEYS, WEBHOOK_SECRET
from infra.catalog.loader import load_deployment
from infra.catalog.stack_files import plain_config, stack_file
from infra.core import sources
from infra.core.layout import DEFAULT_CATALOG
from infra.core.problems import ConfigError, Problem
from infra.core.redact import SERVICE_KEYS, stripe_prefix
from infra.core.snapshot import Snapshot

ENGINE_CONFIG = "PULUMI_CONFIG"
ENGINE_SECRET_KEYS = "PULUMI_CONFIG_SECRET_KEYS"  # noqa: S105 (a variable name)


@dataclass(frozen=True)
class EngineConfig:
    stack: str
    files: Snapshot
    """The command's snapshot of the project: `load` reads the files this config was read from."""
    values: dict[str, str]
    secret_keys: list[str]
    placeholders: list[str]
    """Secret keys given a placeholder because no real value was supplied."""
    origins: dict[str, str] = field(default_factory=dict)
    """Keys whose value did not come from the stack file, with where it came from instead."""

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def origin(self, key: str) -> str | None:
        return self.origins.get(key)

    def load(self, examples_refused: bool = True) -> Deployment:
        """The deployment this config describes, each problem placed where its value came from (the
        stack file's line, or PULUMI_CONFIG, --catalog...): how every command loads one."""
        return load_deployment(self.stack, self.files.root, self.get, self.origin, examples_refused,
                               files=self.files)


def placeholder(key: str, mode: str, kind: str | None = None) -> str:
    """A value of the right shape for `key` in `mode` (a `kind:` extra: that service's key shape),
    obviously not a real secret."""
    if kind in SERVICE_KEYS:
        return f"{SERVICE_KEYS[kind][mode][0]}offline_placeholder"
    shapes = {DEPLOYER_KEY: stripe_prefix("rk", mode) + "offline_deployer",
              APP_KEY: stripe_prefix("rk", mode) + "offline_app",
              PUBLISHABLE_KEY: stripe_prefix("pk", mode) + "offline_publishable",
              WEBHOOK_SECRET: "whsec_" + "offline_placeholder"}
    # Distinct per key: two secrets holding one value is itself refused (an extra equal to the token).
    return shapes.get(key, f"offline-placeholder-{key}")


def from_stack(
    project_dir: Path, stack: str, env: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None, overrides_from: str = "the command line",
    decrypted: Mapping[str, str] | None = None, files: Snapshot | None = None,
) -> EngineConfig:
    """The engine's config for `stack`; `overrides` (from `overrides_from`) win over everything.

    `decrypted`: the stack's sealed values as the pulumi CLI decrypts them (`validate --from-pulumi`).
    With them nothing gets a placeholder: a key that is still unset is reported as unset. `files`:
    the command's snapshot of the project, which the config keeps for `load` (a new one by default).
    """
    env = os.environ if env is None else env
    files = files or Snapshot(project_dir)
    config = plain_config(files.document(stack_file(project_dir, stack).name))
    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    sealed: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)  # sealed: needs the passphrase, which offline runs never have
            sealed.append(key)
        elif value is not None:  # `billing:domain:` with nothing after it is not set
            values[key] = _engine_value(value)
    origins: dict[str, str] = {}
    supplied = _env_json(env, ENGINE_CONFIG, dict, "an object of config keys and values")
    for key, value in supplied.items():
        shown = _engine_value(value)
        if values.get(key) != shown:
            origins[key] = ENGINE_CONFIG
        values[key] = shown
    secret_keys.update(_env_json(env, ENGINE_SECRET_KEYS, list, "a list of config key names"))
    for key, value in (decrypted or {}).items():
        if key in sealed:  # a problem with it is placed on its `secure:` line in the stack file
            values[key] = value
    for key, value in (overrides or {}).items():
        values[key] = value
        origins[key] = overrides_from
    mode = values.get("billing:mode", "test")
    mode = mode if mode in ("test", "live") else "test"
    entries = _extra(files, values)
    extra = _extra_keys(entries)
    # Placeholders only for the stack's own host's token.
    token = hosts.named(values.get(hosts.HOST_SETTING)).token
    wanted = dict.fromkeys((DEPLOYER_KEY, APP_KEY, token, PUBLISHABLE_KEY, *extra, *sealed))
    placeholders = [key for key in wanted if key not in values] if decrypted is None else []
    kinds = _extra_kinds(entries)
    for key in placeholders:
        values[key] = placeholder(key, mode, kinds.get(key))
    secret_keys.update((*SECRET_KEYS, *extra))
    return EngineConfig(stack, files, values, sorted(secret_keys), placeholders, origins)


def extra_config_keys(project_dir: Path, values: Mapping[str, str]) -> list[str]:
    """Config keys of the catalog's extra app variables; validation reports a broken catalog."""
    return _extra_keys(_extra(Snapshot(project_dir), values))


def _extra_keys(entries: list[Any]) -> list[str]:
    keys = [entry.get("key") if isinstance(entry, dict) else entry for entry in entries]
    return [key for key in keys if isinstance(key, str)]


def _extra_kinds(entries: list[Any]) -> dict[str, str]:
    """The `kind:` of each extra that declares one, by its config key."""
    return {str(entry.get("key")): str(entry.get("kind")) for entry in entries
            if isinstance(entry, dict) and entry.get("kind")}


def _extra(files: Snapshot, values: Mapping[str, str]) -> list[Any]:
    """The catalog's `hosting.extra` entries as written (the catalog as `billing:catalog` names it)."""
    doc = files.document(values.get("billing:catalog", DEFAULT_CATALOG))
    hosting = doc.data.get("hosting") if isinstance(doc.data, dict) else None
    extra = hosting.get("extra") if isinstance(hosting, dict) else None
    return list(extra.values()) if isinstance(extra, dict) else []


def _engine_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | float):
        return str(value)
    return json.dumps(value, default=str)


def _env_json(
    env: Mapping[str, str], name: str, shape: type[dict[str, Any]] | type[list[Any]], what: str,
) -> Any:
    """A JSON environment variable of the engine's shape; never echoed (it carries secrets)."""
    raw = env.get(name)
    if not raw:
        return shape()
    value, error = sources.parse_json(raw)
    if error is None and not isinstance(value, shape):
        error = f"is {_json_kind(value)}, not {what}"
    elif error is None and isinstance(value, list) and not all(isinstance(key, str) for key in value):
        error = f"holds something other than text in {what}"
    if error is not None:
        raise ConfigError([Problem(name, None, "(environment)", f"{error}; fix it or unset it")])
    return value


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")
