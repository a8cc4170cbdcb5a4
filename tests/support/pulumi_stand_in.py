"""A stand-in `pulumi` on PATH that answers in the real CLI's formats and records every argv.

Formats, from pulumi/pulumi pkg/v3 v3.274.1 (cmd/pulumi):
- `version`: the version line (`v3.274.1`).
- `whoami --json`: whoami/whoami.go `whoAmIJSON` (`user`, `url`, ...).
- `stack ls --json`: stack/stack_list.go `stackSummaryJSON` list (`name`, `current`, `lastUpdate`
  in RFC 3339 with milliseconds, `resourceCount`; the file backend never sets `updateInProgress`,
  and its `stack init` already writes a checkpoint: `lastUpdate` set, `resourceCount` 0).
- `config --json --show-secrets`: config `configValueJSON` (`value`, `secret`).
- `stack output --json`: stack/stack_output.go `jsonStackOutputWriter.WriteMany`, one object of
  every output, each secret the text "[secret]" (backend/display/json.go, massagePropertyValue);
  `stack output NAME --show-secrets` prints the one value (`stringifyOutput`).
- `stack tag ls --json` / `stack tag set NAME VALUE`: stack/stack_tag.go, the tag map as one
  object; `set` replaces the stack's tags with the old ones plus this one and prints nothing.
- `stack history --json --page-size N`: stack/stack_history.go `updateInfoJSON` list, newest
  first (`kind`, `result`, `startTime`, `endTime`, ...); by default a stack with resources has
  one update that succeeded, ending at its `lastUpdate`.
Every JSON answer is indented by two spaces, as ui.FprintJSON writes it. A stack-scoped command
on a stack that does not exist fails as the CLI does (backenderr.StackNotFoundError, exit 6:
cmd/pulumi/cmd/exit_codes.go, ExitStackNotFound).
Nothing that would change a stack's resources is answered (`up`, `preview`, `destroy`: exit 99).
`answers` replaces what a command prints (a broken or hostile CLI), `failures` makes it fail with
an exit status and a stderr text; both are keyed by the command's leading words (`whoami`,
`stack ls`, `stack tag set`).

How it starts matters: ~330 starts a run. Each answer is written here, by the real `json`, into
a `marshal` file, so the stand-in reads it with what the interpreter has built in; importing
`json` (and `re` under it) was half of each start. Only `stack tag set` writes JSON itself.
"""

from __future__ import annotations

import ast
import json
import marshal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = r'''
import marshal, sys
state_path, log_path = sys.argv.pop(1), sys.argv.pop(1)
args = sys.argv[1:]
with open(log_path, "a") as log:
    log.write(ascii(args) + "\n")
with open(state_path, "rb") as f:
    state = marshal.load(f)

def flag(name):
    return args[args.index(name) + 1] if name in args else None

stack = flag("--stack")
words = " ".join(args[:next((i for i, a in enumerate(args) if a.startswith("-")), len(args))])
for said, (status, text) in state["failures"].items():
    if words.startswith(said):
        sys.stderr.write(text)
        sys.exit(status)
for said, text in state["answers"].items():
    if words.startswith(said):
        sys.stdout.write(text)
        sys.exit(0)
if stack is not None and stack not in state["stack_names"]:
    print(f"error: no stack named '{stack}' found", file=sys.stderr)
    sys.exit(6)
if args and args[0] in ("up", "preview", "destroy", "refresh", "import"):
    sys.exit(99)  # the commands under test only read, and write stack tags
if args == ["version"]:
    print(state["version"])
elif args[:2] == ["whoami", "--json"]:
    sys.stdout.write(state["whoami"])
elif args[:3] == ["stack", "ls", "--json"]:
    sys.stdout.write(state["stack ls"])
elif args[:2] == ["config", "--json"]:
    sys.stdout.write(state["config"])
elif args[:3] == ["stack", "output", "--json"]:
    sys.stdout.write(state["stack output"])
elif args[:2] == ["stack", "output"] and "--show-secrets" in args:
    value = state["outputs"].get(args[2])
    if value is None:
        print(f"error: current stack does not have output property '{args[2]}'", file=sys.stderr)
        sys.exit(255)
    print(value)
elif args[:3] == ["stack", "history", "--json"]:
    pages = state["history"].get(stack) or ["[]\n"]
    sys.stdout.write(pages[min(int(flag("--page-size") or 10), len(pages) - 1)])
elif args[:4] == ["stack", "tag", "ls", "--json"]:
    sys.stdout.write(state["tag ls"])
elif args[:3] == ["stack", "tag", "set"]:
    import json
    state["tags"][args[3]] = args[4]
    state["tag ls"] = json.dumps(state["tags"], indent=2, ensure_ascii=False) + "\n"
    with open(state_path, "wb") as f:
        marshal.dump(state, f)
else:
    print(f"error: the stand-in does not answer {args}", file=sys.stderr)
    sys.exit(98)
'''


def _json(value: Any) -> str:
    """As the stand-in's answers are printed: indented by two, one line break after (print())."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@dataclass
class Pulumi:
    """The stand-in's state (edit it, then `save()`), and what it was asked."""

    bin_dir: Path
    version: str = "v3.274.1"
    backend: str = "file:///home/me"
    stacks: dict[str, dict[str, Any]] | None = None
    """Name (as `stack ls` prints it) -> the rest of its summary."""
    config: dict[str, tuple[str, bool]] | None = None
    outputs: dict[str, Any] | None = None
    secret_outputs: tuple[str, ...] = ("hostingDigests", "webhookSigningSecret")
    tags: dict[str, str] | None = None
    history: dict[str, list[dict[str, Any]]] | None = None
    """Stack name -> its update history, newest first (default: one update that succeeded, for a
    stack with resources)."""
    answers: dict[str, str] | None = None
    """Command's leading words -> exactly what it prints instead of its answer."""
    failures: dict[str, tuple[int, str]] | None = None
    """Command's leading words -> (exit status, stderr) it fails with."""

    def __post_init__(self) -> None:
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        self.state_path = self.bin_dir / "state.marshal"
        self.log_path = self.bin_dir / "argv.log"
        self.log_path.write_text("")
        script = self.bin_dir / "pulumi"
        # -I -S: the stand-in needs only the standard library; the virtualenv's site (its .pth files,
        # the editable install's finder) was ~40% of each of the ~300 starts in a run.
        script.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S {self.bin_dir / 'pulumi.py'} "
                          f"{self.state_path} {self.log_path} \"$@\"\n")
        (self.bin_dir / "pulumi.py").write_text(SCRIPT)
        script.chmod(0o755)
        self.save()

    def save(self) -> None:
        stacks = self.stacks or {}
        history = self.history if self.history is not None else self._succeeded()
        outputs = self.outputs or {}
        tags = self.tags or {}
        self.state_path.write_bytes(marshal.dumps({
            "version": self.version, "stack_names": {name.rsplit("/", 1)[-1] for name in stacks},
            "whoami": _json({"user": "me", "url": self.backend}),
            "stack ls": _json([{"name": name, "current": False, **summary} for name, summary in stacks.items()]),
            "config": _json({k: {"value": v, "secret": s} for k, (v, s) in (self.config or {}).items()}),
            "stack output": _json({k: "[secret]" if k in self.secret_outputs else v for k, v in outputs.items()}),
            # `stack output NAME --show-secrets`: the text itself, or the value as JSON.
            # An output set to null is not there, as the CLI says (exit 255).
            "outputs": {k: v if isinstance(v, str) else json.dumps(v) for k, v in outputs.items() if v is not None},
            # --page-size N: the first N updates, for every N up to the whole list.
            "history": {name: [_json(updates[:n]) for n in range(len(updates) + 1)]
                        for name, updates in history.items()},
            "tags": dict(tags), "tag ls": _json(tags),
            "answers": self.answers or {}, "failures": {k: tuple(v) for k, v in (self.failures or {}).items()},
        }))

    def _succeeded(self) -> dict[str, list[dict[str, Any]]]:
        return {name.rsplit("/", 1)[-1]: [{"version": 1, "kind": "update", "result": "succeeded",
                                           "startTime": summary["lastUpdate"], "endTime": summary["lastUpdate"]}]
                for name, summary in (self.stacks or {}).items()
                if summary.get("resourceCount") and summary.get("lastUpdate")}

    def stored_tags(self) -> dict[str, str]:
        tags: dict[str, str] = marshal.loads(self.state_path.read_bytes())["tags"]  # noqa: S302 (our own file)
        return tags

    def argv(self) -> list[list[str]]:
        """Every command it was given, in order."""
        return [ast.literal_eval(line) for line in self.log_path.read_text().splitlines()]
