"""Runs hostile cases through `infra.cli.run`, each in a forked child under memory and time limits.

Started once per test session (`python -m tests.support.hostile_runner`, cases as JSON
on stdin) so the CLI is imported once; each case then costs a fork. A child
gets RLIMIT_AS (what is mapped after the import, plus MEMORY_BUDGET) and an
alarm; a case that needs more memory fails with MemoryError (an internal
error), one that needs more time dies of SIGALRM: either way the test fails.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
from typing import Any

from infra import cli

MEMORY_BUDGET = 512 << 20
SECONDS = 20


def _mapped() -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmSize:"))
    return int(line.split()[1]) * 1024


def _child(case: dict[str, Any], out: int, err: int) -> None:
    limit = _mapped() + MEMORY_BUDGET
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.alarm(SECONDS)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.chdir(case["cwd"])
    os.environ.clear()
    os.environ.update(case["env"])
    try:
        code = cli.run(case["argv"])
    except SystemExit as done:  # argparse's usage errors
        code = done.code if isinstance(done.code, int) else 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(case: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(case, out.fileno(), err.fileno())
        _, status = os.waitpid(pid, 0)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return {"status": os.waitstatus_to_exitcode(status), "seconds": seconds,
                "stdout": out.read().decode(errors="replace"), "stderr": err.read().decode(errors="replace")}


if __name__ == "__main__":
    json.dump([run(case) for case in json.load(sys.stdin)], sys.stdout)
