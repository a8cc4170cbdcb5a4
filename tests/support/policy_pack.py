"""The policy pack (policies/billing_policies.py) fed a registration as the engine hands it one."""

from __future__ import annotations

import copy
import sys
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
)

from infra.commands.plan import offline
from tests.support.repository import REPO

sys.path.insert(0, str(REPO / "policies"))
import billing_policies


def engine_args(stack: str, reg: offline.Registration, **changes: Any) -> ResourceValidationArgs:
    props = copy.deepcopy(unwrap(reg.inputs))
    props.update(changes.pop("props", {}))
    config = changes.pop("config", {})
    provider_name = f"{reg.type.split(':')[0]}-{'live' if stack == 'live' else 'test'}"
    opts = PolicyResourceOptions(protect=changes.pop("protect", reg.protect), ignore_changes=[],
                                 delete_before_replace=reg.delete_before_replace, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
                                 parent=reg.parent)
    urn = f"urn:pulumi:{stack}::billing::{reg.type}::{reg.name}"
    provider = PolicyProviderResource(f"pulumi:providers:{provider_name.split('-', maxsplit=1)[0]}", {},
                                      f"urn:pulumi:{stack}::billing::pulumi:providers::{provider_name}",
                                      provider_name)
    return ResourceValidationArgs(reg.type, props, urn, reg.name, opts, provider, config=config)


def unwrap(value: Any) -> Any:
    """Secrets reach a policy pack as their plain values."""
    if isinstance(value, dict):
        if value.get(offline._SIG_KEY) == offline._SECRET_SIG:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def violations(stack: str, reg: offline.Registration, **changes: Any) -> list[str]:
    found: list[str] = []
    args = engine_args(stack, reg, **changes)
    for policy in billing_policies.POLICIES:
        policy.validate(args, lambda message, urn=None, name=policy.name: found.append(f"{name}: {message}"))
    return found
