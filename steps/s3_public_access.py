"""S3 Block Public Access for the whole account, all four settings (AWS Startup Security Baseline ACCT.08; CIS
AWS v7.0 3.1.4; Security Hub S3.1).

Before turning it on, the plan names every bucket whose ACL or policy makes it public today: they stop being
public. The setting is only ever turned on, never off (s3control:PutPublicAccessBlock on the account).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from wizard.aws import Aws
from wizard.facts import Guardrails, read_guardrails
from wizard.protocol import Action, ApplyContext, Change, FieldChange, Finding, Operation, Step, StepContext

SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@dataclass(frozen=True)
class PublicAccessState:
    account: str
    block: Mapping[str, bool] | None  # None: no account-level block at all
    public: Mapping[str, list[str]] = field(default_factory=dict)  # bucket -> why it is public today
    unreadable: Mapping[str, str] = field(default_factory=dict)  # bucket -> why its access could not be read

    @classmethod
    def of(cls, facts: Guardrails, account: str) -> PublicAccessState:
        return cls(account, facts.account_public_access_block, facts.public_buckets(),
                   {b.name: b.error for b in facts.buckets if b.error is not None})

    @property
    def blocked(self) -> bool:
        return self.block is not None and all(self.block.get(k) for k in SETTINGS)


@dataclass(frozen=True)
class BlockPublicAccess(Operation):
    account: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("s3control").put_public_access_block(
            AccountId=self.account, PublicAccessBlockConfiguration=dict.fromkeys(SETTINGS, True))


class S3PublicAccess(Step[PublicAccessState]):
    id = "s3-public-access"
    title = "S3 Block Public Access for the account"
    remediates = ("s3_account_level_public_access_blocks",)
    checks = "account-level S3 Block Public Access, all four settings on; names the buckets public today"
    writes = frozenset({"s3control:PutPublicAccessBlock"})
    reads = frozenset({"s3control:GetPublicAccessBlock", "s3:ListBuckets", "s3:GetBucketAcl",
                       "s3:GetPublicAccessBlock", "s3:GetBucketPolicyStatus"})

    def inspect(self, aws: Aws, ctx: StepContext) -> PublicAccessState:
        facts = read_guardrails(aws, ctx.caller, only=("account public access block", "bucket exposure"),
                                strict=True)
        return PublicAccessState.of(facts, ctx.caller.account)

    def findings(self, state: PublicAccessState, ctx: StepContext) -> list[Finding]:
        settings = {k: bool((state.block or {}).get(k)) for k in SETTINGS}
        found = [Finding("account-level Block Public Access: " + (
            ", ".join(f"{k} {'on' if v else 'off'}" for k, v in settings.items()) if state.block is not None
            else "not set"), observed={"account_public_access_block": dict(state.block) if state.block else None})]
        for name, reasons in state.public.items():
            found.append(Finding(f"bucket {name} is public today ({'; '.join(reasons)})"
                                 + ("" if state.blocked else ": it stops being public once the block is on"),
                                 severity="warning", observed={"bucket": name, "public": reasons}))
        for name, reason in state.unreadable.items():
            found.append(Finding(f"bucket {name}: could not read who can reach it ({reason})", severity="warning",
                                 observed={"bucket": name, "error": reason}))
        return found

    def plan(self, state: PublicAccessState, ctx: StepContext) -> list[Change]:
        if state.blocked:
            return []
        current = state.block or {}
        public = sorted(state.public)
        summary = "block public access to every S3 bucket in the account"
        if public:
            summary += f"; these buckets stop being public: {', '.join(public)}"
        return [Change(
            Action.UPDATE if state.block is not None else Action.CREATE, BlockPublicAccess(state.account),
            "S3 Block Public Access (account)", summary, operations=("s3control:PutPublicAccessBlock",),
            fields=tuple(FieldChange(k, "on" if current.get(k) else "off", "on") for k in SETTINGS
                         if not current.get(k)),
        )]


STEP = S3PublicAccess()
