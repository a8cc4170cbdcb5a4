"""The real Pulumi engine against local Stripe and Vercel: what `make engine-test` drives.

Nothing here is a mock. `make engine` builds the Pulumi CLI, the Python language host and
the two bridged providers (tools/engine.py) into a cache; these fixtures install the
providers as plugins in a throwaway PULUMI_HOME, start the local Stripe and Vercel servers
behind their real host names (network.py), and drive `pulumi` with a `file://` backend
and passphrase-encrypted stacks set up the way README's steps say. A component that could
not be built skips the tests that need it, with the reason tools/engine.py recorded.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.engine.network import App, LocalInternet
from tests.engine.stripe_server import StripeState
from tests.engine.stripe_server import app as stripe_app
from tests.engine.vercel_server import VercelState
from tests.engine.vercel_server import handle as vercel_handle
from tests.servers.cloudflare_api_server import WorkerAccount
from tests.servers.stripe_payments_server import post

REPO = Path(__file__).resolve().parents[2]
PASSPHRASES = {"test": "engine tests passphrase for test", "live": "engine tests passphrase for live"}
PROJECT_ID = "prj_EngineTests1"
VERCEL_TOKEN = "vercel" + "EngineT0ken" * 2
CLOUDFLARE_ACCOUNT = "5e0c" * 8  # not the repository's example ID, which validate flags
CLOUDFLARE_TOKEN = "cloudflare" + "EngineT0ken" * 3
DOMAINS = {"test": "staging.shop.test", "live": "shop.test"}
WORKER_SCRIPTS = {"test": "api-staging", "live": "api"}
# What one pulumi command may take on 2 cores before the test fails rather than hangs.
COMMAND_TIMEOUT = 600


def _tools() -> ModuleType:
    spec = importlib.util.spec_from_file_location("billing_engine_tools", REPO / "tools" / "engine.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Engine:
    bin: Path
    status: dict[str, dict[str, str]]
    home: Path

    def need(self, *components: str) -> None:
        """Skip, with tools/engine.py's reason, unless every component was built."""
        for name in components:
            entry = self.status.get(name, {})
            if entry.get("state") != "built":
                why = entry.get("proxy") or "not attempted"
                pytest.skip(f"{name} {entry.get('version', '')} not built ({why}); "
                            f"put a prebuilt one in $BILLING_ENGINE_PLUGINS and run `make engine`")


class EngineMissing(Exception):
    """The engine, or a component a caller needs, is not built here; the message says why."""


def installed_engine(home: Path, needed: tuple[str, ...] = ("pulumi",)) -> Engine:
    """The engine `make engine` cached, with each built provider installed into `home` (the
    run's own PULUMI_HOME) at requirements.txt's version; EngineMissing unless every `needed`
    component was built. The tests' fixture, and the benchmarks that drive the engine, start here."""
    tools = _tools()
    try:
        root = tools.cache_dir()
    except tools.EngineError as error:
        raise EngineMissing(f"the engine cannot be built here: {error}") from None
    status = tools.read_status(root)
    missing = [name for name in needed if status.get(name, {}).get("state") != "built"]
    if missing:
        raise EngineMissing(f"{', '.join(missing)} not built in {root}: run `make engine` first")
    home.mkdir(parents=True, exist_ok=True)
    bin_dir = root / "bin"
    versions = tools.versions()
    for name in ("stripe", "vercel"):
        if status.get(name, {}).get("state") == "built":
            subprocess.run([str(bin_dir / "pulumi"), "plugin", "install", "resource", name, versions[name],
                            "--file", str(bin_dir / f"pulumi-resource-{name}")],
                           env=_base_env(bin_dir, home), check=True, capture_output=True, timeout=120)
    return Engine(bin=bin_dir, status=status, home=home)


def _base_env(bin_dir: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PULUMI_", "STRIPE_", "VERCEL_", "CLOUDFLARE_", "ARM_", "AWS_"))}
    env.update({
        "PULUMI_HOME": str(home), "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true", "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "NO_COLOR": "1", "PATH": f"{bin_dir}{os.pathsep}{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        # bin_dir is on PATH for `pulumi` itself; without this the CLI would take the providers
        # from there too and never resolve the versions conftest installed. The language host
        # and pulumi-resource-pulumi-python are still found beside the CLI (bundled plugins).
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
    })
    return env


class World:
    """The local internet: Stripe and Vercel behind their real names. The providers and
    `billing`'s own HTTP client both reach them through the proxy (HTTPS_PROXY) over TLS
    under the run's CA (SSL_CERT_FILE); nothing else is reachable."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.stripe = StripeState()
        self.vercel = VercelState(project_id=PROJECT_ID, token=VERCEL_TOKEN)
        self.cloudflare = WorkerAccount(account_id=CLOUDFLARE_ACCOUNT, token=CLOUDFLARE_TOKEN)
        self.sites: dict[str, App] = {}
        """The app's own hosts (DOMAINS): a test puts the app it plays there (404 until it does)."""
        self.internet = LocalInternet(directory, {
            "api.stripe.com": stripe_app(self.stripe),
            "api.vercel.com": lambda m, p, q, h, b: vercel_handle(self.vercel, m, p, q, h, b),
            "api.cloudflare.com": lambda m, p, q, h, b: self.cloudflare.answer(
                m, p, parse_qs(q), h.get("Authorization"), b),
            **{domain: functools.partial(self._site, domain) for domain in DOMAINS.values()},
        })
        # Stripe waits seconds for an endpoint (the app here reads its secret through the CLI once).
        payments = self.stripe.payments
        payments.deliver, payments.delivery_timeout, payments.retry_seconds = self._deliver, 15.0, 1.0

    def _deliver(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
        """Stripe's delivery of an event to an endpoint's URL: over TLS through the proxy, so it reaches
        the app at the stack's domain the way `verify webhook` does (and nothing outside loopback)."""
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"https": self.internet.proxy_url}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(self.internet.ca))))
        return post(url, body, headers, timeout, opener)

    def _site(self, domain: str, *request: Any) -> tuple[int, Any]:
        app = self.sites.get(domain)
        return app(*request) if app else (404, {"error": "no app is deployed here"})

    def env(self) -> dict[str, str]:
        return self.internet.env()

    def __enter__(self) -> World:
        self.internet.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stripe.payments.stopping.set()
        self.internet.__exit__(*exc)


def key(kind: str, mode: str, tag: str) -> str:
    """A key of Stripe's shape, made at run time (never committed key-shaped)."""
    return f"{kind}_{mode}_" + (tag * 30)[:24]


def stripe_keys(mode: str) -> dict[str, str]:
    """The deployer's and the app's keys `init_stack` stores."""
    return {"stripe:apiKey": key("rk", mode, "Dep1"), "billing:appStripeKey": key("rk", mode, "App1")}


class Project:
    """A copy of the project the CLI runs: entry point, infra/, policies/, a catalog."""

    def __init__(self, root: Path, engine: Engine, world: World, catalog: str | None = None) -> None:
        self.root, self.engine, self.world = root, engine, world
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(REPO / name, root / name)
        shutil.copytree(REPO / "infra", root / "infra", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(REPO / "policies", root / "policies", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "venv"))
        if (REPO / "policies" / "venv").is_dir():
            (root / "policies" / "venv").symlink_to(REPO / "policies" / "venv")
        (root / ".venv").symlink_to(REPO / ".venv")
        (root / "stacks").mkdir()
        self.catalog((REPO / "stacks" / "catalog.yaml").read_text(encoding="utf-8") if catalog is None else catalog)
        self.state = root.parent / f"{root.name}-state"
        self.state.mkdir()

    def catalog(self, text: str) -> None:
        (self.root / "stacks" / "catalog.yaml").write_text(textwrap.dedent(text), encoding="utf-8")

    def env(self, stack: str | None = None) -> dict[str, str]:
        env = _base_env(self.engine.bin, self.engine.home)
        env.update(self.world.env())
        env["PULUMI_BACKEND_URL"] = f"file://{self.state}"
        if stack:
            env["PULUMI_CONFIG_PASSPHRASE"] = PASSPHRASES[stack]
        return env

    def pulumi(self, *args: str, stack: str, ok: bool = True, timeout: int = COMMAND_TIMEOUT,
               name_stack: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGS --stack STACK` with the stack's passphrase; `ok`: fail the test on error."""
        argv = [*args, "--stack", stack] if name_stack else list(args)
        done = subprocess.run([str(self.engine.bin / "pulumi"), *argv, "--non-interactive"],
                              cwd=self.root, env={**self.env(stack), **(env or {})}, capture_output=True,
                              text=True, timeout=timeout, check=False)
        if ok and done.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} --stack {stack}: exit {done.returncode}\n"
                        f"{done.stdout[-6000:]}\n{done.stderr[-4000:]}")
        return done

    def billing(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m infra ARGS` of this copy, with the real CLI on PATH and the stack's
        passphrase, as a user runs it after README's steps."""
        stack = args[args.index("--stack") + 1] if "--stack" in args else None
        return subprocess.run([sys.executable, "-m", "infra", *args], cwd=self.root,
                              env={**self.env(stack), **(env or {}), "PYTHONPATH": str(self.root)},
                              capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)

    def init_stack(self, stack: str, settings: dict[str, str] | None = None,
                   secrets: dict[str, str] | None = None, host: str = "vercel") -> None:
        """README steps 6 and 7: `pulumi stack init --secrets-provider passphrase`, then
        `pulumi config set` (secrets with `--secret`) for every setting and key."""
        mode = "live" if stack == "live" else "test"
        self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase", stack=stack, name_stack=False)
        plain = {"billing:mode": mode, "billing:domain": DOMAINS[stack],
                 "billing:publishableKey": key("pk", mode, "Pub1")}
        hidden = stripe_keys(mode)
        if host == "cloudflare":
            plain.update({"billing:host": "cloudflare", "billing:cloudflareAccountId": CLOUDFLARE_ACCOUNT,
                          "billing:workerScript": WORKER_SCRIPTS[stack]})
            hidden["cloudflare:apiToken"] = CLOUDFLARE_TOKEN
            self.world.cloudflare.script(WORKER_SCRIPTS[stack])
        else:
            plain["billing:vercelProject"] = PROJECT_ID
            hidden["vercel:apiToken"] = VERCEL_TOKEN
        for name, value in {**plain, **(settings or {})}.items():
            self.pulumi("config", "set", name, value, stack=stack)
        for name, value in {**hidden, **(secrets or {})}.items():
            self.pulumi("config", "set", "--secret", name, value, stack=stack)
        if stack == "live":
            self.world.stripe.livemode = True

    def restrict(self, stack: str, keys: dict[str, str]) -> None:
        """The local Stripe knows the stack's two Stripe keys as the restricted keys `billing keys`
        has a person create, each with exactly its manifest's permissions (the stack's catalog's),
        and no other key: a call outside a manifest gets Stripe's 403, as on Stripe."""
        from infra.catalog import stack_config
        from tests.servers.stripe_keys import grants

        manifests = stack_config.from_stack(self.root, stack).load(examples_refused=False).catalog.keys
        self.world.stripe.keys.update({keys["stripe:apiKey"]: grants(manifests.deployer),
                                       keys["billing:appStripeKey"]: grants(manifests.app)})

    def config_yaml(self, stack: str, text: str) -> None:
        """Structured config (coupons) that `pulumi config set` cannot express, appended."""
        path = self.root / f"Pulumi.{stack}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")  # indented under config:

    def with_events(self, *args: str, stack: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """`pulumi ARGS` and the engine's own event stream (`--event-log`, what the Automation API
        reads; the CLI offers the flag only under PULUMI_DEBUG_COMMANDS). `preview --json` says
        nothing of a policy pack that passed: these events name each resource a pack judged."""
        log = self.root.parent / f"{self.root.name}-events.jsonl"
        log.unlink(missing_ok=True)
        done = self.pulumi(*args, "--event-log", str(log), stack=stack, env={"PULUMI_DEBUG_COMMANDS": "true"})
        return done, [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def preview_steps(self, stack: str, *extra: str) -> list[dict[str, Any]]:
        done = self.pulumi("preview", "--json", *extra, stack=stack)
        return list(json.loads(done.stdout).get("steps", []))


