"""check and plan send each distinct read once, however many steps or threads ask for it."""

from __future__ import annotations

from typing import Any

import pytest

import steps
import steps as step_registry
from tests import harness
from tests.conftest import Account
from wizard.aws import Aws, isolated_session
from wizard.read_cache import ReadCache
from wizard.write_guard import WriteGuard


def cached_aws(account: Account) -> tuple[Aws, list[str]]:
    session = isolated_session(account.root_key, account.root_secret, "us-east-1")
    guard = WriteGuard(reads=steps.declared_reads())
    guard.lock()
    cache = ReadCache()
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url) and None)
    return Aws(session, guard, read_cache=cache), sent


def test_same_read_twice_is_sent_once(account: Account) -> None:
    account.raw("iam").create_user(UserName="admin")
    aws, _ = cached_aws(account)
    iam = aws.client("iam")
    first = iam.get_user(UserName="admin")
    first["User"]["UserName"] = "mutated by a careless caller"
    second = iam.get_user(UserName="admin")
    assert second["User"]["UserName"] == "admin"
    assert aws.read_cache is not None and aws.read_cache.sent["iam:GetUser"] == 1
    assert aws.read_cache.served["iam:GetUser"] == 1


def test_different_parameters_are_different_reads(account: Account) -> None:
    aws, _ = cached_aws(account)
    iam = aws.client("iam")
    for name in ("a", "b", "a"):
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_user(UserName=name)
    assert aws.read_cache is not None and aws.read_cache.sent["iam:GetUser"] == 2


def test_concurrent_askers_share_one_request(account: Account) -> None:
    aws, _ = cached_aws(account)
    iam = aws.client("iam")
    results = aws.parallel(*(lambda: iam.list_users() for _ in range(8)))
    assert len(results) == 8
    assert aws.read_cache is not None and aws.read_cache.sent["iam:ListUsers"] == 1


def test_check_uses_the_cache_and_apply_does_not(account: Account) -> None:
    check = harness.run("check", stdin="pipe", width=None)
    apply = harness.run("apply", "--yes", stdin="pipe", width=None)
    assert check.aws[0].read_cache is not None and apply.aws[0].read_cache is None


def test_a_full_check_sends_no_read_twice(account: Account, tmp_path: Any) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text(
        '[cloudtrail]\nalerts_email = "ops@example.com"\nmetric_filters = true\n'
        '[budget-alarm]\namount = 25\nemails = "ops@example.com"\n'
    )
    applied = harness.run("apply", "--yes", "--answers", str(answers), stdin="pipe", width=None)
    assert applied.code in (0, 2), applied.err

    sent: list[tuple[str, str, str, str]] = []

    def record(aws: Any) -> None:
        def before_send(request: Any, **_: Any) -> None:
            body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
            target = str(request.headers.get("X-Amz-Target", ""))  # the operation, for JSON protocols
            sent.append((request.method, request.url, target, body))

        aws.session.events.register("before-send", before_send)

    checked = harness.run("check", "--answers", str(answers), "--output", "json", stdin="pipe", width=None,
                          observe=record)
    steps = {s["id"] for s in __import__("json").loads(checked.out)["steps"]}
    assert steps == set(step_registry.all_ids()) and len(sent) > 20
    duplicates = {r for r in sent if sent.count(r) > 1}
    assert not duplicates, duplicates


def test_the_same_read_in_two_regions_behind_one_endpoint_is_two_reads() -> None:
    """Behind one --endpoint-url (the sandbox) DescribeVpcs in two regions has the same URL and body: the
    region is part of the key, so neither region is answered with the other's VPCs."""
    request = {"method": "POST", "url": "http://127.0.0.1:5000/", "body": {"Action": "DescribeVpcs"}}
    east = {**request, "context": {"client_region": "us-east-1"}}
    west = {**request, "context": {"client_region": "eu-west-1"}}
    assert ReadCache._key("ec2:DescribeVpcs", east) != ReadCache._key("ec2:DescribeVpcs", west)
    assert ReadCache._key("ec2:DescribeVpcs", east) == ReadCache._key("ec2:DescribeVpcs", dict(east))


def test_a_policy_document_served_again_is_parsed_as_the_first(account: Any) -> None:
    """Found with the support role: botocore URL-decodes and parses IAM's policy documents in an after-call
    handler, which also runs on an answer the cache serves; kept after it, the second reader got an error."""
    import json

    from wizard.read_cache import ReadCache

    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
    account.raw("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
    aws = account.aws(locked=True)
    aws.read_cache = ReadCache()
    iam = aws.client("iam")
    first, second = (iam.list_roles()["Roles"][0]["AssumeRolePolicyDocument"] for _ in range(2))
    assert first == second == trust
    assert aws.read_cache.served["iam:ListRoles"] == 1
