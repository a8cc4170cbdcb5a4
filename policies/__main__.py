"""The billing policy pack: `pulumi preview --policy-pack policies`."""

from billing_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="billing", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
