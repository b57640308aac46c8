"""A CloudWatch dashboard per notifier (so per pipeline): how its queues' array jobs finished, how late the
news was, and whether anything waits in a failure queue or an alarm.

    [ title, the queues, link to the runbook                                                   ]
    [ array jobs by status     ][ children: run and failed   ][ duplicates and ignored events  ]
    [ array job duration p50/p90/max           ][ notification lag p50/p90/max                 ]
    [ notifier invocations/errors/throttles ][ notifier duration       ][ completion rules     ]
    [ failure queues: events waiting           ][ alarms                                       ]
    [ sweep: runs, errors, throttles           ][ sweep: reconciled, stopped early             ]
    [ latest completions (Logs Insights: who reported, job id, queue, status, size, failed)    ]

The sweep's band is there when the notifier has the reconciliation sweep; its completions join the
notifier's in the table (`decision` says which reported it).

A notifier can serve several queues: each graph of the handler's metrics has its lines for every queue
(explicit metric arrays, no SEARCH, so the graphs show exactly the notifier's queues), and the rule graph
its lines for every completion rule. Ignored events are one line: the handler counts them all under the
home queue (the first; handler/metrics.py). A graph over CloudWatch's 100 lines is drawn as several.

`dashboard_body` builds the body from plain names (pure, so tests parse it); `notifier_dashboard`
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
    BATCH_CALLS_THROTTLED,
    DUPLICATE_DELIVERIES,
    FAILED_CHILDREN,
    IGNORED_EVENTS,
    NAMESPACE,
    NOTIFICATION_LAG,
    ORGANIZATION_HOME_QUEUE,
    RECONCILE_STOPPED_EARLY,
    RECONCILED_COMPLETIONS,
    member_dimensions,
    pipeline_dimensions,
    queue_name,
)

GRID_COLUMNS: Final = 24
PERIOD_SECONDS: Final = 300
#: CloudWatch's limits: metric arrays in one graph, alarms in one alarm widget.
MAX_METRICS_PER_GRAPH: Final = 100
MAX_ALARMS_PER_WIDGET: Final = 100
#: CloudWatch's limit on dashboard names, and the characters it allows.
MAX_NAME_CHARS: Final = 255
_NOT_ALLOWED_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")
#: The handler's structured log line per reported completion (handler/app.py): its `decision` and the
#: fields the table shows. A test keeps them equal to what the handler logs.
COMPLETION_DECISION: Final = "delivered"
#: The sweep's line per completion it reported (handler/reconcile.py), with the same fields.
SWEEP_COMPLETION_DECISION: Final = "reconciled"
COMPLETION_LOG_FIELDS: Final = ("jobId", "jobQueue", "status", "arraySize", "failed")
LATEST_COMPLETIONS: Final = 50
PERCENTILES: Final = (("p50", "p50"), ("p90", "p90"), ("Maximum", "max"))

MetricArray = list[Any]
#: A band of the dashboard: its height, then (width, widgets) left to right; a graph drawn as several
#: widgets takes that width for each, and the band wraps onto a new line when the grid is full.
Band = tuple[int, list[tuple[int, list[dict[str, Any]]]]]


@dataclass(frozen=True)
class DashboardSources:
    """Everything the dashboard names, resolved to plain strings."""

    title: str
    stage: str
    region: str
    job_queue_names: tuple[str, ...]
    """The notifier's queues, its home queue (where ignored events are counted) first."""
    notifier_function_name: str
    notifier_log_group_name: str
    completion_rule_names: tuple[str, ...]
    dead_letter_queue_name: str
    notifier_failure_queue_name: str
    alarm_arns: tuple[str, ...]
    runbook_url: str
    sweep_function_name: str | None = None
    """The reconciliation sweep's function, when the notifier has one."""
    sweep_log_group_name: str | None = None
    member_accounts: tuple[str, ...] = ()
    """Central mode: the member accounts whose array jobs the notifier reports."""
    member_queues: tuple[tuple[str, str], ...] = ()
    """Central mode: (account, queue name) of the queues members list, graphed with the `account` dimension."""
    intake_bus_name: str | None = None
    intake_rule_names: tuple[str, ...] = ()
    """Central mode: the completion rules on the intake bus (their metrics carry the bus's name too)."""

    @property
    def home_queue_name(self) -> str:
        """Where the handler counts what it ignores and the sweep what it reconciled (handler/metrics.py)."""
        return self.job_queue_names[0] if self.job_queue_names else ORGANIZATION_HOME_QUEUE


def dashboard_name(component_name: str, stage: str, region: str) -> str:
    """`<component>-<stage>-<region>`, in the characters CloudWatch allows."""
    name = _NOT_ALLOWED_IN_NAME.sub("-", f"{component_name}-{stage}-{region}").strip("-")
    return name[:MAX_NAME_CHARS]


def dashboard_url(partition: str, region: str, name: str) -> str:
    return f"https://{console_host(partition, region)}/cloudwatch/home?region={region}#dashboards:name={name}"


def dashboard_body(sources: DashboardSources) -> dict[str, Any]:
    """The dashboard's body: bands of widgets laid out left to right on the 24-column grid."""
    if not (sources.job_queue_names or sources.member_accounts) or not (
        sources.completion_rule_names or sources.intake_rule_names
    ):
        raise ValueError("a dashboard needs at least one job queue (or member account) and one completion rule")
    region = sources.region
    queues = sources.job_queue_names
    rules = sources.completion_rule_names
    # Own queues by name; members' as `queue@account`, their metrics carrying the account.
    graphed = [(queue, None) for queue in queues] + [(queue, account) for account, queue in sources.member_queues]
    labels = [queue if account is None else f"{queue}@{account}" for queue, account in graphed]

    def per_queue(*lines: tuple[str, str, str]) -> list[list[MetricArray]]:
        """Each queue's lines of these (metric, statistic, label), one group per queue."""
        return [
            [
                _custom(sources.stage, queue, name, stat, _labelled(label, shown, labels), account=account)
                for name, stat, label in lines
            ]
            for (queue, account), shown in zip(graphed, labels, strict=True)
        ]

    every_rule = [*rules, *sources.intake_rule_names]

    def rule_lines(rule: str, name: str, label: str) -> MetricArray:
        line = _metric("AWS/Events", "RuleName", rule, name, "Sum", _labelled(label, rule, every_rule))
        if rule in sources.intake_rule_names and sources.intake_bus_name is not None:
            # A custom bus's rule metrics carry its name as well (EventBridge user guide, "Monitoring
            # Amazon EventBridge": only RuleName refers to the default bus).
            line[2:2] = ["EventBusName", sources.intake_bus_name]
        return line

    ignored = _custom(
        sources.stage,
        sources.home_queue_name,
        IGNORED_EVENTS,
        "Sum",
        "ignored (should stay 0)" if len(graphed) == 1 else "ignored, every queue's (should stay 0)",
    )
    function = ("AWS/Lambda", "FunctionName", sources.notifier_function_name)
    bands: list[Band] = [
        (3, [(24, [_text(_introduction(sources))])]),
        (
            6,
            [
                (
                    8,
                    _graphs(
                        "Array jobs finished, by status",
                        region,
                        per_queue((ARRAY_JOBS_SUCCEEDED, "Sum", "succeeded"), (ARRAY_JOBS_FAILED, "Sum", "failed")),
                        stacked=True,
                    ),
                ),
                (
                    8,
                    _graphs(
                        "Children of finished array jobs",
                        region,
                        per_queue((ARRAY_SIZE, "Sum", "children"), (FAILED_CHILDREN, "Sum", "failed children")),
                    ),
                ),
                (
                    8,
                    _graphs(
                        "Duplicate deliveries and ignored events",
                        region,
                        [*per_queue((DUPLICATE_DELIVERIES, "Sum", "duplicates suppressed")), [ignored]],
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (
                    12,
                    _graphs(
                        "Array job duration (seconds)",
                        region,
                        per_queue(*[(ARRAY_JOB_DURATION, stat, label) for stat, label in PERCENTILES]),
                    ),
                ),
                (
                    12,
                    _graphs(
                        "Notification lag after the job stopped (seconds)",
                        region,
                        per_queue(*[(NOTIFICATION_LAG, stat, label) for stat, label in PERCENTILES]),
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (
                    8,
                    _graphs(
                        "Notifier: invocations, errors, throttles",
                        region,
                        [
                            [
                                _metric(*function, name, "Sum", name.lower())
                                for name in ("Invocations", "Errors", "Throttles")
                            ]
                        ],
                    ),
                ),
                (
                    8,
                    _graphs(
                        "Notifier duration (milliseconds)",
                        region,
                        [[_metric(*function, "Duration", stat, label) for stat, label in PERCENTILES]],
                    ),
                ),
                (
                    8,
                    _graphs(
                        f"Completion rule{'s' if len(every_rule) > 1 else ''}: invocations and failures",
                        region,
                        [
                            [
                                rule_lines(rule, name, label)
                                for name, label in (
                                    ("Invocations", "invocations"),
                                    ("FailedInvocations", "failed invocations"),
                                    ("InvocationsFailedToBeSentToDlq", "lost (not dead-lettered)"),
                                )
                            ]
                            for rule in every_rule
                        ],
                    ),
                ),
            ],
        ),
        (
            6,
            [
                (
                    8,
                    _graphs(
                        "Notifier's queue in Lambda: events received and dropped",
                        region,
                        [
                            [
                                _metric(*function, "AsyncEventsReceived", "Sum", "received"),
                                _metric(*function, "AsyncEventsDropped", "Sum", "dropped (should stay 0)"),
                            ]
                        ],
                    ),
                ),
                (
                    8,
                    _graphs(
                        "Oldest event waiting in Lambda's queue (milliseconds)",
                        region,
                        [[_metric(*function, "AsyncEventAge", "Maximum", "age of the oldest event")]],
                    ),
                ),
                (
                    8,
                    _graphs(
                        "Batch calls throttled inside the notifier and the sweep",
                        region,
                        [
                            [
                                _custom(
                                    sources.stage,
                                    sources.home_queue_name,
                                    BATCH_CALLS_THROTTLED,
                                    "Sum",
                                    "throttled (retried)",
                                )
                            ]
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
                    _graphs(
                        "Failure queues: events waiting",
                        region,
                        [
                            [
                                _metric(
                                    "AWS/SQS",
                                    "QueueName",
                                    queue,
                                    "ApproximateNumberOfMessagesVisible",
                                    "Maximum",
                                    label,
                                )
                                for queue, label in (
                                    (sources.dead_letter_queue_name, "dead-letter queue (rules)"),
                                    (sources.notifier_failure_queue_name, "notifier failure queue"),
                                )
                            ]
                        ],
                    ),
                ),
                (12, _alarms("Alarms", sources.alarm_arns)),
            ],
        ),
        *_sweep_band(sources),
        (8, [(24, [_completions_table(sources)])]),
    ]
    return {"start": "-PT24H", "periodOverride": "inherit", "widgets": _laid_out(bands)}


def _sweep_band(sources: DashboardSources) -> list[Band]:
    """The reconciliation sweep's runs and errors, and what it reported (under the home queue, like the
    handler's ignored events); nothing without a sweep."""
    if sources.sweep_function_name is None:
        return []
    function = ("AWS/Lambda", "FunctionName", sources.sweep_function_name)
    home = sources.home_queue_name
    return [
        (
            6,
            [
                (
                    12,
                    _graphs(
                        "Reconciliation sweep: runs, errors, throttles",
                        sources.region,
                        [
                            [
                                _metric(*function, name, "Sum", label)
                                for name, label in (
                                    ("Invocations", "runs"),
                                    ("Errors", "errors (not retried)"),
                                    ("Throttles", "throttled (one at a time)"),
                                )
                            ]
                        ],
                    ),
                ),
                (
                    12,
                    _graphs(
                        "Reconciliation sweep: what it reported",
                        sources.region,
                        [
                            [
                                _custom(
                                    sources.stage, home, RECONCILED_COMPLETIONS, "Sum", "reconciled (should stay 0)"
                                ),
                                _custom(sources.stage, home, RECONCILE_STOPPED_EARLY, "Maximum", "stopped early"),
                            ]
                        ],
                    ),
                ),
            ],
        )
    ]


def _laid_out(bands: Sequence[Band]) -> list[dict[str, Any]]:
    widgets = []
    y = 0
    for height, band in bands:
        x = 0
        for width, pieces in band:
            if not 1 <= width <= GRID_COLUMNS:
                raise ValueError(f"a widget is {width} columns wide, the grid has {GRID_COLUMNS}")
            for widget in pieces:
                if x + width > GRID_COLUMNS:
                    x, y = 0, y + height
                widgets.append({**widget, "x": x, "y": y, "width": width, "height": height})
                x += width
        y += height
    return widgets


def _labelled(label: str, resource: str, of: Sequence[str]) -> str:
    """A line's label, naming its queue or rule when the graph has several."""
    return label if len(of) == 1 else f"{label} ({resource})"


def _custom(stage: str, queue: str, name: str, stat: str, label: str, *, account: str | None = None) -> MetricArray:
    named = pipeline_dimensions(stage, queue) if account is None else member_dimensions(stage, queue, account)
    dimensions = [part for pair in named.items() for part in pair]
    return [NAMESPACE, name, *dimensions, {"stat": stat, "label": label}]


def _metric(namespace: str, dimension: str, value: str, name: str, stat: str, label: str) -> MetricArray:
    return [namespace, name, dimension, value, {"stat": stat, "label": label}]


def _chunks(groups: Sequence[Sequence[Any]], limit: int) -> list[list[Any]]:
    """The groups' items in as few lists of at most `limit` as fit, a group never split (one queue's
    lines stay in one graph)."""
    chunks: list[list[Any]] = [[]]
    for group in groups:
        if len(group) > limit:
            raise ValueError(f"{len(group)} lines of one group exceed CloudWatch's {limit} per widget")
        if len(chunks[-1]) + len(group) > limit:
            chunks.append([])
        chunks[-1].extend(group)
    return chunks


def _split_widget(
    kind: str, title: str, items: str, groups: Sequence[Sequence[Any]], limit: int, **properties: Any
) -> list[dict[str, Any]]:
    """A widget of `kind` listing every group's entries under `items`; several (titled 1/n, 2/n...) past
    CloudWatch's `limit` per widget."""
    chunks = _chunks(groups, limit)
    return [
        {
            "type": kind,
            "properties": {
                "title": title if len(chunks) == 1 else f"{title} ({index + 1}/{len(chunks)})",
                **properties,
                items: chunk,
            },
        }
        for index, chunk in enumerate(chunks)
    ]


def _graphs(
    title: str, region: str, groups: Sequence[Sequence[MetricArray]], *, stacked: bool = False
) -> list[dict[str, Any]]:
    properties = {"region": region, "view": "timeSeries", "stacked": stacked, "period": PERIOD_SECONDS, "stat": "Sum"}
    return _split_widget(
        "metric", title, "metrics", groups, MAX_METRICS_PER_GRAPH, **properties, yAxis={"left": {"min": 0}}
    )


def _alarms(title: str, alarm_arns: Sequence[str]) -> list[dict[str, Any]]:
    groups = [[arn] for arn in alarm_arns]
    return _split_widget("alarm", title, "alarms", groups, MAX_ALARMS_PER_WIDGET, sortBy="stateUpdatedTimestamp")


def _text(markdown: str) -> dict[str, Any]:
    return {"type": "text", "properties": {"markdown": markdown}}


def _introduction(sources: DashboardSources) -> str:
    queues = ", ".join(f"`{queue}`" for queue in sources.job_queue_names)
    if sources.member_accounts:
        listed = {account for account, _ in sources.member_queues}
        members = ", ".join(
            f"`{account}`" + ("" if account in listed else " (any queue)") for account in sources.member_accounts
        )
        plural = "s" if len(sources.member_accounts) > 1 else ""
        queues = f"{queues + ' and ' if queues else ''}member account{plural} {members}"
        queues += f" (in {sources.region} unless their forwarders' regions say otherwise)"
    # A link only to where the team hosts the runbook; else its file in the package, named, not linked.
    hosted = sources.runbook_url.startswith("https://")
    runbook = f"[runbook]({sources.runbook_url})" if hosted else f"the runbook, {sources.runbook_url}"
    return (
        f"# {sources.title} ({sources.stage})\n"
        f"Array jobs of queue{'s' if len(sources.job_queue_names) > 1 else ''} {queues}: one notification per "
        "finished array job. Both failure queues should stay empty and every alarm OK. "
        f"When one is not: {runbook}, a section per alarm."
    )


def _completions_table(sources: DashboardSources) -> dict[str, Any]:
    """The latest completions the notifier and the sweep reported. Several log groups are one `SOURCE`
    each, joined by ` | ` (as aws-cdk's LogQueryWidget writes `logGroupNames`)."""
    log_groups = [sources.notifier_log_group_name]
    decisions = [COMPLETION_DECISION]
    if sources.sweep_log_group_name is not None:
        log_groups.append(sources.sweep_log_group_name)
        decisions.append(SWEEP_COMPLETION_DECISION)
    query = (
        " | ".join(f"SOURCE '{log_group}'" for log_group in log_groups)
        + f" | fields @timestamp, decision, {', '.join(COMPLETION_LOG_FIELDS)}"
        + f"\n| filter decision in [{', '.join(repr(decision) for decision in decisions)}]"
        "\n| sort @timestamp desc"
        f"\n| limit {LATEST_COMPLETIONS}"
    )
    return {
        "type": "log",
        "properties": {"title": "Latest completions", "region": sources.region, "view": "table", "query": query},
    }


@dataclass(frozen=True)
class NotifierDashboard:
    dashboard: aws.cloudwatch.Dashboard
    url: pulumi.Output[str]


def notifier_dashboard(
    name: str,
    stage: str,
    job_queue_arns: pulumi.Output[list[str]],
    function: aws.lambda_.Function,
    log_group: aws.cloudwatch.LogGroup,
    completion_rules: Sequence[aws.cloudwatch.EventRule],
    failure_queues: tuple[aws.sqs.Queue, aws.sqs.Queue],
    alarms: Sequence[aws.cloudwatch.MetricAlarm],
    parent: pulumi.Resource,
    sweep: tuple[aws.lambda_.Function, aws.cloudwatch.LogGroup] | None = None,
    *,
    runbook_url: str | None,
    member_accounts: Sequence[str] = (),
    member_queue_arns: Sequence[str] = (),
    intake: tuple[pulumi.Output[str], Sequence[aws.cloudwatch.EventRule]] | None = None,
) -> NotifierDashboard:
    """The notifier's dashboard and its console URL. `job_queue_arns` in the notifier's order (the first
    is the home queue); `failure_queues`: (dead-letter, notifier failure); `sweep`: the reconciliation
    sweep's function and log group, when there is one. Central mode: `member_accounts`, the queues they
    list, and `intake`, the intake bus's name and its completion rules."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=opts).region
    partition = aws.get_partition_output(opts=opts).partition
    board_name = region.apply(lambda r: dashboard_name(name, stage, r))
    dead_letter, notifier_failed = failure_queues

    def body(values: list[Any]) -> str:
        region_name, queue_arns, rule_names, function_name, log_group_name, dead_letter_name, failed_name, arns = (
            values[:8]
        )
        sweep_function_name, sweep_log_group_name = values[8] if sweep is not None else (None, None)
        intake_bus_name, intake_rule_names = values[9] if intake is not None else (None, [])
        sources = DashboardSources(
            title=name,
            stage=stage,
            region=region_name,
            job_queue_names=tuple(queue_name(arn) for arn in queue_arns),
            notifier_function_name=function_name,
            notifier_log_group_name=log_group_name,
            completion_rule_names=tuple(rule_names),
            dead_letter_queue_name=dead_letter_name,
            notifier_failure_queue_name=failed_name,
            alarm_arns=tuple(arns),
            runbook_url=runbook.runbook_url(runbook_url),
            sweep_function_name=sweep_function_name,
            sweep_log_group_name=sweep_log_group_name,
            member_accounts=tuple(member_accounts),
            member_queues=tuple((arn.split(":")[4], queue_name(arn)) for arn in member_queue_arns),
            intake_bus_name=intake_bus_name,
            intake_rule_names=tuple(intake_rule_names),
        )
        return json.dumps(dashboard_body(sources))

    body_json = pulumi.Output.all(
        region,
        job_queue_arns,
        pulumi.Output.all(*[rule.name for rule in completion_rules]),
        function.name,
        log_group.name,
        dead_letter.name,
        notifier_failed.name,
        pulumi.Output.all(*[alarm.arn for alarm in alarms]),
        pulumi.Output.all(sweep[0].name, sweep[1].name) if sweep is not None else None,
        *(
            [pulumi.Output.all(intake[0], pulumi.Output.all(*[rule.name for rule in intake[1]]))]
            if intake is not None
            else []
        ),
    ).apply(body)
    dashboard = aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=board_name,
        dashboard_body=body_json,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    url = pulumi.Output.all(partition, region, dashboard.dashboard_name).apply(lambda v: dashboard_url(*v))
    return NotifierDashboard(dashboard, url)
