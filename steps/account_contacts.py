"""The security, billing and operations alternate contacts (AWS Startup Security Baseline ACCT.01; CIS AWS
v7.0 2.3 / v5.0 1.2 ask for the security one).

AWS sends security notices (abuse reports, exposed credentials, incidents) to the security contact as well as
to the root user's email, so a mailbox a team reads should have them. An existing contact is shown and kept
unless the answers give another; each contact is its own change (account:PutAlternateContact).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.aws import GLOBAL_REGION, Aws
from wizard.facts import CONTACT_TYPES, AlternateContact, Guardrails, read_guardrails
from wizard.protocol import (
    Action,
    AnswerValue,
    ApplyContext,
    Change,
    ChangeSkipped,
    FieldChange,
    Finding,
    Operation,
    Question,
    Step,
    StepContext,
)

# botocore's account model (2021-02-01), PutAlternateContact: Name 1-64, Title 1-50, EmailAddress 1-254 with
# its pattern, PhoneNumber 1-25 with its pattern. The model's patterns are Java regular expressions, where
# \w is ASCII; they are matched whole here (tests/test_guardrail_steps.py compares them with the model).
LIMITS = {"name": 64, "title": 50, "email": 254, "phone": 25}
EMAIL_PATTERN = r"[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*"
PHONE_PATTERN = r"[\s0-9()+-]+"
EMAIL_RE = re.compile(EMAIL_PATTERN, re.ASCII)
PHONE_RE = re.compile(PHONE_PATTERN)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
KEYS = {"SECURITY": "security", "BILLING": "billing", "OPERATIONS": "operations"}
WHY = {
    "SECURITY": "AWS sends security notices (abuse reports, exposed keys, incidents) here as well as to root's email",
    "BILLING": "AWS sends billing notices here as well as to root's email",
    "OPERATIONS": "AWS sends service and maintenance notices here as well as to root's email",
}
ASKED_AT_APPLY = "(asked at apply)"


def field_problem(key: str) -> Any:
    def problem(value: AnswerValue) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return f"a {key} is required"
        if len(value) > LIMITS[key]:
            return f"at most {LIMITS[key]} characters"
        if CONTROL_CHARACTERS.search(value):
            return "no control characters"
        if key == "email" and not EMAIL_RE.fullmatch(value):
            return f"'{value}' is not an email address AWS accepts"
        if key == "phone" and not PHONE_RE.fullmatch(value):
            return "digits, spaces and + ( ) - only, like +1 555 0100"
        if key == "phone" and not any(c.isdigit() for c in value):
            return "a phone number needs digits, like +1 555 0100"
        return None
    return problem


FIELDS = (
    Question("name", "name", default=None, validate=field_problem("name")),
    Question("title", "title (e.g. Security)", default=None, validate=field_problem("title")),
    Question("email", "email", default=None, validate=field_problem("email")),
    Question("phone", "phone (e.g. +1 555 0100)", default=None, validate=field_problem("phone")),
)


def wanted_contact(kind: str, value: Any) -> AlternateContact | None:
    if not isinstance(value, Mapping) or not value:
        return None
    return AlternateContact(kind, *(str(value[k]).strip() for k in ("name", "title", "email", "phone")))


def shown(contact: AlternateContact) -> str:
    return f"{contact.name} ({contact.title}), {contact.email}, {contact.phone}"


@dataclass(frozen=True)
class ContactsState:
    current: Mapping[str, AlternateContact | None]
    wanted: Mapping[str, AlternateContact | None]  # None: not answered, so what there is stays

    @classmethod
    def of(cls, facts: Guardrails, answer: Any) -> ContactsState:
        """From the account's facts and the answers (a callable: key -> answer)."""
        return cls({k: facts.alternate_contacts.get(k) for k in CONTACT_TYPES},
                   {k: wanted_contact(k, answer(KEYS[k])) for k in CONTACT_TYPES})


def same(a: AlternateContact, b: AlternateContact) -> bool:
    return a.fields() | {"email": a.email.lower()} == b.fields() | {"email": b.email.lower()}


@dataclass(frozen=True)
class PutContact(Operation):
    type: str
    contact: AlternateContact | None  # None: not answered yet (plan, check); asked before apply

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        contact = self.contact
        if contact is None:
            key = KEYS[self.type]
            raise ChangeSkipped(f"no {key} contact given: answer the question, or put {key} = {{ name = \"...\", "
                                f"title = \"...\", email = \"...\", phone = \"...\" }} under [{ctx.step_id}]")
        aws.client("account", GLOBAL_REGION).put_alternate_contact(
            AlternateContactType=self.type, Name=contact.name, Title=contact.title,
            EmailAddress=contact.email, PhoneNumber=contact.phone)


class AccountContacts(Step[ContactsState]):
    id = "account-contacts"
    title = "Security, billing and operations contacts"
    remediates = ("account_security_contact_information_is_registered",)
    checks = "the security, billing and operations alternate contacts are set (existing ones are kept)"
    writes = frozenset({"account:PutAlternateContact"})
    reads = frozenset({"account:GetAlternateContact"})

    def questions(self) -> Sequence[Question]:
        return tuple(
            Question(KEYS[kind], f"{kind.capitalize()} contact", default=None, kind="table", fields=FIELDS,
                     help=f"{WHY[kind]}; empty keeps the current one")
            for kind in CONTACT_TYPES
        )

    def inspect(self, aws: Aws, ctx: StepContext) -> ContactsState:
        return ContactsState.of(read_guardrails(aws, ctx.caller, only=("alternate contacts",), strict=True),
                                ctx.answer)

    def findings(self, state: ContactsState, ctx: StepContext) -> list[Finding]:
        found = []
        for kind in CONTACT_TYPES:
            contact = state.current.get(kind)
            observed = {"type": kind, **(contact.fields() if contact else {"contact": None})}
            text = f"{kind.lower()} contact: {shown(contact)}" if contact else f"no {kind.lower()} contact"
            found.append(Finding(text, observed=observed))
        return found

    def plan(self, state: ContactsState, ctx: StepContext) -> list[Change]:
        changes = []
        for kind in CONTACT_TYPES:
            old, new = state.current.get(kind), state.wanted.get(kind)
            if (new is None and old is not None) or (new is not None and old is not None and same(old, new)):
                continue
            values = new.fields() if new else dict.fromkeys(LIMITS, ASKED_AT_APPLY)
            changes.append(Change(
                Action.UPDATE if old else Action.CREATE, PutContact(kind, new), f"{kind.lower()} contact",
                f"{'change' if old else 'set'} the {kind.lower()} contact: {WHY[kind]}",
                operations=("account:PutAlternateContact",),
                fields=tuple(FieldChange(k, (old.fields()[k] if old else None), v) for k, v in values.items()
                             if old is None or old.fields()[k] != v),
            ))
        return changes


STEP = AccountContacts()
