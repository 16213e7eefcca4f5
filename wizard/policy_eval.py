"""IAM policy evaluation for one IAM user, the part the wizard's safety depends on.

The rules follow the IAM User Guide, "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html) and its page
"Policy evaluation for requests within a single account"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html):

1. an explicit Deny in any policy (identity-based or permissions boundary) decides: denied;
2. otherwise an identity-based policy must Allow the request, else it is implicitly denied;
3. and, when the user has a permissions boundary, the boundary must Allow it too ("an entity's permissions
   boundary allows it to perform only the actions that are allowed by both its identity-based policies and
   its permissions boundaries", IAM User Guide, "Permissions boundaries for IAM entities").

Organizations SCPs and RCPs, resource-based policies and session policies are outside this model (a fresh
stand-alone account has none the wizard could read). Statements match on Action / NotAction (wildcards,
case-insensitive), Resource / NotResource (wildcards, ${...} policy variables from the context) and the
condition operators Bool, Null, String* and Arn*, each with ...IfExists, with the documented rule for a key
missing from the request context ("Condition operators": the condition is false, true for the negated
operators, and ...IfExists / Null test presence). Any other operator, or a set operator
(ForAllValues: / ForAnyValue:), is read cautiously and reported: a Deny it guards counts as applying, an
Allow as not applying. Used by the wizard (when iam:SimulatePrincipalPolicy is not answered) and by the
test world (wizard/sandbox/iam_policy.py), which uses it to refuse what AWS would refuse.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

Decision = Literal["allowed", "explicitDeny", "implicitDeny"]  # SimulatePrincipalPolicy's EvalDecision values
Context = Mapping[str, str]  # condition key (any case) -> value; a key absent here is absent from the request


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the document is a dict
class Source:
    """One policy document and where it comes from (SimulatePrincipalPolicy's SourcePolicyId / Type)."""

    id: str
    kind: str  # "user", "group", "aws-managed", "user-managed"
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Result:
    decision: Decision
    matched: tuple[Source, ...] = ()  # the sources whose statements decided it
    allowed_by_boundary: bool | None = None  # None: the user has no boundary
    cautious: tuple[str, ...] = ()  # conditions not modelled, read cautiously
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"


def parse_document(document: str | Mapping[str, Any]) -> Mapping[str, Any]:
    """A policy document as IAM hands it out: a dict, JSON text, or URL-encoded JSON text (IAM's wire form)."""
    if isinstance(document, Mapping):
        return document
    text = document.strip()
    if not text.startswith("{"):
        text = unquote(text)
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("a policy document is a JSON object")
    return parsed


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, Mapping) else [s for s in found if isinstance(s, Mapping)]


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return [_text(value)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@functools.lru_cache(maxsize=8192)  # a policy's patterns are few and asked again on every request
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if "*" not in pattern and "?" not in pattern:  # most of a policy's actions: no pattern to compile
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return bool(_wildcard(pattern, ignore_case).match(value))


VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _substitute(pattern: str, context: Mapping[str, str]) -> str | None:
    """Policy variables (IAM User Guide, "IAM policy elements: Variables and tags"); None when one is unknown
    (the statement then does not match that resource)."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name in ("*", "?", "$"):
            return name
        found = context.get(name.lower())
        if found is None:
            missing = True
            return ""
        return found

    result = VARIABLE.sub(value, pattern)
    return None if missing else result


def action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(_like(p, action, ignore_case=True) for p in _values(statement["NotAction"]))
    return any(_like(p, action, ignore_case=True) for p in _values(statement.get("Action")))


def resource_matches(statement: Mapping[str, Any], resource: str | None, context: Mapping[str, str]) -> bool:
    """`resource` None: the request's resource is not known (the test world's requests): only a statement
    for every resource ("Resource": "*") matches then."""
    negated = "NotResource" in statement
    patterns = _values(statement["NotResource"] if negated else statement.get("Resource", "*"))
    if resource is None:
        return not negated and "*" in patterns
    hit = False
    for pattern in patterns:
        concrete = _substitute(pattern, context)
        if concrete is not None and _like(concrete, resource):
            hit = True
            break
    return not hit if negated else hit


STRING_OPERATORS = {
    "StringEquals": (False, False, False),  # (negated, wildcards, ignore case)
    "StringNotEquals": (True, False, False),
    "StringEqualsIgnoreCase": (False, False, True),
    "StringNotEqualsIgnoreCase": (True, False, True),
    "StringLike": (False, True, False),
    "StringNotLike": (True, True, False),
    "ArnEquals": (False, True, False),  # ARN operators compare with wildcards, as the guide says
    "ArnLike": (False, True, False),
    "ArnNotEquals": (True, True, False),
    "ArnNotLike": (True, True, False),
}


def _one_condition(operator: str, key: str, wanted: list[str], context: Mapping[str, str]) -> bool | None:
    """True / False, or None when the operator is not modelled here."""
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    present = key.lower() in context
    actual = context.get(key.lower(), "")
    if base == "Null":
        # "true": the key must be absent; "false": it must be present.
        return any((v.lower() == "true") == (not present) for v in wanted)
    if base == "Bool":
        if not present:
            return if_exists
        return any(actual.lower() == v.lower() for v in wanted)
    if base in STRING_OPERATORS:
        negated, wildcards, ignore_case = STRING_OPERATORS[base]
        if not present:
            return True if if_exists else negated
        concrete = [c for c in (_substitute(v, context) for v in wanted) if c is not None]
        if wildcards:
            hit = any(_like(v, actual, ignore_case) for v in concrete)
        elif ignore_case:
            hit = any(v.lower() == actual.lower() for v in concrete)
        else:
            hit = actual in concrete
        return not hit if negated else hit
    return None


def condition_holds(statement: Mapping[str, Any], context: Mapping[str, str]) -> tuple[bool | None, list[str]]:
    """Every operator and every key must hold (AND); a key's values are alternatives (OR).
    Returns (holds, the conditions read cautiously); holds None when a condition is not modelled."""
    block = statement.get("Condition") or {}
    unknown: list[str] = []
    result = True
    for operator, keys in block.items():
        if not isinstance(keys, Mapping) or operator.startswith(("ForAllValues:", "ForAnyValue:")):
            unknown.append(operator)
            continue
        for key, wanted in keys.items():
            holds = _one_condition(operator, key, _values(wanted), context)
            if holds is None:
                unknown.append(f"{operator} {key}")
            elif not holds:
                result = False
    if not result:
        return False, unknown
    return (None if unknown else True), unknown


@dataclass
class _Scan:
    deny: list[Source] = field(default_factory=list)
    allow: list[Source] = field(default_factory=list)
    cautious: list[str] = field(default_factory=list)


def _scan(sources: Sequence[Source], action: str, resource: str | None, context: Mapping[str, str]) -> _Scan:
    found = _Scan()
    for source in sources:
        for statement in statements(source.document):
            if not action_matches(statement, action) or not resource_matches(statement, resource, context):
                continue
            holds, unknown = condition_holds(statement, context)
            found.cautious += unknown
            effect = statement.get("Effect")
            if effect == "Deny" and holds is not False:  # an unmodelled condition on a Deny: it may apply
                found.deny.append(source)
            elif effect == "Allow" and holds is True:  # ...on an Allow: it may not
                found.allow.append(source)
    return found


def evaluate(identity: Sequence[Source], boundary: Source | None, action: str, resource: str | None = "*",
             context: Mapping[str, str] | None = None) -> Result:
    """The decision for one request by one IAM user (see the module docstring for the rules)."""
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    mine = _scan(identity, action, resource, ctx)
    fence = _scan([boundary], action, resource, ctx) if boundary is not None else _Scan()
    cautious = tuple(dict.fromkeys(mine.cautious + fence.cautious))
    allowed_by_boundary = None if boundary is None else (bool(fence.allow) and not fence.deny)
    if mine.deny or fence.deny:
        sources = tuple(dict.fromkeys(mine.deny + fence.deny))
        where = "a permissions boundary" if not mine.deny else "an identity-based policy"
        return Result("explicitDeny", sources, allowed_by_boundary, cautious,
                      f"with an explicit deny in {where}")
    if not mine.allow:
        return Result("implicitDeny", (), allowed_by_boundary, cautious, "because no identity-based policy "
                      "allows the action")
    if boundary is not None and not fence.allow:
        return Result("implicitDeny", (boundary,), False, cautious, "because no permissions boundary allows "
                      "the action")
    return Result("allowed", tuple(dict.fromkeys(mine.allow)), allowed_by_boundary, cautious)


def explicit_denial(identity: Sequence[Source], boundary: Source | None, action: str,
                    resource: str | None = None, context: Mapping[str, str] | None = None) -> Result | None:
    """What the test world enforces on every request (moto allows everything, so the Allow side is moto's):
    an explicit Deny, or a boundary that does not allow the action. None when neither applies."""
    result = evaluate(identity, boundary, action, resource, context)
    if result.decision == "explicitDeny":
        return result
    if boundary is not None and result.allowed_by_boundary is False:
        return Result("implicitDeny", (boundary,), False, result.cautious,
                      "because no permissions boundary allows the action")
    return None
