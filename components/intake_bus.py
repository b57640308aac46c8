"""Central mode: the intake bus the members' forwarders send to, its policy, its completion rules, and what
lets the notifier and the sweep read Batch in the members' accounts.

member default bus ──(forwarder rule)──▶ intake bus (policy: the members, or the organisation; Batch job
state changes only) ──(rules: finished array parents of these accounts and queues)──▶ notifier Lambda
    ──(sts:AssumeRole on exactly the members' read roles)──▶ Batch and job logs in the member account

A custom bus, not the default one: the default bus's policy is one account-wide resource that other
stacks write too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .completion_rule import lambda_target
from .event_pattern import BATCH_SOURCE, JOB_STATE_CHANGE, member_completion_event_pattern, member_rule_groups
from .member_accounts import Organization, member_accounts_variable
from .naming import numbered
from .validation import InvalidArgumentError, check_external_id

#: EventBridge's quota on an event bus's policy, in characters ("Event bus policy size", 10,240, adjustable:
#: https://docs.aws.amazon.com/eventbridge/latest/userguide/cloudwatch-limits-eventbridge.html). Each
#: account PutPermission admits grows it; `organization_id` admits any number in one condition.
MAX_BUS_POLICY_CHARS = 10_240
#: The longest bus ARN the intake bus can have, for checking the policy before the bus exists: the
#: longest partition, a region name longer than any so far, and EventBridge's 256-character bus names.
LONGEST_BUS_ARN = f"arn:aws-us-gov:events:{'r' * 16}:123456789012:event-bus/{'b' * 256}"
LONGEST_PARTITION = "aws-us-gov"


def account_principal(partition: str, account_id: str) -> str:
    return f"arn:{partition}:iam::{account_id}:root"


def intake_bus_policy(
    bus_arn: str, partition: str, account_ids: Sequence[str], organization_id: str | None
) -> dict[str, Any]:
    """`events:PutEvents` on the bus, only for Batch job state changes, from the named accounts or (with
    `organization_id`) from any principal of the organisation. `events:source` and `events:detail-type`
    are PutEvents' own condition keys (Service Authorization Reference, Amazon EventBridge)."""
    statement: dict[str, Any] = {
        "Sid": "BatchJobStateChangesFromMembers",
        "Effect": "Allow",
        "Principal": "*" if organization_id else {"AWS": [account_principal(partition, a) for a in account_ids]},
        "Action": "events:PutEvents",
        "Resource": bus_arn,
        "Condition": {"StringEquals": {"events:source": BATCH_SOURCE, "events:detail-type": JOB_STATE_CHANGE}},
    }
    if organization_id:
        statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] = organization_id
    return {"Version": "2012-10-17", "Statement": [statement]}


def policy_chars(bus_arn: str, partition: str, account_ids: Sequence[str], organization_id: str | None) -> int:
    """The policy's size as EventBridge counts it: the characters of the JSON document."""
    return len(json.dumps(intake_bus_policy(bus_arn, partition, account_ids, organization_id)))


def accounts_fitting_policy(bus_arn: str = LONGEST_BUS_ARN, partition: str = LONGEST_PARTITION) -> int:
    """How many named accounts the policy admits within EventBridge's quota, before `organization_id` is
    needed: counted on the document itself, one more account at a time."""
    count = 0
    while policy_chars(bus_arn, partition, [f"{count:012d}"] * (count + 1), None) <= MAX_BUS_POLICY_CHARS:
        count += 1
    return count


def check_policy_fits(organization: Organization) -> None:
    """Refuse, before anything is declared, a member list whose policy could exceed the quota."""
    if organization.organization_id is not None:
        return
    chars = policy_chars(LONGEST_BUS_ARN, LONGEST_PARTITION, organization.account_ids, None)
    if chars > MAX_BUS_POLICY_CHARS:
        raise InvalidArgumentError(
            "member_accounts",
            f"{len(organization.members)} accounts",
            f"the intake bus policy naming them would be up to {chars} characters and EventBridge allows "
            f"{MAX_BUS_POLICY_CHARS} (at most {accounts_fitting_policy()} accounts): set organization_id",
        )


@dataclass(frozen=True)
class IntakeBus:
    bus: aws.cloudwatch.EventBus
    policy: aws.cloudwatch.EventBusPolicy
    rules: list[aws.cloudwatch.EventRule]
    account_capacity: pulumi.Output[int]
    """How many accounts `member_accounts` may name before `organization_id` is needed (what
    `check_policy_fits` allows)."""


def intake_bus(
    name: str,
    organization: Organization,
    statuses: Sequence[str],
    function: aws.lambda_.Function,
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgsDict,
    dead_letter_arn: pulumi.Input[str],
) -> IntakeBus:
    """The bus, its policy and one rule per group of members (`member_rule_groups`), each invoking `function`."""
    child = pulumi.ResourceOptions(parent=parent)
    bus = aws.cloudwatch.EventBus(f"{name}-intake", tags=tags, opts=child)
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    policy = aws.cloudwatch.EventBusPolicy(
        f"{name}-intake",
        event_bus_name=bus.name,
        policy=pulumi.Output.all(bus.arn, partition).apply(
            lambda values: json.dumps(
                intake_bus_policy(values[0], values[1], organization.account_ids, organization.organization_id)
            )
        ),
        opts=child,
    )
    any_queue = [member.account_id for member in organization.members if not member.job_queue_arns]
    queues = [arn for member in organization.members for arn in member.job_queue_arns]
    rules = []
    for index, (accounts, group_queues) in enumerate(member_rule_groups(any_queue, queues, statuses)):
        rule = aws.cloudwatch.EventRule(
            numbered(f"{name}-intake-completed", index),
            description="An array job of a member account reached a terminal status (parent only)",
            event_bus_name=bus.name,
            event_pattern=json.dumps(member_completion_event_pattern(accounts, group_queues, statuses)),
            tags=tags,
            # The policy first: a rule is of no use until members may send.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
        )
        lambda_target(
            rule,
            function,
            parent,
            permission_name=numbered(f"{name}-intake-invoke", index),
            target_name=numbered(f"{name}-intake-notify", index),
            event_bus_name=bus.name,
            retry_policy=retry_policy,
            dead_letter_arn=dead_letter_arn,
        )
        rules.append(rule)
    # Said at every plan (and exported), so the limit is met before a member is added, not at `pulumi up`.
    # The limit `check_policy_fits` enforces: counted for the longest bus ARN, as the check runs before
    # the bus exists (this bus's own policy holds a few more, which no stack is allowed to rely on).
    capacity = accounts_fitting_policy()
    if organization.organization_id is None:
        pulumi.log.info(
            f"intake bus policy names {len(organization.members)} of at most {capacity} accounts (EventBridge's "
            f"{MAX_BUS_POLICY_CHARS}-character policy quota); beyond that, set organization_id",
            resource=parent,
        )
    return IntakeBus(bus, policy, rules, pulumi.Output.from_input(capacity))


def assume_member_roles_policy(read_role_arns: Sequence[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadMemberAccounts",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": list(read_role_arns),
            }
        ],
    }


def grant_assume_member_roles(
    name: str, role: aws.iam.Role, organization: Organization, parent: pulumi.Resource
) -> aws.iam.RolePolicy:
    """A policy of its own on `role` (the notifier's or the sweep's): it may assume the named read roles only."""
    return aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=json.dumps(assume_member_roles_policy(organization.read_role_arns)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def member_environment(organization: Organization, parent: pulumi.Resource) -> dict[str, pulumi.Input[str]]:
    """`MEMBER_ACCOUNTS` and, when given, `MEMBER_EXTERNAL_ID`: a secret Output, so it is encrypted in the
    state and masked in every plan and log (the sweep inherits both with the notifier's environment)."""
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region
    environment: dict[str, pulumi.Input[str]] = {
        "MEMBER_ACCOUNTS": region.apply(lambda name: member_accounts_variable(organization, name)),
    }
    if organization.external_id is not None:
        environment["MEMBER_EXTERNAL_ID"] = pulumi.Output.secret(organization.external_id).apply(
            lambda value: check_external_id("member_external_id", value)
        )
    return environment
