"""`billing plan` as a reviewer reads it: summary first, one variable table, nested inputs; JSON whole."""

from __future__ import annotations

import io
import json
from typing import Any

from infra.commands.plan import offline
from infra.commands.plan import view as plan_view
from tests.support.project import VERCEL_PROJECT, Project, run_cli


def plan_text(stack: str, project: Project, *extra: str) -> list[str]:
    code, out, err = run_cli("plan", "--stack", stack, "--project", str(project.root), *extra)
    assert code == 0, err
    return out.splitlines()


def test_the_plan_leads_with_a_summary(project: Project) -> None:
    lines = plan_text("test", project)
    assert lines[0] == "Offline plan of stack 'test' (test mode)"
    summary = lines[lines.index("Summary: 27 resources would be registered"):][:9]
    assert lines.index(summary[0]) < 5
    # The kinds wrap within the width: the row goes on, indented, under its own column.
    assert (summary[1] + summary[2]).split() == [
        "stripe:", "9", "1", "coupon,", "1", "portal", "configuration,", "3", "prices,", "2", "products,", "1",
        "promotion", "code,", "1", "webhook", "endpoint"]
    assert summary[3].split() == ["vercel:", "14", "14", "project", "environment", "variables"]
    assert summary[4].strip() == "development: 7 values (none sensitive)"
    assert summary[5].strip() == "preview: 7 values (all sensitive)"
    assert summary[6].split() == ["plumbing:", "4", "2", "components,", "2", "providers"]
    assert summary[7].split()[:3] == ["protected:", "-", "nothing"]
    assert summary[8].split()[:3] == ["adopted:", "-", "nothing:"]


def test_live_says_what_is_protected(project: Project) -> None:
    lines = plan_text("live", project)
    protected = next(line for line in lines if line.lstrip().startswith("protected:"))
    assert protected.split(None, 2)[1:] == [
        "10", "every stripe resource (9), 1 provider: Pulumi refuses to delete or replace them"]
    assert "+ stripe:index/price:Price  pro-monthly  [protected]" in lines
    assert next(line for line in lines if line.lstrip().startswith("production:")).strip() == (
        "production: 7 values (all sensitive)")


def test_host_variables_are_one_table_of_name_by_target(project: Project) -> None:
    lines = plan_text("test", project)
    assert not any("ProjectEnvironmentVariable" in line for line in lines)  # no block per variable
    start = lines.index("Values on the host (14 vercel resources: one per name and target)")
    assert lines[start + 1] == f'  the same on every one: {{"projectId": "{VERCEL_PROJECT}", "value": "[secret]"}}'
    start += 1
    assert lines[start + 1].split() == ["name", "development", "preview", "holds"]
    rows = {line.split()[0]: line.split(None, 3)[1:] for line in lines[start + 2: start + 9]}
    assert set(rows) == {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
                         "STRIPE_PORTAL_CONFIGURATION_ID", "STRIPE_PRICE_PRO_MONTHLY", "STRIPE_PRICE_PRO_YEARLY",
                         "STRIPE_PRICE_ENTERPRISE_MONTHLY"}
    assert all(row[:2] == ["plain", "sensitive"] for row in rows.values())
    # What each holds, without the words every comment repeats.
    assert rows["STRIPE_SECRET_KEY"][2] == "the app's Stripe key (billing:appStripeKey)"
    assert rows["STRIPE_PRICE_PRO_MONTHLY"][2] == "the ID of price 'pro_monthly'"
    assert lines[start + 9] == ""


def test_nested_inputs_get_a_line_per_member_and_short_ones_stay_inline(project: Project) -> None:
    lines = plan_text("test", project, "--verbose")  # every input, nested (the default summarises)
    portal = lines.index("+ stripe:index/portalConfiguration:PortalConfiguration  portal")
    block = lines[portal: lines.index("+ stripe:index/price:Price  enterprise-monthly")]
    assert '    businessProfile: {"headline": "Manage your subscription"}' in block
    assert '        - defaultAllowedUpdates: ["price"]' in block
    assert '            - prices: ["<pro-monthly.id>", "<pro-yearly.id>"]' in block
    assert '      invoiceHistory: {"enabled": true}' in block
    assert all(len(line) <= plan_view.WIDTH for line in lines if line.startswith("    "))
    assert '    unitAmount: 2900' in lines  # scalars as before
    assert len(lines) < 170  # it was 211 for these 27 resources


def test_a_first_plan_claims_no_difference_from_a_last_update(project: Project) -> None:
    lines = plan_text("test", project)
    assert not any("differ from this stack's last update" in line for line in lines)


VARIABLE = "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable"


def registration(type_: str, name: str, inputs: dict[str, Any], protect: bool = False,
                 import_id: str = "") -> offline.Registration:
    return offline.Registration(type_, name, inputs, parent="", protect=protect, delete_before_replace=False,
                                import_id=import_id)


def synthetic() -> offline.Plan:
    return offline.Plan(stack="s", resources=[
        registration("stripe:index/product:Product", "pro", {"name": "Pro"}, True, "prod_1"),
        registration("stripe:index/price:Price", "pro-monthly", {"unitAmount": 2900.0}, True, "price_1"),
        registration("stripe:index/price:Price", "pro-yearly", {"unitAmount": 29000.0}),
        registration(VARIABLE, "production-A", {"key": "A", "targets": ["production"], "sensitive": True,
                                                "value": "[secret]", "projectId": "p", "comment": "only one"}),
        # An input the table has no column for: this one is listed whole.
        registration(VARIABLE, "preview-B", {"key": "B", "targets": ["preview"], "sensitive": False,
                                             "value": "[secret]", "projectId": "p", "gitBranch": "main"}),
    ], outputs={"mode": "test"})


def test_adopted_and_partly_protected_resources_are_summarised() -> None:
    out = io.StringIO()
    plan_view.to_text(synthetic(), [], out)
    lines = out.getvalue().splitlines()
    summary = {line.split(None, 1)[0]: line.split(None, 1)[1] for line in lines[5:11]}
    assert summary["adopted:"] == "2  pro-monthly (price_1), pro (prod_1)"
    assert summary["protected:"] == "2  1 price, 1 product: Pulumi refuses to delete or replace them"
    assert not any("plumbing" in line or "Providers" in line for line in lines)  # none in this plan
    assert "= stripe:index/product:Product  pro  (adopts prod_1)  [protected]" in lines
    assert "+ vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable  preview-B" in lines
    assert '    gitBranch: "main"' in lines
    table = lines.index("Values on the host (1 vercel resources: one per name and target)")
    assert lines[table + 1] == "  the same on every one:" and '    projectId: "p"' in lines[table + 2: table + 7]
    assert lines[table + 7: table + 9] == ["  name  production  holds", "  A     sensitive   only one"]


def test_json_keeps_every_registration_whole() -> None:
    plan = synthetic()
    out = io.StringIO()
    plan_view.to_json(plan, ["stripe:apiKey"], out)
    data = json.loads(out.getvalue())
    assert [(r["type"], r["name"]) for r in data["resources"]] == sorted((r.type, r.name) for r in plan.resources)
    by_name = {r["name"]: r for r in data["resources"]}
    assert by_name["pro"] == {"type": "stripe:index/product:Product", "name": "pro", "inputs": {"name": "Pro"},
                              "protect": True, "adopts": "prod_1"}
    assert by_name["pro-yearly"]["inputs"] == {"unitAmount": 29000}
    assert by_name["preview-B"]["inputs"]["gitBranch"] == "main"
    assert data["summary"] == {
        "resources": 5,
        "by_type": {"stripe:index/price:Price": 2, "stripe:index/product:Product": 1,
                    "vercel:index/projectEnvironmentVariable:ProjectEnvironmentVariable": 2},
        "host_targets": {"preview": {"values": 1, "sensitive": 0},
                         "production": {"values": 1, "sensitive": 1}},
    }
    assert data["placeholders"] == ["stripe:apiKey"] and data["offline"] is True


def test_a_cloudflare_stack_tables_its_worker_secrets(project: Project) -> None:
    project.stack("test", """\
        config:
          billing:mode: test
          billing:host: cloudflare
          billing:cloudflareAccountId: 0123456789abcdef0123456789abcdef
          billing:workerScript: api-staging
          billing:domain: api-staging.example.com
        """)
    code, out, err = run_cli("plan", "--stack", "test", "--project", str(project.root))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[lines.index("Summary: 17 resources would be registered") + 1: ][:2] == [
        "  cloudflare:   7  7 worker secrets", "                   api-staging: 7 values (all sensitive)"]
    assert not any("WorkerSecret" in line for line in lines)  # one table, no block per secret
    table = lines.index("Values on the host (7 cloudflare resources: one per name and target)")
    assert '    scriptName: "api-staging"' in lines[table: table + 7]
    assert '    type: "secret_text"' in lines[table: table + 7]
    header = lines.index("  name                                api-staging")
    assert lines[header + 1].split() == ["NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY", "sensitive"]
    assert len(lines[header + 1: header + 8]) == 7
