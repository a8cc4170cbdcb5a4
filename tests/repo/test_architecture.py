"""The folders are the architecture: no import cycle, and the entry points load only what they use.

The layers themselves (each role imports only the roles below it) are import-linter's
contracts in pyproject.toml, checked by `make lint`; this adds what a contract cannot say.
"""

from __future__ import annotations

import json
import subprocess
import sys

import grimp

from tests.support.repository import REPO

HEAVY = ("pulumi", "pulumi_stripe", "pulumiverse_vercel", "pydantic", "stripe", "httpx", "grpc")


def cycles(graph: grimp.ImportGraph) -> list[set[str]]:
    """Every group of modules that import each other round (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_infra_is_in_an_import_cycle_lazy_imports_included() -> None:
    graph = grimp.build_graph("infra")  # imports inside functions count as much as top-level ones
    assert len(graph.modules) > 40
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert cycles(graph) == [{"a.x", "a.y"}]


def loaded_by(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\n"
                           "print(json.dumps(sorted(sys.modules)), file=sys.__stderr__)"],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_billing_help_loads_no_command_and_no_third_party_package() -> None:
    loaded = loaded_by("import sys\nfrom infra import cli\ntry:\n    cli.main(['--help'])\n"
                       "except SystemExit:\n    pass")
    assert "infra.cli" in loaded
    assert [m for m in loaded if m.startswith("infra.commands.")] == []
    assert [m for m in loaded if m.split(".")[0] in (*HEAVY, "yaml")] == []


def test_billing_validate_imports_no_pulumi_module() -> None:
    loaded = loaded_by("from infra import cli\ncli.main(['validate', '--stack', 'test'])")
    assert "infra.commands.validate" in loaded and "infra.catalog.loader" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("pulumi", "pulumi_stripe", "pulumiverse_vercel", "grpc")] \
        == []
