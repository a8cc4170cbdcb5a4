"""The Pulumi CLI run for one answer at a time: a total deadline, bounded output, nothing shown.

`pulumi config --json --show-secrets` prints every secret of a stack in the
clear, so its output is read into memory only: never printed, logged or
written, and never quoted in an error. The CLI's own error (a wrong
passphrase, no such stack) is shown as its first line, escaped for a terminal and
secret shapes masked.
Two writes, neither of them state: a stack tag (`set_stack_tag`), the backend's
metadata beside the stack's state, and `set_config`, a value stored in the stack's
config, given to the CLI on its stdin, never on its command line.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from infra.core import sources
from infra.core.escape import terminal
from infra.core.redact import mask

DEADLINE_SECONDS = 60.0
MAX_OUTPUT_BYTES = sources.MAX_BYTES
INSTALL = "https://www.pulumi.com/docs/install/"


class CliError(Exception):
    """Why the CLI gave no usable answer; the message is safe to print (its quote of the CLI's
    error is escaped for a terminal and masked)."""


@dataclass(frozen=True)
class DecryptedConfig:
    """A stack's config as the CLI decrypts it: engine-style values (objects as JSON text)."""

    values: dict[str, str]
    secret_keys: frozenset[str]


def run(args: list[str], project_dir: Path, deadline: float = DEADLINE_SECONDS,
        limit: int = MAX_OUTPUT_BYTES, stdin: str | None = None) -> str:
    """`pulumi ARGS` in `project_dir`: its stdout, or CliError. The whole run, its answer read to
    the end, has `deadline` seconds; more than `limit` bytes of output ends it. `stdin`, when
    given, is the CLI's whole input (a pipe, closed after it); it never appears in an error."""
    pulumi = shutil.which("pulumi")
    command = f"pulumi {' '.join(args)}"
    if pulumi is None:
        raise CliError(f"the pulumi CLI is not on PATH, and `{command}` needs it: install it ({INSTALL}), "
                       "or run where `pulumi version` works")
    started = time.monotonic()
    try:
        # Its own process group, so whatever it started (a plugin, a wrapper's child) ends with it.
        process = subprocess.Popen([pulumi, *args], cwd=project_dir,  # noqa: S603
                                   stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as error:
        raise CliError(f"`{command}` could not start ({type(error).__name__}); check the pulumi CLI on "
                       "PATH") from None
    out, err = _Reader(process.stdout, limit), _Reader(process.stderr, 64 * 1024, drain=True)
    if stdin is not None and process.stdin is not None:
        # At most MAX_VALUE_BYTES, well under a pipe's buffer: the write cannot block on a CLI that
        # has not started reading yet. A CLI that exited at once is reported by its status below.
        with contextlib.suppress(BrokenPipeError):
            process.stdin.write(stdin.encode())
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()

    def left() -> float:
        return max(0.0, deadline - (time.monotonic() - started))

    answered = False
    try:
        out.thread.join(left())
        if out.overflow:
            raise CliError(f"`{command}` printed more than {limit // 1024} KiB; nothing was read")
        err.thread.join(left())
        if out.thread.is_alive() or err.thread.is_alive():
            raise CliError(f"`{command}` gave no complete answer within {deadline:g}s; run it yourself "
                           "to see what it waits for (a passphrase prompt, a login)")
        status = process.wait(max(0.1, left()))
        answered = True
    except subprocess.TimeoutExpired:
        raise CliError(f"`{command}` did not exit within {deadline:g}s") from None
    finally:
        if not answered:
            # Stopped early: the CLI and anything of its group still holding the pipes.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if status != 0:
        said = next((line.strip() for line in err.text().splitlines() if line.strip()), "")
        if stdin:
            said = said.replace(stdin, "[the value]")
        # The CLI's words, or a wrapper's: escaped here, so every sink may print the message as it is.
        reason = f": {mask(terminal(said[:200]))}" if said else ""
        raise CliError(f"`{command}` failed (exit {status}){reason}")
    return out.text()


MAX_VALUE_BYTES = 8 * 1024
"""The longest config value `set_config` stores: keys and tokens are a few hundred bytes."""


def set_config(stack: str, key: str, value: str, project_dir: Path, secret: bool,
               deadline: float = DEADLINE_SECONDS) -> None:
    """Store `value` as `key` in the stack's config: `pulumi config set --secret KEY --stack S`
    (`--plaintext` for a public value), the value written to the CLI's stdin.

    Not the Automation API's `LocalWorkspace.set_config`: it passes the value as the last
    argument (`config set KEY --secret --stack S --non-interactive -- VALUE`, pulumi
    3.272.0 automation/_local_workspace.py:332-350), and a process's arguments are readable by
    every local user in /proc/<pid>/cmdline while it runs. Given no value and a stdin that is
    not a terminal, the CLI reads the value from stdin to its end and removes one trailing
    newline (pulumi/pkg/v3 v3.274.1 cmd/pulumi/config/config.go:874-881, `configSetCmd.Run`:
    `case !term.IsTerminal(int(stdin.Fd())): b, readerr := io.ReadAll(stdin)` then
    `cmdutil.RemoveTrailingNewline`). The CLI encrypts a secret before it writes the stack file;
    the passphrase reaches it through PULUMI_CONFIG_PASSPHRASE in its environment.
    """
    if len(value.encode()) > MAX_VALUE_BYTES or not value or "\0" in value:
        raise CliError(f"{key}: the value is empty, holds a NUL, or is longer than "
                       f"{MAX_VALUE_BYTES // 1024} KiB; nothing was stored")
    kind = "--secret" if secret else "--plaintext"
    run(["config", "set", kind, key, "--stack", stack, "--non-interactive"], project_dir, deadline,
        stdin=value)


def decrypted_config(stack: str, project_dir: Path, deadline: float = DEADLINE_SECONDS) -> DecryptedConfig:
    """The stack's config, secrets decrypted, from `pulumi config --json --show-secrets`.

    Its shape (pkg/cmd/pulumi/config, `configValueJSON`): one object per full key, `value` the
    text (an object's JSON text, with `objectValue` beside it) and `secret` whether it is sealed.
    """
    text = run(["config", "--json", "--show-secrets", "--stack", stack], project_dir, deadline)
    data, error = sources.parse_json(text)
    where = f"`pulumi config --json --show-secrets --stack {stack}`"
    if error is not None or not isinstance(data, dict):
        raise CliError(f"{where} did not answer a JSON object ({error or 'another JSON value'}); "
                       "check the pulumi CLI's version (README step 5)")
    values, secret = {}, set()
    for key, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("secret", False), bool):
            raise CliError(f"{where}: the entry for {key!r} is not a config value's shape")
        value = entry.get("value")
        if value is None:
            continue  # shown without --show-secrets, or unset: nothing to check
        if not isinstance(value, str):
            raise CliError(f"{where}: the value of {key!r} is not text")
        values[str(key)] = value
        if entry.get("secret"):
            secret.add(str(key))
    return DecryptedConfig(values, frozenset(secret))


def stack_outputs(stack: str, project_dir: Path, deadline: float = DEADLINE_SECONDS) -> dict[str, Any]:
    """The stack's outputs from `pulumi stack output --json`, never `--show-secrets`.

    Its shape (pkg/cmd/pulumi/stack/stack_output.go, jsonStackOutputWriter.WriteMany): one JSON
    object of every output by name, `{}` before the first update; each secret is the text
    "[secret]" (backend/display/json.go, massagePropertyValue), so nothing secret is read.
    """
    text = run(["stack", "output", "--json", "--stack", stack], project_dir, deadline)
    return _json_object(text, f"`pulumi stack output --json --stack {stack}`")


def stack_tags(stack: str, project_dir: Path, deadline: float = DEADLINE_SECONDS) -> dict[str, str]:
    """The stack's tags from `pulumi stack tag ls --json`: one JSON object of name -> text
    (pkg/cmd/pulumi/stack/stack_tag.go, newStackTagListCmd's RenderJSON of the tag map)."""
    where = f"`pulumi stack tag ls --json --stack {stack}`"
    tags = _json_object(run(["stack", "tag", "ls", "--json", "--stack", stack], project_dir, deadline), where)
    if not all(isinstance(value, str) for value in tags.values()):
        raise CliError(f"{where}: a tag's value is not text; check the pulumi CLI's version (README step 5)")
    return {str(name): str(value) for name, value in tags.items()}


# The rules the CLI applies to a stack tag before Pulumi Cloud stores it (pkg/v3
# util/validation/stack.go, ValidateStackTags): a name of 1 to 40 of [A-Za-z0-9-_.:], a value
# of at most 256 characters. The file backend checks neither; they are kept here for both, so
# a tag that one backend takes never fails on the other.
TAG_NAME = re.compile(r"[A-Za-z0-9\-_.:]{1,40}")
MAX_TAG_VALUE = 256


def set_stack_tag(stack: str, project_dir: Path, name: str, value: str,
                  deadline: float = DEADLINE_SECONDS) -> None:
    """`pulumi stack tag set NAME VALUE --stack S`: the value is in argv, so never a secret."""
    if not TAG_NAME.fullmatch(name) or len(value) > MAX_TAG_VALUE or sources.unfit_text(value):
        raise ValueError(f"not a stack tag the CLI accepts: {name!r}")
    run(["stack", "tag", "set", name, value, "--stack", stack], project_dir, deadline)


def _json_object(text: str, where: str) -> dict[str, Any]:
    data, error = sources.parse_json(text)
    if error is not None or not isinstance(data, dict):
        raise CliError(f"{where} did not answer a JSON object ({error or 'another JSON value'}); "
                       "check the pulumi CLI's version (README step 5)")
    return data


class _Reader:
    """Reads a pipe to its end in a thread, keeping at most `limit` bytes; past them it stops
    reading (`overflow`), or with `drain` reads on and drops the rest, so the writer never blocks."""

    def __init__(self, pipe: IO[bytes] | None, limit: int, drain: bool = False) -> None:
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = limit
        self.drain = drain
        self.overflow = False
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        while pipe is not None:
            chunk = pipe.read(65536)
            if not chunk:
                return
            if self.overflow or self.size + len(chunk) > self.limit:
                self.overflow = True
                if self.drain:
                    continue
                return
            self.chunks.append(chunk)
            self.size += len(chunk)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")
