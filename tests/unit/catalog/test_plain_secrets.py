"""A secret's shape in the catalog or a plain setting is refused, and no message quotes it."""

from __future__ import annotations

import json

import pytest

from tests.support.project import Project, run_cli
from tests.support.repository import CATALOG

pytestmark = pytest.mark.pure

SECRET = "sk_" + "live_" + "Pl41n" * 5
STACK_FILE_EDITS = {
    "coupon name": ("name: Launch week", f"name: {SECRET}"),
    "coupon key": ("    launch:\n", f"    {SECRET}:\n"),
}
CATALOG_EDITS = {
    "plan description": ("description: Unlimited API requests and premium features", f"description: {SECRET}"),
    "price nickname": ('yearly:  {amount: "290.00", currency: usd, interval: year}',
                       f'yearly:  {{amount: "290.00", currency: usd, interval: year, nickname: {SECRET}}}'),
    "top-level key": ("webhook:\n", f"{SECRET}: 1\nwebhook:\n"),
    "yaml tag": ("name: Free", f"name: !{SECRET} Free"),
    "yaml alias": ("name: Free", f"name: *{SECRET}"),
}


@pytest.mark.parametrize("kind", list(CATALOG_EDITS))
@pytest.mark.parametrize("command", ["validate", "plan", "export"])
def test_a_secret_in_the_catalog_is_refused_and_never_printed(project: Project, kind: str, command: str) -> None:
    old, new = CATALOG_EDITS[kind]
    assert old in CATALOG
    project.catalog(CATALOG.replace(old, new))
    code, out, err = run_cli(command, "--stack", "test", "--project", str(project.root))
    assert code == 2, (out, err)
    assert SECRET not in out + err and "Traceback" not in err


@pytest.mark.parametrize("kind", list(STACK_FILE_EDITS))
def test_a_secret_in_a_plain_stack_setting_is_refused_and_never_printed(project: Project, kind: str) -> None:
    old, new = STACK_FILE_EDITS[kind]
    text = (project.root / "Pulumi.test.yaml").read_text()
    assert old in text
    project.stack("test", text.replace(old, new))
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 2 and SECRET not in out + err
    assert "holds a secret's shape in plain text" in err or "sk_live_..." in err


def test_a_secret_in_pulumi_config_coupons_is_refused(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    coupons = {"a": {"name": SECRET, "percent_off": 5, "duration": "once"}}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:coupons": json.dumps(coupons)}))
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 2 and SECRET not in out + err
    assert "billing:coupons: holds a secret's shape in plain text" in err
