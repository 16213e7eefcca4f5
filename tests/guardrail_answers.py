"""The guardrail steps' answers: the issue's contacts, GuardDuty on (it is charged, so --yes needs it said),
the test regions' default VPCs listed for deletion, and the root credentials checklist confirmed."""

from __future__ import annotations

CONTACTS = """
[account-contacts]
security = { name = "Security team", title = "Security", email = "security@example.com", phone = "+1 555 0100" }
billing = { name = "Finance", title = "Billing", email = "billing@example.com", phone = "+1 555 0101" }
operations = { name = "Ops", title = "Operations", email = "ops@example.com", phone = "+1 555 0102" }
"""
ANSWERS = CONTACTS + """
[guardduty]
enable = true
[default-vpcs]
regions = ["eu-west-1", "us-east-1"]
[root-credentials]
checklist_confirmed = true
"""
