"""`export`: the app's tier contract, as JSON and as a TypeScript module that type-checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.catalogs import ENTITLED
from tests.support.project import Project, run_cli

SNAPSHOTS = Path(__file__).parent / "snapshots"
# The fixture hides the pulumi CLI; npm and node are found on the PATH the tests started with.
TOOLS_PATH = os.environ.get("PATH", "")
# Built at run time: nothing ID-shaped is committed beside the snapshots.
PRICE_IDS = {"pro_monthly": "price_" + "Pm1" * 4, "pro_yearly": "price_" + "Py1" * 4,
             "enterprise_monthly": "price_" + "Em1" * 4}


def export(project: Project, *extra: str, stack: str = "test") -> tuple[int, str, str]:
    return run_cli("export", "--stack", stack, "--project", str(project.root), *extra)


@pytest.fixture
def entitled(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    project.catalog(ENTITLED)
    # No pulumi CLI here: the contract comes from the catalog alone unless --outputs is given.
    monkeypatch.setenv("PATH", "/nonexistent")
    return project


@pytest.mark.parametrize("fmt", ["json", "ts"])
def test_the_contract_matches_its_snapshot(entitled: Project, fmt: str) -> None:
    code, out, err = export(entitled, "--format", fmt)
    assert code == 0, err
    assert "no price IDs" in err
    snapshot = SNAPSHOTS / f"tiers.{fmt}"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(out)
    assert out == snapshot.read_text()


def test_every_plan_is_in_the_json_contract_free_included(entitled: Project) -> None:
    _, out, _ = export(entitled)
    contract = json.loads(out)
    assert list(contract["plans"]) == ["free", "pro", "enterprise"]
    free, pro = contract["plans"]["free"], contract["plans"]["pro"]
    assert free == {"name": "Free", "paid": False, "archived": False, "limits": {"requests": 5},
                    "entitlements": [], "prices": {}}
    assert pro["entitlements"] == ["premium_reports", "api_access"]
    assert pro["limits"] == {"requests": 50}
    assert pro["prices"]["monthly"]["lookupKey"] == "pro_monthly" and pro["prices"]["monthly"]["priceId"] is None
    assert contract["entitlements"]["sso"] == {"name": "Single sign-on"}
    assert contract["priceIds"] is False


def test_price_ids_come_from_the_stacks_outputs(entitled: Project, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    # Secrets are masked by `pulumi stack output --json`; a value not shaped like a price ID is dropped.
    outputs.write_text(json.dumps({"priceIds": {**PRICE_IDS, "pro_yearly": "not-a-price"},
                                   "webhookSigningSecret": "[secret]"}))
    code, out, err = export(entitled, "--outputs", str(outputs))
    assert code == 0 and "no price IDs" not in err
    prices = json.loads(out)["plans"]["pro"]["prices"]
    assert prices["monthly"]["priceId"] == PRICE_IDS["pro_monthly"]
    assert prices["yearly"]["priceId"] is None
    assert json.loads(out)["priceIds"] is True


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", "--outputs: not valid JSON (Expecting property name enclosed in double quotes at line 1"),
    ("[1, 2]", "--outputs: expected a JSON object of outputs"),
    ("{}" + " " * (1 << 20), "--outputs: larger than 1024 KiB"),
    ("[" * 100 + "]" * 100, "--outputs: nested more than 32 levels deep"),
])
def test_a_bad_outputs_file_is_refused(entitled: Project, tmp_path: Path, content: str, expected: str) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(content)
    code, out, err = export(entitled, "--outputs", str(outputs))
    assert code == 2 and out == "" and expected in err


def test_a_missing_summary_event_refuses_the_export_too(entitled: Project) -> None:
    entitled.catalog(ENTITLED.replace("    - entitlements.active_entitlement_summary.updated\n", ""))
    code, out, err = export(entitled)
    assert code == 2 and out == "" and "entitlements.active_entitlement_summary.updated" in err


# ---------------------------------------------------------------- the TypeScript module type-checks


APP = """\
import { ENTITLEMENTS, TIERS, isEntitled, limitOf, planOfPrice, type PlanKey } from "./tiers";
const plan: PlanKey = planOfPrice("pro_monthly") ?? "free";
const reports: boolean = isEntitled(["premium_reports"], "premium_reports");
const requests = limitOf(plan, "requests");
console.log(TIERS[plan].name, ENTITLEMENTS.sso.name, reports, requests);
// @ts-expect-error a misspelt feature key is a type error, not a silent false
isEntitled([], "premium_report");
// @ts-expect-error so is a plan the catalog does not have
limitOf("gold", "requests");
"""


def _tsc() -> Path:
    """tsc from npm, installed once under the temp dir (never in the repository)."""
    prefix = Path(tempfile.gettempdir()) / "billing-tests-typescript-5"
    tsc = prefix / "node_modules" / ".bin" / "tsc"
    if tsc.exists():
        return tsc
    npm = shutil.which("npm", path=TOOLS_PATH)
    if npm is None:
        pytest.skip("npm is not installed: the TypeScript module's shape is asserted by the snapshot only")
    try:
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        "typescript@5"], check=True, capture_output=True, timeout=120, env={**os.environ, "PATH": TOOLS_PATH})
    except (subprocess.SubprocessError, OSError) as error:
        pytest.skip(f"typescript could not be installed from npm ({type(error).__name__}): the module's "
                    "shape is asserted by the snapshot only")
    return tsc


def test_the_typescript_module_type_checks_in_an_app(entitled: Project, tmp_path: Path) -> None:
    path = TOOLS_PATH
    tsc = _tsc()
    code, out, _ = export(entitled, "--format", "ts")
    assert code == 0
    (tmp_path / "tiers.ts").write_text(out)
    (tmp_path / "app.ts").write_text(APP)
    done = subprocess.run([str(tsc), "--noEmit", "--strict", "--target", "es2020", "--module", "esnext",
                           "--moduleResolution", "bundler", "tiers.ts", "app.ts"], check=False, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, env={"PATH": path})
    # `@ts-expect-error` fails the build when its line has no error: the wrong keys really are refused.
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- the contract on the host


TIERS_NAME = "hosting:\n  names: {tiers: BILLING_TIERS}\n"


@pytest.mark.parametrize("stack", ["test", "live"])
def test_the_stack_can_write_the_contract_to_the_host_as_one_variable(project: Project, stack: str) -> None:
    from tests.support.mock_program import run
    from tests.support.policy_pack import unwrap

    project.catalog(ENTITLED + TIERS_NAME)
    plan = run(project, stack)
    written = [r for r in plan.of_type("vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable")
               if r.inputs["key"] == "BILLING_TIERS"]
    targets = sorted(t for r in written for t in r.inputs["targets"])
    assert targets == (["development", "preview"] if stack == "test" else ["production"])
    value = unwrap(written[0].inputs["value"])
    contract = json.loads(value)
    assert contract["plans"]["pro"]["entitlements"] == ["premium_reports", "api_access"]
    assert contract["plans"]["free"]["limits"] == {"requests": 5}
    assert (contract["stack"], contract["mode"]) == (stack, stack)
    assert "\n" not in value and '": ' not in value  # compact: one line


def test_a_contract_too_big_for_one_variable_is_refused(project: Project) -> None:
    many = "".join(f"  f{n:03d}_{'x' * 60}: {{name: Feature {n} {'y' * 60}}}\n" for n in range(40))
    keys = ", ".join(f"f{n:03d}_{'x' * 60}" for n in range(40))
    catalog = (ENTITLED.replace("entitlements: [premium_reports, api_access]\n",
                                f"entitlements: [premium_reports, api_access, {keys}]\n")
               .replace("  sso: {name: Single sign-on}\n", "  sso: {name: Single sign-on}\n" + many))
    project.catalog(catalog + TIERS_NAME)
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    assert code == 2 and "hosting.names.tiers: the tier contract is" in err
    assert "over the 5000 a host variable can hold" in err
    project.catalog(catalog)
    assert run_cli("validate", "--stack", "test", "--project", str(project.root))[0] == 0
