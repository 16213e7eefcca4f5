"""Unused default VPCs, deleted region by region (AWS Startup Security Baseline ACCT.09).

Every region of a new account has a default VPC: a public network nobody configured, into which anything
launched without a choice lands. The step reports each one and whether anything uses it (network
interfaces: instances, load balancers, endpoints, Lambda in a VPC all have them). Only an unused one is
offered for deletion, and only after the operator types its region's name; under --yes only the regions the
answers file lists (`regions = [...]`). A VPC in use is left alone, with the reason.

Deleting takes what a default VPC comes with: its internet gateway (tagged with the VPC's id, so a stopped run
finds it again once detached; then detached and deleted) and its subnets, then the VPC (its default security
group, route table and network ACL go with it). AWS can make a new default VPC later (ec2:CreateDefaultVpc, or
the VPC console).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wizard.aws import Aws, known_region
from wizard.facts import GATEWAY_OF_TAG, DefaultVpc, Guardrails, read_guardrails
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
from wizard.retry import error_code

GONE = {"InvalidSubnetID.NotFound", "InvalidInternetGatewayID.NotFound", "Gateway.NotAttached",
        "InvalidVpcID.NotFound"}


@functools.cache
def is_region(name: str) -> bool:
    return known_region(name)  # botocore's endpoint data, loaded once


def regions_problem(value: AnswerValue) -> str | None:
    if not isinstance(value, list):
        return 'a list of region names, like ["us-east-1", "eu-west-1"]'
    for region in value:
        if not is_region(region):
            return f"unknown region '{region}'"
    return None


@dataclass(frozen=True)
class DefaultVpcState:
    vpcs: Mapping[str, tuple[DefaultVpc, ...]]  # every enabled region -> its default VPC (none, or one)

    @classmethod
    def of(cls, facts: Guardrails) -> DefaultVpcState:
        return cls(dict(facts.default_vpcs))

    def all(self) -> list[DefaultVpc]:
        return [v for region in sorted(self.vpcs) for v in self.vpcs[region]]


@dataclass(frozen=True)
class DeleteDefaultVpc(Operation):
    region: str
    vpc: str
    subnets: tuple[str, ...]
    gateways: tuple[str, ...]

    def apply(self, aws: Aws, ctx: ApplyContext) -> None:
        ec2 = aws.client("ec2", self.region)
        # Read again right before deleting: something may have started using it since the plan.
        used = ec2.describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])["NetworkInterfaces"]
        if used:
            raise ChangeSkipped(
                f"the default VPC {self.vpc} in {self.region} is in use now ({len(used)} network interfaces)")
        for gateway in self.gateways:
            ec2.create_tags(Resources=[gateway], Tags=[{"Key": GATEWAY_OF_TAG, "Value": self.vpc}])
            tolerate_gone(ec2.detach_internet_gateway, InternetGatewayId=gateway, VpcId=self.vpc)
            tolerate_gone(ec2.delete_internet_gateway, InternetGatewayId=gateway)
        for subnet in self.subnets:
            tolerate_gone(ec2.delete_subnet, SubnetId=subnet)
        tolerate_gone(ec2.delete_vpc, VpcId=self.vpc)


class DefaultVpcs(Step[DefaultVpcState]):
    id = "default-vpcs"
    title = "Unused default VPCs deleted"
    remediates = ()
    checks = ("no unused default VPC in any enabled region; one in use is reported and kept; each deletion "
              "needs its region's name typed (or listed in the answers file)")
    writes = frozenset({"ec2:CreateTags", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
                        "ec2:DeleteSubnet", "ec2:DeleteVpc"})
    reads = frozenset({"ec2:DescribeRegions", "ec2:DescribeVpcs", "ec2:DescribeSubnets",
                       "ec2:DescribeInternetGateways", "ec2:DescribeNetworkInterfaces"})

    def questions(self) -> Sequence[Question]:
        return (Question("regions", "Regions whose unused default VPC may be deleted unattended", default=None,
                         kind="list", prompted=False, validate=regions_problem,
                         help="answers file only; at a prompt you type each region's name"),)

    def inspect(self, aws: Aws, ctx: StepContext) -> DefaultVpcState:
        return DefaultVpcState.of(read_guardrails(aws, ctx.caller, only=("default vpcs",), strict=True))

    def findings(self, state: DefaultVpcState, ctx: StepContext) -> list[Finding]:
        vpcs = state.all()
        found = [Finding(f"default VPCs: {len(vpcs)} in {len(state.vpcs)} enabled regions"
                         + (f" ({', '.join(f'{v.region} {v.id}' for v in vpcs)})" if vpcs else ""),
                         observed={"default_vpcs": {v.region: v.id for v in vpcs}})]
        for v in vpcs:
            if v.in_use:
                found.append(Finding(
                    f"default VPC {v.id} in {v.region} is in use ({len(v.network_interfaces)} network interfaces): "
                    "kept; move what runs there to a VPC of your own, then run again", severity="warning",
                    observed={"vpc": v.id, "region": v.region, "network_interfaces": list(v.network_interfaces)}))
        return found

    def plan(self, state: DefaultVpcState, ctx: StepContext) -> list[Change]:
        return [
            Change(Action.DELETE, DeleteDefaultVpc(v.region, v.id, tuple(v.subnets), tuple(v.internet_gateways)),
                   f"default VPC {v.id} ({v.region})",
                   f"delete the unused default VPC in {v.region} (no network interfaces), with its "
                   f"{len(v.subnets)} subnets and {len(v.internet_gateways)} internet gateway(s)",
                   operations=("ec2:CreateTags", "ec2:DetachInternetGateway", "ec2:DeleteInternetGateway",
                               "ec2:DeleteSubnet", "ec2:DeleteVpc"),
                   fields=(FieldChange("cidr", v.cidr, None), FieldChange("subnets", len(v.subnets), None)),
                   confirm_value=v.region, confirm_answer="regions")
            for v in state.all() if not v.in_use
        ]


def tolerate_gone(call: Callable[..., Any], **params: str) -> None:
    """A piece an earlier, interrupted run already deleted is not an error."""
    try:
        call(**params)
    except Exception as exc:
        if error_code(exc) not in GONE:
            raise


STEP = DefaultVpcs()
