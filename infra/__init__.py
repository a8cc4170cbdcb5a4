"""Stripe billing and hosting secrets as code, on Pulumi.

Data flows one way: YAML (``sources``) -> typed models (``catalog``, checked
by ``loader``) -> Pulumi components (``stripe_billing``) -> stack exports.
"""
