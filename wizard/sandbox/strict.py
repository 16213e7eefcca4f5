"""The strict test world: moto made to refuse what AWS refuses, where the wizard's promises depend on it.

moto is more lenient than AWS (it stores policies and never reads them, takes any rule state, any budget).
Each strict module patches one service's moto backend to check what AWS documents it checks, with the
rule and its source in that module: strict_cloudtrail (bucket, key and logs role policies on CreateTrail
and UpdateTrail, default event selectors, organization trails seen from a member account), strict_events
(rule states, cross-Region targets), strict_budgets (names, one set of filters), strict_sts (AssumeRole needs
the role and its trust), strict_organizations (who may list an organization's accounts). The sandbox
(Sandbox.start) and the test fixtures (tests/conftest.py's `account`, tests/moto_world.py's World) install
it, so a mistake of this kind fails a test instead of a customer.
"""

from __future__ import annotations


def install() -> None:
    """Patch moto in this process. Idempotent; there is no uninstall (the patches follow AWS)."""
    from wizard.sandbox import strict_budgets, strict_cloudtrail, strict_events, strict_organizations, strict_sts

    strict_cloudtrail.install()
    strict_events.install()
    strict_budgets.install()
    strict_sts.install()
    strict_organizations.install()
