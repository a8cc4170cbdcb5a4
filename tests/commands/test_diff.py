"""`diff` on real git history: a temporary repository, commits, and the working tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.git_history import commit, diff, git
from tests.support.project import VERCEL_PROJECT, Project, run_cli
from tests.support.repository import CATALOG, REPO

MONTHLY = 'monthly: {amount: "29.00", currency: usd, interval: month}'
YEARLY = 'yearly:  {amount: "290.00", currency: usd, interval: year}'


@pytest.fixture
def repo(project: Project) -> Project:
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "ci@example.com")
    git(project, "config", "user.name", "CI")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "catalog")
    return project


def test_no_change_is_exit_0(repo: Project) -> None:
    code, out, _ = diff(repo)
    assert code == 0 and "no billing change" in out


def test_a_new_amount_is_refused_with_the_edit_that_fixes_it(repo: Project) -> None:
    repo.catalog(CATALOG.replace(MONTHLY, 'monthly: {amount: "39.00", currency: usd, interval: month}'))
    code, out, _ = diff(repo)
    assert code == 2
    line = next(line for line in out.splitlines() if "pro_monthly" in line)
    assert line.startswith("  ERROR pro_monthly: 29.00 USD every month -> 39.00 USD every month: a Stripe "
                           "price's terms never change.")
    for words in ("replaces the price: live refuses it (protected)",
                  "the new price cannot take the lookup key the old one (never deleted by the provider) still "
                  "holds, so `up` stops",
                  "existing subscribers must stay on the old price at the old terms",
                  "keep `monthly` as it was with `archived: true`", "add a new price key, e.g. `monthly_v2`",
                  "`lookup_key: pro_monthly` (it takes the key over)", "billing reprice pro.monthly 39.00"):
        assert words in line
    # The provider's source lines are for --explain; the default advice stays short.
    assert "resource_stripe_price.go" not in out
    _, explained, _ = diff(repo, "--explain")
    line = next(line for line in explained.splitlines() if "pro_monthly" in line)
    assert "billing reprice pro.monthly 39.00` (resource_stripe_price.go L40" in line


def test_a_new_interval_is_a_silent_no_op_and_refused(repo: Project) -> None:
    repo.catalog(CATALOG.replace(MONTHLY, 'monthly: {amount: "29.00", currency: usd, interval: week}'))
    code, out, _ = diff(repo)
    assert code == 2
    assert ("ERROR pro_monthly: 29.00 USD every month -> 29.00 USD every week: a Stripe price's terms never "
            "change. This edit is never sent by the provider's Update") in out
    assert "e.g. `monthly_week`" in out


def test_metadata_nickname_and_lookup_key_changes_are_in_place(repo: Project) -> None:
    repo.catalog(CATALOG.replace(MONTHLY, 'monthly: {amount: "29.00", currency: usd, interval: month, '
                                          'nickname: Pro, metadata: {tier: gold}, lookup_key: pro_m}'))
    code, out, _ = diff(repo)
    assert code == 1  # the lookup key move is a warning: code using the old key finds nothing
    assert "INFO  pro_m: metadata, nickname updated in place; the price ID stays" in out
    assert "WARN  pro_m: lookup key 'pro_monthly' -> 'pro_m' (in place, the price ID stays)" in out
    assert "STRIPE_PRICE_PRO_MONTHLY becomes STRIPE_PRICE_PRO_M" in out
    assert "REPLACES" not in out


def test_removing_a_price_before_archiving_it_is_an_error(repo: Project) -> None:
    repo.catalog(CATALOG.replace("      " + YEARLY + "\n", ""))
    code, out, _ = diff(repo)
    assert code == 2
    assert "ERROR pro_yearly: removed without being archived first" in out
    assert "290.00 USD every year would stay purchasable" in out
    # The safe path: archive in one commit, remove in the next.
    commit(repo, CATALOG.replace(YEARLY, YEARLY[:-1] + ", archived: true}"), "archive yearly")
    code, out, _ = diff(repo, base="main~1")
    assert code == 1 and "WARN  pro_yearly: archived: no new checkouts" in out
    repo.catalog(CATALOG.replace("      " + YEARLY + "\n", ""))
    code, out, _ = diff(repo)
    assert code == 0 and "INFO  pro_yearly: removed: the archived price; only dropped from the stack" in out
    # On live every Stripe resource is protected: the engine refuses the delete, so diff does.
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "live", "--project", str(repo.root))
    assert code == 2
    assert ("ERROR pro_yearly: removed: the archived price is protected on live, so `up` refuses to delete it"
            in out)
    assert ("pulumi state unprotect 'urn:pulumi:live::billing::billing:stripe:Billing$stripe:index/price:"
            "Price::pro-yearly' --stack live") in out


def test_an_api_version_upgrade_runs_two_endpoints_and_drops_no_event(repo: Project) -> None:
    one_step = CATALOG.replace('api_version: "2026-10-28.endive"', 'api_version: "2025-03-31.basil"')
    repo.catalog(one_step)
    code, out, _ = diff(repo)
    assert code == 2 and "ERROR endpoint: api_version 2026-10-28.endive -> 2025-03-31.basil in one step" in out
    assert "add `next_api_version: 2025-03-31.basil`" in out
    # Step 1: a second endpoint beside the first; the app gets both secrets.
    started = CATALOG.replace('api_version: "2026-10-28.endive"',
                              'api_version: "2026-10-28.endive"\n  next_api_version: "2025-03-31.basil"')
    commit(repo, started, "start the upgrade")
    code, out, _ = diff(repo, base="main~1")
    assert code == 1 and "WARN  STRIPE_WEBHOOK_SECRET_NEXT: added" in out
    assert "INFO  endpoint: upgrade started: a second endpoint on API version 2025-03-31.basil" in out
    assert "its secret is written as STRIPE_WEBHOOK_SECRET_NEXT to preview and development" in out
    # Step 2: the new endpoint becomes the main one; the old one is deleted (refused on live).
    repo.catalog(one_step)
    code, out, _ = diff(repo)
    assert code == 1
    assert "WARN  endpoint: upgrade finished: STRIPE_WEBHOOK_SECRET now holds the secret of the 2025" in out
    assert "INFO  endpoint 2026-10-28.endive: removed: the endpoint on API version 2026-10-28.endive; it is " \
           "deleted in Stripe" in out
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "live", "--project", str(repo.root))
    assert code == 2 and "pulumi state unprotect" in out


def test_events_are_updated_in_place(repo: Project) -> None:
    changed = CATALOG.replace("    - customer.subscription.deleted\n",
                              "    - customer.subscription.deleted\n    - invoice.paid\n")
    repo.catalog(changed.replace("    - checkout.session.completed\n", ""))
    code, out, _ = diff(repo)
    assert code == 1
    assert "INFO  events: now delivered: invoice.paid" in out
    assert "WARN  events: no longer delivered: checkout.session.completed" in out


def test_portal_key_and_hosting_changes(repo: Project) -> None:
    changed = CATALOG.replace("invoice_history: true", "invoice_history: false") + (
        "hosting:\n  price_names: {pro_yearly: STRIPE_PRICE_ID_PRO_YEARLY}\n"
        "keys:\n  app:\n    purpose: the app\n    permissions:\n"
        "      Checkout Sessions: write\n      Customers: write\n      Subscriptions: write\n"
        "      Customer portal: write\n      Products: read\n      Prices: read\n      Invoices: read\n")
    repo.catalog(changed)
    code, out, _ = diff(repo)
    assert code == 1
    assert "INFO  invoice_history: True -> False (in place" in out
    assert "WARN  app key: Invoices: None -> Read. Manual Dashboard work" in out
    assert "WARN  STRIPE_PRICE_ID_PRO_YEARLY: added" in out
    assert "WARN  STRIPE_PRICE_PRO_YEARLY: deleted from preview and development" in out


def test_markdown_is_a_pull_request_comment(repo: Project) -> None:
    repo.catalog(CATALOG.replace("      " + YEARLY + "\n", ""))
    code, out, _ = diff(repo, "--format", "markdown")
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "<!-- billing-diff -->" and lines[1] == "## Billing diff against `main`"
    assert "| `test` | test | 1 error, 1 warning, 1 in place / info |" in out
    assert ("| :x: error | `-` `stripe:index/price:Price` `pro-yearly` | `test` | `pro_yearly`: removed without "
            "being archived first") in out
    assert "#### Hosting" in out


def test_a_stack_that_did_not_exist_at_the_base_is_all_new(repo: Project) -> None:
    code, out, _ = run_cli("diff", "--base", "main", "--project", str(repo.root))
    assert code == 0 and out.count("billing diff: stack") == 2
    # Its own Vercel project: two test-mode stacks on one project would own the same variables.
    repo.stack("staging", (repo.root / "Pulumi.test.yaml").read_text().replace(VERCEL_PROJECT,
                                                                                "prj_Staging"))
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "staging", "--project", str(repo.root))
    assert code == 0 and "everything in the stack is new" in out


def test_an_unknown_revision_is_exit_2(repo: Project) -> None:
    code, out, err = diff(repo, base="no-such-branch")
    assert code == 2 and out == ""
    assert "--base: 'no-such-branch' is not a revision in this repository" in err


def test_a_project_in_a_folder_of_a_larger_repository_reads_its_base_from_that_folder(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    project = Project(tmp_path / "app")
    # The top of the repository holds files of the same names: only the project's own may be read.
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "catalog.yaml").write_text("not: [the project's catalog\n")
    (tmp_path / "Pulumi.test.yaml").write_text("config: {billing:mode: live}\n")
    # The catalog named as `./stacks/...`, which git finds only once it is `stacks/...`.
    stack = (project.root / "Pulumi.test.yaml").read_text() + "  billing:catalog: ./stacks/catalog.yaml\n"
    project.stack("test", stack)
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.email=ci@example.com", "-c", "user.name=CI", "commit", "-q", "-m", "monorepo"]):
        subprocess.run(["git", "-C", str(tmp_path), *argv], check=True, capture_output=True)
    code, out, _ = diff(project)
    assert code == 0 and "no billing change" in out
    project.catalog(CATALOG.replace(MONTHLY, 'monthly: {amount: "39.00", currency: usd, interval: month}'))
    code, out, _ = diff(project)
    assert code == 2 and "ERROR pro_monthly: 29.00 USD every month -> 39.00 USD every month" in out
    assert "the base's own problem" not in out
    # Every stack, found in the project's folder at the base: one deleted here is an error, not "no change".
    project.catalog(CATALOG)
    (project.root / "Pulumi.live.yaml").unlink()
    code, out, _ = run_cli("diff", "--base", "main", "--project", str(project.root))
    assert code == 2 and "ERROR Pulumi.live.yaml: removed: Pulumi.live.yaml is at main and not here" in out


def test_reprice_writes_the_safe_edit_that_diff_and_the_provider_accept(repo: Project) -> None:
    code, out, _ = run_cli("reprice", "pro.monthly", "39.00", "--project", str(repo.root))
    assert code == 0 and "takes lookup key 'pro_monthly' over" in out
    text = (repo.root / "stacks" / "catalog.yaml").read_text()
    assert 'monthly: {amount: "29.00", currency: usd, interval: month, archived: true}' in text
    assert 'monthly_v2: {amount: "39.00", currency: usd, interval: month, lookup_key: pro_monthly}' in text
    assert "# The billing catalog both stacks deploy" in text  # comments survive
    code, out, _ = diff(repo)
    assert code == 0 and "ERROR" not in out and "WARN" not in out, out
    assert "INFO  pro_monthly: added: 39.00 USD every month; it takes lookup key 'pro_monthly' over" in out
    # The variable stays: it holds the new price's ID from now on.
    assert "its lookup key and STRIPE_PRICE_PRO_MONTHLY move to the price that takes it over" in out


@pytest.mark.parametrize(("argv", "message"), [
    (("pro.monthly", "39.001"), "39.001 has 3 decimals; usd allows at most 2"),
    (("pro.weekly", "5"), "has no price pro.weekly"),
    (("pro", "5"), "'pro' is not PLAN.PRICE"),
    (("pro.monthly", "-5"), "'-5' is not a decimal amount"),
])
def test_reprice_refuses_and_leaves_the_catalog_alone(repo: Project, argv: tuple[str, str], message: str) -> None:
    before = (repo.root / "stacks" / "catalog.yaml").read_text()
    code, _, err = run_cli("reprice", *argv, "--project", str(repo.root))
    assert code == 2 and message in err and "the catalog was not changed" in err
    assert (repo.root / "stacks" / "catalog.yaml").read_text() == before


# ---------------------------------------------------------------- a base that no longer validates


@pytest.mark.on_the_repository
def test_a_base_whose_stack_file_is_broken_is_no_traceback(repo: Project) -> None:
    (repo.root / "Pulumi.test.yaml").write_text("config:\n  billing:mode: [test\n")
    git(repo, "commit", "-q", "-am", "break the stack file")
    repo.stack("test", (REPO / "Pulumi.test.yaml").read_text())
    code, out, err = diff(repo)
    assert code == 0 and err == ""
    assert "INFO  at main: the base's own problem: Pulumi.test.yaml:3: (syntax): expected ',' or ']'" in out
    assert ("INFO  at main: the base does not validate, so only its plans and prices (removed ones, and the "
            "terms of kept ones) are compared") in out


def test_a_price_removed_since_a_broken_base_is_an_error(repo: Project) -> None:
    # The base's catalog has a mistake elsewhere; the working tree fixes it and drops a price.
    commit(repo, CATALOG.replace("currency: usd, interval: year", "currency: usdd, interval: year"), "typo")
    repo.catalog(CATALOG.replace("      " + YEARLY + "\n", ""))
    code, out, _ = diff(repo)
    assert code == 2
    assert "INFO  at main: the base's own problem: stacks/catalog.yaml:17: plans.pro.prices.yearly.currency: " \
           "'usdd' is not a currency Stripe supports" in out
    assert "ERROR pro_yearly: removed without being archived first: the provider cannot delete prices" in out
    assert "everything in the stack is new" not in out


def test_a_plan_removed_since_a_broken_base_lists_each_price(repo: Project) -> None:
    commit(repo, CATALOG.replace('api_version: "2026-10-28.endive"', 'api_version: "2026-10-28"'), "bad version")
    without = CATALOG.replace("  enterprise:\n    name: Enterprise Plan\n    limits: {requests: unlimited}\n"
                              "    prices:\n      monthly: {amount: \"99.00\", currency: usd, interval: month}\n", "")
    repo.catalog(without.replace("    plans: [pro, enterprise]", "    plans: [pro]"))
    code, out, _ = diff(repo, "--format", "markdown")
    assert code == 2
    assert "| :warning: warning |  | `test` | `enterprise`: removed since the base: the product stays in Stripe" in out
    assert "| :x: error |  | `test` | `enterprise_monthly`: removed without being archived first" in out


def test_an_archived_price_dropped_since_a_broken_base_is_still_a_warning(repo: Project) -> None:
    archived = CATALOG.replace(YEARLY, YEARLY[:-1] + ", archived: true}")
    commit(repo, archived.replace("invoice_history: true", "invoice_history: maybe"), "archive, with a typo")
    repo.catalog(CATALOG.replace("      " + YEARLY + "\n", ""))
    code, out, _ = diff(repo)
    assert code == 1  # never 0 when a price disappeared
    assert "WARN  pro_yearly: removed; the base marks it archived, but the base does not validate" in out


def test_a_base_catalog_outside_the_project_is_not_read(repo: Project) -> None:
    stack = (repo.root / "Pulumi.test.yaml").read_text()
    (repo.root / "Pulumi.test.yaml").write_text(stack + "  billing:catalog: ../../outside.yaml\n")
    git(repo, "commit", "-q", "-am", "point outside")
    repo.stack("test", stack)
    code, out, _ = diff(repo)
    assert code == 1
    assert "the base's own problem: ../../outside.yaml: (file): is outside the project at this revision" in out
    assert "WARN  at main: the base's catalog could not be read, so prices removed since then cannot be " \
           "found: review the price changes by hand" in out


def test_a_terms_change_is_refused_even_when_the_base_does_not_validate(repo: Project) -> None:
    commit(repo, CATALOG + "bogus: 1\n", "a base that no longer validates")
    repo.catalog(CATALOG.replace(MONTHLY, 'monthly: {amount: "39.00", currency: usd, interval: month}'))
    code, out, _ = run_cli("diff", "--base", "main", "--stack", "live", "--project", str(repo.root))
    assert code == 2
    assert "ERROR pro_monthly: 29.00 USD every month -> 39.00 USD every month: a Stripe price's terms" in out


def test_diff_without_git_is_refused_not_a_crash(repo: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, out, err = diff(repo)
    assert code == 2 and out == ""
    assert "git is not installed or not on PATH" in err and "Traceback" not in err


def test_reprice_twice_numbers_the_next_price_and_refuses_the_same_amount(repo: Project) -> None:
    assert run_cli("reprice", "pro.monthly", "39.00", "--project", str(repo.root))[0] == 0
    code, out, _ = run_cli("reprice", "pro.monthly_v2", "49.00", "--project", str(repo.root))
    assert code == 0 and "pro.monthly_v3 sells at 49.00 USD" in out
    code, _, err = run_cli("reprice", "pro.monthly_v3", "49.00", "--project", str(repo.root))
    assert code == 2 and "already sells at 49.00; nothing to do" in err
