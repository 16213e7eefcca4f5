"""Load only the AWS managed policies the wizard uses into moto: loading all ~1,400 costs over a second
for every account moto creates, which a newcomer waits for and every test pays."""

from __future__ import annotations

import json

USED = ("AdministratorAccess", "IAMUserChangePassword", "ReadOnlyAccess", "Billing", "PowerUserAccess",
        "SecurityAudit", "AWSSupportAccess")


def limit_to_used() -> None:
    import moto.iam.models as iam_models
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    iam_models.aws_managed_policies_data = json.dumps({k: v for k, v in data.items() if k in USED})  # type: ignore[attr-defined]
