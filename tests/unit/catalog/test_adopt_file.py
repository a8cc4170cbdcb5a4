"""The import file is checked whole: each ID its type's full pattern, each resource and each ID once."""

from __future__ import annotations

import json

import pytest

from infra.catalog import adoption
from infra.core import exits
from tests.support.project import STACK_FILES, Project, run_cli

pytestmark = pytest.mark.pure

CATALOG = """\
plans:
  pro:
    name: Pro
    prices:
      monthly: {amount: "29.00", currency: usd, interval: month}
      yearly: {amount: "290.00", currency: usd, interval: year}
webhook:
  path: /webhook/stripe
  api_version: "2026-10-28.endive"
  events: [checkout.session.completed]
"""


def entry(type_: str, name: str, id_: str) -> dict[str, object]:
    return {"type": type_, "name": name, "id": id_, "parent": adoption.COMPONENT_NAME}


def validate(project: Project, *entries: dict[str, object]) -> tuple[int, str]:
    project.catalog(CATALOG)
    project.stack("test", STACK_FILES["test"] + "  billing:adopt: adopt.json\n")
    document = {"resources": [{"type": adoption.COMPONENT_TYPE, "name": adoption.COMPONENT_NAME,
                               "component": True}, *entries]}
    (project.root / "adopt.json").write_text(json.dumps(document, indent=2) + "\n")
    code, _, err = run_cli("validate", "--stack", "test", "--project", str(project.root))
    return code, err


def test_whole_ids_adopt(project: Project) -> None:
    code, err = validate(project, entry(adoption.PRODUCT, "pro", "prod_Abc123"),
                         entry(adoption.PRICE, "pro-monthly", "price_Abc123"))
    assert code == exits.OK, err


@pytest.mark.parametrize("id_", ["prod_abc/../../v1/customers", "prod_abc\n", "prod_abc\x1b[2J", "prod_",
                                 "prod_abc def", "prod_abc\u202e", "xprod_abc"])
def test_an_id_that_is_not_its_types_whole_pattern_is_refused(project: Project, id_: str) -> None:
    code, err = validate(project, entry(adoption.PRODUCT, "pro", id_))
    assert code == exits.REFUSED
    assert "adopt.json:8: resources[1].id: 'pro' needs a Stripe ID starting with prod_, then only letters" in err
    assert "\x1b" not in err and "\u202e" not in err


def test_a_resource_adopted_twice_names_both_entries(project: Project) -> None:
    code, err = validate(project, entry(adoption.PRODUCT, "pro", "prod_First1"),
                         entry(adoption.PRODUCT, "pro", "prod_Second2"))
    assert code == exits.REFUSED
    assert ("adopt.json:14: resources[2]: adopts 'pro' again (resources[1] (line 8) already does): keep one "
            "of the two entries, resources[1] (line 8) or resources[2] (line 14)") in err


def test_one_object_adopted_under_two_names_is_refused(project: Project) -> None:
    code, err = validate(project, entry(adoption.PRICE, "pro-monthly", "price_Same1"),
                         entry(adoption.PRICE, "pro-yearly", "price_Same1"))
    assert code == exits.REFUSED
    assert "resources[2]: adopts ID price_Same1 again (resources[1] (line 8) already does)" in err
