"""Any input ends in a valid catalog or a clean list of problems, never a traceback."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.loader import Deployment, load_deployment
from infra.problems import ConfigError
from tests.conftest import CATALOG, key

CONFIG = {"billing:mode": "test", "billing:domain": "app.example.com", "stripe:apiKey": key("sk", "test")}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12),
    st.sampled_from(["29.00", "usd", "month", "pro", "/webhook", "unlimited", "https://x.io", "*"]),
    st.floats(allow_nan=True, allow_infinity=True),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(
            ["plans", "pro", "name", "prices", "monthly", "amount", "currency", "interval",
             "webhook", "path", "events", "api_version", "portal", "limits", "lookup_key", "x"]
        ), children, max_size=5),
    ),
    max_leaves=25,
)


def check(root: Path, text: str) -> None:
    (root / "stacks").mkdir(exist_ok=True)
    (root / "stacks" / "catalog.yaml").write_text(text)
    try:
        result = load_deployment("test", root, CONFIG.get)
    except ConfigError as error:
        assert error.problems
        assert all(str(p).startswith(("stacks/catalog.yaml", "Pulumi.test.yaml")) for p in error.problems)
    else:
        assert isinstance(result, Deployment)


fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(tree=trees)
def test_structured_garbage(tmp_path: Path, tree: object) -> None:
    check(tmp_path, yaml.safe_dump(tree))


@fuzz
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_arbitrary_text(tmp_path: Path, text: str) -> None:
    check(tmp_path, text)


@fuzz
@given(cut=st.integers(min_value=0, max_value=len(CATALOG)), junk=st.sampled_from(["", ":", "- ", "{", "\t", "&a *a"]))
def test_mutated_real_catalog(tmp_path: Path, cut: int, junk: str) -> None:
    check(tmp_path, CATALOG[:cut] + junk + CATALOG[cut:])
