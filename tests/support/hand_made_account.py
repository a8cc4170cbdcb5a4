"""A Stripe account set up by hand, as `pull` finds one, and `pull` run on a project against it."""

from __future__ import annotations

from pathlib import Path

from tests.servers.stripe_api_server import StripeAccount
from tests.support.project import Project, key, run_cli

URL = "https://app.example.com/api/stripe/webhook"
WHSEC = "whsec_" + "a" * 32
EVENTS = ["checkout.session.completed", "customer.subscription.updated", "customer.subscription.deleted"]
STACK = """\
config:
  billing:mode: test
  billing:domain: app.example.com
  billing:vercelProject: prj_Test123
"""


class HandMade:
    """An account set up by hand in the Dashboard, with the usual mistakes, and a long history."""

    def __init__(self) -> None:
        self.account = StripeAccount()
        self.key = key("rk", "test", "Pull")
        self.account.keys = {self.key: None}
        a = self.account
        for n in range(260):  # archived experiments: they page, and none is adopted
            a.product(f"Experiment {n}", {"plan": f"exp{n}"}, active=False, created=1_600_000_000 + n)
        self.pro = a.product("Pro", {"plan": "pro"}, created=1_700_000_000, description="For teams")
        self.pro_monthly = a.price(self.pro, 2900, "month", lookup_key="pro_monthly", nickname="Pro monthly")
        self.pro_yearly = a.price(self.pro, 29000, "year")  # no lookup key
        self.pro["default_price"] = self.pro_monthly["id"]
        self.pro_copy = a.product("Pro (copy)", {"plan": "pro"}, created=1_710_000_000)
        a.price(self.pro_copy, 2900, "month")
        self.team = a.product("Team Plan", {"Plan": "Team", "tier": "2"}, created=1_700_000_100)
        self.team_monthly = a.price(self.team, 9900, "month", metadata={"plan": "Team"},
                                    lookup_key="team-monthly-v2")
        self.team_setup = a.add("/v1/prices", {**a.price(self.team, 5000), "id": "price_setupfee",
                                               "type": "one_time", "recurring": None})
        a.lists["/v1/prices"].pop(1)  # keep only the one-time copy of that price
        self.webhook = a.webhook_endpoint(URL, EVENTS, api_version="2026-10-28.endive",
                                          description="prod hook", created=1_700_000_000)
        self.twin = a.webhook_endpoint(URL, EVENTS, created=1_720_000_000)
        self.portal = a.portal_configuration("https://app.example.com/account", is_default=True)
        self.portal["features"]["subscription_update"] = {
            "enabled": True, "default_allowed_updates": ["price"], "proration_behavior": "create_prorations",
            "products": [{"product": self.pro["id"], "prices": [self.pro_monthly["id"]]},
                         {"product": self.team["id"], "prices": [self.team_monthly["id"]]}]}


def pulled(project: Project) -> tuple[int, str, str, Path]:
    project.stack("test", STACK)
    code, out, err = run_cli("pull", "--stack", "test", "--project", str(project.root))
    return code, out, err, project.root / "adopt" / "test"
