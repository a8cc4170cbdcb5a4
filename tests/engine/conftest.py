"""Fixtures of the real-engine tests (harness.py has what they are made of)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.harness import Engine, EngineMissing, Project, World, installed_engine


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    try:
        return installed_engine(tmp_path_factory.mktemp("pulumi-home"))
    except EngineMissing as missing:
        pytest.skip(str(missing))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with World(tmp_path / "tls") as found:
        yield found
        # Nothing may leave loopback: a tunnel to any other host fails the test.
        assert found.internet.refused == []


@pytest.fixture
def providers(engine: Engine) -> None:
    """For a test that runs a program: the language host and both providers must be built."""
    engine.need("language-python", "python-scripts", "stripe", "vercel")


@pytest.fixture
def new_project(tmp_path: Path, engine: Engine, world: World) -> Any:
    count = iter(range(100))

    def make(catalog: str | None = None) -> Project:
        root = tmp_path / f"project{next(count)}"
        root.mkdir()
        return Project(root, engine, world, catalog)

    return make
