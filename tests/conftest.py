"""Fixtures for every test: a throwaway project, no stack leaking in, and the servers tests ask for by name.

Helpers live in tests/support/ and the local servers in tests/servers/; no test module imports another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.cloudflare_api_server import cloudflare  # noqa: F401 (the Cloudflare tests' server fixture)
from tests.servers.webhook_receiver import secret, serve  # noqa: F401 (a webhook receiver on 127.0.0.1)
from tests.support.project import Project


@pytest.fixture(autouse=True)
def no_default_stack(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A test names its stack: neither BILLING_STACK nor the user's `pulumi stack select` leaks in."""
    monkeypatch.delenv("BILLING_STACK", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path_factory.mktemp("pulumi-home")))


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    yield Project(tmp_path)


