"""EBS encryption by default in every enabled region (CIS AWS v7.0 6.1.1; Security Hub EC2.7).

One change per region where it is off (ec2:EnableEbsEncryptionByDefault): new volumes and snapshot copies
are then encrypted with the region's default EBS key (the AWS managed aws/ebs unless the account chose
another). Existing volumes stay as they are. It costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wizard.aws import Aws
from wizard.facts import Guardrails, read_guardrails
from wizard.protocol import Action, ApplyContext, Change, FieldChange, Finding, Operation, Step, StepContext


@dataclass(frozen=True)
class EbsState:
    encryption: Mapping[str, bool]  # every enabled region -> on by default

    @classmethod
    def of(cls, facts: Guardrails) -> EbsState:
        return cls(dict(facts.ebs_encryption))


@dataclass(frozen=True)
class Enable(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        aws.client("ec2", self.region).enable_ebs_encryption_by_default()


class EbsEncryption(Step[EbsState]):
    id = "ebs-encryption"
    title = "EBS encryption by default in every region"
    remediates = ("ec2_ebs_default_encryption",)
    checks = "EBS encryption by default is on in every enabled region"
    writes = frozenset({"ec2:EnableEbsEncryptionByDefault"})
    reads = frozenset({"ec2:DescribeRegions", "ec2:GetEbsEncryptionByDefault"})

    def inspect(self, aws: Aws, ctx: StepContext) -> EbsState:
        return EbsState.of(read_guardrails(aws, ctx.caller, only=("ebs encryption",), strict=True))

    def findings(self, state: EbsState, ctx: StepContext) -> list[Finding]:
        on = sorted(r for r, v in state.encryption.items() if v)
        off = sorted(r for r, v in state.encryption.items() if not v)
        text = f"EBS encryption by default: on in {len(on)} of {len(state.encryption)} enabled regions"
        return [Finding(text + (f" (off in {', '.join(off)})" if off else ""),
                        observed={"on": on, "off": off})]

    def plan(self, state: EbsState, ctx: StepContext) -> list[Change]:
        return [
            Change(Action.UPDATE, Enable(region), f"EBS encryption by default ({region})",
                   f"encrypt every new EBS volume in {region} (free; existing volumes stay as they are)",
                   operations=("ec2:EnableEbsEncryptionByDefault",),
                   fields=(FieldChange("encryption by default", "off", "on"),))
            for region, on in sorted(state.encryption.items()) if not on
        ]


STEP = EbsEncryption()
