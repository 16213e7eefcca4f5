"""Load only the AWS managed policies the wizard uses into moto: loading all ~1,400 costs over a second
for every account moto creates, which a newcomer waits for and every test pays."""

from __future__ import annotations

import json

USED = ("AdministratorAccess", "IAMUserChangePassword", "ReadOnlyAccess", "Billing", "PowerUserAccess",
        "SecurityAudit", "AWSSupportAccess")


_limited: list[str] = []  # the used policies' data, made once per process (parsing all of it takes ~50 ms)


def limit_to_used() -> None:
    import moto.iam.models as iam_models

    if not _limited:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)
        _limited.append(json.dumps({k: v for k, v in data.items() if k in USED}))
    iam_models.aws_managed_policies_data = _limited[0]  # type: ignore[attr-defined]
