"""The docs' TypeScript snippets compile under `tsc --strict`, against the module `billing export` writes.

The gating snippets are in docs/catalog.md; a ```ts block anywhere in README or docs/ is compiled too.

TypeScript, Stripe's and Node's types come from npm: installed once into a cache
directory, from the npm cache (`--offline`) or else the registry; the test is
skipped, saying why, where neither can be done.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.support.project import Project, run_cli
from tests.support.repository import CATALOG, DOCS, doc

GATING = "docs/catalog.md"  # the page with the server-side gating snippets
# What the snippets take from the app around them (its database, the request), typed loosely.
AMBIENT = "declare const db: any;\ndeclare const userId: string;\ndeclare const used: number;\n"
TOOLCHAIN = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "billing-readme-tsc"


def snippets(text: str) -> list[str]:
    return [textwrap.dedent(body) for body in re.findall(r"^ *```ts\n(.*?)^ *```", text, re.M | re.S)]


def toolchain() -> Path:
    tsc = TOOLCHAIN / "node_modules" / ".bin" / "tsc"
    if tsc.exists() and all((TOOLCHAIN / "node_modules" / name).is_dir() for name in ("stripe", "@types/node")):
        return tsc
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so the docs' TypeScript is not compiled")
    TOOLCHAIN.mkdir(parents=True, exist_ok=True)
    (TOOLCHAIN / "package.json").write_text('{"private": true}\n')
    packages = ["typescript@5", "stripe", "@types/node@20"]
    for where in (["--offline"], []):  # the npm cache first, then the registry
        try:
            subprocess.run(["npm", "install", *where, "--no-audit", "--no-fund", "--silent", *packages],
                           cwd=TOOLCHAIN, capture_output=True, timeout=180, check=True)
        except (subprocess.SubprocessError, OSError):
            continue
        if tsc.exists():
            return tsc
    pytest.skip(f"{', '.join(packages)} could not be installed from the npm cache or registry, so the docs' "
                "TypeScript is not compiled")


def module(snippet: str) -> str:
    """A snippet as a module: a fragment that returns from the request handler is put in one."""
    if "function" in snippet or "return " not in snippet:
        return AMBIENT + snippet
    imports = [line for line in snippet.splitlines() if line.startswith("import ")]
    body = [line for line in snippet.splitlines() if not line.startswith("import ")]
    return "\n".join([*imports, AMBIENT, "export async function handle(): Promise<Response | undefined> {",
                      *(f"  {line}" for line in body), "  return undefined;", "}", ""])


def test_readme_typescript_compiles_with_tsc_strict(project: Project, tmp_path: Path) -> None:
    assert len(snippets(doc(GATING))) >= 2, "the gating snippets"
    found = [snippet for name in DOCS for snippet in snippets(doc(name))]
    tsc = toolchain()
    # A catalog with the feature the docs gate on, so the exported types know it.
    project.catalog(CATALOG.replace("plans:\n", "entitlements:\n  premium_reports: {name: Premium reports}\n"
                                    "plans:\n", 1)
                    .replace("    name: Pro Plan\n", "    name: Pro Plan\n    entitlements: [premium_reports]\n", 1)
                    .replace("    - customer.subscription.deleted\n", "    - customer.subscription.deleted\n"
                             "    - entitlements.active_entitlement_summary.updated\n", 1))
    code, tiers, err = run_cli("export", "--stack", "test", "--format", "ts", "--project", str(project.root))
    assert code == 0, err
    app = tmp_path / "app"
    (app / "lib").mkdir(parents=True)
    (app / "lib" / "tiers.ts").write_text(tiers)
    (app / "node_modules").symlink_to(TOOLCHAIN / "node_modules")
    names = []
    for index, snippet in enumerate(found):
        names.append(f"snippet{index}.ts")
        (app / names[-1]).write_text(module(snippet))
    (app / "tsconfig.json").write_text(json.dumps({
        "compilerOptions": {"strict": True, "noEmit": True, "target": "es2022", "module": "esnext",
                            "moduleResolution": "bundler", "lib": ["es2022", "dom"], "types": ["node"],
                            "skipLibCheck": True,
                            "baseUrl": ".", "paths": {"@/*": ["./*"]}},
        "files": names}))
    done = subprocess.run([str(tsc), "-p", str(app)], cwd=app, capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
