"""The Pulumi engine as go-live drives it: the CLI on PATH, one process group per command.

`pulumi stack init`, `pulumi preview --policy-pack policies` and `pulumi up
--policy-pack policies` run as the CLI on PATH, each in a process group of its
own, its stdin closed (`--non-interactive`). Every command names its stack
(`--stack S`) and `stack init` gets `--no-select`: go-live never changes which
stack `pulumi stack select` chose, which `billing` reads as the default `--stack`
(infra/commands/stack_default.py). How the last update ended is readiness's to
say (what `billing status` prints), not the engine's.

Not Pulumi's Automation API (pulumi 3.272.0 `pulumi.automation`), whose `Stack`
runs `pulumi stack select --stack S` (changing that choice) before each command,
waits on the CLI with no deadline and keeps all it prints, and after `up` reads
every output with `pulumi stack output --json --show-secrets`.

Preview and up are counted from the engine's events, which the CLI writes as JSON
lines to `--event-log FILE` (a file in a private temporary folder, removed after;
the flag exists when PULUMI_DEBUG_COMMANDS is set, pkg/v3 v3.274.1
cmd/pulumi/operations/up.go:1023), read as they are written. Each has a total
deadline (PREVIEW_SECONDS, UP_SECONDS): then the CLI's group gets SIGINT, Pulumi's
own cancel (operations in flight finish, the state is written), and SIGKILL after
STOP_GRACE seconds; then, on Linux, every process left in the CLI's session (its
plugins, each in a group of its own). A Ctrl-C reaches go-live only (the CLI is in
its own group): the CLI is stopped the same way and KeyboardInterrupt goes on.

Secrets: storing one is `infra.clients.pulumi_cli.set_config` (the value on the
CLI's stdin); the passphrase reaches every CLI process through its environment
(PULUMI_CONFIG_PASSPHRASE in this process's environment), never its arguments. No
command here runs with `--show-secrets` and none reads the stack's outputs; what
the engine says is masked and escaped before it is printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.clients import pulumi_cli
from infra.core.escape import terminal
from infra.core.layout import STACK_TYPE
from infra.core.redact import mask

POLICY_PACKS = ["policies"]
PREVIEW_SECONDS = 15 * 60.0
"""The most a preview of the whole catalog may take (its providers read every resource)."""
UP_SECONDS = 60 * 60.0
"""The most an update may take before go-live stops it."""
STOP_GRACE = 30.0
"""Seconds the CLI has after SIGINT (its own cancel) before its group is killed."""
_POLL = 0.1
# What the engine registers for itself, not the program's resources.
_ENGINE_OWN = (STACK_TYPE,)
# A step as `pulumi preview` counts it; the others (same, read, refresh...) change nothing. Only a
# logical step counts, as the engine's own summary counts (pkg/v3 engine/update.go): a replacement
# logs create-replacement, replace and delete-replaced, and only `replace` is logical
# (resource/deploy/step.go, CreateStep/DeleteStep.Logical() is !replacing).
COUNTED = frozenset({"create", "update", "replace", "delete", "import"})
_MAX_SHOWN = 40  # lines of an engine error shown; the rest is in `pulumi stack history`
_MAX_KEPT = 200  # errors and violations kept from the events, and lines kept of what the CLI printed
_MAX_LINE = 4000  # characters kept of one line the CLI printed
_MAX_EVENT = 8 * 1024 * 1024  # characters of one event line; a longer one is skipped, counted as unread
# The engine's errors, and what the program wrote to stderr (a Python traceback: why the program
# exited), which the engine passes on as `info#err` diagnostics.
_FAILURE_SAID = ("error", "info#err")


class EngineFailed(Exception):
    """A preview or update the engine refused or that failed; str() is masked and safe to print.
    `refused`: the policy pack reported a mandatory violation."""

    def __init__(self, said: str, refused: bool = False) -> None:
        super().__init__(said)
        self.refused = refused


class EngineStopped(Exception):
    """go-live stopped the CLI at its deadline; str() says which command and after how long."""


@dataclass
class Run:
    """What one preview or update did, counted from the engine's own events."""

    steps: list[tuple[str, str, str]] = field(default_factory=list)
    """(op, type, name) of every resource step that changes something, in the engine's order, as the
    engine wrote them (escape before printing)."""
    errors: list[str] = field(default_factory=list)
    """The engine's error diagnostics, masked and escaped."""
    violations: list[str] = field(default_factory=list)
    """The policy pack's mandatory violations, masked and escaped."""
    unread: int = 0
    """Lines of the event log that were not an event go-live could read."""
    ended: bool = True
    """False while the event log lacks the engine's last event: the cancel event that ends every
    preview and update (pkg/v3 v3.274.1 engine/update.go:597, `defer ... NewCancelEvent()`)."""

    def totals(self) -> Counter[str]:
        return Counter(op for op, _, _ in self.steps)

    def total_line(self) -> str:
        """`3 to create, 0 to update, 0 to replace, 0 to delete` (what `billing diff` prints)."""
        counts = self.totals()
        words = ["create", "update", "replace", "delete"] + (["import"] if counts["import"] else [])
        return ", ".join(f"{counts[word]} to {word}" for word in words)


def _shown(text: str) -> str:
    """The engine's words, masked, each of its lines escaped (a CR or line separator inside one
    cannot start another)."""
    return "\n".join(terminal(mask(line)) for line in text.strip().split("\n"))


class Engine:
    """One stack of the project in `project`, through the CLI on PATH."""

    def __init__(self, project: Path, stack: str) -> None:
        self.project = project
        self.stack_name = stack

    def create(self) -> None:
        """`pulumi stack init STACK --secrets-provider passphrase --no-select`: the stack's own
        passphrase, and the selected stack left as it was."""
        try:
            pulumi_cli.run(["stack", "init", self.stack_name, "--secrets-provider", "passphrase",
                            "--no-select", "--non-interactive"], self.project)
        except pulumi_cli.CliError as error:
            raise EngineFailed(str(error)) from None

    def preview(self) -> Run:
        """`pulumi preview --policy-pack policies`, its steps counted from the engine's events."""
        run = Run()
        self._run(["preview", *_packs(), "--color", "never", "--suppress-progress"], PREVIEW_SECONDS, run,
                  None)
        return run

    def up(self, progress: Callable[[str], None]) -> Run:
        """`pulumi up --policy-pack policies`, each finished step said as it finishes."""
        run = Run()
        self._run(["up", "--yes", "--skip-preview", *_packs(), "--color", "never", "--suppress-outputs",
                   "--suppress-progress"], UP_SECONDS, run, progress)
        return run

    def _run(self, command: list[str], seconds: float, run: Run,
             progress: Callable[[str], None] | None) -> None:
        """The CLI with `command`, its events recorded into `run`: EngineFailed when it fails,
        EngineStopped at its deadline, KeyboardInterrupt (after stopping it) on Ctrl-C."""
        pulumi = shutil.which("pulumi")
        said = f"`pulumi {command[0]} --stack {self.stack_name}`"
        if pulumi is None:
            raise EngineFailed(f"the pulumi CLI is not on PATH, and {said} needs it ({pulumi_cli.INSTALL})")
        # The variables the Automation API sets too: the event log flag, and no update check.
        env = {**os.environ, "PULUMI_DEBUG_COMMANDS": "true", "PULUMI_SKIP_UPDATE_CHECK": "true"}
        with tempfile.TemporaryDirectory(prefix="billing-engine-") as folder:  # mode 0700
            log = Path(folder) / "events.jsonl"
            log.touch()
            argv = [pulumi, "--non-interactive", *command, "--event-log", str(log),
                    "--stack", self.stack_name]
            try:
                process = subprocess.Popen(argv, cwd=self.project, env=env,  # noqa: S603
                                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, start_new_session=True)
            except OSError as error:
                raise EngineFailed(f"{said} could not start ({type(error).__name__}); check the pulumi CLI "
                                   "on PATH") from None
            out, err = _Tail(process.stdout), _Tail(process.stderr)
            run.ended = False
            with log.open(encoding="utf-8", errors="replace") as events:
                status = _follow(process, seconds, lambda: _read_events(events, run, progress))
                _read_events(events, run, progress, final=True)  # what it wrote last
            out.thread.join(1.0)
            err.thread.join(1.0)
        if status is None:
            raise EngineStopped(f"{said} did not end within {_duration(seconds)}: go-live stopped it "
                                "(SIGINT, as Ctrl-C does, then SIGKILL)")
        if status != 0:
            raise EngineFailed(_why(run, err.lines or out.lines), refused=bool(run.violations))


def _packs() -> list[str]:
    return [arg for pack in POLICY_PACKS for arg in ("--policy-pack", pack)]


def _follow(process: subprocess.Popen[bytes], seconds: float, read: Callable[[], None]) -> int | None:
    """The CLI's exit status, reading its events while it runs; None when it was stopped at the
    deadline. A Ctrl-C (KeyboardInterrupt) stops it the same way, then goes on."""
    ends = time.monotonic() + seconds
    try:
        while True:
            read()
            with contextlib.suppress(subprocess.TimeoutExpired):
                return process.wait(_POLL)
            if time.monotonic() >= ends:
                _stop(process)
                return None
    except BaseException:
        _stop(process)
        raise
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its group is still there
        process.wait()
        _kill_session(process.pid)


def _kill_session(session: int) -> None:
    """Every process still in the CLI's session. Pulumi starts each plugin (the language host, the
    providers, the policy analyzer) in a process group of its own (sdk/v3 go/common/util/cmdutil
    child_unix.go), so killing the CLI's group misses them; they keep its session, which
    start_new_session made the CLI's pid. Read from /proc where there is one (Linux); elsewhere
    the CLI's group is all that is ended."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile, or not ours to read
        if len(fields) > 3 and fields[3] == str(session):  # state ppid pgrp session ...
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the CLI's group (Pulumi's cancel), SIGKILL after STOP_GRACE seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


class _Tail:
    """Reads a pipe to its end in a thread (the CLI never blocks on it), keeping its last lines."""

    def __init__(self, pipe: IO[bytes] | None) -> None:
        self.lines: deque[str] = deque(maxlen=_MAX_KEPT)
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe: IO[bytes] | None) -> None:
        while pipe is not None:
            line = pipe.readline(64 * 1024)
            if not line:
                return
            self.lines.append(line.decode("utf-8", errors="replace")[:_MAX_LINE])


def _read_events(events: IO[str], run: Run, progress: Callable[[str], None] | None,
                 final: bool = False) -> None:
    """Every complete line the CLI has added to the event log since the last read; once it has
    exited (`final`), a line it left unfinished is counted as unread."""
    while True:
        start = events.tell()
        line = events.readline(_MAX_EVENT)
        if not line:
            return
        if not line.endswith("\n"):
            if len(line) < _MAX_EVENT and not final:
                events.seek(start)  # a line still being written: read it whole next time
                return
            if len(line) < _MAX_EVENT:
                run.unread += 1
                return
            run.unread += 1  # too long to be an event go-live counts: skipped to its end
            while (rest := events.readline(_MAX_EVENT)) and not rest.endswith("\n"):
                pass
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            run.unread += 1
            continue
        _record(event, run, progress)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _step(event: dict[str, Any], kind: str) -> tuple[str, str, str] | None:
    """(op, type, name) of a resource event that changes something, else None (apitype
    StepEventMetadata: `op`, `urn`, `type`)."""
    body = event.get(kind)
    meta = body.get("metadata") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return None
    op, kind_, urn = _text(meta.get("op")), _text(meta.get("type"))[:300], _text(meta.get("urn"))
    if op not in COUNTED or kind_ in _ENGINE_OWN or meta.get("logical") is not True:
        return None
    return op, kind_, urn.rsplit("::", 1)[-1][:300]


def _record(event: dict[str, Any], run: Run, progress: Callable[[str], None] | None) -> None:
    """One event of the log (pkg/v3 apitype/events.go EngineEvent: one of `resourcePreEvent`,
    `resOutputsEvent`, `diagnosticEvent`, `policyEvent`, `cancelEvent`, ...)."""
    if "resourcePreEvent" in event:
        step = _step(event, "resourcePreEvent")
        if step is not None:
            run.steps.append(step)
    elif "resOutputsEvent" in event:
        step = _step(event, "resOutputsEvent")
        if step is not None and progress is not None:
            op, kind, name = step
            progress(f"  {op:<8} {terminal(kind)}  {terminal(name)}")
    elif isinstance(diagnostic := event.get("diagnosticEvent"), dict):
        if diagnostic.get("severity") in _FAILURE_SAID and len(run.errors) < _MAX_KEPT:
            run.errors.append(_shown(_text(diagnostic.get("message"))[:_MAX_LINE * 4]))
    elif isinstance(policy := event.get("policyEvent"), dict):
        if policy.get("enforcementLevel") == "mandatory" and len(run.violations) < _MAX_KEPT:
            run.violations.append(_shown(f"policy {_text(policy.get('policyName'))[:100]}: "
                                         f"{_text(policy.get('message'))[:_MAX_LINE]}"))
    elif "cancelEvent" in event:
        run.ended = True


def _why(run: Run, printed: deque[str] | list[str]) -> str:
    """The engine's own error diagnostics and policy violations, else the end of what the CLI
    printed; masked and escaped."""
    said = run.violations + run.errors
    if said:
        lines = [line for text in said for line in text.splitlines() if line.strip()]
        return "\n".join(lines[:_MAX_SHOWN])
    lines = [_shown(line) for line in printed if line.strip()]
    return "\n".join(lines[-_MAX_SHOWN:]) or "the CLI exited with an error and said nothing"
