"""Central mode's arguments: the member accounts a central notifier reports, checked before anything is declared.

A member is an account id, the read role its forwarder declared (which the notifier and the sweep
assume), optionally its queues (default: any) and the regions its forwarders run in (default: the
notifier's). Every value is checked against AWS's own definitions (botocore's models and endpoint data,
components/aws_formats.py); a mistake is one `InvalidArgumentError` naming the key and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .aws_formats import ACCOUNT_ID, ORGANIZATION_ID, ModelShape, parse_arn, partitions, role_resource_problem
from .validation import JOB_QUEUE_ARN, InvalidArgumentError, check_arn, check_external_id

MEMBER_KEYS = ("account_id", "read_role_arn", "job_queue_arns", "regions")
ROLE_ARN_SHAPE = "arn:aws:iam::<account_id>:role/<name>"
QUEUE_ARN_SHAPE = "arn:aws:batch:<region>:<account_id>:job-queue/<name>"
#: The resource part of a job-queue ARN, for `check_arn` (the whole ARN's shape is JOB_QUEUE_ARN).
JOB_QUEUE_ARN_RESOURCE = re.compile(r"^job-queue/[\w-]{1,128}$")


@dataclass(frozen=True)
class Member:
    account_id: str
    read_role_arn: str
    job_queue_arns: tuple[str, ...]
    """Empty: any queue of the account."""
    regions: tuple[str, ...]
    """Empty: the notifier's region."""


@dataclass(frozen=True)
class Organization:
    """Central mode's settings, validated."""

    members: tuple[Member, ...]
    organization_id: str | None
    external_id: pulumi.Input[str] | None
    """A literal is checked here; an Output (a secret from config) when it resolves."""

    @property
    def account_ids(self) -> list[str]:
        return [member.account_id for member in self.members]

    @property
    def read_role_arns(self) -> list[str]:
        return [member.read_role_arn for member in self.members]


def resolve_organization(args: Mapping[str, Any]) -> Organization | None:
    """The central-mode arguments, or None when `member_accounts` is not given (a single-account notifier).
    `organization_id` and `member_external_id` without members are refused: they would do nothing."""
    members = args.get("member_accounts")
    organization_id = args.get("organization_id")
    external_id = args.get("member_external_id")
    if members is None:
        for key, value in (("organization_id", organization_id), ("member_external_id", external_id)):
            if value is not None:
                raise InvalidArgumentError(key, "(given)", "only with member_accounts (central mode); remove it")
        return None
    if not isinstance(members, list) or not members:
        raise InvalidArgumentError("member_accounts", members, "expected a non-empty list of member accounts")
    resolved = [_member(f"member_accounts[{index}]", entry) for index, entry in enumerate(members)]
    seen: dict[str, int] = {}
    for index, member in enumerate(resolved):
        if member.account_id in seen:
            raise InvalidArgumentError(
                f"member_accounts[{index}].account_id",
                member.account_id,
                f"already given as member_accounts[{seen[member.account_id]}]: one entry per account",
            )
        seen[member.account_id] = index
    if organization_id is not None:
        _model_checked("organization_id", organization_id, ORGANIZATION_ID)
    if external_id is not None and not isinstance(external_id, pulumi.Output):
        check_external_id("member_external_id", external_id)
    return Organization(tuple(resolved), organization_id, external_id)


def _model_checked(key: str, value: object, shape: ModelShape) -> str:
    problem = shape.problem(value)
    if problem is not None:
        raise InvalidArgumentError(key, value, problem)
    return str(value)


def _member(key: str, entry: object) -> Member:
    if not isinstance(entry, dict):
        raise InvalidArgumentError(key, entry, f"expected a map with {', '.join(MEMBER_KEYS)}")
    unknown = sorted(set(entry) - set(MEMBER_KEYS))
    if unknown:
        raise InvalidArgumentError(f"{key}.{unknown[0]}", entry[unknown[0]], f"known: {', '.join(MEMBER_KEYS)}")
    account = _model_checked(f"{key}.account_id", entry.get("account_id"), ACCOUNT_ID)
    role = _read_role_arn(f"{key}.read_role_arn", entry.get("read_role_arn"), account)
    partition = role.split(":", 2)[1]
    regions = _regions(f"{key}.regions", entry.get("regions", []), partition)
    queues = _queues(f"{key}.job_queue_arns", entry.get("job_queue_arns", []), account, regions)
    return Member(account, role, tuple(queues), tuple(regions))


def _read_role_arn(key: str, value: object, account: str) -> str:
    """An IAM role ARN of the member's own account: IAM ARNs have no region, the role a name and path IAM allows."""
    arn = parse_arn(value) if isinstance(value, str) else None
    expected = f"expected the member's read role, {ROLE_ARN_SHAPE}"
    if arn is None or arn.service != "iam" or arn.region or not arn.resource.startswith("role/"):
        raise InvalidArgumentError(key, value, expected)
    if arn.partition not in partitions():
        raise InvalidArgumentError(key, value, f"{arn.partition} is not an AWS partition (botocore's endpoint data)")
    if arn.account != account:
        raise InvalidArgumentError(key, value, f"expected a role of account {account}, the entry's account_id")
    problem = role_resource_problem(arn.resource)
    if problem is not None:
        raise InvalidArgumentError(key, value, f"{expected}; {problem}")
    return str(value)


def _regions(key: str, value: object, partition: str) -> list[str]:
    """Regions AWS has, in the read role's partition (botocore's endpoint data), each once."""
    if not isinstance(value, list):
        raise InvalidArgumentError(key, value, "expected a list of regions (omit it for the notifier's region)")
    for index, region in enumerate(value):
        if not isinstance(region, str) or region not in partitions()[partition]:
            raise InvalidArgumentError(
                f"{key}[{index}]", region, f"not a region of partition {partition} (botocore's endpoint data)"
            )
        if value.index(region) != index:
            raise InvalidArgumentError(f"{key}[{index}]", region, f"already given as {key}[{value.index(region)}]")
    return value


def _queues(key: str, value: object, account: str, regions: Sequence[str]) -> list[str]:
    """Job-queue ARNs of the member's account, each once; in one of its `regions` when they are given."""
    if not isinstance(value, list):
        raise InvalidArgumentError(key, value, "expected a list of job-queue ARNs (omit it for any queue)")
    for index, arn in enumerate(value):
        item = f"{key}[{index}]"
        match = JOB_QUEUE_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise InvalidArgumentError(item, arn, f"expected {QUEUE_ARN_SHAPE}")
        check_arn(item, arn, "batch", JOB_QUEUE_ARN_RESOURCE, QUEUE_ARN_SHAPE)
        if match["account"] != account:
            raise InvalidArgumentError(item, arn, f"expected a queue of account {account}, the entry's account_id")
        if regions and match["region"] not in regions:
            raise InvalidArgumentError(
                item, arn, f"expected a queue in one of the entry's regions: {', '.join(regions)}"
            )
        if value.index(arn) != index:
            raise InvalidArgumentError(item, arn, f"already given as {key}[{value.index(arn)}]")
    return value


def member_accounts_variable(organization: Organization, default_region: str) -> str:
    """`MEMBER_ACCOUNTS` (the contract with handler/): each member's read role, queues (empty: any) and
    the regions the sweep looks in (the notifier's when none are given)."""
    return json.dumps(
        {
            member.account_id: {
                "roleArn": member.read_role_arn,
                "jobQueueArns": list(member.job_queue_arns),
                "regions": list(member.regions) or [default_region],
            }
            for member in organization.members
        },
        separators=(",", ":"),
    )
