"""handler.accounts: each member's read role assumed once per credentials' lifetime (botocore's Stubber
stands in for STS: AWS's answers, AccessDenied included, without an account)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from batch_array_notify.handler import accounts, aws
from batch_array_notify.handler.accounts import (
    REFRESH_BEFORE_EXPIRY_SECONDS,
    ROLE_SESSION_NAME,
    MemberAccessError,
    client_for,
    member_client,
)
from batch_array_notify.handler.scope import Origin
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.support import notifier_environment

REGION = "eu-west-1"
FIRST, SECOND = "111111111111", "222222222222"
EXTERNAL_ID = "org-notifier-7"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/batch-array-notify-read"


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """A central notifier with two members and an external id; STS stubbed, the clock at NOW."""
    members = {account: {"roleArn": role(account)} for account in (FIRST, SECOND)}
    environment = notifier_environment(
        "", AWS_REGION=REGION, MEMBER_ACCOUNTS=json.dumps(members), MEMBER_EXTERNAL_ID=EXTERNAL_ID
    )
    for name, value in {**environment, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(accounts, "clock", NOW.timestamp)
    reset_handler_caches()
    with Stubber(aws.client("sts")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    reset_handler_caches()


def expect_assume(stubber: Stubber, account: str, key: str, expires: datetime = NOW + timedelta(hours=1)) -> None:
    answer = {
        "Credentials": {
            "AccessKeyId": key,
            "SecretAccessKey": f"secret-of-{key}",
            "SessionToken": f"token-of-{key}",
            "Expiration": expires,
        }
    }
    request = {"RoleArn": role(account), "RoleSessionName": ROLE_SESSION_NAME, "ExternalId": EXTERNAL_ID}
    stubber.add_response("assume_role", answer, request)


def access_key(client: Any) -> str:
    """The access key the client would sign its next request with (refreshing first when due)."""
    return str(client._request_signer._credentials.get_frozen_credentials().access_key)


def test_each_member_s_role_is_assumed_once_with_the_external_id_and_its_clients_are_kept(sts):
    expect_assume(sts, FIRST, "ASIAFIRSTFIRSTFIRST0")
    expect_assume(sts, SECOND, "ASIASECONDSECONDSEC0")

    batch = member_client("batch", FIRST, REGION)
    logs = member_client("logs", FIRST, "us-east-1")
    second = client_for("batch", Origin(SECOND, REGION))

    assert (access_key(batch), access_key(logs), access_key(second)) == (
        "ASIAFIRSTFIRSTFIRST0",
        "ASIAFIRSTFIRSTFIRST0",
        "ASIASECONDSECONDSEC0",
    )
    assert client_for("batch", Origin(FIRST, REGION)) is batch
    assert logs.meta.region_name == "us-east-1"
    assert batch.meta.config.retries == {"mode": aws.RETRY_MODE, "total_max_attempts": aws.MAX_ATTEMPTS}
    assert logs.meta.config.retries["total_max_attempts"] == 1, "log tails keep their one attempt"


def test_the_notifier_s_own_account_is_read_with_its_own_clients(sts):
    assert client_for("batch", None) is aws.client("batch")


def test_credentials_are_renewed_a_few_minutes_before_they_expire_and_not_earlier(sts, monkeypatch):
    expires = NOW + timedelta(hours=1)
    expect_assume(sts, FIRST, "ASIAFIRSTFIRSTFIRST0", expires)
    batch = member_client("batch", FIRST, REGION)
    assert access_key(batch) == "ASIAFIRSTFIRSTFIRST0"
    # botocore swallows a failed early renewal and keeps the old credentials: count the attempts instead.
    attempts: list[str] = []
    assume = accounts._assume
    monkeypatch.setattr(accounts, "_assume", lambda member: attempts.append(member.account_id) or assume(member))

    just_before = expires - timedelta(seconds=REFRESH_BEFORE_EXPIRY_SECONDS + 1)
    monkeypatch.setattr(accounts, "clock", just_before.timestamp)
    assert access_key(batch) == "ASIAFIRSTFIRSTFIRST0"
    assert attempts == []

    expect_assume(sts, FIRST, "ASIARENEWEDRENEWED00", expires + timedelta(hours=1))
    monkeypatch.setattr(accounts, "clock", (expires - timedelta(seconds=REFRESH_BEFORE_EXPIRY_SECONDS - 1)).timestamp)
    assert access_key(batch) == "ASIARENEWEDRENEWED00"
    assert attempts == [FIRST]
    assert member_client("batch", FIRST, REGION) is batch, "the client stays; its credentials are renewed"


def test_access_denied_is_one_error_line_naming_the_role_and_the_likely_causes_and_fails_the_call(sts, caplog):
    sts.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message=f"User: arn:aws:sts::123456789012:assumed-role/notifier is not authorized to perform: "
        f"sts:AssumeRole on resource: {role(FIRST)}",
        http_status_code=403,
    )
    caplog.set_level(logging.ERROR)

    with pytest.raises(MemberAccessError) as refused:
        member_client("batch", FIRST, REGION)

    message = str(refused.value)
    assert role(FIRST) in message
    assert "trust policy" in message
    assert "MEMBER_EXTERNAL_ID" in message
    assert "\n" not in message
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [record.getMessage() for record in errors] == [message]
    assert [getattr(record, "account", None) for record in errors] == [FIRST]


def test_other_sts_errors_are_raised_as_they_are(sts):
    sts.add_client_error("assume_role", service_error_code="RegionDisabledException", http_status_code=403)

    with pytest.raises(Exception, match="RegionDisabledException") as raised:
        member_client("batch", FIRST, REGION)
    assert not isinstance(raised.value, MemberAccessError)


def test_an_account_that_is_not_a_member_gets_no_client(sts):
    with pytest.raises(ValueError, match="account 333333333333 is not in MEMBER_ACCOUNTS"):
        member_client("batch", "333333333333", REGION)
