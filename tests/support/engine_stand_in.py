"""A stand-in `pulumi` for the engine's own commands (`stack init`, `preview`, `up`), recording
every argv, for tests/commands/test_go_live_engine.py.

`preview` and `up` do what the test scripts (`Behaviour`): write its events, one JSON object a
line, to the file `--event-log` names, as the CLI does (pkg/v3 v3.274.1 backend/display/display.go,
startEventLogger: a json.Encoder, one event per line), then print, sleep and exit. It records its
own pid and, when asked, starts a child in its process group that outlives it unless the group is
killed; on SIGINT (unless it ignores it) it records that, and exits 255 as the CLI's cancel does.
The real CLI behind the same commands is tests/engine/test_go_live.py's.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = r'''
import json, os, signal, subprocess, sys, time
folder = sys.argv.pop(1)
args = sys.argv[1:]
with open(os.path.join(folder, "argv.log"), "a") as log:
    log.write(json.dumps(args) + "\n")
words = [a for a in args if a != "--non-interactive"]
if words == ["version"]:
    print("v3.274.1")
    sys.exit(0)
if words[:2] == ["stack", "init"] or words[:2] == ["stack", "select"]:
    sys.exit(0)
if not words or words[0] not in ("preview", "up"):
    print(f"error: the stand-in does not answer {args}", file=sys.stderr)
    sys.exit(98)
with open(os.path.join(folder, "behaviour.json")) as f:
    behaviour = json.load(f)[words[0]]
with open(os.path.join(folder, "pid"), "w") as f:
    f.write(str(os.getpid()))

def interrupted(signum, frame):
    with open(os.path.join(folder, "interrupted"), "w") as f:
        f.write("SIGINT")
    sys.exit(255)

signal.signal(signal.SIGINT, signal.SIG_IGN if behaviour["ignore_int"] else interrupted)
if behaviour["child"]:
    # A group of its own, as Pulumi starts each plugin (cmdutil child_unix.go): the CLI's group
    # does not hold it, its session does.
    child = subprocess.Popen(["sleep", "300"], process_group=0)
    with open(os.path.join(folder, "child"), "w") as f:
        f.write(str(child.pid))
log_path = args[args.index("--event-log") + 1]
with open(log_path, "a") as log:
    for event in behaviour["events"]:
        log.write((event if isinstance(event, str) else json.dumps(event)) + "\n")
    log.write(behaviour["partial"])
sys.stdout.write(behaviour["stdout"])
sys.stderr.write(behaviour["stderr"])
sys.stdout.flush(); sys.stderr.flush()
end = time.monotonic() + behaviour["sleep"]
while time.monotonic() < end:
    time.sleep(0.05)
sys.exit(behaviour["status"])
'''

CANCEL: dict[str, Any] = {"sequence": 99, "timestamp": 0, "cancelEvent": {}}


@dataclass
class Behaviour:
    """What one `preview` or `up` does."""

    events: list[dict[str, Any] | str] = field(default_factory=lambda: [CANCEL])
    """Written in order, each a line (a str as it is: a line that is not JSON)."""
    status: int = 0
    stdout: str = ""
    stderr: str = ""
    sleep: float = 0.0
    ignore_int: bool = False
    child: bool = False
    partial: str = ""
    """Written last, without a newline: a line the CLI had not finished."""


class EnginePulumi:
    """The stand-in on PATH: set `preview`/`up`, then `save()`; `argv()` is what it was given."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.preview, self.up = Behaviour(), Behaviour()
        (folder / "pulumi.py").write_text(SCRIPT)
        script = folder / "pulumi"
        script.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S {folder / 'pulumi.py'} {folder} \"$@\"\n")
        script.chmod(0o755)
        self.save()

    def save(self) -> None:
        (self.folder / "behaviour.json").write_text(json.dumps({"preview": asdict(self.preview),
                                                                "up": asdict(self.up)}))

    def argv(self) -> list[list[str]]:
        log = self.folder / "argv.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def pids(self) -> list[int]:
        """The stand-in's pid and its child's, where it wrote them."""
        return [int((self.folder / name).read_text()) for name in ("pid", "child") if (self.folder / name).exists()]

    def interrupted(self) -> bool:
        return (self.folder / "interrupted").exists()


def alive(pid: int) -> bool:
    """The process runs (a zombie, ended but not yet reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def on_path(folder: Path) -> str:
    return f"{folder}{os.pathsep}/usr/bin{os.pathsep}/bin"
