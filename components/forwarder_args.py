"""Inputs of the BatchEventForwarder (a member account's part of an organisation), and their checks.

Checked before a single resource is declared; values that are Outputs (another stack's, or the central
notifier's in the same program) are checked again once known (`check_deploy_time`). Each refusal is an
`InvalidArgumentError` naming the argument and the fix.
"""

# No `from __future__ import annotations`: the component provider's schema inference reads these
# annotations as live types (see components/args.py).
import re
from dataclasses import dataclass
from typing import NotRequired, Required, TypedDict, cast

import pulumi

from .aws_formats import ACCOUNT_ID, ORGANIZATION_ID, parse_arn, partition_of, partitions, role_resource_problem
from .event_pattern import completion_event_pattern
from .validation import (
    JOB_QUEUE_ARN,
    InvalidArgumentError,
    _batch_arns,
    _given,
    _log_group_names,
    check_batch_arns_are_local,
    check_external_id,
    check_topic_arn,
)

#: Batch's log group when a job definition names none; the read role may always read it.
DEFAULT_JOB_LOG_GROUP = "/aws/batch/job"
#: EventBridge's `EventBusName` (botocore's events model: 1-256 of these characters).
EVENT_BUS_NAME = re.compile(r"^event-bus/[/\.\-_A-Za-z0-9]{1,256}$")
BUS_SHAPE = "an EventBridge bus ARN, arn:aws:events:<region>:<account>:event-bus/<name>"
ROLE_SHAPE = "an IAM role ARN, arn:aws:iam::<account>:role/<name>"


class BatchEventForwarderArgs(TypedDict, total=False):
    """A member account's forwarder: where its array completions go, and who may read its jobs."""

    central_bus_arn: Required[pulumi.Input[str]]
    """ARN of the central account's intake bus (the central notifier's), in another account and in this
    region or another: EventBridge delivers to a bus in another account or region (EventBridge user guide,
    "Sending and receiving events between AWS Regions")."""

    central_notifier_role_arns: Required[list[pulumi.Input[str]]]
    """The central notifier's role ARN and, when it sweeps, its sweep role's: the only principals the read
    role trusts. They must exist before this stack deploys (IAM refuses a trust naming a missing role)."""

    external_id: pulumi.Input[str]
    """The external id the central notifier passes to AssumeRole (the read role requires it). With
    `organization_id`, or instead of it; one of the two is required."""

    organization_id: str
    """The AWS Organizations id (`o-...`): the read role trusts the central roles only as principals of
    this organisation. With `external_id`, or instead of it; one of the two is required."""

    job_queue_arns: list[pulumi.Input[str]]
    """Forward only these job queues' array completions (queues of this account and region). Default: every
    queue of the account in this region."""

    job_log_group_names: list[pulumi.Input[str]]
    """Log groups your job definitions log to (their `awslogs-group`, 1-5): the read role may read their
    failed children's log tails, besides Batch's default `/aws/batch/job`. Default: that one alone."""

    read_role: bool
    """Declare the account's read role (IAM is global: one per account). `false` for the forwarders of the
    account's other regions. Default: true."""

    alarm_topic_arn: pulumi.Input[str]
    """SNS topic (this region) that the two alarms notify; its policy must let CloudWatch publish. Default:
    the alarms have no action (their state shows on the console)."""

    tags: NotRequired[dict[str, str]]
    """Tags for every taggable resource. Default: none."""


@dataclass(frozen=True)
class ForwarderSettings:
    """The forwarder's arguments after the checks, with the defaults applied."""

    central_bus_arn: pulumi.Input[str]
    central_notifier_role_arns: list[pulumi.Input[str]]
    external_id: pulumi.Input[str] | None
    organization_id: str | None
    job_queue_arns: list[pulumi.Input[str]] | None
    """None: every queue of the account and region."""
    job_log_group_names: list[pulumi.Input[str]]
    read_role: bool
    alarm_topic_arn: pulumi.Input[str] | None
    tags: dict[str, str]


def check_bus_arn(key: str, value: object) -> str:
    """An EventBridge bus ARN in a partition and region AWS has (botocore's endpoint data); any account."""
    arn = parse_arn(value) if isinstance(value, str) else None
    if arn is None or arn.service != "events" or not EVENT_BUS_NAME.match(arn.resource):
        raise InvalidArgumentError(key, value, f"expected {BUS_SHAPE}")
    if ACCOUNT_ID.problem(arn.account) is not None:
        raise InvalidArgumentError(key, value, f"expected {BUS_SHAPE} (a 12-digit account)")
    partition = partition_of(arn.region)
    if partition is None:
        raise InvalidArgumentError(key, value, f"{arn.region} is not an AWS region (botocore's endpoint data)")
    if partition != arn.partition:
        raise InvalidArgumentError(key, value, f"region {arn.region} is in partition {partition}: arn:{partition}:...")
    return cast(str, value)


def check_role_arn(key: str, value: object) -> str:
    """An IAM role ARN: global (no region), of a partition AWS has."""
    arn = parse_arn(value) if isinstance(value, str) else None
    if arn is None or arn.service != "iam" or arn.region or role_resource_problem(arn.resource) is not None:
        raise InvalidArgumentError(key, value, f"expected {ROLE_SHAPE}")
    if ACCOUNT_ID.problem(arn.account) is not None:
        raise InvalidArgumentError(key, value, f"expected {ROLE_SHAPE} (a 12-digit account)")
    if arn.partition not in partitions():
        raise InvalidArgumentError(key, value, f"{arn.partition} is not an AWS partition (botocore's endpoint data)")
    return cast(str, value)


def _roles(value: object) -> list[pulumi.Input[str]]:
    if not isinstance(value, list) or not value:
        raise InvalidArgumentError(
            "central_notifier_role_arns", value, f"expected a list of the central notifier's role ARNs ({ROLE_SHAPE})"
        )
    seen: dict[str, int] = {}
    for index, arn in enumerate(value):
        if isinstance(arn, pulumi.Output):
            continue
        check_role_arn(f"central_notifier_role_arns[{index}]", arn)
        if arn in seen:
            raise InvalidArgumentError(
                f"central_notifier_role_arns[{index}]", arn, f"already given as central_notifier_role_arns[{seen[arn]}]"
            )
        seen[arn] = index
    return cast(list[pulumi.Input[str]], value)


def check_same_account(bus_arn: str, role_arns: list[str]) -> None:
    """The central notifier's roles and its intake bus are the central account's: a role of another account
    is a copy-paste mistake the trust would carry silently."""
    bus_account = bus_arn.split(":")[4]
    for index, arn in enumerate(role_arns):
        if arn.split(":")[4] != bus_account:
            raise InvalidArgumentError(
                f"central_notifier_role_arns[{index}]",
                arn,
                f"expected a role of account {bus_account}, the central bus's (central_bus_arn)",
            )


def _queues(value: object) -> list[pulumi.Input[str]] | None:
    if value is None:
        return None
    if value == []:
        raise InvalidArgumentError("job_queue_arns", value, "name at least one queue, or omit it for every queue")
    shape = "arn:aws:batch:<region>:<account>:job-queue/<name>"
    queues = _batch_arns("job_queue_arns", value, JOB_QUEUE_ARN, shape)
    literal = {f"job_queue_arns[{i}]": arn for i, arn in enumerate(queues) if isinstance(arn, str)}
    if literal:
        first_key, first = next(iter(literal.items()))
        _, _, _, region, account, _ = first.split(":", 5)
        check_batch_arns_are_local(literal, region, account, where=f"like {first_key}")
    if len(literal) == len(queues):
        try:
            completion_event_pattern(list(literal.values()), None)
        except ValueError as error:
            raise InvalidArgumentError("job_queue_arns", f"{len(queues)} queues", f"{error}: name fewer") from None
    return queues


def _tags(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidArgumentError("tags", value, "expected a map of strings to strings")
    return cast(dict[str, str], value)


def resolve_forwarder_args(args: BatchEventForwarderArgs) -> ForwarderSettings:
    """Check every argument, then apply the defaults. Raises InvalidArgumentError on the first problem."""
    given, _ = _given(args, BatchEventForwarderArgs.__annotations__)
    bus = given.get("central_bus_arn")
    if bus is None:
        raise InvalidArgumentError("central_bus_arn", bus, f"required: {BUS_SHAPE}")
    if not isinstance(bus, pulumi.Output):
        check_bus_arn("central_bus_arn", bus)
    roles = _roles(given.get("central_notifier_role_arns"))
    if isinstance(bus, str):
        check_same_account(bus, [arn for arn in roles if isinstance(arn, str)])
    external_id, organization_id = given.get("external_id"), given.get("organization_id")
    if external_id is None and organization_id is None:
        raise InvalidArgumentError(
            "external_id",
            None,
            "give external_id, organization_id or both: the read role's trust requires one (confused-deputy guard)",
        )
    if external_id is not None and not isinstance(external_id, pulumi.Output):
        check_external_id("external_id", external_id)
    if organization_id is not None:
        problem = ORGANIZATION_ID.problem(organization_id)
        if problem is not None:
            raise InvalidArgumentError("organization_id", organization_id, f"the organization id {problem}")
    read_role = given.get("read_role", True)
    if not isinstance(read_role, bool):
        raise InvalidArgumentError("read_role", read_role, "expected true or false")
    topic = given.get("alarm_topic_arn")
    if topic is not None:
        check_topic_arn("alarm_topic_arn", topic)
    groups = given.get("job_log_group_names")
    names = _log_group_names(groups) if groups is not None else []
    return ForwarderSettings(
        central_bus_arn=bus,
        central_notifier_role_arns=roles,
        external_id=external_id,
        organization_id=organization_id,
        job_queue_arns=_queues(given.get("job_queue_arns")),
        job_log_group_names=list(dict.fromkeys([DEFAULT_JOB_LOG_GROUP, *names])),
        read_role=read_role,
        alarm_topic_arn=topic,
        tags=_tags(given.get("tags")),
    )


def check_deploy_time(
    settings: ForwarderSettings,
    *,
    partition: str,
    region: str,
    account: str,
    bus_arn: str,
    role_arns: list[str],
    queue_arns: list[str],
    alarm_topic_arn: str | None,
) -> None:
    """What only the provider's answers (and Outputs, once known) can tell: the bus and roles in this
    stack's partition (EventBridge targets no other), the queues and the alarm topic in its account and
    region (Batch sends events, and alarms publish, only there)."""
    if isinstance(settings.central_bus_arn, pulumi.Output):
        check_bus_arn("central_bus_arn", bus_arn)
    for index, arn in enumerate(role_arns):
        if isinstance(settings.central_notifier_role_arns[index], pulumi.Output):
            check_role_arn(f"central_notifier_role_arns[{index}]", arn)
    check_same_account(bus_arn, role_arns)
    for key, arn in [("central_bus_arn", bus_arn)] + [
        (f"central_notifier_role_arns[{index}]", arn) for index, arn in enumerate(role_arns)
    ]:
        if arn.split(":")[1] != partition:
            raise InvalidArgumentError(key, arn, f"expected an ARN of partition {partition}, where this stack deploys")
    named = {f"job_queue_arns[{index}]": arn for index, arn in enumerate(queue_arns)}
    check_batch_arns_are_local(named, region, account)
    if alarm_topic_arn is not None:
        check_topic_arn("alarm_topic_arn", alarm_topic_arn, region, where="where this stack deploys")
