"""The reconciliation sweep: finished array jobs whose event never reached the notifier are reported anyway.

    EventBridge Scheduler, rate(N minutes) ──(its own role: lambda:InvokeFunction on the sweep only)──▶
    sweep Lambda (handler.reconcile.handler, the notifier's code asset, its own role) ──▶ ListJobs and
    DescribeJobs of the notifier's queues ──▶ the notifier's sinks, under the notifier's idempotency key
    ReconciledCompletions > 0 ──▶ alarm ──▶ alerts topic

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
from .metric_names import NAMESPACE, RECONCILED_COMPLETIONS, pipeline_dimensions
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


@dataclass(frozen=True)
class ReconcileSettings:
    every_minutes: int
    """The schedule: `rate(<every_minutes> minutes)`."""
    lookback_hours: int
    """How far back a sweep looks (`RECONCILE_LOOKBACK_HOURS`)."""


@dataclass(frozen=True)
class Sweep:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    schedule: aws.scheduler.Schedule
    scheduler_role: aws.iam.Role
    alarm: aws.cloudwatch.MetricAlarm


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
    runbook_url: str | None,
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
            # A failed sweep is not retried: the next one covers the same window and continues where it stopped.
            "retry_policy": {"maximum_retry_attempts": 0},
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[scheduler_policy]),
    )
    # The sweep counts under the notifier's home queue (the first), like IgnoredEvents: one alarm sees all.
    dimensions: Any = pulumi.Output.from_input(home_queue_name).apply(lambda queue: pipeline_dimensions(stage, queue))
    alarm = metric_alarm(
        f"{name}-reconciled-alarm",
        runbook.alarm_description(
            "The reconciliation sweep reported finished array jobs whose completion event never reached the "
            "notifier: a rule was disabled, replaced or mis-targeted, or a kept event expired",
            runbook.RECONCILED_COMPLETIONS,
            runbook_url,
        ),
        NAMESPACE,
        RECONCILED_COMPLETIONS,
        "Sum",
        dimensions,
        alerts_topic_arn,
        tags,
        parent,
    )
    return Sweep(function, role, log_group, schedule, scheduler_role, alarm)


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
