"""The rule that fires once per finished array job, its Lambda target and the invoke permission."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.event_pattern import completion_event_pattern


@dataclass(frozen=True)
class CompletionRule:
    rule: aws.cloudwatch.EventRule
    target: aws.cloudwatch.EventTarget
    permission: aws.lambda_.Permission


def completion_rule(
    name: str,
    job_queue: aws.batch.JobQueue,
    job_definition: aws.batch.JobDefinition,
    statuses: Sequence[str],
    function: aws.lambda_.Function,
    tags: dict[str, str],
    parent: pulumi.Resource,
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgsDict | None = None,
    dead_letter_arn: pulumi.Input[str] | None = None,
) -> CompletionRule:
    child = pulumi.ResourceOptions(parent=parent)
    pattern = pulumi.Output.all(job_queue.arn, job_definition.arn_prefix).apply(
        lambda arns: completion_event_pattern(arns[0], arns[1], statuses)
    )
    # Batch events only ever reach the account's default bus, so the rule lives there.
    rule = aws.cloudwatch.EventRule(
        f"{name}-completed",
        description="An array job of this pipeline reached a terminal status (parent only)",
        event_pattern=pulumi.Output.json_dumps(pattern),
        tags=tags,
        opts=child,
    )
    permission = aws.lambda_.Permission(
        f"{name}-invoke",
        action="lambda:InvokeFunction",
        function=function.name,
        principal="events.amazonaws.com",
        # Only this rule may invoke the notifier, not any rule in the account.
        source_arn=rule.arn,
        opts=child,
    )
    target = aws.cloudwatch.EventTarget(
        f"{name}-notify",
        rule=rule.name,
        arn=function.arn,
        # EventBridge retries, then keeps what it could not deliver in the dead-letter queue.
        retry_policy=retry_policy,
        dead_letter_config={"arn": dead_letter_arn} if dead_letter_arn is not None else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[permission]),
    )
    return CompletionRule(rule, target, permission)
