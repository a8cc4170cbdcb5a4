"""`diff`: what a change to the catalog or a stack's settings does to money, in words.

Compares two resolved deployments (a git revision and the working tree) and
says, per plan, price, webhook, portal, coupon, key and hosting variable, what
the next `up` will do. What each field change does (update in place, replace,
a silent no-op, a value never cleared, a change Stripe refuses) comes from the
provider table (`provider_table`), the same facts the program and the
second-`up` harness read; on live, where every Stripe resource is protected,
a replacement or a deletion is refused by the engine, so it is an error here
with the way forward. A price's or a coupon's terms never change: that is an
error on every stack, because both stacks share the catalog.
"""

from __future__ import annotations

from infra.catalog import Deployment
from infra.commands.diff import entitlements, stack, stripe
from infra.commands.diff.change import GROUPS, Change, exit_status

__all__ = ["GROUPS", "Change", "compare", "exit_status"]


def compare(base: Deployment | None, head: Deployment) -> list[Change]:
    if base is None:
        return [Change("stack", "info", head.stack, "no deployable state at the base revision; "
                       "everything in the stack is new")]
    changes = stripe.plans(base, head)
    changes += stripe.prices(base, head)
    changes += entitlements.compare(base, head)
    changes += stripe.webhook(base, head)
    changes += stripe.portal(base, head)
    changes += stack.keys(base.catalog, head.catalog)
    changes += stack.hosting_values(base, head)
    changes += stack.settings(base, head)
    return changes
