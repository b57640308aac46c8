"""A CloudWatch dashboard per pipeline: how its array jobs finished, how late the news was, and whether
anything waits in a failure queue or an alarm.

    [ title, what this shows, link to the runbook                                              ]
    [ array jobs by status     ][ children: run and failed   ][ duplicates and ignored events  ]
    [ array job duration p50/p90/max           ][ notification lag p50/p90/max                 ]
    [ notifier invocations/errors/throttles ][ notifier duration       ][ completion rule      ]
    [ failure queues: events waiting           ][ alarms                                       ]
    [ latest completions (Logs Insights: job id, status, size, failed)                         ]

`dashboard_body` builds the body from plain names (pure, so tests parse it); `pipeline_dashboard`
declares the resource once those names are known. Dashboards belong to the account, not to a region,
so the name carries the region as well as the component's name and stage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from . import runbook
from .handler.console import console_host
from .metric_names import (
    ARRAY_JOB_DURATION,
    ARRAY_JOBS_FAILED,
    ARRAY_JOBS_SUCCEEDED,
    ARRAY_SIZE,
    DUPLICATE_DELIVERIES,
    FAILED_CHILDREN,
    IGNORED_EVENTS,
    NAMESPACE,
    NOTIFICATION_LAG,
    pipeline_dimensions,
)

GRID_COLUMNS: Final = 24
PERIOD_SECONDS: Final = 300
#: CloudWatch's limit on dashboard names, and the characters it allows.
MAX_NAME_CHARS: Final = 255
_NOT_ALLOWED_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")
#: The handler's structured log line per reported completion (handler/app.py): its `decision` and the
#: fields the table shows. A test keeps them equal to what the handler logs.
COMPLETION_DECISION: Final = "delivered"
COMPLETION_LOG_FIELDS: Final = ("jobId", "status", "arraySize", "failed")
LATEST_COMPLETIONS: Final = 50
PERCENTILES: Final = (("p50", "p50"), ("p90", "p90"), ("Maximum", "max"))


@dataclass(frozen=True)
class DashboardSources:
    """Everything the dashboard names, resolved to plain strings."""

    title: str
    stage: str
    region: str
    job_queue_name: str
    notifier_function_name: str
    notifier_log_group_name: str
    completion_rule_name: str
    dead_letter_queue_name: str
    notifier_failure_queue_name: str
    alarm_arns: tuple[str, ...]
    runbook_url: str


def dashboard_name(component_name: str, stage: str, region: str) -> str:
    """`<component>-<stage>-<region>`, in the characters CloudWatch allows."""
    name = _NOT_ALLOWED_IN_NAME.sub("-", f"{component_name}-{stage}-{region}").strip("-")
    return name[:MAX_NAME_CHARS]


def dashboard_url(partition: str, region: str, name: str) -> str:
    return f"https://{console_host(partition, region)}/cloudwatch/home?region={region}#dashboards:name={name}"


def dashboard_body(sources: DashboardSources) -> dict[str, Any]:
    """The dashboard's body: rows of widgets laid out left to right on the 24-column grid."""
    custom = _custom_metric(sources)
    function = ("AWS/Lambda", "FunctionName", sources.notifier_function_name)
    rule = ("AWS/Events", "RuleName", sources.completion_rule_name)
    region = sources.region
    rows: list[tuple[int, list[tuple[int, dict[str, Any]]]]] = [
        (3, [(24, _text(_introduction(sources)))]),
        (
            6,
            [
                (
                    8,
                    _graph(
                        "Array jobs finished, by status",
                        region,
                        [custom(ARRAY_JOBS_SUCCEEDED, "Sum", "succeeded"), custom(ARRAY_JOBS_FAILED, "Sum", "failed")],
                        stacked=True,
                    ),
                ),
                (
                    8,
                    _graph(
                        "Children of finished array jobs",
                        region,
                        [custom(ARRAY_SIZE, "Sum", "children"), custom(FAILED_CHILDREN, "Sum", "failed children")],
                    ),
                ),
                (
                    8,
                    _graph(
                        "Duplicate deliveries and ignored events",
                        region,
                        [
                            custom(DUPLICATE_DELIVERIES, "Sum", "duplicates suppressed"),
                            custom(IGNORED_EVENTS, "Sum", "ignored (should stay 0)"),
                        ],
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (12, _graph("Array job duration (seconds)", region, _percentiles(custom, ARRAY_JOB_DURATION))),
                (
                    12,
                    _graph(
                        "Notification lag after the job stopped (seconds)",
                        region,
                        _percentiles(custom, NOTIFICATION_LAG),
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (
                    8,
                    _graph(
                        "Notifier: invocations, errors, throttles",
                        region,
                        [
                            _metric(*function, name, "Sum", name.lower())
                            for name in ("Invocations", "Errors", "Throttles")
                        ],
                    ),
                ),
                (
                    8,
                    _graph(
                        "Notifier duration (milliseconds)",
                        region,
                        [_metric(*function, "Duration", stat, label) for stat, label in PERCENTILES],
                    ),
                ),
                (
                    8,
                    _graph(
                        "Completion rule: invocations and failures",
                        region,
                        [
                            _metric(*rule, "Invocations", "Sum", "invocations"),
                            _metric(*rule, "FailedInvocations", "Sum", "failed invocations"),
                            _metric(*rule, "InvocationsFailedToBeSentToDlq", "Sum", "lost (not dead-lettered)"),
                        ],
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (
                    12,
                    _graph(
                        "Failure queues: events waiting",
                        region,
                        [
                            _metric(
                                "AWS/SQS", "QueueName", queue, "ApproximateNumberOfMessagesVisible", "Maximum", label
                            )
                            for queue, label in (
                                (sources.dead_letter_queue_name, "dead-letter queue (rules)"),
                                (sources.notifier_failure_queue_name, "notifier failure queue"),
                            )
                        ],
                    ),
                ),
                (12, _alarms("Alarms", sources.alarm_arns)),
            ],
        ),
        (8, [(24, _completions_table(sources))]),
    ]
    return {"start": "-PT24H", "periodOverride": "inherit", "widgets": _laid_out(rows)}


def _laid_out(rows: Sequence[tuple[int, Sequence[tuple[int, dict[str, Any]]]]]) -> list[dict[str, Any]]:
    widgets = []
    y = 0
    for height, row in rows:
        x = 0
        for width, widget in row:
            widgets.append({**widget, "x": x, "y": y, "width": width, "height": height})
            x += width
        if x > GRID_COLUMNS:
            raise ValueError(f"a dashboard row is {x} columns wide, the grid has {GRID_COLUMNS}")
        y += height
    return widgets


def _custom_metric(sources: DashboardSources) -> Any:
    dimensions = [part for pair in pipeline_dimensions(sources.stage, sources.job_queue_name).items() for part in pair]

    def metric(name: str, stat: str, label: str) -> list[Any]:
        return [NAMESPACE, name, *dimensions, {"stat": stat, "label": label}]

    return metric


def _metric(namespace: str, dimension: str, value: str, name: str, stat: str, label: str) -> list[Any]:
    return [namespace, name, dimension, value, {"stat": stat, "label": label}]


def _percentiles(custom: Any, name: str) -> list[list[Any]]:
    return [custom(name, stat, label) for stat, label in PERCENTILES]


def _graph(title: str, region: str, metrics: list[list[Any]], *, stacked: bool = False) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": stacked,
            "period": PERIOD_SECONDS,
            "stat": "Sum",
            "metrics": metrics,
            "yAxis": {"left": {"min": 0}},
        },
    }


def _alarms(title: str, alarm_arns: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "alarm",
        "properties": {"title": title, "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
    }


def _text(markdown: str) -> dict[str, Any]:
    return {"type": "text", "properties": {"markdown": markdown}}


def _introduction(sources: DashboardSources) -> str:
    return (
        f"# {sources.title} ({sources.stage})\n"
        f"Array jobs of queue `{sources.job_queue_name}`: one notification per finished array job. "
        "Both failure queues should stay empty and every alarm OK. "
        f"When one is not: [runbook]({sources.runbook_url}), a section per alarm."
    )


def _completions_table(sources: DashboardSources) -> dict[str, Any]:
    query = (
        f"SOURCE '{sources.notifier_log_group_name}'"
        f" | fields @timestamp, {', '.join(COMPLETION_LOG_FIELDS)}"
        f"\n| filter decision = '{COMPLETION_DECISION}'"
        "\n| sort @timestamp desc"
        f"\n| limit {LATEST_COMPLETIONS}"
    )
    return {
        "type": "log",
        "properties": {"title": "Latest completions", "region": sources.region, "view": "table", "query": query},
    }


@dataclass(frozen=True)
class PipelineDashboard:
    dashboard: aws.cloudwatch.Dashboard
    url: pulumi.Output[str]


def pipeline_dashboard(
    name: str,
    stage: str,
    job_queue: aws.batch.JobQueue,
    function: aws.lambda_.Function,
    log_group: aws.cloudwatch.LogGroup,
    completion_rule: aws.cloudwatch.EventRule,
    failure_queues: tuple[aws.sqs.Queue, aws.sqs.Queue],
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
    parent: pulumi.Resource,
) -> PipelineDashboard:
    """The pipeline's dashboard and its console URL. `failure_queues`: (dead-letter, notifier failure)."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=opts).region
    partition = aws.get_partition_output(opts=opts).partition
    board_name = region.apply(lambda r: dashboard_name(name, stage, r))
    dead_letter, notifier_failed = failure_queues

    def body(values: list[str]) -> str:
        sources = DashboardSources(
            title=name,
            stage=stage,
            region=values[0],
            job_queue_name=values[1],
            notifier_function_name=values[2],
            notifier_log_group_name=values[3],
            completion_rule_name=values[4],
            dead_letter_queue_name=values[5],
            notifier_failure_queue_name=values[6],
            alarm_arns=tuple(values[7:]),
            runbook_url=runbook.runbook_url(),
        )
        return json.dumps(dashboard_body(sources))

    names = [
        job_queue.name,
        function.name,
        log_group.name,
        completion_rule.name,
        dead_letter.name,
        notifier_failed.name,
    ]
    body_json = pulumi.Output.all(region, *names, *[alarm.arn for alarm in alarms]).apply(body)
    dashboard = aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=board_name,
        dashboard_body=body_json,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    url = pulumi.Output.all(partition, region, dashboard.dashboard_name).apply(lambda v: dashboard_url(*v))
    return PipelineDashboard(dashboard, url)
