"""Fixtures for every test: a throwaway project, no stack leaking in, and the servers tests ask for by name.

Helpers live in tests/support/ and the local servers in tests/servers/; no test module imports another.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.cloudflare_api_server import cloudflare  # noqa: F401 (the Cloudflare tests' server fixture)
from tests.servers.webhook_receiver import secret, serve  # noqa: F401 (a webhook receiver on 127.0.0.1)
from tests.support.project import Project
from tests.support.repository import REPO
from tests.support.repository_use import MARK, Watch

# Installed once per process (each xdist worker): sees what every test does with the repository.
WATCH = Watch(REPO).install()


def _git_without_housekeeping() -> None:
    """Every git the tests start (theirs, the product's, a nested run's) skips automatic housekeeping.

    After each commit git starts `git maintenance run --auto` (~100 extra processes in a run of
    throwaway repositories of a few commits, that never need packing). Given as GIT_CONFIG_* in the
    environment, which every child inherits, after any the user already set.
    """
    count = int(os.environ.get("GIT_CONFIG_COUNT", "0"))
    if "maintenance.auto" in {os.environ.get(f"GIT_CONFIG_KEY_{index}") for index in range(count)}:
        return  # a nested run (tests/repo/test_filled_in_repository.py) inherits it
    for key, value in (("maintenance.auto", "false"), ("gc.auto", "0")):
        os.environ[f"GIT_CONFIG_KEY_{count}"], os.environ[f"GIT_CONFIG_VALUE_{count}"] = key, value
        count += 1
    os.environ["GIT_CONFIG_COUNT"] = str(count)


_git_without_housekeeping()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m pure` skips importing the modules that never use the marker: the run stays seconds long."""
    if config.getoption("markexpr") == "pure" and collection_path.name.startswith("test_") \
            and collection_path.suffix == ".py":
        return "pytest.mark.pure" not in collection_path.read_text()
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order xdist hands tests out in: tests marked `early` (a long run of their own) first, and the
    `pure` ones last. A long test started last leaves one worker running it alone while the others have
    finished; so does a module of tests that wait on servers and deadlines, handed out late in one
    chunk (tests/unit/probes/test_verify_payment.py, ~7 s of waiting, was one). Pure tests are short and
    only compute: at the end they keep both cores busy and the workers finish together."""
    items.sort(key=lambda item: (item.get_closest_marker("early") is None,
                                 item.get_closest_marker("pure") is not None))


@pytest.fixture(autouse=True)
def no_default_stack(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A test names its stack: neither BILLING_STACK nor the user's `pulumi stack select` leaks in.

    Each test gets a Pulumi home of its own that does not exist yet (nothing is selected there), made
    only by whatever writes to it: an empty directory for each of ~1,200 tests was files to delete later.
    """
    monkeypatch.delenv("BILLING_STACK", raising=False)
    homes = tmp_path_factory.getbasetemp() / "pulumi-homes"
    monkeypatch.setenv("PULUMI_HOME", str(homes / f"{next(_HOMES)}"))


_HOMES = itertools.count()


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    yield Project(tmp_path)


@pytest.fixture(autouse=True)
def pure_means_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked `pure` fails the moment it starts a process, opens a socket or runs the mock runtime."""
    if request.node.get_closest_marker("pure") is None:
        return

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            pytest.fail(f"a test marked pure {what}: mark it otherwise, or keep it pure")
        return refused

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
    monkeypatch.setattr(socket.socket, "connect", refuse("opened a connection"))
    monkeypatch.setattr(socket.socket, "bind", refuse("opened a server socket"))
    monkeypatch.setattr("pulumi.runtime.set_mocks", refuse("ran the Pulumi mock runtime"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """From the first fixture on (module-scoped ones included), what the test does with the repository counts."""
    WATCH.seen.clear()
    WATCH.running = True
    return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """A test that uses the repository without the mark fails: the filled-in run would leave it out."""
    try:
        return (yield)
    finally:
        WATCH.running = False
        if WATCH.seen and item.get_closest_marker(MARK) is None:
            pytest.fail(f"this test {'; '.join(WATCH.seen)}: mark it @pytest.mark.{MARK}, so that "
                        "tests/repo/test_filled_in_repository.py runs it again on a repository whose stack "
                        "files are filled in (or give it a project of its own)", pytrace=False)
