"""Fixtures of the real-engine tests (harness.py has what they are made of)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.harness import Engine, Project, World, _base_env, _tools


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    tools = _tools()
    try:
        root = tools.cache_dir()
    except tools.EngineError as error:
        pytest.skip(f"the engine cannot be built here: {error}")
    status = tools.read_status(root)
    if status.get("pulumi", {}).get("state") != "built":
        pytest.skip(f"no Pulumi CLI in {root}: run `make engine` first")
    home = tmp_path_factory.mktemp("pulumi-home")
    bin_dir = root / "bin"
    versions = tools.versions()
    for name, version in (("stripe", versions["stripe"]), ("vercel", versions["vercel"])):
        if status.get(name, {}).get("state") == "built":
            subprocess.run([str(bin_dir / "pulumi"), "plugin", "install", "resource", name, version,
                            "--file", str(bin_dir / f"pulumi-resource-{name}")],
                           env={**_base_env(bin_dir, home)}, check=True, capture_output=True, timeout=120)
    return Engine(bin=bin_dir, status=status, home=home)


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
