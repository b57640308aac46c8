"""BatchEventForwarder: what a member account of an organisation runs, one per region, and nothing more.

member's Batch queues ──(every job's state change)──▶ member's default bus
    ──(rule: array PARENTS in a terminal status, of the named queues or of every queue)──▶ central intake bus
         target role: events:PutEvents on that bus only; retries, then the dead-letter queue ──▶ alarms
central notifier ──(sts:AssumeRole with the external id and/or from the organisation)──▶ read role
    (Batch reads, and the job log groups' tails), declared by one forwarder of the account.
"""

# No `from __future__ import annotations`: the component provider infers the schema from live annotations.
import json
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from . import iam, runbook
from .args import DEFAULTS
from .event_pattern import any_queue_completion_event_pattern, completion_event_pattern
from .forwarder_args import (
    BatchEventForwarderArgs,
    ForwarderSettings,
    check_deploy_time,
    resolve_forwarder_args,
)
from .reliability import dead_letter_policy, metric_alarm
from .validation import check_external_id

TYPE_TOKEN = "batcharray:index:BatchEventForwarder"


class BatchEventForwarder(pulumi.ComponentResource):
    """Forwards this account's finished array parents to the central notifier's bus, and lets the central
    notifier read the jobs: the rule, its target role, its dead-letter queue and alarms, the read role."""

    rule_arn: pulumi.Output[str]
    """ARN of the rule on the default bus that forwards finished array parents."""
    rule_name: pulumi.Output[str]
    """Name of that rule."""
    dead_letter_queue_arn: pulumi.Output[str]
    """SQS queue keeping the events EventBridge could not put on the central bus after its retries."""
    dead_letter_queue_url: pulumi.Output[str]
    """URL of that queue, for `aws sqs receive-message` and redriving."""
    events_role_arn: pulumi.Output[str]
    """The role EventBridge assumes to put events on the central bus (and nowhere else)."""
    read_role_arn: Optional[pulumi.Output[str]]  # noqa: UP045 (the schema analyzer reads Optional)
    """The read role the central notifier assumes (its `readRoleArn` in the central stack), unless
    `read_role` is false."""
    alarm_arns: pulumi.Output[list[str]]
    """The alarms: events waiting in the dead-letter queue, and the rule failing to deliver."""

    def __init__(
        self,
        name: str,
        args: BatchEventForwarderArgs,
        opts: Optional[pulumi.ResourceOptions] = None,  # noqa: UP045
    ) -> None:
        # Validate before registering anything, so bad input declares no resource at all.
        settings = resolve_forwarder_args(args)
        super().__init__(TYPE_TOKEN, name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = settings.tags
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        located = _located(settings, account, partition, aws.get_region_output(opts=invoke).region)

        rule = aws.cloudwatch.EventRule(
            f"{name}-forward",
            description="An array job of this account reached a terminal status (parent only): to the central bus",
            event_pattern=pulumi.Output.json_dumps(located.apply(lambda found: _pattern(settings, found["queues"]))),
            tags=tags,
            opts=child,
        )
        # SQS-managed encryption: EventBridge can write to it, where the AWS-managed aws/sqs key refuses it.
        queue = aws.sqs.Queue(
            f"{name}-undelivered",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=_default("dead_letter_retention_seconds"),
            tags=tags,
            opts=child,
        )
        queue_policy = dead_letter_policy(name, queue, [rule], self)
        bus_arn = located.apply(lambda found: str(found["bus"]))
        events_role = aws.iam.Role(
            f"{name}-forward",
            # Only on behalf of this account's rules (the confused-deputy guard EventBridge supports).
            assume_role_policy=account.apply(
                lambda account_id: json.dumps(iam.assume_role_policy("events.amazonaws.com", account_id))
            ),
            tags=tags,
            opts=child,
        )
        events_policy = aws.iam.RolePolicy(
            f"{name}-forward",
            role=events_role.id,
            policy=bus_arn.apply(lambda arn: json.dumps(iam.forward_events_policy(arn))),
            opts=child,
        )
        # A bus of another account needs the role when its policy admits an organisation (PutPermission API
        # reference); another region is allowed too (EventBridge user guide, "Sending and receiving events
        # between AWS Regions", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html).
        aws.cloudwatch.EventTarget(
            f"{name}-central-bus",
            rule=rule.name,
            arn=bus_arn,
            role_arn=events_role.arn,
            retry_policy={
                "maximum_event_age_in_seconds": _default("rule_max_event_age_seconds"),
                "maximum_retry_attempts": _default("rule_retry_attempts"),
            },
            dead_letter_config={"arn": queue.arn},
            # Without the role's policy and the queue's, the first deliveries fail, and their dead-lettering too.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[events_policy, queue_policy]),
        )
        topic = located.apply(lambda found: found["topic"]) if settings.alarm_topic_arn is not None else None
        alarms = _alarms(name, queue, rule, topic, tags, self)

        self.read_role_arn = None
        if settings.read_role:
            self.read_role_arn = _read_role(name, settings, located, partition, account, tags, self).arn
        self.rule_arn = rule.arn
        self.rule_name = rule.name
        self.dead_letter_queue_arn = queue.arn
        self.dead_letter_queue_url = queue.url
        self.events_role_arn = events_role.arn
        self.alarm_arns = pulumi.Output.all(*(alarm.arn for alarm in alarms))
        # Last, so the engine knows the component is complete and saves these outputs in state.
        self.register_outputs(self.outputs())

    @classmethod
    def output_names(cls) -> list[str]:
        """Every output attribute, in declaration order."""
        return list(cls.__annotations__)

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Every output by its attribute name (the read role's only when declared)."""
        return {key: getattr(self, key) for key in self.output_names() if getattr(self, key) is not None}


def _default(key: str) -> int:
    """The notifier's default for its own rules' retries and dead-letter queue: the forwarder's are the same."""
    value = DEFAULTS[key]
    assert isinstance(value, int)
    return value


def _located(
    settings: ForwarderSettings, account: pulumi.Output[str], partition: pulumi.Output[str], region: pulumi.Output[str]
) -> pulumi.Output[dict[str, Any]]:
    """The bus, roles, queues and alarm topic, once each is known and checked where this stack deploys:
    everything built from them waits for the check."""

    def checked(values: list[Any]) -> dict[str, Any]:
        partition_name, region_name, account_id, bus, roles, queues, topic = values
        check_deploy_time(
            settings,
            partition=partition_name,
            region=region_name,
            account=account_id,
            bus_arn=bus,
            role_arns=roles,
            queue_arns=queues,
            alarm_topic_arn=topic,
        )
        return {"bus": bus, "roles": roles, "queues": queues, "topic": topic}

    return pulumi.Output.all(
        partition,
        region,
        account,
        settings.central_bus_arn,
        pulumi.Output.all(*settings.central_notifier_role_arns),
        pulumi.Output.all(*(settings.job_queue_arns or [])),
        settings.alarm_topic_arn,
    ).apply(checked)


def _pattern(settings: ForwarderSettings, queues: list[str]) -> dict[str, Any]:
    """The notifier's parent-only completion pattern, for both terminal statuses: the central notifier
    decides which of them notify."""
    if settings.job_queue_arns is None:
        return any_queue_completion_event_pattern()
    return completion_event_pattern(queues, None)


def _alarms(
    name: str,
    queue: aws.sqs.Queue,
    rule: aws.cloudwatch.EventRule,
    topic_arn: pulumi.Output[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> list[aws.cloudwatch.MetricAlarm]:
    """The notifier's own two alarms on its rule's failures, for the forwarding rule."""
    return [
        metric_alarm(
            f"{name}-undelivered-alarm",
            runbook.alarm_description(
                "Completion events EventBridge could not forward to the central bus wait in the dead-letter queue",
                runbook.UNDELIVERED_EVENTS,
                None,
            ),
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": queue.name},
            topic_arn,
            tags,
            parent,
        ),
        metric_alarm(
            f"{name}-rule-failed-alarm",
            runbook.alarm_description(
                "EventBridge failed to put completion events on the central bus (retried, then dead-lettered)",
                runbook.RULE_FAILED_INVOCATIONS,
                None,
            ),
            "AWS/Events",
            "FailedInvocations",
            "Sum",
            {"RuleName": rule.name},
            topic_arn,
            tags,
            parent,
        ),
    ]


def _read_role(
    name: str,
    settings: ForwarderSettings,
    located: pulumi.Output[dict[str, Any]],
    partition: pulumi.Output[str],
    account: pulumi.Output[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """The role the central notifier assumes to read this account's jobs. The external id may be a secret:
    its own Output keeps the secret to the trust policy."""

    def trust(values: list[Any]) -> str:
        roles, external_id = values
        if external_id is not None and isinstance(settings.external_id, pulumi.Output):
            check_external_id("external_id", external_id)
        return json.dumps(iam.member_read_trust_policy(roles, external_id, settings.organization_id))

    role = aws.iam.Role(
        f"{name}-read",
        # Named, not auto-named: one per account (IAM is global), and the central stack names its ARN in
        # `memberAccounts` before or after this stack deploys. A rename deletes the old one first.
        name=f"{name}-read",
        description="batch-array-notify: the central notifier reads this account's Batch jobs and job log tails",
        assume_role_policy=pulumi.Output.all(located.apply(lambda found: found["roles"]), settings.external_id).apply(
            trust
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
    )
    aws.iam.RolePolicy(
        f"{name}-read",
        role=role.id,
        policy=pulumi.Output.all(partition, account, *settings.job_log_group_names).apply(
            lambda values: json.dumps(iam.member_read_policy(values[0], values[1], values[2:]))
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role
