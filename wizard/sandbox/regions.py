"""The sandbox's regions as a new commercial account has them, where moto differs (written for moto 5.2,
pinned in pyproject.toml):

- DescribeRegions lists the `aws` partition's regions only (moto also lists AWS GovCloud and China regions,
  which no commercial account sees);
- each region's default VPC has its internet gateway attached, as AWS makes it ("Default VPC components",
  Amazon VPC User Guide: an internet gateway connected to the default VPC); moto makes none. Its ids are the
  same on every start, so the sandbox's replay finds what an earlier run deleted.
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Patch moto in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from botocore.session import Session
    from moto.ec2.models import EC2Backend
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
    from moto.moto_api._internal import mock_random

    commercial = set(Session().get_available_regions("ec2", partition_name="aws"))
    original_regions = RegionsAndZonesBackend.describe_regions
    original_default_vpc = EC2Backend.create_default_vpc

    def describe_regions(self: Any, region_names: list[str] | None = None) -> Any:
        return [r for r in original_regions(self, region_names) if r.name in commercial]

    def create_default_vpc(self: Any) -> Any:
        # The same ids on every start (a region's backend is made when first asked, in no fixed order), so
        # the sandbox's replay of a deletion finds the VPC, subnets and gateway it deleted before.
        saved = mock_random.getstate()
        mock_random.seed(f"default-vpc/{self.account_id}/{self.region_name}")
        try:
            vpc = original_default_vpc(self)
            gateway = self.create_internet_gateway()
            self.attach_internet_gateway(gateway.id, vpc.id)
        finally:
            mock_random.setstate(saved)
        return vpc

    RegionsAndZonesBackend.describe_regions = describe_regions  # type: ignore[method-assign]
    EC2Backend.create_default_vpc = create_default_vpc  # type: ignore[method-assign]
    _installed = True
