"""The commands `billing` runs: one module each, imported only when its command runs.

`COMMANDS` is the one list of them, in the order `billing --help` shows them.
Each command's options are `add_parser(subparsers, project_dir)` in
`infra/commands/options/<command>.py`, light; what it runs is `main(args, out)
-> exit status` in its module. `infra.cli` imports the options of the command
the user named, and its module only once the arguments are parsed (pip's
`commands/__init__` and `cmdoptions` do the same), so `billing --help` loads
no command and `billing COMMAND --help` none of what the command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

StackUse = Literal["required", "optional", "none"]


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    summary: str
    stack: StackUse = "required"
    """required: --stack defaults to $BILLING_STACK or Pulumi's selected stack, else it is an error;
    optional: the same default, and the command says itself what it needs without one;
    none: no default (`diff` compares every stack, `reprice` edits the shared catalog)."""

    @property
    def options(self) -> str:
        """The module that defines this command's options (`add_parser`): options/<name>.py."""
        return f"infra.commands.options.{self.name.replace('-', '_')}"


COMMANDS: dict[str, Command] = {command.name: command for command in (
    Command("validate", "infra.commands.validate", "check the catalog, the stack's config and the guards"),
    Command("plan", "infra.commands.plan.command",
            "run the program offline and list every resource it registers"),
    Command("keys", "infra.commands.keys",
            "print a prefilled Dashboard link and checklist for each restricted key"),
    Command("verify", "infra.commands.verify.command",
            "probe a deployment from outside (webhook, stripe, hosting read only; payment writes); "
            "each outcome is recorded on the stack",
            stack="optional"),
    Command("pull", "infra.commands.pull.command",
            "read an existing Stripe account; write a catalog and an import file for it"),
    Command("diff", "infra.commands.diff.command",
            "what a change to the catalog or a stack does to money, against a git revision", stack="none"),
    Command("reprice", "infra.commands.reprice",
            "raise or lower a price the safe way: archive it and add a new price that takes its lookup key",
            stack="none"),
    Command("export", "infra.commands.export",
            "print the app's tier contract (plans, limits, entitlements, prices) as JSON or TypeScript"),
    Command("status", "infra.commands.status",
            "where a stack is in going live: what is set, what is missing, and the command that fixes each"),
    Command("go-live", "infra.commands.golive.command",
            "take a stack from nothing to verified: the go-live runbook as one guided command that resumes"),
)}
