"""The folders are the architecture: no import cycle, and the entry points load only what they use.

The layers themselves (each role imports only the roles below it) are import-linter's
contracts in pyproject.toml, checked by `make lint`; this adds what a contract cannot say.
"""

from __future__ import annotations

import json
import subprocess
import sys

import grimp
import pytest

from infra.commands import COMMANDS
from tests.support import cloudflare_stacks
from tests.support.project import Project
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


@pytest.mark.on_the_repository
def test_billing_help_loads_no_command_and_no_third_party_package() -> None:
    loaded = loaded_by("import sys\nfrom infra import cli\ntry:\n    cli.main(['--help'])\n"
                       "except SystemExit:\n    pass")
    assert "infra.cli" in loaded
    assert [m for m in loaded if m.startswith("infra.commands.")] == []
    assert [m for m in loaded if m.split(".")[0] in (*HEAVY, "yaml")] == []


# What a command's `--help` may not load: what the command runs (the catalog's models and checks,
# the Pulumi components, the probes, the program) and any third-party package.
RUN_ONLY = ("infra.catalog", "infra.components", "infra.probes", "infra.program")


@pytest.mark.parametrize(("host", "other", "other_sdks"), [("vercel", "cloudflare", ("cloudflare", "httpx")),
                                                           ("cloudflare", "vercel", ("pulumiverse_vercel",))])
def test_a_plan_loads_the_sdk_of_its_own_host_only(project: Project, host: str, other: str,
                                                   other_sdks: tuple[str, ...]) -> None:
    """infra/components/hosted.py imports the stack's own host component: the other host's SDK (and,
    for Cloudflare's, httpx) is never part of a plan's or a preview's start."""
    if host == "cloudflare":
        project.stack("test", cloudflare_stacks.stack_file("test"))
    code = (f"from infra import cli\ncode = cli.main(['plan', '--stack', 'test', '--project', {str(project.root)!r}])"
            "\nimport json, sys\nprint(json.dumps([code, sorted(sys.modules)]), file=sys.__stderr__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True,
                          timeout=120, check=False)
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done.stderr
    assert f"infra.components.{host}" in loaded
    assert [m for m in loaded if m == f"infra.components.{other}" or m.split(".")[0] in other_sdks] == []


@pytest.mark.on_the_repository
def test_each_command_help_loads_its_options_and_nothing_it_runs() -> None:
    """`billing COMMAND --help` imports the command's options (pip's cmdoptions) and none of what the
    command runs, so it answers at once: checked by what is loaded, which load cannot make flaky."""
    code = ("import io, json, sys\nfrom infra import cli\nfrom infra.commands import COMMANDS\nnew = {}\n"
            "for name in COMMANDS:\n    before = set(sys.modules)\n    try:\n"
            "        sys.stdout = io.StringIO()\n        cli.main([name, '--help'])\n"
            "    except SystemExit:\n        pass\n    finally:\n        sys.stdout = sys.__stdout__\n"
            "    new[name] = sorted(set(sys.modules) - before)")
    done = subprocess.run([sys.executable, "-c", code + "\nprint(json.dumps(new))"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=True)
    loaded: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(loaded) == list(COMMANDS)
    for name, modules in loaded.items():
        assert COMMANDS[name].options in modules
        assert COMMANDS[name].module not in modules, name
        assert [m for m in modules if m.split(".")[0] in (*HEAVY, "yaml", "ruamel")] == [], name
        assert [m for m in modules if m.startswith(RUN_ONLY)] == [], name


@pytest.mark.on_the_repository
def test_billing_validate_imports_no_pulumi_module() -> None:
    loaded = loaded_by("from infra import cli\ncli.main(['validate', '--stack', 'test'])")
    assert "infra.commands.validate" in loaded and "infra.catalog.loader" in loaded
    assert [m for m in loaded if m.split(".")[0] in ("pulumi", "pulumi_stripe", "pulumiverse_vercel", "grpc")] \
        == []


# A module past this is doing more than one thing: split it along its roles.
MAX_MODULE_LINES = 400


@pytest.mark.pure
def test_no_infra_module_is_over_the_bound() -> None:
    lengths = {str(path.relative_to(REPO)): len(path.read_text().splitlines())
               for path in sorted((REPO / "infra").rglob("*.py"))}
    assert lengths, "no infra/ module found"
    assert {path: n for path, n in lengths.items() if n > MAX_MODULE_LINES} == {}
