"""Nothing lost, nothing open: where each failure of the pipeline ends up, and who is told.

    completion event ──▶ rule target (retry policy) ──✗──▶ rules' dead-letter queue ──▶ alarm
                           │ FailedInvocations ─────────────────────────────────────▶ alarm
                           ▼
                     notifier (async: retries, max age) ──✗──▶ on-failure queue ────▶ alarm
                           │ Errors, AsyncEventsDropped, AsyncEventAge ─────────────▶ alarms
    queue blocked ──▶ blocked-queue rule ──▶ alerts topic;  Batch cancels the stuck job after a
    while (jobStateTimeLimitActions), so the parent still ends and the completion still reports.

Topics and queues the pipeline owns are encrypted with one customer-managed key: CloudWatch alarm
actions cannot publish to a topic under the AWS-managed `aws/sns` key. Policy documents are built by
`components.iam`; this module declares the resources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam, runbook
from .event_pattern import queue_blocked_event_pattern
from .metric_names import IGNORED_EVENTS, NAMESPACE, pipeline_dimensions
from .naming import numbered

#: RUNNABLE reasons Batch can act on with `jobStateTimeLimitActions` (AWS Batch user guide,
#: "Automatic remediation with jobStateTimeLimitActions"); any other reason needs a human.
STUCK_JOB_REASONS: tuple[str, ...] = (
    "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
    "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    "MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",
)
#: Alarm granularity: one 5-minute period over the threshold alarms (a single lost event matters).
ALARM_PERIOD_SECONDS = 300
#: An event waiting in Lambda's queue longer than this share of `notifier_max_event_age_seconds` is
#: halfway to being dropped: alarm while there is still time to act.
EVENT_AGE_ALARM_SHARE = 0.5


def event_age_threshold_ms(settings: ReliabilitySettings) -> int:
    """`AsyncEventAge` (milliseconds, AWS Lambda developer guide, "Types of metrics for Lambda functions")
    above which `async-event-age-alarm` fires: half the notifier's maximum event age."""
    return int(settings.notifier_max_event_age_seconds * 1000 * EVENT_AGE_ALARM_SHARE)


@dataclass(frozen=True)
class ReliabilitySettings:
    rule_retry_attempts: int
    rule_max_event_age_seconds: int
    notifier_max_retries: int
    notifier_max_event_age_seconds: int
    dead_letter_retention_seconds: int
    alerts_topic_arn: pulumi.Input[str] | None
    stuck_job_cancel_after_seconds: int
    stuck_job_reasons: list[str]
    kms_key_deletion_window_days: int
    runbook_url: str | None = None
    """Where the team hosts docs/operations.md; None: alarms name the section of the packaged file."""


@dataclass(frozen=True)
class Protection:
    """What must exist before the topic and the notifier: the key and the two failure queues."""

    key: aws.kms.Key
    event_dead_letter_queue: aws.sqs.Queue
    notifier_failure_queue: aws.sqs.Queue


@dataclass(frozen=True)
class Alerting:
    alerts_topic_arn: pulumi.Output[str]
    invoke_config: aws.lambda_.FunctionEventInvokeConfig
    dead_letter_policy: aws.sqs.QueuePolicy
    blocked_rules: list[aws.cloudwatch.EventRule]
    """One per group of queues, like the completion rules (the first is `<name>-blocked`)."""
    alarms: list[aws.cloudwatch.MetricAlarm]
    topic_policy: aws.sns.TopicPolicy | None

    @property
    def blocked_rule(self) -> aws.cloudwatch.EventRule:
        return self.blocked_rules[0]


def stuck_job_actions(settings: ReliabilitySettings) -> list[aws.batch.JobQueueJobStateTimeLimitActionArgsDict]:
    """The job queue's `job_state_time_limit_actions`: cancel a job blocked in RUNNABLE for a while."""
    return [
        {
            "action": "CANCEL",
            "state": "RUNNABLE",
            "max_time_seconds": settings.stuck_job_cancel_after_seconds,
            "reason": reason,
        }
        for reason in settings.stuck_job_reasons
    ]


def retry_policy(settings: ReliabilitySettings) -> aws.cloudwatch.EventTargetRetryPolicyArgsDict:
    """The rule targets' retry policy; after it, the event goes to the dead-letter queue."""
    return {
        "maximum_event_age_in_seconds": settings.rule_max_event_age_seconds,
        "maximum_retry_attempts": settings.rule_retry_attempts,
    }


def _account(parent: pulumi.Resource) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
    """Account id, partition and region of the component's provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    return (
        aws.get_caller_identity_output(opts=opts).account_id,
        aws.get_partition_output(opts=opts).partition,
        aws.get_region_output(opts=opts).region,
    )


def encryption_key(
    name: str,
    notifier_role_arn: pulumi.Input[str],
    deletion_window_days: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
    sweep_role_arn: pulumi.Input[str] | None = None,
) -> aws.kms.Key:
    account_id, partition, region = _account(parent)
    return aws.kms.Key(
        f"{name}-key",
        description="batch-array-notify: completion topic and failure queues",
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        policy=pulumi.Output.all(account_id, partition, notifier_role_arn, region, sweep_role_arn).apply(
            lambda values: json.dumps(iam.key_policy(*values))
        ),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def failure_queue(
    name: str, key: aws.kms.Key, retention_seconds: int, tags: dict[str, str], parent: pulumi.Resource
) -> aws.sqs.Queue:
    """A standard (not FIFO: EventBridge refuses FIFO dead-letter queues) queue encrypted with the key."""
    return aws.sqs.Queue(
        name,
        kms_master_key_id=key.arn,
        message_retention_seconds=retention_seconds,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def protection(
    name: str,
    notifier_role_arn: pulumi.Input[str],
    settings: ReliabilitySettings,
    tags: dict[str, str],
    parent: pulumi.Resource,
    sweep_role_arn: pulumi.Input[str] | None = None,
) -> Protection:
    """`sweep_role_arn`: the reconciliation sweep's role, which the key lets publish to the encrypted topics."""
    key = encryption_key(name, notifier_role_arn, settings.kms_key_deletion_window_days, tags, parent, sweep_role_arn)
    retention = settings.dead_letter_retention_seconds
    return Protection(
        key=key,
        event_dead_letter_queue=failure_queue(f"{name}-undelivered", key, retention, tags, parent),
        notifier_failure_queue=failure_queue(f"{name}-notifier-failed", key, retention, tags, parent),
    )


def notifier_statements(
    shield: Protection, topic_encrypted: bool, parent: pulumi.Resource
) -> pulumi.Output[list[iam.Statement]]:
    """The notifier role's statements for its on-failure queue and the key."""
    _, _, region = _account(parent)
    return pulumi.Output.all(shield.notifier_failure_queue.arn, shield.key.arn, region).apply(
        lambda values: iam.notifier_reliability_statements(
            values[0], values[1], values[2], topic_encrypted=topic_encrypted
        )
    )


def invoke_config(
    name: str,
    function: aws.lambda_.Function,
    failure_queue_arn: pulumi.Input[str],
    settings: ReliabilitySettings,
    parent: pulumi.Resource,
) -> aws.lambda_.FunctionEventInvokeConfig:
    """Lambda's own retries of the asynchronous invocation, then the on-failure queue: throttled and
    failing events stay in Lambda's queue, where EventBridge's dead-letter queue never sees them."""
    return aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-notifier",
        function_name=function.name,
        maximum_retry_attempts=settings.notifier_max_retries,
        maximum_event_age_in_seconds=settings.notifier_max_event_age_seconds,
        destination_config={"on_failure": {"destination": failure_queue_arn}},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def queue_blocked_rule(
    name: str,
    job_queue_arns: pulumi.Output[list[str]],
    alerts_topic_arn: pulumi.Input[str],
    dead_letter_arn: pulumi.Input[str],
    settings: ReliabilitySettings,
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    index: int = 0,
) -> tuple[aws.cloudwatch.EventRule, aws.cloudwatch.EventTarget]:
    """Tell the alerts topic when one of these queues is blocked: a job stuck RUNNABLE never completes."""
    rule = aws.cloudwatch.EventRule(
        numbered(f"{name}-blocked", index),
        description=(
            "A job of this pipeline's queue is stuck in RUNNABLE (Batch Job Queue Blocked). Runbook: "
            + runbook.runbook_url(settings.runbook_url, runbook.QUEUE_BLOCKED)
        ),
        event_pattern=pulumi.Output.json_dumps(job_queue_arns.apply(queue_blocked_event_pattern)),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    target = aws.cloudwatch.EventTarget(
        numbered(f"{name}-blocked-alert", index),
        rule=rule.name,
        arn=alerts_topic_arn,
        retry_policy=retry_policy(settings),
        dead_letter_config={"arn": dead_letter_arn},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return rule, target


def metric_alarm(
    name: str,
    description: str,
    namespace: str,
    metric: str,
    statistic: str,
    dimensions: dict[str, pulumi.Input[str]],
    alerts_topic_arn: pulumi.Input[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
    threshold: float = 0,
    *,
    period_seconds: int = ALARM_PERIOD_SECONDS,
    evaluation_periods: int = 1,
    missing_data_breaches: bool = False,
) -> aws.cloudwatch.MetricAlarm:
    """Alarm as soon as `evaluation_periods` periods in a row are above `threshold` (zero: any); by default
    no data (an idle pipeline) is not an alarm, with `missing_data_breaches` it is (a metric that must keep
    coming). Without `alerts_topic_arn` the alarm has no action: its state is still on the console and the API."""
    return aws.cloudwatch.MetricAlarm(
        name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric,
        statistic=statistic,
        dimensions=dimensions,
        period=period_seconds,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=evaluation_periods if evaluation_periods > 1 else None,
        threshold=threshold,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="breaching" if missing_data_breaches else "notBreaching",
        alarm_actions=[alerts_topic_arn] if alerts_topic_arn is not None else [],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def alarms(
    name: str,
    alerts_topic_arn: pulumi.Input[str],
    shield: Protection,
    function: aws.lambda_.Function,
    completion_rules: Sequence[aws.cloudwatch.EventRule],
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    stage: str,
    home_queue_name: pulumi.Input[str],
    event_age_threshold_ms: int,
    runbook_url: str | None,
) -> list[aws.cloudwatch.MetricAlarm]:
    """Each alarm's description says what it means and links its section of the runbook. `home_queue_name`:
    the queue (the notifier's first) whose `IgnoredEvents` metric counts every event the notifier ignores."""

    def alarm(
        suffix: str,
        what: str,
        section: str,
        namespace: str,
        metric: str,
        statistic: str,
        dimensions: Any,
        threshold: float = 0,
    ) -> Any:
        description = runbook.alarm_description(what, section, runbook_url)
        return metric_alarm(
            f"{name}-{suffix}",
            description,
            namespace,
            metric,
            statistic,
            dimensions,
            alerts_topic_arn,
            tags,
            parent,
            threshold,
        )

    def rule_alarms(rule: aws.cloudwatch.EventRule, index: int) -> list[aws.cloudwatch.MetricAlarm]:
        """Two per completion rule; the first rule's keep their plain names."""
        return [
            alarm(
                numbered("rule-failed-alarm", index),
                "EventBridge failed to invoke the notifier (retried, then dead-lettered)",
                runbook.RULE_FAILED_INVOCATIONS,
                "AWS/Events",
                "FailedInvocations",
                "Sum",
                rule_dimensions(rule),
            ),
            alarm(
                # The last line of defence failing (queue policy or key refusing EventBridge): the event is gone.
                numbered("dead-letter-failed-alarm", index),
                "EventBridge could not put an undeliverable completion event into the dead-letter queue: it is lost",
                runbook.DEAD_LETTER_FAILED,
                "AWS/Events",
                "InvocationsFailedToBeSentToDlq",
                "Sum",
                rule_dimensions(rule),
            ),
        ]

    return [
        alarm(
            "undelivered-alarm",
            "Completion events EventBridge could not deliver wait in the dead-letter queue",
            runbook.UNDELIVERED_EVENTS,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": shield.event_dead_letter_queue.name},
        ),
        alarm(
            "notifier-failed-alarm",
            "Completion events the notifier failed on (after Lambda's retries) wait in the on-failure queue",
            runbook.NOTIFIER_FAILED_EVENTS,
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            {"QueueName": shield.notifier_failure_queue.name},
        ),
        alarm(
            "notifier-errors-alarm",
            "The notifier raised: Lambda retries, then the on-failure queue keeps the event",
            runbook.NOTIFIER_ERRORS,
            "AWS/Lambda",
            "Errors",
            "Sum",
            {"FunctionName": function.name},
        ),
        # Not on Throttles: with reserved concurrency a burst is throttled by design and waits in Lambda's
        # queue; what matters is an event dropped, or one waiting so long it soon will be.
        alarm(
            "async-events-dropped-alarm",
            "Lambda dropped completion events of the notifier without running it (too old, or its "
            "concurrency set to 0); the on-failure queue keeps them",
            runbook.ASYNC_EVENTS_DROPPED,
            "AWS/Lambda",
            "AsyncEventsDropped",
            "Sum",
            {"FunctionName": function.name},
        ),
        alarm(
            "async-event-age-alarm",
            f"Completion events waited in Lambda's queue for the notifier over {event_age_threshold_ms // 1000} s, "
            "half their maximum age: raise the notifier's reserved concurrency or find what slows it",
            runbook.ASYNC_EVENT_AGE,
            "AWS/Lambda",
            "AsyncEventAge",
            "Maximum",
            {"FunctionName": function.name},
            event_age_threshold_ms,
        ),
        alarm(
            # Zero by construction with the generated rules (the rehearsal proves it): anything else is a
            # hand-edited or replaced rule, or an event shape the handler rejects: a completion not reported.
            # The handler counts every ignored event under its home queue (the first), so one alarm sees all.
            "ignored-events-alarm",
            "The notifier received events it does not report (not a finished array parent of its queues, "
            "or malformed): a completion rule is wired wrongly or Batch changed its events",
            runbook.IGNORED_EVENTS,
            NAMESPACE,
            IGNORED_EVENTS,
            "Sum",
            pulumi.Output.from_input(home_queue_name).apply(lambda queue: pipeline_dimensions(stage, queue)),
        ),
        *[alarm for index, rule in enumerate(completion_rules) for alarm in rule_alarms(rule, index)],
    ]


def dead_letter_policy(
    name: str, queue: aws.sqs.Queue, rules: Sequence[aws.cloudwatch.EventRule], parent: pulumi.Resource
) -> aws.sqs.QueuePolicy:
    """With the API (unlike the console) the dead-letter queue's policy is ours to write."""
    return aws.sqs.QueuePolicy(
        f"{name}-undelivered",
        queue_url=queue.url,
        policy=pulumi.Output.all(queue.arn, *[rule.arn for rule in rules]).apply(
            lambda arns: json.dumps(iam.dead_letter_queue_policy(arns[0], arns[1:]))
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def rule_dimensions(rule: aws.cloudwatch.EventRule) -> pulumi.Output[dict[str, str]]:
    """A rule's metric dimensions: its name, and its bus's name when that is not the default bus (EventBridge
    user guide, "Monitoring Amazon EventBridge": only RuleName refers to the default bus)."""
    return pulumi.Output.all(rule.name, rule.event_bus_name).apply(
        lambda values: (
            {"RuleName": values[0]}
            if values[1] in (None, "", "default")
            else {"EventBusName": values[1], "RuleName": values[0]}
        )
    )


def alerts_topic(settings: ReliabilitySettings, completion_topic_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """Where alarms and blocked-queue alerts go: `alerts_topic_arn`, else the completion topic."""
    return pulumi.Output.from_input(settings.alerts_topic_arn or completion_topic_arn)


def alerting(
    name: str,
    settings: ReliabilitySettings,
    shield: Protection,
    completion_topic_arn: pulumi.Output[str],
    owns_completion_topic: bool,
    queue_groups: Sequence[pulumi.Output[list[str]]],
    function: aws.lambda_.Function,
    completion_rules: Sequence[aws.cloudwatch.EventRule],
    tags: dict[str, str],
    parent: pulumi.Resource,
    other_dead_lettering_rules: Sequence[aws.cloudwatch.EventRule] = (),
    *,
    stage: str,
    home_queue_name: pulumi.Input[str],
    other_alarms: Sequence[aws.cloudwatch.MetricAlarm] = (),
) -> Alerting:
    """Everything that reacts to a failure, declared once the rules and the notifier exist; one blocked-queue
    rule per group of queues, as for the completion rules."""
    alerts_topic_arn = alerts_topic(settings, completion_topic_arn)
    config = invoke_config(name, function, shield.notifier_failure_queue.arn, settings, parent)
    dead_letter_arn = shield.event_dead_letter_queue.arn
    blocked_rules = [
        queue_blocked_rule(name, arns, alerts_topic_arn, dead_letter_arn, settings, tags, parent, index=index)[0]
        for index, arns in enumerate(queue_groups)
    ]
    queue_policy = dead_letter_policy(
        name,
        shield.event_dead_letter_queue,
        [*completion_rules, *blocked_rules, *other_dead_lettering_rules],
        parent,
    )
    # Other concerns' alarms (the sweep's) publish to the same topic, so its policy must name them too.
    alarm_list = [
        *alarms(
            name,
            alerts_topic_arn,
            shield,
            function,
            completion_rules,
            tags,
            parent,
            stage=stage,
            home_queue_name=home_queue_name,
            event_age_threshold_ms=event_age_threshold_ms(settings),
            runbook_url=settings.runbook_url,
        ),
        *other_alarms,
    ]
    topic_policy = None
    if settings.alerts_topic_arn is None and owns_completion_topic:
        # A topic someone else owns keeps its owner's policy; ours lets only our alarms and rule in.
        account_id, _, _ = _account(parent)
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-alerts",
            arn=alerts_topic_arn,
            policy=pulumi.Output.all(
                alerts_topic_arn,
                account_id,
                pulumi.Output.all(*[rule.arn for rule in blocked_rules]),
                *[alarm.arn for alarm in alarm_list],
            ).apply(lambda values: json.dumps(iam.alerts_topic_policy(values[0], values[1], values[3:], values[2]))),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return Alerting(alerts_topic_arn, config, queue_policy, blocked_rules, alarm_list, topic_policy)
