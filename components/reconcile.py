"""The reconciliation sweep: finished array jobs whose event never reached the notifier are reported anyway.

    EventBridge Scheduler, rate(N minutes) ──(its own role: lambda:InvokeFunction on the sweep only)──▶
    sweep Lambda (handler.reconcile.handler, the notifier's code asset, its own role; one at a time,
    asynchronous: no retry) ──▶ ListJobs and DescribeJobs of the notifier's queues ──▶ the notifier's
    sinks, under the notifier's idempotency key
    ReconciledCompletions > 0, sweep Errors > 0, ReconcileStoppedEarly > 0 or absent ──▶ alarms ──▶ alerts topic

The sweep leaves alone what stopped within the grace period (`grace_seconds`): the longest a legitimate
event may take to reach the notifier, from the stack's own retry settings.

Off with `reconcile_every_minutes` 0: nothing here is declared then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam, runbook
from .completion_bus import put_events_policy
from .metric_names import NAMESPACE, RECONCILE_STOPPED_EARLY, RECONCILED_COMPLETIONS, pipeline_dimensions
from .notifier import Notifier, NotifierSettings, handler_function
from .reliability import metric_alarm

SWEEP_ENTRY = "handler.reconcile.handler"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"
#: A sweep lists at most 10 pages and reports at most 25 completions per queue (handler/reconcile.py);
#: five minutes leave room for a notifier with many queues.
SWEEP_TIMEOUT_SECONDS = 300
#: The shortest interval: a sweep lists up to 1,000 jobs and reads their records per queue; more often
#: than every 5 minutes would mostly repeat that work (and its cost) for completions the event path is
#: still delivering.
MIN_EVERY_MINUTES = 5
#: Once a day at least, so a completion is found long before its job leaves Batch's history.
MAX_EVERY_MINUTES = 1440
#: Added to the retries' event ages in the grace period: Batch's own delay in putting the state change on
#: the bus, the notifier's last attempt running up to its timeout (60 s) after it started at the maximum
#: event age, and clock skew between Batch's `stoppedAt` and the sweep.
GRACE_MARGIN_SECONDS = 900
#: Lambda's asynchronous retries of a failed sweep (FunctionEventInvokeConfig allows 0-2, default 2): none,
#: the next sweep covers the same window and continues where this one stopped.
SWEEP_RETRIES = 0
#: Lambda's limits on an asynchronous event's age (FunctionEventInvokeConfig `MaximumEventAgeInSeconds`).
MIN_EVENT_AGE_SECONDS, MAX_EVENT_AGE_SECONDS = 60, 21600
#: At most one sweep at a time (reserved concurrency): two would list, describe and report the same jobs.
SWEEP_CONCURRENCY = 1
#: The stopped-early alarm's periods in a row: a sweep may stop early once after an outage (the next one
#: continues), and a period may hold no sweep when a run ends on its boundary; two in a row is a sweep that
#: cannot keep up, or that no longer finishes at all.
STOPPED_EARLY_PERIODS = 2


def grace_seconds(rule_max_event_age_seconds: int, notifier_max_event_age_seconds: int) -> int:
    """The longest a completion's event may legitimately take to reach the notifier after the job stopped:
    EventBridge retries it for up to the rule's event age, then Lambda keeps it queued (throttled, or
    retrying) for up to the notifier's, plus a margin. A sweep reporting sooner races the real event."""
    return rule_max_event_age_seconds + notifier_max_event_age_seconds + GRACE_MARGIN_SECONDS


def sweep_event_age_seconds(every_minutes: int) -> int:
    """How long a sweep's invocation may wait in Lambda's queue (behind a running sweep: one at a time):
    until the next one is due, within Lambda's limits; an older one is dropped, the next covers its window."""
    return min(max(every_minutes * 60, MIN_EVENT_AGE_SECONDS), MAX_EVENT_AGE_SECONDS)


@dataclass(frozen=True)
class ReconcileSettings:
    every_minutes: int
    """The schedule: `rate(<every_minutes> minutes)`."""
    lookback_hours: int
    """How many hours of stop times a sweep examines, before the grace period (`RECONCILE_LOOKBACK_HOURS`)."""
    grace_seconds: int
    """Jobs that stopped less than this long ago are left to later sweeps (`RECONCILE_GRACE_SECONDS`)."""
    max_array_runtime_hours: int
    """How long before its window a job may have been created and still be listed
    (`RECONCILE_MAX_ARRAY_RUNTIME_HOURS`)."""
    batch_calls_per_second: int = 5
    """The pace of the sweep's Batch calls (`BATCH_CALLS_PER_SECOND`)."""


@dataclass(frozen=True)
class Sweep:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    schedule: aws.scheduler.Schedule
    scheduler_role: aws.iam.Role
    invoke_config: aws.lambda_.FunctionEventInvokeConfig
    alarms: list[aws.cloudwatch.MetricAlarm]
    """ReconciledCompletions, the sweep's errors, and ReconcileStoppedEarly (or no sweep finishing)."""


def schedule_expression(every_minutes: int) -> str:
    return f"rate({every_minutes} minutes)"


def sweep_role(name: str, tags: dict[str, str], parent: pulumi.Resource) -> aws.iam.Role:
    """The sweep's role, on its own so the key policy can name it before the topic exists."""
    return iam.lambda_role(f"{name}-sweep", tags, parent)


def sweep(
    name: str,
    settings: ReconcileSettings,
    notifier_settings: NotifierSettings,
    notifier: Notifier,
    role: aws.iam.Role,
    *,
    job_definition_arn_prefixes: pulumi.Input[Sequence[str]] | None,
    notify_statuses: Sequence[str],
    bus_arn: pulumi.Input[str],
    key_arn: pulumi.Input[str] | None,
    chat_topic_arn: pulumi.Input[str] | None,
    alerts_topic_arn: pulumi.Input[str],
    stage: str,
    home_queue_name: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> Sweep:
    """The sweep's function (the notifier's environment plus its own), role, log group, schedule and
    alarm. `key_arn`: the key of the topics it publishes to, when they are encrypted."""
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-sweep", retention_in_days=notifier_settings.log_retention_days, tags=tags, opts=child
    )
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region
    policy = aws.iam.RolePolicy(
        f"{name}-sweep",
        role=role.id,
        policy=pulumi.Output.all(
            log_group.arn, notifier.topic_arn, notifier.idempotency_table.arn, bus_arn, key_arn, chat_topic_arn, region
        ).apply(lambda values: json.dumps(sweep_policy(*values))),
        opts=child,
    )
    environment: Mapping[str, pulumi.Input[str]] = {
        **notifier.environment,
        "JOB_DEFINITION_ARN_PREFIXES": pulumi.Output.from_input(job_definition_arn_prefixes or []).apply(",".join),
        "RECONCILE_LOOKBACK_HOURS": str(settings.lookback_hours),
        "BATCH_CALLS_PER_SECOND": str(settings.batch_calls_per_second),
        "RECONCILE_GRACE_SECONDS": str(settings.grace_seconds),
        "RECONCILE_MAX_ARRAY_RUNTIME_HOURS": str(settings.max_array_runtime_hours),
        # The rule matches only these; a completion it never matches is not a missed one.
        "NOTIFY_STATUSES": ",".join(notify_statuses),
    }
    function = handler_function(
        f"{name}-sweep",
        notifier_settings,
        SWEEP_ENTRY,
        role,
        log_group,
        policy,
        environment,
        tags,
        parent,
        timeout=SWEEP_TIMEOUT_SECONDS,
        reserved_concurrency=SWEEP_CONCURRENCY,
    )
    # EventBridge Scheduler invokes Lambda asynchronously (its retry policy covers only the hand-off), so
    # Lambda's own retries apply: 2 unless set. Set here to none (Lambda developer guide, "Configuring error
    # handling for asynchronous invocation"; EventBridge Scheduler user guide, "Using templated targets":
    # the Lambda target is Lambda's Invoke, made with the Event invocation type).
    invoke_config = aws.lambda_.FunctionEventInvokeConfig(
        f"{name}-sweep",
        function_name=function.name,
        maximum_retry_attempts=SWEEP_RETRIES,
        maximum_event_age_in_seconds=sweep_event_age_seconds(settings.every_minutes),
        opts=child,
    )
    scheduler_role = aws.iam.Role(
        f"{name}-sweep-schedule",
        # Only schedules of this account may use the role (Scheduler's confused-deputy guidance).
        assume_role_policy=aws.get_caller_identity_output(
            opts=pulumi.InvokeOutputOptions(parent=parent)
        ).account_id.apply(lambda account: json.dumps(iam.assume_role_policy(SCHEDULER_SERVICE, account))),
        tags=tags,
        opts=child,
    )
    scheduler_policy = aws.iam.RolePolicy(
        f"{name}-sweep-schedule",
        role=scheduler_role.id,
        policy=function.arn.apply(lambda arn: json.dumps(iam.scheduler_policy(arn))),
        opts=child,
    )
    schedule = aws.scheduler.Schedule(
        f"{name}-sweep",
        description="batch-array-notify: report finished array jobs whose completion event never reached the notifier",
        schedule_expression=schedule_expression(settings.every_minutes),
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": function.arn,
            "role_arn": scheduler_role.arn,
            # Scheduler's retries of the hand-off to Lambda (not of a failed sweep: see the invoke config).
            "retry_policy": {"maximum_retry_attempts": 0},
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[scheduler_policy]),
    )
    # The sweep counts under the notifier's home queue (the first), like IgnoredEvents: one alarm sees all.
    dimensions: Any = pulumi.Output.from_input(home_queue_name).apply(lambda queue: pipeline_dimensions(stage, queue))
    alarm_args = (alerts_topic_arn, tags, parent)
    alarms = [
        metric_alarm(
            f"{name}-reconciled-alarm",
            runbook.alarm_description(
                "The reconciliation sweep reported finished array jobs whose completion event never reached the "
                "notifier: a rule was disabled, replaced or mis-targeted, or a kept event expired",
                runbook.RECONCILED_COMPLETIONS,
            ),
            NAMESPACE,
            RECONCILED_COMPLETIONS,
            "Sum",
            dimensions,
            *alarm_args,
        ),
        metric_alarm(
            f"{name}-sweep-errors-alarm",
            runbook.alarm_description(
                "The reconciliation sweep failed: it is not retried, the next sweep covers the same window",
                runbook.SWEEP_ERRORS,
            ),
            "AWS/Lambda",
            "Errors",
            "Sum",
            {"FunctionName": function.name},
            *alarm_args,
        ),
        # Every sweep that finishes writes ReconcileStoppedEarly (0 or 1), so no data at all means no sweep
        # finished: failing every run, or never run. That breaches, unlike the other alarms' missing data.
        # Period: the interval (a multiple of 60, as CloudWatch requires); two of them stay within
        # PutMetricAlarm's limit on Period x EvaluationPeriods (1 day under an hour's period, else 7 days).
        metric_alarm(
            f"{name}-sweep-stopped-early-alarm",
            runbook.alarm_description(
                "The reconciliation sweep did not cover its window in two intervals in a row: it stopped early "
                "(its budget spent) or no sweep finished at all",
                runbook.SWEEP_STOPPED_EARLY,
            ),
            NAMESPACE,
            RECONCILE_STOPPED_EARLY,
            "Maximum",
            dimensions,
            *alarm_args,
            period_seconds=settings.every_minutes * 60,
            evaluation_periods=STOPPED_EARLY_PERIODS,
            missing_data_breaches=True,
        ),
    ]
    return Sweep(function, role, log_group, schedule, scheduler_role, invoke_config, alarms)


def sweep_policy(
    log_group_arn: str,
    topic_arn: str,
    table_arn: str,
    bus_arn: str,
    key_arn: str | None,
    chat_topic_arn: str | None,
    region: str,
) -> iam.PolicyDocument:
    """The notifier's reads, sinks and table (the sweep delivers through the same code), and nothing of
    its failure handling: no on-failure queue, the key only through SNS."""
    extra = [
        *put_events_policy(bus_arn)["Statement"],
        *([iam.sweep_encrypt_statement(key_arn, region)] if key_arn else []),
        *([iam.chat_publish_statement(chat_topic_arn)] if chat_topic_arn else []),
    ]
    return iam.notifier_policy(log_group_arn, topic_arn, table_arn, extra)
