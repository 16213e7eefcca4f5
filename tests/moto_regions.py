"""The enabled regions of the test accounts: moto's DescribeRegions pinned to a few (the fixture's choice, not
the product's), so every regional step is exercised in more than one region without paying for ~30."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Two regions: us-east-1 (where the run and IAM are) and one other, so "every enabled region" means more
# than the run's own.
TEST_REGIONS = ("eu-west-1", "us-east-1")
# The convergence property's (hundreds of runs): its subject is the combinations of starting states, not the
# fan-out over regions, which the fault, bad-input and guardrail tests run over TEST_REGIONS.
ONE_REGION = ("us-east-1",)


@contextmanager
def pinned(regions: Sequence[str] = TEST_REGIONS) -> Iterator[None]:
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    original = RegionsAndZonesBackend.describe_regions

    def describe_regions(self: Any, region_names: list[str] | None = None) -> Any:
        return [r for r in original(self, region_names) if r.name in regions]

    RegionsAndZonesBackend.describe_regions = describe_regions  # type: ignore[method-assign]
    try:
        yield
    finally:
        RegionsAndZonesBackend.describe_regions = original  # type: ignore[method-assign]
