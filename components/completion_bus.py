"""The completion event: one normalized EventBridge event per finished array job, on a bus of the user's choice.

Other stacks subscribe with a plain rule on `source` and `detail-type` (and, to pick one pipeline,
`detail.jobQueueArn`) without knowing Batch's event shapes. The notifier Lambda puts the event; this
module resolves the bus, grants exactly `events:PutEvents` on it and builds the consumer's pattern.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

COMPLETION_EVENT_SOURCE = "batch-array-notify"
COMPLETION_EVENT_DETAIL_TYPE = "Batch Array Job Completed"
DEFAULT_EVENT_BUS = "default"


@dataclass(frozen=True)
class CompletionBus:
    reference: pulumi.Output[str]
    """The bus as given (name, or ARN for another account's bus): what PutEvents and rules accept."""
    name: pulumi.Output[str]
    arn: pulumi.Output[str]


def event_bus_arn(bus: str, partition: str, region: str, account: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:{partition}:events:{region}:{account}:event-bus/{bus}"


def event_bus_name(bus: str) -> str:
    return bus.rsplit("event-bus/", 1)[-1] if bus.startswith("arn:") else bus


def completion_event_pattern(job_queue_arn: str | Sequence[str] | None = None) -> dict[str, Any]:
    """The EventBridge pattern matching completion events, of one queue (or any of several) when given."""
    pattern: dict[str, Any] = {"source": [COMPLETION_EVENT_SOURCE], "detail-type": [COMPLETION_EVENT_DETAIL_TYPE]}
    if job_queue_arn is not None:
        pattern["detail"] = {"jobQueueArn": [job_queue_arn] if isinstance(job_queue_arn, str) else list(job_queue_arn)}
    return pattern


def put_events_policy(bus_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PutCompletionEvent", "Effect": "Allow", "Action": "events:PutEvents", "Resource": bus_arn}
        ],
    }


def completion_bus(bus: pulumi.Input[str], parent: pulumi.Resource) -> CompletionBus:
    """Resolve the bus's ARN in the account and region of the component's provider."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    given = pulumi.Output.from_input(bus)
    arn = pulumi.Output.all(
        given,
        aws.get_partition_output(opts=invoke).partition,
        aws.get_region_output(opts=invoke).region,
        aws.get_caller_identity_output(opts=invoke).account_id,
    ).apply(lambda parts: event_bus_arn(*parts))
    return CompletionBus(reference=given, name=given.apply(event_bus_name), arn=arn)


def grant_put_events(name: str, role: aws.iam.Role, bus: CompletionBus, parent: pulumi.Resource) -> aws.iam.RolePolicy:
    """A policy of its own on the notifier's role, so the notifier's main policy stays untouched by this concern."""
    return aws.iam.RolePolicy(
        f"{name}-notifier-events",
        role=role.id,
        policy=bus.arn.apply(lambda arn: json.dumps(put_events_policy(arn))),
        opts=pulumi.ResourceOptions(parent=parent),
    )
