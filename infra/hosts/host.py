"""What every host does for a stack; the program, `diff`, `verify` and the policy pack ask only this.

A host is where the app reads its values: Vercel project environment
variables, or a Cloudflare Worker script's secrets. Which values there are
(names and sources) is host-independent and lives in `infra.catalog.hosting`; a host
decides where they go for a stack, how they are written, checked and policed.

This module and the host descriptions import only the standard library and
`infra.core`: the policy pack runs in its own virtualenv (pulumi-policy and
PyYAML) and asks the hosts for their rules. What a host does with Pulumi or
over HTTP lives above the catalog: its component in `infra.components` and
its probes in `infra.probes`, each found by the host's key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from infra.core.problems import Problem
from infra.core.redact import mode_prefixes
from infra.core.snapshot import Snapshot
from infra.core.sources import Document

HOST_SETTING = "billing:host"
LIVE_PREFIXES = mode_prefixes("live")
TEST_PREFIXES = mode_prefixes("test")


class StackSettings(Protocol):
    """What a host reads of a stack's settings (`infra.catalog.models.StackSettings` has it all)."""

    @property
    def mode(self) -> Literal["test", "live"]: ...
    @property
    def host(self) -> str: ...
    @property
    def vercel_project(self) -> str | None: ...
    @property
    def cloudflare_account_id(self) -> str | None: ...
    @property
    def worker_script(self) -> str | None: ...
    def model_dump(self, *, by_alias: bool) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Target:
    """One place a value is written: a Vercel environment, or a Worker script."""

    name: str
    sensitive: bool
    """Sensitive values can never be read back from the host."""


def value_name(target: Target, name: str) -> str:
    """The Pulumi resource name of the value `name` written to `target`, on every host."""
    return f"{target.name}-{name}"


class Host(ABC):
    key: str
    """The `billing:host` value."""
    title: str
    token: str
    """Config key of the host's API token (a secret)."""
    token_env: str
    """Environment variable `verify` reads the token from first."""
    provider_token_env: str | None = None
    """Environment variable the host's Pulumi provider reads its token from when the stack's config
    has none; None when the provider reads the config only. go-live offers either variable's token
    to a person who has one exported, instead of sending them to the token form."""
    token_help: str
    api_base_env: str
    """Environment variable that points the host's API client elsewhere (tests, gateways)."""
    api_default: str
    """The host's API root when `api_base_env` is not set."""
    settings: ClassVar[Mapping[str, str]]
    """The stack settings only this host reads, each with an example value."""
    applies_at_once: bool
    """A write reaches the running app at once (no redeploy needed)."""
    value_type: str
    """Type token of the resource that holds the app's values on this host."""
    table_inputs: ClassVar[frozenset[str]]
    """The inputs of a `value_type` registration that a plan's table of values shows (`slots`
    and what every row shares); a registration with any other input is listed whole."""
    existing_values: str
    """What the first `up` does with a value already on the host under a name it writes."""
    component_type: str
    """Type token of the component that holds this host's value resources."""

    @abstractmethod
    def targets(self, settings: StackSettings) -> tuple[Target, ...]:
        """Where this stack writes every value."""

    @abstractmethod
    def location(self, settings: StackSettings) -> str:
        """The project or script, as a person names it: `Vercel project prj_...`."""

    @abstractmethod
    def after_write(self, settings: StackSettings) -> str:
        """What makes a changed value reach the running app."""

    @abstractmethod
    def violations(self, resource_type: str, props: Mapping[str, Any], live: bool) -> list[str]:
        """Policy: what is wrong with a registration of this host's resources (others: nothing)."""

    @abstractmethod
    def slots(self, props: Mapping[str, Any]) -> list[tuple[str, Target]]:
        """The (name, target) pairs one `value_type` registration writes, as a plan shows them."""

    def import_prefix(self, settings: StackSettings) -> str | None:
        """How every import ID of this host's values starts, or None when values are never imported
        (the host overwrites an existing one)."""
        return None

    def where(self, settings: StackSettings) -> str:
        return " and ".join(target.name for target in self.targets(settings))

    def check(self, stack: str, settings: StackSettings, doc: Document, files: Snapshot) -> list[Problem]:
        """This host's own settings are set (`infra.hosts.check` also refuses other hosts' settings)."""
        given = settings.model_dump(by_alias=True)
        return [doc.problem(("config", key), "required field is missing (the stack's host "
                            f"is {self.key}); add `{key}: {example}`", key)
                for key, example in self.settings.items() if given.get(key) is None]


def mixed_mode_value(value: Any, live: bool) -> str | None:
    """The prefix of a Stripe key of the other mode in `value`, if it holds one."""
    if not isinstance(value, str):
        return None
    for prefix in TEST_PREFIXES if live else LIVE_PREFIXES:
        if value.startswith(prefix):
            return prefix
    return None
