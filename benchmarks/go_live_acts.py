"""The acts a person performs to take a fresh live stack live: `billing go-live --stack live`,
measured in one run, beside the two hand runbooks users follow today, counted act by act.

The run: the real Pulumi CLI, language host and providers (`make engine`) against the local
Stripe and Vercel (tests/engine/), a copy of this project with its catalog, and a person played
through a pseudo-terminal who types what each prompt asks (tests/engine/go_live_session.py),
from nothing to verified: the stack, the keys (restricted keys the local Stripe holds to their
manifests), the update, the production redeploy, verify, and the payment proof, whose Checkout
Session the person pays (the local Stripe completes it, as Stripe does when the card is
accepted). What is counted is what go-live's own summary counts of that person: the command,
each form or page it sent them to, the checkout; and apart, each value typed at a hidden prompt
and each question answered. Nothing is added or taken away by hand.

The person is one of our users, who already run a test stack: their shell exports the Vercel
provider's token variable (VERCEL_API_TOKEN), and go-live's offer to store it is answered yes
instead of a trip to the token form. Without it (no variable, no other stack the passphrase
opens) the token form is one more act: tests/engine/test_go_live.py's live run counts that path.
The publishable key is typed on the API keys page the first restricted key's form is opened
from, so it is a typed value, not an act.

Without the engine's components it says what is missing and exits 0. Not a test.

    python benchmarks/go_live_acts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.engine.catalogs import LIVE_COUPONS  # noqa: E402
from tests.engine.go_live_session import (  # noqa: E402
    ENGINE_SECONDS,
    Session,
    keys_for,
    stack_file,
    the_app,
    the_person_pays,
    type_the_keys,
)
from tests.engine.harness import DOMAINS, PASSPHRASES, Engine, EngineMissing, Project, World, installed_engine  # noqa: E402

NEEDED = ("pulumi", "language-python", "python-scripts", "stripe", "vercel")
TOKEN_VARIABLE = "VERCEL_API_TOKEN"  # noqa: S105 (a variable name): the Vercel provider's (infra.hosts.vercel)

# The two runbooks users follow today, act by act, for this repository's catalog (two paid
# plans, three prices). A: a Vercel app with Clerk and Neon ("Payment Security": audit, a
# restricted live key, go live, verify a real payment). B: a Cloudflare Workers API
# ("Production Webhooks", its ten steps with Pro and Enterprise tiers; it stores the full
# sk_live_ key). An act: a form filled, a value copied and pasted, a command typed, a check
# made by hand.
RUNBOOK_A = [
    "ask for the security audit, review and apply its fixes",
    "switch the Dashboard to live mode",
    "recreate the Pro product and its monthly price in live mode",
    "add Pro's yearly price",
    "recreate the Enterprise product and its price",
    "create the restricted live key (Dashboard form)",
    "paste the live key into Vercel, Production only",
    "paste the live publishable key into Vercel",
    "paste the Pro monthly price ID into Vercel",
    "paste the Pro yearly price ID into Vercel",
    "paste the Enterprise price ID into Vercel",
    "check no secret is committed and the build is clean",
    "create the live webhook endpoint at the production domain (Dashboard form)",
    "reveal its signing secret and paste it into Vercel",
    "merge the payment branch to main (the production deploy)",
    "check the production deploy is Ready",
    "subscribe with a real card at Checkout",
    "check the live webhook fired",
    "check Neon recorded the subscription",
    "check the premium feature unlocked",
    "check the billing portal works",
]
RUNBOOK_B = [
    "toggle the Dashboard to live mode",
    "create the Pro product with its price (Dashboard form)",
    "add its `plan` metadata",
    "copy the Pro price ID",
    "create the Enterprise product with its price",
    "add its `plan` metadata",
    "copy the Enterprise price ID",
    "reveal and copy the live secret key",
    "`wrangler secret put STRIPE_SECRET_KEY`, paste",
    "`wrangler secret put STRIPE_PRICE_ID_PRO`, paste",
    "`wrangler secret put STRIPE_PRICE_ID_ENTERPRISE`, paste",
    "`wrangler secret list` to check",
    "activate the live customer portal",
    "check the portal configuration ID (and put it again if it changed)",
    "create the webhook endpoint with its four events (Dashboard form)",
    "reveal and copy its signing secret",
    "`wrangler secret put STRIPE_WEBHOOK_SECRET`, paste",
    "send a test webhook from the Dashboard",
    "`wrangler tail`, and send another",
    "create a 100%-off coupon for the test checkout",
    "sign up, upgrade and pay at Checkout",
    "check the tier updated in the app",
    "check the webhook's logs in the Dashboard",
    "check the user's plan in Clerk",
    "check the usage limits",
    "check the customer portal",
    "cancel the test subscription",
]
# Why each act outside go-live's prompts is there: go-live cannot do it for the person.
FORM = "Stripe has no API that creates a restricted key"
WHY = {
    "this command": "the person starts it",
    "Stripe Dashboard form: Create restricted key (app)": FORM,
    "Stripe Dashboard form: Create restricted key (deployer)": FORM,
    "Stripe Dashboard page: the publishable key": "no API call returns the account's own publishable key "
                                                  "(stripe-python 16 has none): it is copied from the API "
                                                  "keys page",
    "Vercel token form": "the stack writes the app's variables with the person's own Vercel token, which "
                         "only they can create, when none is exported or stored on another stack",
    "the live checkout, paid in a browser": "the live proof never charges a card by itself: a person pays",
}


def measure(engine: Engine, base: Path) -> dict[str, int | str]:
    with World(base / "tls") as world:
        (base / "project").mkdir()
        project = Project(base / "project", engine, world)
        stack_file(project, "live", LIVE_COUPONS)
        keys = keys_for("live")
        world.stripe.livemode = True
        world.sites[DOMAINS["live"]] = the_app(project, "live")
        world.vercel.deploy("production")  # the app already serves production
        project.restrict("live", keys)
        term = Session(project, "--stack", "live", home=base / "home",
                       exported={TOKEN_VARIABLE: keys["vercel:apiToken"]})
        term.answer(r"Create stack 'live' .*\? \[y/N\] ", "y")
        term.answer(r"New passphrase for stack 'live' \(hidden\): ", PASSPHRASES["live"])
        term.answer(r"The same passphrase again \(hidden\): ", PASSPHRASES["live"])
        type_the_keys(term, keys, token_from=TOKEN_VARIABLE)
        # The passphrase twice and three Stripe keys; the stack's question and the exported token's.
        typed, answered = 2 + 3, 2
        term.answer(r"Apply these \d+ changes to stack 'live' \(live mode\)\? \[y/N\] ", "y", ENGINE_SECONDS)
        term.answer(r"Redeploy production now .*\? \[y/N\] ", "y", ENGINE_SECONDS)
        term.answer(r"Open the live Checkout Session now\? \[y/N\] ", "y", ENGINE_SECONDS)
        answered += 3
        the_person_pays(term, project)
        term.expect(r"go-live of stack 'live' \(live mode\): verified", ENGINE_SECONDS)
        said = term.expect(r"Your acts: (\d+) outside go-live's prompts \((.*)\), (\d+) values? typed "
                           r"at hidden prompts, (\d+) questions? answered")
        status = term.finish()
    if status != 0 or (int(said.group(3)), int(said.group(4))) != (typed, answered):
        raise SystemExit(f"go-live ended {status} and counted {said.group(0)!r}; the person typed {typed} "
                         f"and answered {answered}")
    return {"outside": int(said.group(1)), "where": said.group(2), "typed": typed, "questions": answered}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="billing-acts-") as tmp:
        base = Path(tmp)
        try:
            engine = installed_engine(base / "pulumi-home", NEEDED)
        except EngineMissing as missing:
            print(f"go-live acts: skipped ({missing})")
            return 0
        found = measure(engine, base)
    print("A fresh live stack, from nothing to verified (the payment proof's checkout paid), by a person "
          f"whose shell exports {TOKEN_VARIABLE}, the Vercel provider's token variable:")
    print(f"  billing go-live: {found['outside']} acts outside its prompts, "
          f"plus {found['typed']} values typed at hidden prompts (the passphrase twice, 3 Stripe keys) and "
          f"{found['questions']} questions answered (one of them: store the exported Vercel token)")
    for act in str(found["where"]).split("; "):
        print(f"    - {act}: {WHY.get(act, 'not explained here')}")
    print("  issue 23's target: 3 acts besides typing secrets (two Dashboard forms and one checkout, the "
          f"command aside): measured {int(found['outside']) - 1} besides the command")
    for name, acts in (("A (Vercel, Clerk, Neon)", RUNBOOK_A), ("B (Cloudflare Workers)", RUNBOOK_B)):
        print(f"  runbook {name}: {len(acts)} acts, {len(acts) / int(found['outside']):.1f} times go-live's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
