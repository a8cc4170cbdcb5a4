"""`reference` reads Stripe's event names and API versions from stripe-python's source without
importing it: the reading must equal what the typed params say when they are imported."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

from stripe.params import WebhookEndpointCreateParams

from infra.stripe import reference


def _imported(field: str) -> frozenset[str]:
    annotation: Any = WebhookEndpointCreateParams.__annotations__[field]
    while typing.get_origin(annotation) is not typing.Literal:
        annotation = typing.get_args(annotation)[0]
    return frozenset(typing.get_args(annotation))


def test_the_source_reading_equals_the_imported_params() -> None:
    assert reference.webhook_event_types() == _imported("enabled_events") - {"*"}
    assert reference.api_versions() == _imported("api_version")
    assert "customer.subscription.updated" in reference.webhook_event_types()
    assert len(reference.api_versions()) > 10


def test_reading_them_imports_no_stripe_module(tmp_path: Path) -> None:
    probe = ("import sys\nfrom infra.stripe import reference\n"
             "assert reference.webhook_event_types() and reference.api_versions()\n"
             "print(sorted(m for m in sys.modules if m == 'stripe' or m.startswith('stripe.')))")
    repo = Path(reference.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          cwd=tmp_path, env=env)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
