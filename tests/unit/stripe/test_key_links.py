"""`keys` prints a prefilled "Create restricted key" link per key, built from the manifest and the one table."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from infra.catalog import APP_MANIFEST, DEPLOYER_MANIFEST
from infra.stripe.rak_names import RAK_NAMES, create_link, describe, rak_name, resource_of
from infra.stripe.reference import DASHBOARD_RESOURCE_NAMES
from tests.support.project import run_cli

pytestmark = pytest.mark.pure

_LINK = re.compile(r"Prefilled form \((\d+) of (\d+) permissions set[^)]*\): (\S+)")


@pytest.mark.on_the_repository
@pytest.mark.parametrize("mode", ["test", "live"])
def test_keys_prints_one_link_per_key_that_matches_its_manifest(mode: str) -> None:
    code, out, _ = run_cli("keys", "--stack", mode)
    assert code == 0
    sections = out.split("2. The deployer key")
    assert len(sections) == 2
    for section, role, manifest in ((sections[0], "app", APP_MANIFEST), (sections[1], "deployer", DEPLOYER_MANIFEST)):
        found = _LINK.findall(section)
        assert len(found) == 1, section
        named, total, url = found[0]
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "dashboard.stripe.com")
        assert parts.path == ("/test" if mode == "test" else "") + "/apikeys/create"
        query = parse_qs(parts.query)
        assert query["name"] == [f"billing-{mode}-{role}"]
        granted = manifest.granted()
        expected = [rak_name(r, "write" if level == "write" else "read") for r, level in granted.items()]
        assert query["permissions[]"] == [name for name in expected if name is not None]
        assert int(named) == len(query["permissions[]"]) and int(total) == len(granted)
        # Whatever the link cannot set is named for the person to set by hand, and the checklist stays.
        by_hand = [f"{r} {level.title()}" for r, level in granted.items()
                   if rak_name(r, "write" if level == "write" else "read") is None]
        if by_hand:
            line = next(line for line in section.splitlines() if "set by hand:" in line)
            assert line.endswith("set by hand: " + ", ".join(by_hand))
        else:
            assert "set by hand" not in section
        for resource, level in granted.items():
            assert re.search(rf"\[ \] {re.escape(resource)}\s+{level.title()}", section), resource
        assert ("not verified" in section) == (mode == "test")


def test_the_app_link_leaves_the_customer_portal_to_the_checklist() -> None:
    link = create_link("live", "billing-live-app", APP_MANIFEST.granted())
    assert ("Customer portal", "write") in link.by_hand
    assert "rak_plan_read" in link.url and "rak_price" not in link.url  # the Prices row is rak_plan_*
    assert "rak_checkout_session_write" in link.url and "rak_checkout_session_read" not in link.url


def test_a_name_with_characters_is_encoded_and_nothing_outside_the_manifest_is_granted() -> None:
    link = create_link("test", "billing test&x=1", {"Charges": "read"})
    query = parse_qs(urlsplit(link.url).query)
    assert query == {"name": ["billing test&x=1"], "permissions[]": ["rak_charge_read"]}


def test_the_table_names_real_dashboard_rows_once_each_with_where_it_was_seen() -> None:
    names = [seen.name for seen in RAK_NAMES.values()]
    assert len(names) == len(set(names))
    for (resource, level), seen in RAK_NAMES.items():
        assert resource in DASHBOARD_RESOURCE_NAMES, resource
        assert re.fullmatch(r"rak_[a-z_]+_(read|write)", seen.name) and seen.name.endswith(level)
        assert seen.where
        assert resource_of(seen.name) == (resource, level)
    assert describe(("rak_plan_write", "rak_unknown_read")) == "rak_plan_write (Prices: Write), rak_unknown_read"
