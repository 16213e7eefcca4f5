"""An IAM Access Analyzer for external access in every enabled region (CIS AWS v7.0 2.18 / v5.0 1.19;
Security Hub IAM.28). Free: it reports the account's resources that are shared outside it.

A region passes with any active external-access analyzer (type ACCOUNT, or ORGANIZATION from the
organization); otherwise the step creates one of type ACCOUNT. Unused-access analyzers (charged, and not
about external access) do not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wizard.aws import Aws
from wizard.facts import Analyzer, Guardrails, read_guardrails
from wizard.protocol import (
    Action,
    ApplyContext,
    Change,
    ConsoleTask,
    FieldChange,
    Finding,
    Operation,
    Step,
    StepContext,
)
from wizard.retry import error_code

ANALYZER_NAME = "aws-harden-external-access"
CONSOLE = "https://console.aws.amazon.com/access-analyzer/home?region={region}#/analyzers"


@dataclass(frozen=True)
class AnalyzerState:
    analyzers: Mapping[str, tuple[Analyzer, ...]]  # every enabled region -> its analyzers

    @classmethod
    def of(cls, facts: Guardrails) -> AnalyzerState:
        return cls(dict(facts.analyzers))

    def covering(self, region: str) -> Analyzer | None:
        """The region's active (or, just made, still creating) external-access analyzer."""
        external = [a for a in self.analyzers.get(region, ()) if a.external_access]
        return next((a for a in external if a.status == "ACTIVE"), None) or next(
            (a for a in external if a.status == "CREATING"), None)


@dataclass(frozen=True)
class ReplaceAnalyzer(ConsoleTask):
    region: str


@dataclass(frozen=True)
class CreateAnalyzer(Operation):
    region: str

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        client = aws.client("accessanalyzer", self.region)
        try:
            client.create_analyzer(analyzerName=ANALYZER_NAME, type="ACCOUNT", tags={"created-by": "aws-harden"})
        except Exception as exc:
            if error_code(exc) != "ConflictException":  # made by an earlier run whose answer was lost
                raise


class AccessAnalyzer(Step[AnalyzerState]):
    id = "access-analyzer"
    title = "IAM Access Analyzer in every region"
    remediates = ("accessanalyzer_enabled",)
    checks = "an active external-access analyzer in every enabled region (free)"
    writes = frozenset({"accessanalyzer:CreateAnalyzer"})
    reads = frozenset({"ec2:DescribeRegions", "accessanalyzer:ListAnalyzers"})

    def inspect(self, aws: Aws, ctx: StepContext) -> AnalyzerState:
        return AnalyzerState.of(read_guardrails(aws, ctx.caller, only=("access analyzers",), strict=True))

    def findings(self, state: AnalyzerState, ctx: StepContext) -> list[Finding]:
        found = []
        covered = {r: a for r in sorted(state.analyzers) if (a := state.covering(r)) is not None}
        if covered:
            found.append(Finding(
                f"external-access analyzers in {len(covered)} of {len(state.analyzers)} enabled regions",
                observed={r: f"{a.name} ({a.type}, {a.status})" for r, a in covered.items()}))
        for region, a in covered.items():
            if a.status == "CREATING":
                found.append(Finding(f"analyzer {a.name} in {region} is still being created", observed={
                    "region": region, "analyzer": a.name, "status": a.status}))
        return found

    def plan(self, state: AnalyzerState, ctx: StepContext) -> list[Change]:
        changes = []
        for region in sorted(state.analyzers):
            if state.covering(region) is not None:
                continue
            ours = next((a for a in state.analyzers[region] if a.name == ANALYZER_NAME), None)
            if ours is not None:  # ours, but disabled or failed: only a person can tell why
                changes.append(Change(
                    Action.OPERATOR, ReplaceAnalyzer(region), f"access analyzer {ANALYZER_NAME} ({region})",
                    f"the analyzer {ANALYZER_NAME} in {region} is {ours.status}: delete it in the console, then "
                    "run aws-harden again to make a new one", url=CONSOLE.format(region=region)))
                continue
            changes.append(Change(
                Action.CREATE, CreateAnalyzer(region), f"access analyzer {ANALYZER_NAME} ({region})",
                f"an external-access analyzer (type ACCOUNT) in {region}: free; it reports what is shared "
                "outside the account", operations=("accessanalyzer:CreateAnalyzer",),
                fields=(FieldChange("type", None, "ACCOUNT"),)))
        return changes


STEP = AccessAnalyzer()
