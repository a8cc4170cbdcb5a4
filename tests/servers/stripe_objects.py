"""The objects a payment makes, as Stripe answers them: customers, subscriptions and their items,
Checkout and portal sessions, events, invoice payments and refunds.

Each builder answers every attribute stripe-python 16.1.0's typed class declares (held there by
tests/servers/test_stripe_server_shapes.py), with Stripe's value for an object made the way
`verify payment` makes it: null where nothing was set, Stripe's defaults elsewhere (`balance:
0`, `tax_exempt: "none"`, `collection_method: "charge_automatically"`, ...). Fields Stripe
answers only when expanded ("includable": a customer's `tax`, a session's `line_items`, a
plan's `tiers`) are left out, as Stripe leaves them out. Since API 2025-03-31 an item, not the
subscription, carries the current period; an invoice's payment is an InvoicePayment.
Standard library only: the engine's local Stripe builds them too.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

Obj = dict[str, Any]
API_VERSION = "2024-04-10"
"""The version events are rendered in here: stripe-go v78's, which the engine's provider speaks."""
PERIOD = {"day": 86_400, "week": 7 * 86_400, "month": 30 * 86_400, "year": 365 * 86_400}


def new_id(prefix: str) -> str:
    return f"{prefix}_" + secrets.token_hex(7)


def now() -> int:
    return int(time.time())


def public(obj: Obj) -> Obj:
    """The answer: a model's own bookkeeping (keys starting with `_`) left out."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def customer(livemode: bool, *, name: str | None = None, description: str | None = None,
             email: str | None = None, metadata: Obj | None = None, payment_method: str | None = None) -> Obj:
    return {
        "id": new_id("cus"), "object": "customer", "address": None, "balance": 0, "business_name": None,
        "created": now(), "currency": None, "customer_account": None, "default_source": None,
        "delinquent": False, "description": description, "discount": None, "email": email,
        "individual_name": None, "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": payment_method, "footer": None,
                             "rendering_options": None},
        "livemode": livemode, "metadata": metadata or {}, "name": name, "next_invoice_sequence": 1,
        "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None}


def plan(price: Obj) -> Obj:
    """The Plan Stripe still answers beside each subscription item's price."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"], "object": "plan", "active": price["active"], "amount": price.get("unit_amount"),
        "amount_decimal": price.get("unit_amount_decimal"), "billing_scheme": price.get("billing_scheme"),
        "created": price["created"], "currency": price["currency"], "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"), "livemode": price["livemode"],
        "metadata": price.get("metadata") or {}, "meter": recurring.get("meter"), "nickname": price.get("nickname"),
        "product": price["product"], "tiers_mode": price.get("tiers_mode"), "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"), "usage_type": recurring.get("usage_type")}


def subscription(livemode: bool, customer_id: str, price: Obj, metadata: Obj, active: bool) -> Obj:
    started = now()
    subscription_id = new_id("sub")
    interval = (price.get("recurring") or {}).get("interval") or "month"
    count = (price.get("recurring") or {}).get("interval_count") or 1
    item = {
        "id": new_id("si"), "object": "subscription_item", "billed_until": None, "billing_thresholds": None,
        "created": started, "current_period_end": started + PERIOD[interval] * count,
        "current_period_start": started, "current_trial": None, "discounts": [], "metadata": {},
        "plan": plan(price), "price": price, "quantity": 1, "subscription": subscription_id, "tax_rates": []}
    return {
        "id": subscription_id, "object": "subscription", "application": None, "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": started, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None}, "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "feedback_option": None, "reason": None},
        "collection_method": "charge_automatically", "created": started, "currency": price["currency"],
        "customer": customer_id, "customer_account": None, "days_until_due": None,
        "default_payment_method": None, "default_source": None, "default_tax_rates": [], "description": None,
        "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "custom_fields": None, "description": None, "footer": None,
                             "issuer": {"account": None, "type": "self"}},
        "items": {"object": "list", "data": [item], "has_more": False,
                  "url": f"/v1/subscription_items?subscription={subscription_id}"},
        "latest_invoice": new_id("in"), "livemode": livemode, "managed_payments": None, "metadata": metadata,
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None, "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None, "pending_setup_intent": None, "pending_update": None,
        "presentment_details": None, "schedule": None, "start_date": started,
        "status": "active" if active else "incomplete", "status_details": None, "test_clock": None,
        "transfer_data": None, "trial_end": None,
        "trial_settings": {"end_behavior": {"billing_cycle_anchor": None, "missing_payment_method": "create_invoice"}},
        "trial_start": None}


def invoice(livemode: bool, invoice_id: str, subscription_obj: Obj) -> Obj:
    """The invoice an event carries: the fields an app reads to find the subscription (not every
    field of stripe-python's Invoice; an event's `data.object` is untyped there)."""
    amount = subscription_obj["items"]["data"][0]["price"].get("unit_amount") or 0
    return {"id": invoice_id, "object": "invoice", "livemode": livemode, "customer": subscription_obj["customer"],
            "status": "paid", "currency": subscription_obj["currency"], "amount_due": amount, "amount_paid": amount,
            "billing_reason": "subscription_create",
            "parent": {"type": "subscription_details", "quote_details": None,
                       "subscription_details": {"metadata": subscription_obj["metadata"],
                                                "subscription": subscription_obj["id"]}}}


def invoice_payment(livemode: bool, invoice_id: str, amount: int, currency: str) -> Obj:
    paid = now()
    return {"id": new_id("inpay"), "object": "invoice_payment", "amount_paid": amount, "amount_requested": amount,
            "created": paid, "currency": currency, "invoice": invoice_id, "is_default": True, "livemode": livemode,
            "payment": {"charge": None, "payment_intent": new_id("pi"), "payment_record": None,
                        "type": "payment_intent"},
            "status": "paid", "status_transitions": {"canceled_at": None, "paid_at": paid}}


def checkout_session(livemode: bool, mode: str | None, price: Obj, *, allow_promotion_codes: bool | None,
                     success_url: str | None, cancel_url: str | None, metadata: Obj,
                     subscription_metadata: Obj) -> Obj:
    session_id = "cs_" + ("live_" if livemode else "test_") + secrets.token_hex(24)
    created = now()
    amount = price.get("unit_amount") or 0
    return {
        "id": session_id, "object": "checkout.session", "adaptive_pricing": {"enabled": False},
        "after_expiration": None, "allow_promotion_codes": allow_promotion_codes,
        "allowed_payment_method_types": None, "amount_subtotal": amount, "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None, "branding_settings": None, "cancel_url": cancel_url,
        "client_reference_id": None, "client_secret": None, "collected_information": None, "consent": None,
        "consent_collection": None, "created": created, "currency": price["currency"],
        "currency_conversion": None, "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": None, "customer_account": None, "customer_creation": None, "customer_details": None,
        "customer_email": None, "discounts": [], "excluded_payment_method_types": None,
        "expires_at": created + 86_400, "integration_identifier": None, "invoice": None,
        "invoice_creation": None, "livemode": livemode, "locale": None, "managed_payments": None,
        "metadata": metadata, "mode": mode, "name_collection": None, "optional_items": None,
        "origin_context": None, "payment_intent": None, "payment_link": None,
        "payment_method_collection": "always", "payment_method_configuration_details": None,
        "payment_method_options": None, "payment_method_types": ["card"], "payment_status": "unpaid",
        "permissions": None, "phone_number_collection": {"enabled": False}, "presentment_details": None,
        "recovered_from": None, "redirect_on_completion": None, "return_url": None,
        "saved_payment_method_options": None, "setup_intent": None, "shipping_address_collection": None,
        "shipping_cost": None, "shipping_options": [], "status": "open", "submit_type": None,
        "subscription": None, "success_url": success_url,
        "tax_id_collection": {"enabled": False, "required": "never"},
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted", "url": f"https://checkout.stripe.com/c/pay/{session_id}", "wallet_options": None,
        # What the person pays for, and what the subscription it makes carries.
        "_price": price["id"], "_subscription_metadata": subscription_metadata}


def paid(session: Obj, customer_obj: Obj, subscription_obj: Obj, email: str) -> None:
    """The session once the person paid: complete, its customer, subscription and invoice set."""
    session.update(
        status="complete", payment_status="paid", customer=customer_obj["id"],
        subscription=subscription_obj["id"], invoice=subscription_obj["latest_invoice"],
        customer_details={"address": None, "business_name": None, "email": email, "individual_name": None,
                          "name": None, "phone": None, "tax_exempt": "none", "tax_ids": []})


def portal_session(livemode: bool, customer_id: str, configuration: str, return_url: str | None) -> Obj:
    return {"id": new_id("bps"), "object": "billing_portal.session", "after_expiration": None,
            "configuration": configuration, "created": now(), "customer": customer_id, "customer_account": None,
            "flow": None, "livemode": livemode, "locale": None, "on_behalf_of": None, "return_url": return_url,
            "url": f"https://billing.stripe.com/p/session/{'live' if livemode else 'test'}_"
                   + secrets.token_hex(16)}


def event(livemode: bool, event_type: str, obj: Obj, pending_webhooks: int) -> Obj:
    return {"id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": now(),
            "data": {"object": obj, "previous_attributes": None}, "livemode": livemode,
            "pending_webhooks": pending_webhooks, "request": {"id": None, "idempotency_key": None},
            "type": event_type}


def refund(livemode: bool, payment_intent: str, amount: int, currency: str, metadata: Obj) -> Obj:
    return {"id": new_id("re"), "object": "refund", "amount": amount, "balance_transaction": new_id("txn"),
            "charge": new_id("ch"), "created": now(), "currency": currency, "customer": None,
            "customer_account": None,
            "description": None, "destination_details": None, "failure_balance_transaction": None,
            "failure_reason": None, "instructions_email": None, "livemode": livemode, "metadata": metadata,
            "next_action": None, "payment_intent": payment_intent, "payment_method": None,
            "pending_reason": None, "presentment_details": None, "reason": None, "receipt_number": None,
            "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None}


def deleted(object_id: str, kind: str) -> Obj:
    return {"id": object_id, "object": kind, "deleted": True}


def missing(noun: str, object_id: str) -> tuple[int, Obj]:
    """Stripe's 404 for an object that does not exist (resource_missing)."""
    return 404, {"error": {"code": "resource_missing",
                           "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                           "message": f"No such {noun}: '{object_id}'", "param": "id",
                           "type": "invalid_request_error"}}
