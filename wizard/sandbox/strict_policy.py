"""A small evaluator of resource policies, for the strict test world: does this policy let this request through?

moto stores bucket, key and trust policies and never reads them, so a policy the wizard writes wrong goes
unnoticed until a real account refuses it. The strict modules ask this evaluator the question AWS asks when
a service acts on a resource (CloudTrail writing to a bucket, using a key, assuming a role).

What it implements follows the IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
an explicit Deny wins; otherwise an Allow whose Principal, Action, Resource and every Condition match is
needed. Principal `"*"` and `{"AWS": "*"}` match everyone; `{"Service": ...}` matches that service.
Action and Resource take `*` and `?` wildcards (actions case-insensitively). Within a condition operator the
keys are ANDed and a key's values ORed; a key missing from the request fails a positive operator, passes a
negated one (`StringNotEquals`, ...), and passes any `...IfExists` operator.

Deliberately conservative where it does not model AWS: an operator it does not know makes an Allow not
match and a Deny match, so an unknown policy shape is refused, never waved through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Context = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Request:
    """What a service asks for: who (its service principal), which action, on which resource, in what context.

    A request from an IAM identity instead (sts:AssumeRole by a user or a role) has `service` empty and names
    the caller in `aws_caller`: its ARN and its account id."""

    service: str
    action: str
    resource: str
    context: Context = field(default_factory=dict)
    aws_caller: tuple[str, str] | None = None


def statements(policy: Any) -> list[Mapping[str, Any]]:
    if isinstance(policy, str | bytes):
        policy = json.loads(policy)
    if not isinstance(policy, Mapping):
        return []
    found = policy.get("Statement", [])
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, Mapping)]


def allows(policy: Any, request: Request) -> bool:
    """True when an Allow statement matches the request and no Deny statement does."""
    found = statements(policy)
    if any(s.get("Effect") == "Deny" and _matches(s, request, deny=True) for s in found):
        return False
    return any(s.get("Effect") == "Allow" and _matches(s, request, deny=False) for s in found)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    aws = _listed(principal.get("AWS"))
    if "*" in aws:
        return True
    if request.aws_caller is not None:
        # An account (its id or its root ARN) as principal trusts every identity of that account that its own
        # policies allow; an identity's ARN trusts that identity (IAM User Guide, "AWS JSON policy elements:
        # Principal", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
        arn, account = request.aws_caller
        partition = arn.split(":")[1] if arn.count(":") >= 5 else "aws"
        return any(p in (account, f"arn:{partition}:iam::{account}:root", arn) for p in aws)
    return bool(request.service) and request.service in _listed(principal.get("Service"))


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _matches(statement: Mapping[str, Any], request: Request, deny: bool) -> bool:
    if "Principal" in statement:
        if not _principal_matches(statement["Principal"], request):
            return False
    elif "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], request):
            return False
    else:
        return False  # a resource policy statement without a principal applies to no one
    if "Action" in statement:
        if not any(_wildcard(a, request.action, ignore_case=True) for a in _listed(statement["Action"])):
            return False
    elif any(_wildcard(a, request.action, ignore_case=True) for a in _listed(statement.get("NotAction"))):
        return False
    if "Resource" in statement:
        if not any(_wildcard(r, request.resource) for r in _listed(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(_wildcard(r, request.resource) for r in _listed(statement["NotResource"])):
        return False
    conditions = statement.get("Condition") or {}
    if not isinstance(conditions, Mapping):
        return deny
    return all(_operator_holds(op, keys, request.context, deny) for op, keys in conditions.items())


NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
KNOWN = NEGATED | {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool", "Null"}


def _operator_holds(operator: str, keys: Any, context: Context, deny: bool) -> bool:
    qualifier, _, name = operator.rpartition(":")  # ForAnyValue: / ForAllValues: on multi-valued keys
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    if base not in KNOWN or qualifier not in ("", "ForAnyValue", "ForAllValues") or not isinstance(keys, Mapping):
        return deny  # not modelled: refuse (see the module docstring)
    for key, wanted in keys.items():
        present = _context_value(context, key)
        if base == "Null":
            expect_missing = str(_listed(wanted)[0]).lower() == "true" if _listed(wanted) else False
            if (present is None) != expect_missing:
                return False
            continue
        if present is None:
            if if_exists or base in NEGATED:
                continue
            return False
        values = _listed(wanted)
        if not _compare(base, present, values, qualifier):
            return False
    return True


def _context_value(context: Context, key: str) -> list[str] | None:
    for k, v in context.items():
        if k.lower() == key.lower():  # condition key names are case-insensitive
            return _listed(v)
    return None


def _compare(base: str, present: list[str], wanted: list[str], qualifier: str) -> bool:
    def one(value: str) -> bool:
        if base in ("StringEquals", "ArnEquals"):
            return value in wanted
        if base == "StringEqualsIgnoreCase":
            return value.lower() in {w.lower() for w in wanted}
        if base in ("StringLike", "ArnLike"):
            return any(_wildcard(w, value) for w in wanted)
        if base == "Bool":
            return value.lower() in {w.lower() for w in wanted}
        if base in ("StringNotEquals", "ArnNotEquals"):
            return value not in wanted
        if base == "StringNotEqualsIgnoreCase":
            return value.lower() not in {w.lower() for w in wanted}
        return not any(_wildcard(w, value) for w in wanted)  # StringNotLike, ArnNotLike

    if qualifier == "ForAllValues":
        return all(one(v) for v in present)
    return any(one(v) for v in present)
