"""Fixtures for every test: a throwaway project, no stack leaking in, and the servers tests ask for by name.

Helpers live in tests/support/ and the local servers in tests/servers/; no test module imports another.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.cloudflare_api_server import cloudflare  # noqa: F401 (the Cloudflare tests' server fixture)
from tests.servers.webhook_receiver import secret, serve  # noqa: F401 (a webhook receiver on 127.0.0.1)
from tests.support.project import Project


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m pure` skips importing the modules that never use the marker: the run stays seconds long."""
    if config.getoption("markexpr") == "pure" and collection_path.name.startswith("test_") \
            and collection_path.suffix == ".py":
        return "pytest.mark.pure" not in collection_path.read_text()
    return None


@pytest.fixture(autouse=True)
def no_default_stack(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A test names its stack: neither BILLING_STACK nor the user's `pulumi stack select` leaks in."""
    monkeypatch.delenv("BILLING_STACK", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path_factory.mktemp("pulumi-home")))


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
