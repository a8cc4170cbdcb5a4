"""go-live's keys step offering the host token a person already has, before the token form: exported
in their shell (the provider's VERCEL_API_TOKEN, or verify's VERCEL_TOKEN), or stored on the
project's test stack and decrypted with the passphrase the run has.

The facts, and the person, are stand-ins as in test_go_live.py; where the token is copied from
another stack, the CLI is a recording `pulumi` on PATH that answers each stack's config and
writes down every argv and stdin it was given, so the copy is seen going through the real
`pulumi_cli` calls. What the real CLI does with a value on its stdin is tests/engine's.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from infra import hosts
from infra.commands.golive import reuse, setup
from infra.commands.golive.terminal import Stop
from infra.core import exits
from tests.support.go_live import (
    at_terminal,
    context,
    facts,
    key_items,
    no_token_exported,
    stored_keys,
    with_facts,
)
from tests.support.project import Project, key

SEALED = "\n    secure: v1:ZXhhbXBsZQ==:v1:ExampleCiphertextOnly"
FORM = "Vercel token form"


def token(tag: str) -> str:
    return "vercel" + tag * 5


# ------------------------------------------------------------------- a token in the shell's environment


@pytest.mark.pure
@pytest.mark.parametrize("variable", ["VERCEL_API_TOKEN", "VERCEL_TOKEN"])
def test_an_exported_token_is_stored_after_a_yes_and_never_shown(
    project: Project, monkeypatch: pytest.MonkeyPatch, variable: str,
) -> None:
    no_token_exported(monkeypatch)
    exported = token("Env1")
    monkeypatch.setenv(variable, exported)
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    stored = stored_keys(monkeypatch)
    term, out, person = at_terminal("y")
    ctx = context(project, term, "live")
    setup.keys(ctx)
    assert stored == [("vercel:apiToken", exported, True)]
    assert person.prompts == [f"Use the Vercel token in {variable} (this shell's environment; it is not shown)? "
                              "[y/N] "]
    assert (term.acts.visits, term.acts.typed, term.acts.confirmations) == ([], 0, 1)
    assert ctx.created == [f"vercel:apiToken stored (encrypted, from {variable})"]
    assert exported not in out.getvalue() and "vercel.com/account/tokens" not in out.getvalue()


@pytest.mark.pure
def test_a_no_to_the_exported_token_is_the_token_form(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    no_token_exported(monkeypatch)
    exported, typed = token("Env2"), token("Typ2")
    monkeypatch.setenv("VERCEL_API_TOKEN", exported)
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    stored = stored_keys(monkeypatch)
    term, out, person = at_terminal("n", typed)
    setup.keys(context(project, term, "live"))
    assert stored == [("vercel:apiToken", typed, True)]
    assert [prompt.split(" (")[0] for prompt in person.prompts] == ["Use the Vercel token in VERCEL_API_TOKEN",
                                                                   "vercel:apiToken"]
    assert term.acts.visits == [FORM] and (term.acts.typed, term.acts.confirmations) == (1, 1)
    assert "Vercel token form: A Vercel token (vercel.com/account/tokens)." in out.getvalue()
    assert exported not in out.getvalue() and typed not in out.getvalue()


@pytest.mark.pure
def test_an_exported_value_that_is_not_a_token_is_never_offered(
    project: Project, monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_token_exported(monkeypatch)
    stripe_key = key("sk", "live", "Env3")
    monkeypatch.setenv("VERCEL_API_TOKEN", stripe_key)
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    stored = stored_keys(monkeypatch)
    term, out, person = at_terminal("")
    with pytest.raises(Stop) as stopped:
        setup.keys(context(project, term, "live"))
    assert stopped.value.status == exits.REFUSED and stored == []
    assert person.prompts == ["vercel:apiToken (the value, hidden): "]  # no question: the form
    assert ("VERCEL_API_TOKEN is set in this shell but is not used: this is a Stripe value (sk_live_), not a "
            "Vercel token.") in out.getvalue()
    assert stripe_key not in out.getvalue()


@pytest.mark.pure
def test_with_yes_nothing_is_offered(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    no_token_exported(monkeypatch)
    monkeypatch.setenv("VERCEL_API_TOKEN", token("Env4"))
    with_facts(monkeypatch, facts("test", *key_items("vercel:apiToken")))
    stored = stored_keys(monkeypatch)
    term, out, person = at_terminal(yes=True)
    term.interactive = False
    with pytest.raises(Stop) as stopped:
        setup.keys(context(project, term))
    assert stopped.value.status == exits.REFUSED and "only read at a terminal" in str(stopped.value)
    assert stored == [] and person.prompts == [] and "[y/N]" not in out.getvalue()


# ----------------------------------------------------------------------- a token on the test stack


def recording_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configs: dict[str, dict[str, str]],
                     unreadable: tuple[str, ...] = ()) -> Path:
    """A `pulumi` that answers `config --json --show-secrets --stack S` with `configs[S]` (every value
    sealed; a stack in `unreadable` fails as a wrong passphrase does), takes `config set` from its
    stdin, and logs every call's argv and stdin, one JSON line each."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"""#!{sys.executable}
import json, sys
args, stdin = sys.argv[1:], sys.stdin.read()
with open({str(log)!r}, "a") as log:
    log.write(json.dumps({{"argv": args, "stdin": stdin}}) + "\\n")
stack = args[args.index("--stack") + 1]
if stack in {list(unreadable)!r}:
    sys.stderr.write("error: incorrect passphrase\\n")
    sys.exit(255)
if args[:2] == ["config", "--json"]:
    print(json.dumps({{k: {{"value": v, "secret": True}} for k, v in {configs!r}.get(stack, {{}}).items()}}))
elif args[:2] != ["config", "set"]:
    sys.exit(98)
""")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def give_the_test_stack_a_token(project: Project) -> None:
    path = project.root / "Pulumi.test.yaml"
    path.write_text(path.read_text() + f"  vercel:apiToken:{SEALED}\n")


def test_the_test_stack_s_token_is_copied_after_a_yes_on_stdin_never_in_argv_or_shown(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_token_exported(monkeypatch)
    give_the_test_stack_a_token(project)
    theirs = token("Stk1")
    log = recording_pulumi(tmp_path, monkeypatch, {"test": {"vercel:apiToken": theirs}, "live": {}})
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    term, out, person = at_terminal("y")
    ctx = context(project, term, "live")
    setup.keys(ctx)
    assert person.prompts == ["Use the Vercel token stored on stack 'test'? [y/N] "]
    made = calls(log)
    assert [call["argv"] for call in made] == [
        ["config", "--json", "--show-secrets", "--stack", "live"],  # what live holds, for the checks
        ["config", "--json", "--show-secrets", "--stack", "test"],
        ["config", "set", "--secret", "vercel:apiToken", "--stack", "live", "--non-interactive"]]
    assert made[-1]["stdin"] == theirs
    assert not any(theirs in " ".join(call["argv"]) for call in made)  # type: ignore[arg-type]
    assert theirs not in out.getvalue() and "Stored vercel:apiToken as a secret, from stack 'test'." in out.getvalue()
    assert (term.acts.visits, term.acts.typed, term.acts.confirmations) == ([], 0, 1)
    assert ctx.created == ["vercel:apiToken stored (encrypted, from stack 'test')"]


@pytest.mark.parametrize(("stored_there", "said"), [
    (key("sk", "test", "Stk2"), "The Vercel token stored on stack 'test' is not used: this is a Stripe value "
                                "(sk_test_), not a Vercel token."),
    (token("Stk3") + "\n" + token("Stk4"), "The Vercel token stored on stack 'test' is not used: it holds "
                                           "spaces or control characters; copy it again."),
    (None, "Stack 'test' holds a Vercel token, but it could not be read (`pulumi config --json --show-secrets "
           "--stack test` failed (exit 255): error: incorrect passphrase); a stack with a passphrase of its own is "
           "not opened here."),
])
def test_a_test_stack_token_that_is_not_one_or_not_readable_is_the_form(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored_there: str | None, said: str,
) -> None:
    no_token_exported(monkeypatch)
    give_the_test_stack_a_token(project)
    typed = token("Typ5")
    log = recording_pulumi(tmp_path, monkeypatch, {"test": {"vercel:apiToken": stored_there or ""}, "live": {}},
                           unreadable=("test",) if stored_there is None else ())
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    term, out, person = at_terminal(typed)
    setup.keys(context(project, term, "live"))
    text = out.getvalue()
    assert said in text
    assert person.prompts == ["vercel:apiToken (the value, hidden): "]  # nothing offered: the form
    assert term.acts.visits == [FORM]
    made = calls(log)
    assert made[-1]["argv"][:4] == ["config", "set", "--secret", "vercel:apiToken"]  # type: ignore[index]
    assert made[-1]["stdin"] == typed
    for value in (stored_there, typed):
        assert not value or value not in text


def test_a_stack_that_does_not_hold_the_token_is_not_opened(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_token_exported(monkeypatch)
    log = recording_pulumi(tmp_path, monkeypatch, {"test": {"vercel:apiToken": token("Stk6")}, "live": {}})
    with_facts(monkeypatch, facts("live", *key_items("vercel:apiToken")))
    term, _, person = at_terminal(token("Typ6"))
    setup.keys(context(project, term, "live"))
    assert person.prompts == ["vercel:apiToken (the value, hidden): "]
    assert ["config", "--json", "--show-secrets", "--stack", "test"] not in [call["argv"] for call in calls(log)]


@pytest.mark.pure
def test_on_cloudflare_the_variable_verify_reads_is_offered(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Worker secrets' provider reads `cloudflare:apiToken` only: CLOUDFLARE_API_TOKEN (what `verify`
    reads) is the one variable offered, and a Vercel variable never is."""
    no_token_exported(monkeypatch)
    monkeypatch.setenv("VERCEL_API_TOKEN", token("Vcl7"))
    exported = "cf" + "T0ken" * 8
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", exported)
    term, out, person = at_terminal("y")
    found = reuse.host_token(context(project, term, "live"), hosts.HOSTS["cloudflare"], lambda value: None)
    assert found == reuse.Offer(exported, "CLOUDFLARE_API_TOKEN")
    assert person.prompts == ["Use the Cloudflare Workers token in CLOUDFLARE_API_TOKEN (this shell's environment; "
                              "it is not shown)? [y/N] "]
    assert exported not in out.getvalue()
