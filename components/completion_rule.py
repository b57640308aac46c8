"""A rule that fires once per finished array job of its queues, its Lambda target and the invoke permission.

A notifier has one such rule per group of queues (`completion_rule_queue_groups`); the first keeps the
plain names (`<name>-completed`, `-notify`, `-invoke`), the others are numbered (`<name>-completed-2`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .event_pattern import completion_event_pattern
from .naming import numbered


@dataclass(frozen=True)
class CompletionRule:
    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    permission: aws.lambda_.Permission


def completion_rule(
    name: str,
    job_queue_arns: pulumi.Input[Sequence[str]],
    job_definition_arn_prefixes: pulumi.Input[Sequence[str]] | None,
    statuses: Sequence[str],
    function: aws.lambda_.Function,
    tags: dict[str, str],
    parent: pulumi.Resource,
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgsDict | None = None,
    dead_letter_arn: pulumi.Input[str] | None = None,
    *,
    index: int = 0,
) -> CompletionRule:
    """The `index`-th completion rule of a notifier, for `job_queue_arns` (None: any job definition)."""
    child = pulumi.ResourceOptions(parent=parent)
    pattern = pulumi.Output.all(
        pulumi.Output.from_input(job_queue_arns), pulumi.Output.from_input(job_definition_arn_prefixes)
    ).apply(lambda arns: completion_event_pattern(arns[0], arns[1], statuses))
    # Batch events only ever reach the account's default bus, so the rule lives there.
    rule = aws.cloudwatch.EventRule(
        numbered(f"{name}-completed", index),
        description="An array job of this pipeline reached a terminal status (parent only)",
        event_pattern=pulumi.Output.json_dumps(pattern),
        tags=tags,
        opts=child,
    )
    permission, target = lambda_target(
        rule,
        function,
        parent,
        permission_name=numbered(f"{name}-invoke", index),
        target_name=numbered(f"{name}-notify", index),
        retry_policy=retry_policy,
        dead_letter_arn=dead_letter_arn,
    )
    return CompletionRule(rule, target, permission)


def lambda_target(
    rule: aws.cloudwatch.EventRule,
    function: aws.lambda_.Function,
    parent: pulumi.Resource,
    *,
    permission_name: str,
    target_name: str,
    event_bus_name: pulumi.Input[str] | None = None,
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgsDict | None = None,
    dead_letter_arn: pulumi.Input[str] | None = None,
) -> tuple[aws.lambda_.Permission, aws.cloudwatch.EventTarget]:
    """Let exactly `rule` invoke `function`, then make the function the rule's target."""
    permission = aws.lambda_.Permission(
        permission_name,
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        # Only this rule may invoke the function, not any rule in the account.
        source_arn=rule.arn,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    target = aws.cloudwatch.EventTarget(
        target_name,
        rule=rule.name,
        event_bus_name=event_bus_name,
        arn=function.arn,
        # EventBridge retries, then keeps what it could not deliver in the dead-letter queue.
        retry_policy=retry_policy,
        dead_letter_config={"arn": dead_letter_arn} if dead_letter_arn is not None else None,
        # Without the permission in place the first deliveries fail (and, with no DLQ, are dropped).
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission]),
    )
    return permission, target
