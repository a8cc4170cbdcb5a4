"""A person at a terminal running `billing go-live`, for tests/engine/test_go_live.py and
benchmarks/go_live_acts.py: a pseudo-terminal (the standard `pty` module) that is go-live's
controlling terminal, a script that types when a prompt shows, a watch on every process's
command line, and a search of the files a run could have written.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import stripe

from tests.engine.harness import DOMAINS, PROJECT_ID, VERCEL_TOKEN, Project, key

PROMPT_SECONDS = 120  # one step of go-live on 2 busy cores, a preview or an up excepted
ENGINE_SECONDS = 900  # a preview or an up of the whole catalog


class Session:
    """`billing go-live ARGS` on a pseudo-terminal that is its controlling terminal."""

    def __init__(self, project: Project, *args: str, home: Path, exported: dict[str, str] | None = None) -> None:
        """`exported`: what the person's shell exports besides the project's environment."""
        env = {k: v for k, v in project.env(None).items() if k != "PULUMI_CONFIG_PASSPHRASE"}
        env.update(exported or {})
        home.mkdir(parents=True, exist_ok=True)
        (home / "tmp").mkdir(exist_ok=True)
        env.update({"PYTHONPATH": str(project.root), "HOME": str(home), "TMPDIR": str(home / "tmp"),
                    "TERM": "dumb", "COLUMNS": "200"})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: go-live, as a person would start it
            try:
                os.chdir(project.root)
                # A person's shell starts a command with Ctrl-C's default; a test run started in the
                # background (`make engine-test &`) ignores SIGINT, and go-live would inherit that.
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(sys.executable, [sys.executable, "-m", "infra", "go-live", *args], env)  # noqa: S606
            finally:
                os._exit(127)
        self.transcript = ""
        self._read_to = 0
        self.status: int | None = None

    def _pump(self, seconds: float) -> bool:
        """Read what is there within `seconds`; False at the end of the output."""
        ready, _, _ = select.select([self.fd], [], [], seconds)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.transcript += chunk.decode("utf-8", errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, pattern: str, seconds: float = PROMPT_SECONDS) -> re.Match[str]:
        """Wait for `pattern` in what was printed since the last match."""
        deadline = time.monotonic() + seconds
        while True:
            found = re.compile(pattern).search(self.transcript, self._read_to)
            if found:
                self._read_to = found.end()
                return found
            if time.monotonic() > deadline or not self._pump(min(0.2, max(0.0, deadline - time.monotonic()))):
                if not (found := re.compile(pattern).search(self.transcript, self._read_to)):
                    raise AssertionError(f"go-live never printed {pattern!r}; it printed:\n{self.transcript[-6000:]}")
                self._read_to = found.end()
                return found

    def answer(self, pattern: str, text: str, seconds: float = PROMPT_SECONDS) -> None:
        """When `pattern` shows, type `text` and Enter (a hidden prompt turns echo off first)."""
        self.expect(pattern, seconds)
        time.sleep(0.2)  # the prompt is printed before getpass turns echo off: type after that
        os.write(self.fd, text.encode() + b"\n")

    def interrupt(self) -> None:
        """Ctrl-C at the terminal: SIGINT to go-live and to the CLI it runs, as a person's would."""
        os.write(self.fd, b"\x03")

    def finish(self, seconds: float = PROMPT_SECONDS) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._pump(0.2):
            pass
        if time.monotonic() >= deadline:
            os.kill(self.pid, signal.SIGKILL)
            raise AssertionError(f"go-live did not end within {seconds}s; it printed:\n{self.transcript[-6000:]}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status


class ArgvWatch:
    """Samples the command line of every process go-live starts while it runs: a secret there is
    readable by any local user. Only go-live's own processes are judged, since others on the
    machine run their own tests: go-live itself (each Session's pid) and every process descended
    from it, found through each process's parent (the CLI runs in a session of its own, so the
    terminal's session alone would miss it). Records the pulumi commands it saw, so a run that saw
    none proves nothing."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s.encode() for s in secrets]
        self.sessions: set[int] = set()
        """The go-live runs watched (each Session's pid)."""
        self.leaks: list[str] = []
        self.pulumi: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def watch(self, session: Session) -> Session:
        self.sessions.add(session.pid)
        return session

    def _ours(self, pid: int, parents: dict[int, int]) -> bool:
        for _ in range(64):  # a process's ancestry, up to go-live (or init)
            if pid in self.sessions:
                return True
            pid = parents.get(pid, 0)
            if pid <= 1:
                return False
        return False

    def _sample(self) -> None:
        while not self._stop.is_set():
            parents: dict[int, int] = {}
            argvs: dict[int, bytes] = {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_bytes()
                    argv = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                # stat: pid (comm) state ppid ...; comm may hold spaces and parentheses.
                fields = stat[stat.rfind(b")") + 2:].split()
                if len(fields) >= 2:
                    parents[int(entry.name)], argvs[int(entry.name)] = int(fields[1]), argv
            for pid, argv in argvs.items():
                if not self._ours(pid, parents):
                    continue
                words = argv.split(b"\0")
                if words and words[0].endswith(b"pulumi"):
                    self.pulumi.add(b" ".join(words[1:4]).decode(errors="replace"))
                if any(secret in argv for secret in self.secrets):
                    self.leaks.append(argv.replace(b"\0", b" ").decode(errors="replace")[:80] + "...")
            time.sleep(0.003)

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def files_holding(roots: list[Path], secrets: list[str]) -> list[str]:
    """Every file under `roots` (symlinks not followed) whose bytes hold one of `secrets`."""
    found = []
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                found += [f"{path}: {secret[:8]}..." for secret in secrets if secret.encode() in data]
    return found


def stack_file(project: Project, stack: str, coupons: str = "") -> None:
    """README step 4: the stack's own settings, written by the person before go-live."""
    mode = "live" if stack == "live" else "test"
    (project.root / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  billing:mode: {mode}\n  billing:domain: {DOMAINS[stack]}\n"
        f"  billing:vercelProject: {PROJECT_ID}\n{coupons}", encoding="utf-8")


def keys_for(mode: str) -> dict[str, str]:
    return {"billing:appStripeKey": key("rk", mode, "GoApp1"), "stripe:apiKey": key("rk", mode, "GoDep1"),
            "billing:publishableKey": key("pk", mode, "GoPub1"), "vercel:apiToken": VERCEL_TOKEN}


def type_the_keys(term: Session, keys: dict[str, str], token_from: str | None = None) -> None:
    """The keys in the order go-live asks for them: the app key's form, the publishable key on the
    page that form is opened from, the deployer key's form, then the host token: typed at its
    prompt, or, with `token_from` (VERCEL_API_TOKEN exported), the offer to store it answered yes."""
    for name in ("billing:appStripeKey", "billing:publishableKey", "stripe:apiKey", "vercel:apiToken"):
        if name == "vercel:apiToken" and token_from is not None:
            term.answer(rf"Use the Vercel token in {token_from} .*\? \[y/N\] ", "y")
        else:
            term.answer(rf"{re.escape(name)} \([^)]*hidden\): ", keys[name])
        term.expect(rf"Stored {re.escape(name)}")


def stacks(project: Project) -> list[str]:
    done = project.pulumi("stack", "ls", "--json", stack="test", name_stack=False)
    return [str(s["name"]).rsplit("/", 1)[-1] for s in json.loads(done.stdout)]


def stored(project: Project, stack: str, name: str) -> str:
    return project.pulumi("config", "get", name, stack=stack).stdout.strip()




def the_person_pays(term: Session, project: Project) -> str:
    """The live payment proof prints a Checkout Session's URL: the person opens it and pays (here:
    the local Stripe completes that session, as Stripe does when a card is accepted on its page)."""
    found = term.expect(r"https://checkout\.stripe\.com/c/pay/(cs_live_\w+)")
    project.world.stripe.complete_checkout(found.group(1))
    return found.group(1)


def the_app(project: Project, stack: str) -> Any:
    """The app's webhook handler at the stack's domain, as README tells users to write it: Stripe's
    signature checked with the endpoint's secret (the stack's output, read on the first event)."""
    secret: list[str] = []

    def answer(method: str, path: str, query: str, headers: Any, body: bytes) -> tuple[int, Any]:
        if method != "POST":
            return 404, {"error": "not found"}
        if not secret:
            secret.append(project.pulumi("stack", "output", "webhookSigningSecret", "--show-secrets",
                                         stack=stack).stdout.strip())
        try:
            stripe.Webhook.construct_event(body, headers.get("Stripe-Signature"), secret[0], tolerance=300)
        except (stripe.SignatureVerificationError, ValueError):
            return 400, {"error": "bad signature"}
        return 200, {"received": True}

    return answer

