"""Stripe event types the program picks itself (the app's own are the catalog's `webhook.events`)."""

from __future__ import annotations

PROBE_EVENT = "balance.available"
"""What `verify webhook` sends unless told otherwise: a real event type, harmless, that no
subscription app handles."""
