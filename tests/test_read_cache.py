"""check and plan send each distinct read once, however many steps or threads ask for it."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import Account
from wizard.aws import Aws, isolated_session
from wizard.cli import Environment, main
from wizard.read_cache import ReadCache
from wizard.write_guard import WriteGuard


def cached_aws(account: Account) -> tuple[Aws, list[str]]:
    session = isolated_session(account.root_key, account.root_secret, "us-east-1")
    guard = WriteGuard()
    guard.install(session)
    guard.lock()
    cache = ReadCache()
    cache.install(session)
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
    seen: list[Any] = []
    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), stdin_isatty=False, observe_aws=seen.append)
    main(["check"], env)
    main(["apply", "--yes"], env)
    assert seen[0].read_cache is not None and seen[1].read_cache is None
