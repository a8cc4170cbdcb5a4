"""Where `pull` writes: only plain files it may replace, never through a link, never stacks/, and
nothing at all when the result is refused (a secret in the account, a catalog that does not validate)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.core import exits
from tests.servers.stripe_api_server import StripeAccount, StripeServer
from tests.support.project import STACK_FILES, Project, key, run_cli
from tests.support.repository import REPO

STACK = """\
config:
  billing:mode: test
  billing:domain: app.example.com
  billing:vercelProject: prj_Test123
"""
URL = "https://app.example.com/api/stripe/webhook"


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[StripeAccount]:
    a = StripeAccount()
    reader = key("rk", "test", "Pull")
    a.keys = {reader: None}
    pro = a.product("Pro", {"plan": "pro"}, created=1_700_000_000)
    a.price(pro, 2900, "month", lookup_key="pro_monthly")
    a.webhook_endpoint(URL, ["checkout.session.completed"], api_version="2026-10-28.endive")
    with StripeServer(a) as running:
        monkeypatch.setenv("STRIPE_API_BASE", running.base)
        monkeypatch.setenv("STRIPE_API_KEY", reader)
        # The adopted endpoint's signing secret, given once (README, Adopting, step 5), so that
        # pull's own validate says ok.
        monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"billing:webhookSecret": "whsec_" + "a" * 32}))
        yield a


def pull(project: Project, *extra: str) -> tuple[int, str, str]:
    project.stack("test", STACK)
    return run_cli("pull", "--stack", "test", "--project", str(project.root), *extra)


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and not p.is_symlink() and not p.name.startswith("Pulumi.")}


def test_a_pull_writes_both_files_and_may_pull_again_over_its_own(project: Project, account: StripeAccount) -> None:
    code, out, err = pull(project)
    assert code == exits.OK, err
    assert (project.root / "adopt" / "test" / "catalog.yaml").is_file()
    code, out, err = pull(project)
    assert code == exits.OK, err
    assert "validate: ok" in out


# Each shape a path on the way can have, built at `place`; `outside` is a file the link points to.
def _symlink(place: Path, outside: Path) -> None:
    place.symlink_to(outside)


def _dir_symlink(place: Path, outside: Path) -> None:
    place.symlink_to(outside.parent, target_is_directory=True)


def _fifo(place: Path, _: Path) -> None:
    os.mkfifo(place)


def _directory(place: Path, _: Path) -> None:
    place.mkdir()
    (place / "kept").write_text("kept\n")


def _foreign(place: Path, _: Path) -> None:
    place.write_text("# my own notes, not pulled\n")


SHAPES: dict[str, Callable[[Path, Path], None]] = {
    "symlink": _symlink, "dir-symlink": _dir_symlink, "fifo": _fifo, "directory": _directory,
    "foreign file": _foreign}
PLACES = ["adopt", "adopt/test", "adopt/test/catalog.yaml", "adopt/test/import.json"]


@pytest.mark.parametrize(("place", "shape"), [(place, shape) for place in PLACES for shape in SHAPES
                                               if not (shape == "directory" and "." not in place)])
def test_every_file_system_shape_on_a_write_path_is_refused_without_writing(
    project: Project, account: StripeAccount, tmp_path_factory: pytest.TempPathFactory, place: str, shape: str,
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "target.yaml"
    outside.write_text("outside the repository\n")
    path = project.root / place
    path.parent.mkdir(parents=True, exist_ok=True)
    SHAPES[shape](path, outside)
    before = files_under(project.root)
    reader = None
    if shape == "fifo":  # a reader, so the code before the writer could not block the suite for ever
        reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        code, _, err = pull(project)
    finally:
        if reader is not None:
            os.close(reader)
    if shape == "foreign file" and place in ("adopt", "adopt/test"):
        assert code == exits.REFUSED and "is not a directory" in err
    else:
        assert code == exits.REFUSED, err
    assert "nothing was written" in err and "internal error" not in err
    assert outside.read_text() == "outside the repository\n"
    assert files_under(project.root) == before
    assert not list(project.root.rglob(".*.tmp"))


def test_force_replaces_a_file_pull_did_not_write(project: Project, account: StripeAccount) -> None:
    target = project.root / "adopt" / "test" / "catalog.yaml"
    target.parent.mkdir(parents=True)
    target.write_text("# my own notes\n")
    code, _, err = pull(project)
    assert code == exits.REFUSED
    assert "exists and was not written by this command; move it away, or pass --force" in err
    assert target.read_text() == "# my own notes\n"
    code, _, err = pull(project, "--force")
    assert code == exits.OK, err
    assert target.read_text().startswith("# Pulled from the Stripe account")


@pytest.mark.parametrize("out", ["stacks", "stacks/sub"])
def test_out_never_points_into_the_shared_catalog(project: Project, account: StripeAccount, out: str) -> None:
    shared = project.root / "stacks" / "catalog.yaml"
    before = shared.read_bytes()
    code, _, err = pull(project, "--out", str(project.root / out), "--force")
    assert code == exits.REFUSED, err
    assert "which both stacks read" in err and "nothing was written" in err
    assert shared.read_bytes() == before


def test_an_out_that_is_a_file_or_cannot_be_created_is_refused_not_a_crash(
    project: Project, account: StripeAccount, tmp_path_factory: pytest.TempPathFactory,
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    a_file = elsewhere / "a-file"
    a_file.write_text("mine\n")
    code, _, err = pull(project, "--out", str(a_file))
    assert code == exits.REFUSED, err
    assert f"{a_file} is not a directory" in err and a_file.read_text() == "mine\n"
    too_long = elsewhere / ("x" * 300)  # longer than any file system allows a name to be
    code, _, err = pull(project, "--out", str(too_long))
    assert code == exits.REFUSED, err
    assert "internal error" not in err and "nothing was written" in err
    code, _, err = pull(project, "--out", str(elsewhere / "new" / "dir"))
    assert code == exits.OK, err
    assert (elsewhere / "new" / "dir" / "import.json").is_file()


@pytest.mark.parametrize(("where", "prefix"), [("metadata", "sk_live_"), ("metadata", "rk_live_"),
                                               ("description", "whsec_")])
def test_a_secret_in_the_account_is_refused_before_anything_is_written(
    project: Project, account: StripeAccount, where: str, prefix: str,
) -> None:
    secret = prefix + "x" * 24
    product = account.lists["/v1/products"][0]
    if where == "metadata":
        product["metadata"]["note"] = secret
        field = "plans.pro.metadata.note"
    else:
        product["description"] = secret
        field = "plans.pro.description"
    code, out, err = pull(project)
    assert code == exits.REFUSED
    assert f"the Stripe account: {field}: holds a secret's shape ({prefix}..." in err
    assert secret not in out + err
    assert not (project.root / "adopt").exists()


def test_a_result_that_does_not_validate_leaves_nothing_behind(project: Project, account: StripeAccount) -> None:
    # The shipped test stack's coupon applies to `pro`; this account has no such plan.
    account.lists["/v1/products"][0]["metadata"]["plan"] = "basic"
    project.stack("test", STACK_FILES["test"])
    code, _, err = run_cli("pull", "--stack", "test", "--project", str(project.root))
    assert code == exits.REFUSED
    assert "pro" in err and "billing-pull-" not in err
    assert not (project.root / "adopt").exists()


def test_other_endpoints_urls_are_printed_without_credentials_query_or_fragment(
    project: Project, account: StripeAccount,
) -> None:
    account.webhook_endpoint("https://hook:" + "pw" * 8 + "@app.example.com:8443/in?token=" + "t0k" * 5
                             + "#frag", ["checkout.session.completed"], api_version="2026-10-28.endive",
                             created=2_000_000_000)  # newer: the app's endpoint stays the adopted one
    code, out, err = pull(project)
    assert code == exits.OK, err
    assert "an endpoint for another URL (https://app.example.com:8443/in)" in out
    assert "pw" * 8 not in out and "t0k" not in out and "frag" not in out


def test_adopt_is_ignored_by_git() -> None:
    found = subprocess.run(["git", "check-ignore", "-q", "adopt/test/catalog.yaml"], cwd=REPO, check=False)
    assert found.returncode == 0
