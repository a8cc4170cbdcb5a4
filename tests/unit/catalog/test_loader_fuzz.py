"""Any input ends in a valid catalog or a clean list of problems, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.catalog import stack_config
from infra.catalog.loader import Deployment, load_deployment
from infra.core.problems import ConfigError
from tests.support.project import key
from tests.support.repository import CATALOG, REPO

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


# ---------------------------------------------------------------- stack files, PULUMI_CONFIG, adopt files

SETTINGS = ["billing:mode", "billing:domain", "billing:vercelProject", "billing:catalog", "billing:coupons",
            "billing:adopt", "billing:appStripeKey", "billing:publishableKey", "stripe:apiKey", "vercel:apiToken",
            "app:clerkSecretKey", "x"]
PLACES = ("stacks/catalog.yaml", "Pulumi.test.yaml", "PULUMI_CONFIG", "adopt.json", "--stack")
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
              st.sampled_from(["test", "live", "prj_X", "a.example.com", key("sk", "live"), "adopt.json"])),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=12,
)


# Each example validates the whole real catalog as well: fewer examples keep the suite under a minute.
stack_fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_stack(root: Path, stack_text: str, env: dict[str, str], adopt_text: str | None = None) -> None:
    (root / "stacks").mkdir(exist_ok=True)
    (root / "stacks" / "catalog.yaml").write_text(CATALOG)
    (root / "Pulumi.test.yaml").write_text(stack_text)
    if adopt_text is not None:
        (root / "adopt.json").write_text(adopt_text)
    try:
        config = stack_config.from_stack(root, "test", env=env)
        result = load_deployment("test", root, config.get, config.origin)
    except ConfigError as error:
        assert error.problems
        assert all(str(p).startswith(PLACES) or p.file.startswith("PULUMI_CONFIG") for p in error.problems)
        assert all("\n" not in str(p) for p in error.problems)  # one problem, one line
    else:
        assert isinstance(result, Deployment)


@stack_fuzz
@given(config=st.dictionaries(st.sampled_from(SETTINGS), json_values, max_size=8))
def test_stack_file_settings(tmp_path: Path, config: dict[str, object]) -> None:
    check_stack(tmp_path, yaml.safe_dump({"config": config}), {})


@stack_fuzz
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_stack_file_text(tmp_path: Path, text: str) -> None:
    check_stack(tmp_path, text, {})


@stack_fuzz
@given(config=st.one_of(json_values, st.dictionaries(st.sampled_from(SETTINGS), json_values, max_size=8)),
       secret_keys=st.one_of(json_values, st.lists(st.sampled_from(SETTINGS), max_size=4)),
       raw=st.sampled_from(["", "{", "[" * 60, "1" * 5000, "NaN", '{"a": 1, "a": 2}']))
def test_pulumi_config(tmp_path: Path, config: object, secret_keys: object, raw: str) -> None:
    stack = (REPO / "Pulumi.test.yaml").read_text()
    check_stack(tmp_path, stack, {"PULUMI_CONFIG": json.dumps(config), "PULUMI_CONFIG_SECRET_KEYS":
                                  json.dumps(secret_keys)})
    check_stack(tmp_path, stack, {"PULUMI_CONFIG": raw})


@stack_fuzz
@given(adopt=st.one_of(json_values, st.text(max_size=60).map(json.dumps),
                       st.fixed_dictionaries({"resources": st.lists(json_values, max_size=4)})))
def test_adopt_file(tmp_path: Path, adopt: object) -> None:
    stack = (REPO / "Pulumi.test.yaml").read_text() + "  billing:adopt: adopt.json\n"
    env = {"PULUMI_CONFIG": json.dumps({**CONFIG, "billing:webhookSecret": "whsec_" + "F" * 24})}
    check_stack(tmp_path, stack, env, adopt if isinstance(adopt, str) else json.dumps(adopt))
