"""Scenario 4 under the real engine: for every change kind `billing diff` describes, the
step the engine computes per URN is the one `diff` claimed. The agreement is printed as a
table (`make engine-test` shows it with -s; it is in the failure message otherwise)."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.engine.catalogs import EVERY_FEATURE, TEST_COUPONS
from tests.engine.harness import Project

# Edits of EVERY_FEATURE, one change kind each: (kind, old text, new text). Each must appear
# exactly once in the catalog, so an edit can never silently do nothing; a kind that needs
# two edits joins them with EDIT_SEP.
EDITS = [
    ("product rename", "    name: Pro\n", "    name: Pro Plus\n"),
    ("new price", '      yearly: {amount: "290.00"',
     '      biannual: {amount: "150.00", currency: usd, interval: month, interval_count: 6}\n'
     '      yearly: {amount: "290.00"'),
    ("archived price", "interval: month, interval_count: 3}", "interval: month, interval_count: 3, archived: true}"),
    ("lookup-key move", "tax_behavior: exclusive, metadata: {channel: web}}",
     "tax_behavior: exclusive, metadata: {channel: web}, archived: true}\n"
     '      monthly_v2: {amount: "39.00", currency: usd, interval: month, lookup_key: pro_monthly}'),
    ("portal change", "headline: Billing,", "headline: Your billing,"),
    ("switching turned off", "allowed_updates: [price, promotion_code]}",
     "allowed_updates: [price, promotion_code], enabled: false}"),
    ("entitlement added", "  sso: {name: Single sign-on}\n" + "\0" + "entitlements: [premium_reports, sso]",
     "  sso: {name: Single sign-on}\n  audit_log: {name: Audit log}\n" + "\0"
     + "entitlements: [premium_reports, sso, audit_log]"),
    ("entitlement renamed", "api_access: {name: API access}", "api_access: {name: API access (v2)}"),
    ("entitlement removed", "  sso: {name: Single sign-on}\n" + "\0" + "entitlements: [premium_reports, sso]",
     "" + "\0" + "entitlements: [premium_reports]"),
    ("host variable added", '  extra: {CLERK_SECRET_KEY: "app:clerkSecretKey"}',
     '  extra: {CLERK_SECRET_KEY: "app:clerkSecretKey", NEON_URL: "app:neonUrl"}'),
    ("host variable renamed", "names: {publishable_key: PUBLIC_STRIPE_KEY}",
     "names: {publishable_key: NEXT_PUBLIC_STRIPE_KEY}"),
    ("host variable removed", "  price_names: {ent-eur: STRIPE_PRICE_ENTERPRISE}\n", ""),
]
STACK_EDITS = [
    # The CLI rewrites the stack file's layout on `config set`: anchor on the text alone.
    ("coupon rename", "name: Launch\n", "name: Launch offer\n"),
]
EDIT_SEP = "\0"
# Engine ops that are one replace of one resource.
REPLACE_OPS = {"replace", "create-replacement", "delete-replaced"}


def _git(project: Project, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project.root, check=True, capture_output=True, timeout=60,
                   env={**project.env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def _engine_ops(steps: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    ops: dict[tuple[str, str], str] = {}
    for step in steps:
        _, _, types, name = step["urn"].split("::", 3)
        kind = types.rsplit("$", 1)[-1]
        if kind.startswith(("pulumi:pulumi:", "pulumi:providers:")):
            continue
        op = "replace" if step["op"] in REPLACE_OPS else step["op"]
        ops[(kind, name)] = op
    return ops


@pytest.mark.usefixtures("providers")
def test_every_change_kind_the_engine_does_what_diff_said(new_project: Any, capsys: Any) -> None:
    project: Project = new_project(EVERY_FEATURE)
    project.init_stack("test", secrets={"app:clerkSecretKey": "clerk" + "S3cr" * 6,
                                        "app:neonUrl": "postgres://u:" + "p" * 12 + "@db.local/app"})
    project.config_yaml("test", TEST_COUPONS)
    project.pulumi("up", "--yes", "--skip-preview", stack="test")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "deployed")

    rows: list[tuple[str, str, str, str, str]] = []
    for kind, old, new in [*EDITS, *STACK_EDITS]:
        path = project.root / ("Pulumi.test.yaml" if (kind, old, new) in STACK_EDITS else "stacks/catalog.yaml")
        text = edited = path.read_text(encoding="utf-8")
        for part_old, part_new in zip(old.split(EDIT_SEP), new.split(EDIT_SEP), strict=True):
            assert edited.count(part_old) == 1, f"{kind}: the edit's anchor must appear once"
            edited = edited.replace(part_old, part_new)
        path.write_text(edited, encoding="utf-8")
        claimed = project.billing("diff", "--base", "HEAD", "--stack", "test", "--format", "json")
        # An error (exit 2) is a claim too: what `up` would do if forced past the gate.
        assert claimed.returncode in (0, 1, 2) and claimed.stdout, f"{kind}: diff failed\n{claimed.stderr}"
        changes = json.loads(claimed.stdout)["changes"]  # one stack asked: every change is its
        engine = _engine_ops(project.preview_steps("test"))
        claims = {(c["resource"]["type"], c["resource"]["name"]): c["step"] for c in changes
                  if c["resource"] and c["step"] in ("same", "update", "replace", "create", "delete")}
        assert claims or any(c["group"] == "hosting" for c in changes), f"{kind}: diff claimed nothing"
        for resource, step in sorted(claims.items()):
            got = engine.get(resource, "same")
            rows.append((kind, f"{resource[0].split(':')[-1]} {resource[1]}", step, got,
                         "yes" if got == step else "NO"))
        # Whatever else the engine changes must have been announced by diff: a host value by a
        # change that names its variable (`development-STRIPE_PRICE_PRO_MONTHLY` is named by
        # a change saying STRIPE_PRICE_PRO_MONTHLY moves to the new price).
        said = " ".join(f"{c['subject']} {c['message']}" for c in changes)
        for resource, op in sorted(engine.items()):
            if op == "same" or resource in claims:
                continue
            variable = resource[1].split("-", 1)[-1]
            named = not resource[0].startswith("stripe:") and re.search(rf"\b{re.escape(variable)}\b", said)
            rows.append((kind, f"{resource[0].split(':')[-1]} {resource[1]}", "(host value)" if named else "-",
                         op, "yes" if named else "NO"))
        path.write_text(text, encoding="utf-8")  # back to the deployed state for the next kind

    table = _table(rows)
    with capsys.disabled():
        print("\n" + table)
    assert all(row[-1] == "yes" for row in rows), table


def _table(rows: list[tuple[str, ...]]) -> str:
    header = ("change kind", "resource", "diff said", "engine did", "agree")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])
