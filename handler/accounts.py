"""A central notifier's view of its member accounts: Batch and CloudWatch Logs read through each member's
read role (`MEMBER_ACCOUNTS`), the notifier's own account's through its own clients.

One boto3 session per member account holds the role's credentials: AssumeRole (`client("sts")`, the
notifier's own role, `ExternalId` when `MEMBER_EXTERNAL_ID` is set) runs on the first call that needs the
account, and again only when the credentials are about to expire: botocore's `RefreshableCredentials`
renews them `REFRESH_BEFORE_EXPIRY_SECONDS` before `Expiration` (a call made later than
`MUST_REFRESH_BEFORE_EXPIRY_SECONDS` before it waits for the renewal). A warm Lambda environment hence
assumes each role about once an hour, however many completions it reports. The clients, one per service,
account and region, come from `aws.service_client`: the same retries, the same throttle counting and the
same pacing hook (`aws.pace_batch_calls`) as the notifier's own.

AccessDenied from STS is one ERROR line naming the role and the likely causes, then `MemberAccessError`:
the invocation fails, Lambda retries it and its failure destination keeps the event.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from aws_lambda_powertools import Logger

from .aws import ServiceName, client, counted_session, service_client
from .scope import Origin
from .settings import MemberAccount, settings

logger = Logger()
#: What the assumed role's CloudTrail entries and the member's `aws:userid` show (STS `roleSessionNameType`).
ROLE_SESSION_NAME: Final = "batch-array-notify"
#: Renew credentials this long before they expire (botocore's advisory refresh)...
REFRESH_BEFORE_EXPIRY_SECONDS: Final = 5 * 60
#: ...and never use them closer to it than this (botocore's mandatory refresh: the call waits for it).
MUST_REFRESH_BEFORE_EXPIRY_SECONDS: Final = 2 * 60
#: The clock credentials expire by (tests move it).
clock: Callable[[], float] = time.time


class MemberAccessError(RuntimeError):
    """A member's read role refused the notifier (the message says which and why); the invocation fails."""


def client_for(service: ServiceName, origin: Origin | None) -> Any:
    """The client that reads `origin`'s account and region; the notifier's own client for its own account."""
    return client(service) if origin is None else member_client(service, origin.account, origin.region)


@functools.cache
def member_client(service: ServiceName, account: str, region: str) -> Any:
    """A cached client of the member account's session (its read role's credentials) in `region`."""
    return service_client(service, region=region, session=_member_session(account))


@functools.cache
def _member_session(account: str) -> Any:
    member = _member(account)
    credentials_module = importlib.import_module("botocore.credentials")
    first = _assume(member)
    credentials = credentials_module.RefreshableCredentials(
        first["access_key"],
        first["secret_key"],
        first["token"],
        datetime.fromisoformat(first["expiry_time"]),
        refresh_using=lambda: _assume(member),
        method="assume-role",
        time_fetcher=lambda: datetime.fromtimestamp(clock(), UTC),
        advisory_timeout=REFRESH_BEFORE_EXPIRY_SECONDS,
        mandatory_timeout=MUST_REFRESH_BEFORE_EXPIRY_SECONDS,
    )
    botocore_session = importlib.import_module("botocore.session").Session()
    botocore_session.register_component(
        "credential_provider", credentials_module.CredentialResolver([_ReadRole(credentials)])
    )
    return counted_session(region=settings().region, botocore_session=botocore_session)


def _member(account: str) -> MemberAccount:
    members = settings().member_accounts or {}
    if account not in members:
        raise ValueError(f"account {account} is not in MEMBER_ACCOUNTS; scope.in_scope admits members only")
    return members[account]


def _assume(member: MemberAccount) -> dict[str, Any]:
    """Fresh credentials of the member's read role, in botocore's refresh format (expiry as ISO 8601)."""
    external_id = settings().member_external_id
    request = {"RoleArn": member.role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if external_id:
        request["ExternalId"] = external_id
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        answer = client("sts").assume_role(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDenied":
            raise
        message = (
            f"cannot assume {member.role_arn} (member account {member.account_id}): AccessDenied: the role's trust "
            f"policy must name this notifier's role"
            + (", and its sts:ExternalId condition must equal MEMBER_EXTERNAL_ID" if external_id else "")
            + " (redeploy the account's BatchEventForwarder with this notifier's role ARN)"
        )
        logger.error(message, extra={"decision": "member-access-denied", "account": member.account_id})
        raise MemberAccessError(message) from error
    credentials = answer["Credentials"]
    return {
        "access_key": credentials["AccessKeyId"],
        "secret_key": credentials["SecretAccessKey"],
        "token": credentials["SessionToken"],
        "expiry_time": credentials["Expiration"].isoformat(),
    }


class _ReadRole:
    """The one credential provider of a member's session (botocore's `CredentialProvider` interface)."""

    METHOD = "batch-array-notify-read-role"
    CANONICAL_NAME = None

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def reset() -> None:
    """Forget every member session and client (tests switch settings and mocks between cases)."""
    member_client.cache_clear()
    _member_session.cache_clear()
