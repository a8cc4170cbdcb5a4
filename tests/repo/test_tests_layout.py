"""The tests are laid out by role, and no test module imports another.

A test module takes what it shares from tests/support (helpers) and tests/servers (the local
servers), fixtures from conftest.py through pytest, and, for the real-engine tests, the
helpers in tests/engine. Importing a test module instead would run its module-level code
again under another name and tie two files' tests together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.repository import REPO

pytestmark = pytest.mark.pure

TESTS = REPO / "tests"
SHARED = ("tests.support", "tests.servers", "tests.engine")
ROLES = ("unit", "program", "commands", "repo", "servers", "engine")


def is_test_module(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name.startswith("test_") or name == "conftest"


def imported(path: Path, tests: Path) -> list[tuple[int, str]]:
    """Every module under `tests` that `path` imports, lazy imports included, as dotted names."""
    package = ".".join(path.relative_to(tests.parent).parent.parts)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                # `from tests.support import project` names a module; `from tests.x import y`, a name in x.
                submodule = tests.parent.joinpath(*base.split("."), alias.name)
                is_module = submodule.with_suffix(".py").is_file() or (submodule / "__init__.py").is_file()
                found.append((node.lineno, f"{base}.{alias.name}" if is_module else base))
    return sorted({(line, module) for line, module in found if module == "tests" or module.startswith("tests.")})


def violations(tests: Path) -> list[str]:
    """Each import of a test module or conftest.py, and each test module's import from outside SHARED."""
    found = []
    for path in sorted(tests.rglob("*.py")):
        where = path.relative_to(tests.parent)
        for line, module in imported(path, tests):
            if is_test_module(module):
                found.append(f"{where}:{line} imports the test module {module}")
            elif is_test_module(path.stem) and not module.startswith(SHARED):
                found.append(f"{where}:{line} imports {module}, which is neither in tests/support, "
                             "tests/servers nor tests/engine")
    return found


def test_no_test_module_imports_another() -> None:
    assert violations(TESTS) == []


def test_the_rule_sees_every_form_of_import(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "support").mkdir(parents=True)
    (tests / "support" / "__init__.py").write_text("")
    (tests / "support" / "project.py").write_text("")
    (tests / "test_a.py").write_text("from tests.support import project\nfrom tests.support.project import key\n")
    assert violations(tests) == []
    (tests / "test_b.py").write_text(
        "from tests.test_a import helper\n"
        "from tests import test_a as a\n"
        "def lazy():\n    import tests.test_a\n"
        "from tests.conftest import key\n"
        "from tests.harness import Account\n"
    )
    (tests / "conftest.py").write_text("")
    (tests / "support" / "borrowed.py").write_text("from .. import conftest\n")
    assert violations(tests) == [
        "tests/support/borrowed.py:1 imports the test module tests.conftest",
        "tests/test_b.py:1 imports the test module tests.test_a",
        "tests/test_b.py:2 imports the test module tests.test_a",
        "tests/test_b.py:4 imports the test module tests.test_a",
        "tests/test_b.py:5 imports the test module tests.conftest",
        "tests/test_b.py:6 imports tests.harness, which is neither in tests/support, tests/servers nor tests/engine",
    ]


def test_every_test_module_sits_in_a_folder_named_for_its_role() -> None:
    misplaced = [str(path.relative_to(TESTS)) for path in TESTS.rglob("test_*.py")
                 if path.relative_to(TESTS).parts[0] not in ROLES]
    assert misplaced == [], f"put these under tests/{{{','.join(ROLES)}}}/: {misplaced}"


def test_every_test_folder_is_a_package() -> None:
    """Module names come from the package path, so two test_x.py in different folders never collide."""
    folders = {path.parent for path in TESTS.rglob("*.py")}
    assert [str(f.relative_to(REPO)) for f in sorted(folders) if not (f / "__init__.py").is_file()] == []
