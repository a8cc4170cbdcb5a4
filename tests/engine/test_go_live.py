"""`billing go-live` driven through a pseudo-terminal against the real Pulumi CLI (standard `pty`).

A person is played by a script that reads what go-live printed and types an answer when a
prompt shows, as at a terminal: the passphrase and the keys at hidden prompts, y/N at each
question, Ctrl-C to stop it. While it runs, every process's command line is sampled from
/proc; after it, every file it could have written is read. No secret may appear in the
terminal's transcript, in any process's arguments, or in any file but the stack's encrypted
config (and the publishable key, public, in plain text there).

The steps that need only the CLI (stack init with a passphrase, the keys stored as secrets,
a wrong-mode key refused at its prompt, resuming after the keys, live asking before each
change) run wherever `make engine` built the CLI, CI included. The scenarios that run the
program (preview, up, the host, verify) also need the language host and both providers, and
skip with tools/engine.py's reason without them.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine.harness import DOMAINS, PASSPHRASES, PROJECT_ID, VERCEL_TOKEN, Project, key

PROMPT_SECONDS = 120  # one step of go-live on 2 busy cores, a preview or an up excepted
ENGINE_SECONDS = 900  # a preview or an up of the whole catalog


class Terminal:
    """`billing go-live ARGS` on a pseudo-terminal that is its controlling terminal."""

    def __init__(self, project: Project, *args: str, home: Path) -> None:
        env = {k: v for k, v in project.env(None).items() if k != "PULUMI_CONFIG_PASSPHRASE"}
        home.mkdir(parents=True, exist_ok=True)
        (home / "tmp").mkdir(exist_ok=True)
        env.update({"PYTHONPATH": str(project.root), "HOME": str(home), "TMPDIR": str(home / "tmp"),
                    "TERM": "dumb", "COLUMNS": "200"})
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: go-live, as a person would start it
            try:
                os.chdir(project.root)
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
                    pytest.fail(f"go-live never printed {pattern!r}; it printed:\n{self.transcript[-6000:]}")
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
            pytest.fail(f"go-live did not end within {seconds}s; it printed:\n{self.transcript[-6000:]}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status


class ArgvWatch:
    """Samples every process's command line while go-live runs: a secret there is readable by any
    local user. Records the pulumi commands it saw, so a run that saw none proves nothing."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s.encode() for s in secrets]
        self.leaks: list[str] = []
        self.pulumi: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    argv = (entry / "cmdline").read_bytes()
                except OSError:
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


LIVE_SMOKE_TEST = """\
  billing:coupons:
    smoke_test:
      name: Live smoke test
      percent_off: 100
      duration: once
      max_redemptions: 1
      promotion_codes:
        SMOKETEST: {max_redemptions: 1}
"""


def keys_for(mode: str) -> dict[str, str]:
    return {"billing:appStripeKey": key("rk", mode, "GoApp1"), "stripe:apiKey": key("rk", mode, "GoDep1"),
            "billing:publishableKey": key("pk", mode, "GoPub1"), "vercel:apiToken": VERCEL_TOKEN}


def type_the_keys(term: Terminal, keys: dict[str, str]) -> None:
    for name in ("billing:appStripeKey", "stripe:apiKey", "billing:publishableKey", "vercel:apiToken"):
        term.answer(rf"{re.escape(name)} \([^)]*hidden\): ", keys[name])
        term.expect(rf"Stored {re.escape(name)}")


def stacks(project: Project) -> list[str]:
    done = project.pulumi("stack", "ls", "--json", stack="test", name_stack=False)
    return [str(s["name"]).rsplit("/", 1)[-1] for s in json.loads(done.stdout)]


def stored(project: Project, stack: str, name: str) -> str:
    return project.pulumi("config", "get", name, stack=stack).stdout.strip()


@pytest.fixture
def project(new_project: Any) -> Iterator[Project]:
    found: Project = new_project()
    yield found


# ---------------------------------------------------------------- the CLI alone (CI runs these)


def test_a_fresh_test_stack_gets_its_passphrase_and_keys_at_hidden_prompts_and_resumes_after_them(
    project: Project, tmp_path: Path,
) -> None:
    stack_file(project, "test")
    keys = keys_for("test")
    wrong = key("rk", "live", "GoWrong")
    passphrase = PASSPHRASES["test"]
    secret = [passphrase, wrong, *(v for k, v in keys.items() if k != "billing:publishableKey")]
    home = tmp_path / "home"
    with ArgvWatch([*secret, keys["billing:publishableKey"]]) as watch:
        term = Terminal(project, "--stack", "test", home=home)
        term.expect(r"1\. the Pulumi CLI and a state backend: done")
        term.answer(r"Create stack 'test' \(`pulumi stack init test --secrets-provider passphrase`\)\? \[y/N\] ", "y")
        term.answer(r"New passphrase for stack 'test' \(hidden\): ", passphrase)
        term.answer(r"The same passphrase again \(hidden\): ", passphrase)
        term.expect(r"Created stack 'test'\.")
        # The app key first (as `billing keys` numbers them), then the deployer's: a live one, refused.
        term.expect(r"https://dashboard\.stripe\.com/test/apikeys/create\?name=billing-test-app")
        term.answer(r"billing:appStripeKey \(rk_test_\.\.\., hidden\): ", keys["billing:appStripeKey"])
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", wrong)
        term.expect(r"Refused, nothing stored: stripe:apiKey: the key is a live-mode key \(rk_live_\) but the "
                    r"stack is in test mode\. Enter the right one\.")
        term.answer(r"stripe:apiKey \(rk_test_\.\.\., hidden\): ", keys["stripe:apiKey"])
        term.answer(r"billing:publishableKey \(pk_test_\.\.\., hidden\): ", keys["billing:publishableKey"])
        term.answer(r"vercel:apiToken \(the value, hidden\): ", keys["vercel:apiToken"])
        term.expect(r"Stored vercel:apiToken as a secret\.")
        # Stopped by Ctrl-C once the keys are in: it says where, and how to go on.
        term.expect(r"5\. preview and update")
        term.interrupt()
        term.expect(r"stopped at step 5 \(preview and update\); run `billing go-live --stack test` again to "
                    r"resume")
        assert term.finish() == 2
        first = term.transcript

        # The second run asks for the passphrase (never kept), then starts at step 5.
        again = Terminal(project, "--stack", "test", home=home)
        again.answer(r"Passphrase for stack 'test' \(hidden\): ", passphrase)
        again.expect(r"4\. the keys: done")
        again.expect(r"5\. preview and update")
        _after_the_keys(project, again)
    assert "Create stack" not in again.transcript and "hidden): " not in again.transcript.split("4. the keys")[1]

    # Stored as the CLI stores `config set --secret`: sealed in the stack file, the typed value inside.
    written = yaml.safe_load((project.root / "Pulumi.test.yaml").read_text())
    assert written["encryptionsalt"].startswith("v1:")
    for name in ("stripe:apiKey", "billing:appStripeKey", "vercel:apiToken"):
        assert set(written["config"][name]) == {"secure"}
        assert stored(project, "test", name) == keys[name]
    assert written["config"]["billing:publishableKey"] == keys["billing:publishableKey"]  # public: plain
    # No secret in the transcript, in any process's arguments, or in any file but that stack file's ciphertext.
    for value in [*secret, keys["billing:publishableKey"]]:
        assert value not in first + again.transcript
    assert watch.leaks == []
    assert any(seen.startswith("config set --secret") for seen in watch.pulumi), watch.pulumi
    roots = [project.root, project.state, project.engine.home, home]
    assert files_holding(roots, secret) == []


def _after_the_keys(project: Project, term: Terminal) -> None:
    """Step 5 with the CLI alone stops at the preview (no language host); with the whole engine it
    previews and asks, and a no changes nothing. Either way nothing is applied."""
    if project.engine.status.get("language-python", {}).get("state") == "built":
        term.answer(r"Apply these \d+ changes to stack '\w+' \(\w+ mode\)\? \[y/N\] ", "n", ENGINE_SECONDS)
        term.expect(r"declined: nothing was changed")
    else:
        term.expect(r"The preview failed; the engine said:\n.*language plugin", ENGINE_SECONDS)
    term.expect(r"stopped at step 5 \(preview and update\)")
    assert term.finish() == 2


def test_live_asks_before_each_change_and_a_no_changes_nothing(project: Project, tmp_path: Path) -> None:
    stack_file(project, "live", LIVE_SMOKE_TEST)
    home = tmp_path / "home"
    term = Terminal(project, "--stack", "live", home=home)
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "n")
    term.expect(r"declined: no stack was created")
    assert term.finish() == 2
    assert "live" not in stacks(project)

    keys = keys_for("live")
    term = Terminal(project, "--stack", "live", home=home)
    term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
    term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
    term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
    term.expect(r"https://dashboard\.stripe\.com/apikeys/create\?name=billing-live-app")
    term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", key("rk", "test", "GoTest1"))
    term.expect(r"Refused, nothing stored: billing:appStripeKey: the key is a test-mode key \(rk_test_\)")
    term.answer(r"billing:appStripeKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
    # The deployer's key again for the app: refused on live, where the app gets its own.
    term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["billing:appStripeKey"])
    term.expect(r"(?s)Refused, nothing stored: stripe:apiKey")
    term.answer(r"stripe:apiKey \(rk_live_\.\.\., hidden\): ", keys["stripe:apiKey"])
    term.answer(r"billing:publishableKey \(pk_live_\.\.\., hidden\): ", keys["billing:publishableKey"])
    term.answer(r"vercel:apiToken \(the value, hidden\): ", keys["vercel:apiToken"])
    term.expect(r"5\. preview and update")
    _after_the_keys(project, term)
    assert "live" in stacks(project)
    history = project.pulumi("stack", "history", "--json", stack="live")
    assert json.loads(history.stdout or "[]") == []  # no update ran
    assert stored(project, "live", "stripe:apiKey") == keys["stripe:apiKey"]


def test_without_a_terminal_it_refuses_and_changes_nothing(project: Project) -> None:
    stack_file(project, "test")
    stack_file(project, "live", LIVE_SMOKE_TEST)
    done = project.billing("go-live", "--stack", "test")  # stdin is not a terminal here
    assert done.returncode == 2 and "stdin is not a terminal" in done.stderr
    done = project.billing("go-live", "--stack", "live", "--yes")
    assert done.returncode == 2 and "--yes is refused on a live stack" in done.stderr
    assert stacks(project) == []
