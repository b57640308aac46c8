"""components.dashboard: the body parses, fits the 24-column grid, and names only this notifier's resources,
with one queue and with several (each queue's lines in every graph of the handler's metrics).

The checks here read the body as CloudWatch's documented structure (widgets with x/y/width/height,
metric arrays `[namespace, name, dimension, value, ..., {options}]`), independently of the code that
built it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest

from batch_array_notify import metric_names
from batch_array_notify.dashboard import (
    MAX_METRICS_PER_GRAPH,
    DashboardSources,
    dashboard_body,
    dashboard_name,
    dashboard_url,
)
from batch_array_notify.handler import metrics as handler_metrics

SOURCES = DashboardSources(
    title="render",
    stage="prod",
    region="eu-west-1",
    job_queue_names=("render-queue-1a2b3c4",),
    notifier_function_name="render-notifier-5d6e7f8",
    notifier_log_group_name="render-notifier-9a8b7c6",
    completion_rule_names=("render-completed-0f1e2d3",),
    dead_letter_queue_name="render-undelivered-4c5b6a7",
    notifier_failure_queue_name="render-notifier-failed-8d9e0f1",
    alarm_arns=tuple(f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:render-{n}" for n in ("a", "b", "c")),
    runbook_url="https://example.com/docs/operations.md",
)
#: A notifier of three queues (home queue first) whose queues need two completion rules.
SEVERAL = dataclasses.replace(
    SOURCES,
    job_queue_names=("render", "encode", "thumbnails"),
    completion_rule_names=("render-completed-0f1e2d3", "render-completed-2-4a5b6c7"),
)
#: A notifier with the reconciliation sweep.
WITH_SWEEP = dataclasses.replace(
    SEVERAL, sweep_function_name="render-sweep-3b4c5d6", sweep_log_group_name="render-sweep-7e8f9a0"
)
BOTH = pytest.mark.parametrize(
    "sources", [SOURCES, SEVERAL, WITH_SWEEP], ids=["one queue", "three queues", "three queues and the sweep"]
)
#: Every option a metric array's last element may carry here (CloudWatch accepts more; we use these).
METRIC_OPTIONS = {"stat", "label", "color", "yAxis", "period", "visible", "id"}
DIMENSION_OF_NAMESPACE = {
    "BatchArrayNotify": {"stage", "jobQueue"},
    "AWS/Lambda": {"FunctionName"},
    "AWS/Events": {"RuleName"},
    "AWS/SQS": {"QueueName"},
}


def parsed(sources: DashboardSources = SOURCES) -> dict:
    """The body as CloudWatch receives it: a JSON string."""
    return json.loads(json.dumps(dashboard_body(sources)))


def metric_arrays(body: dict) -> list[list]:
    return [
        array for widget in body["widgets"] if widget["type"] == "metric" for array in widget["properties"]["metrics"]
    ]


def split_array(array: list) -> tuple[str, str, dict[str, str], dict]:
    """(namespace, name, dimensions, options) of a well-formed metric array, else AssertionError."""
    options = array[-1] if isinstance(array[-1], dict) else {}
    parts = array[:-1] if options else array
    assert all(isinstance(part, str) for part in parts), array
    namespace, name, *pairs = parts
    assert len(pairs) % 2 == 0, f"dimension names and values must pair up: {array}"
    dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
    assert len(dimensions) == len(pairs) // 2, f"a dimension is named twice: {array}"
    return namespace, name, dimensions, options


def assert_on_the_grid_without_overlaps(widgets: list[dict]) -> None:
    assert widgets
    for widget in widgets:
        assert widget["x"] >= 0
        assert widget["y"] >= 0
        assert widget["width"] >= 1
        assert widget["x"] + widget["width"] <= 24, widget
        assert widget["height"] >= 1
    for a, b in itertools.combinations(widgets, 2):
        apart = (
            a["x"] + a["width"] <= b["x"]
            or b["x"] + b["width"] <= a["x"]
            or a["y"] + a["height"] <= b["y"]
            or b["y"] + b["height"] <= a["y"]
        )
        assert apart, (a["properties"].get("title"), b["properties"].get("title"))


@BOTH
def test_every_widget_sits_inside_the_grid_without_overlapping_another(sources):
    assert_on_the_grid_without_overlaps(parsed(sources)["widgets"])


@BOTH
def test_every_metric_array_is_well_formed_with_the_options_last(sources):
    arrays = metric_arrays(parsed(sources))

    assert len(arrays) >= 20
    for array in arrays:
        namespace, name, dimensions, options = split_array(array)
        assert namespace in DIMENSION_OF_NAMESPACE, array
        assert name
        assert set(dimensions) == DIMENSION_OF_NAMESPACE[namespace], array
        assert set(options) <= METRIC_OPTIONS, array
        assert not any(isinstance(part, dict) for part in array[:-1]), "options must come last"


@BOTH
def test_every_resource_the_body_names_is_one_of_this_notifiers(sources):
    body = parsed(sources)
    sweep = {sources.sweep_function_name, sources.sweep_log_group_name} - {None}
    ours = {
        "jobQueue": set(sources.job_queue_names),
        "stage": {sources.stage},
        "FunctionName": {sources.notifier_function_name, sources.sweep_function_name} - {None},
        "RuleName": set(sources.completion_rule_names),
        "QueueName": {sources.dead_letter_queue_name, sources.notifier_failure_queue_name},
    }

    named = {(dimension, value) for array in metric_arrays(body) for dimension, value in split_array(array)[2].items()}

    assert named == {(dimension, value) for dimension, values in ours.items() for value in values}
    (alarms,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert alarms["properties"]["alarms"] == list(sources.alarm_arns)
    (table,) = [w for w in body["widgets"] if w["type"] == "log"]
    assert table["properties"]["query"].startswith(f"SOURCE '{sources.notifier_log_group_name}' |")
    assert table["properties"]["query"].count("SOURCE") == 1 + len(sweep) // 2


@BOTH
def test_the_region_is_set_on_every_metric_and_log_widget(sources):
    for widget in parsed(sources)["widgets"]:
        if widget["type"] in ("metric", "log"):
            assert widget["properties"]["region"] == "eu-west-1", widget["properties"]["title"]


def test_the_issue_s_views_are_all_there():
    arrays = [split_array(array) for array in metric_arrays(parsed())]
    shown = {(namespace, name, options.get("stat")) for namespace, name, _, options in arrays}
    custom = metric_names.NAMESPACE

    for name in ("ArrayJobsSucceeded", "ArrayJobsFailed", "FailedChildren", "DuplicateDeliveries", "IgnoredEvents"):
        assert (custom, name, "Sum") in shown, name
    for name in ("ArrayJobDurationSeconds", "NotificationLagSeconds"):
        assert {(custom, name, stat) for stat in ("p50", "p90", "Maximum")} <= shown, name
    for name in ("Invocations", "Errors", "Throttles"):
        assert ("AWS/Lambda", name, "Sum") in shown
    assert ("AWS/Lambda", "Duration", "p90") in shown
    for name in ("Invocations", "FailedInvocations"):
        assert ("AWS/Events", name, "Sum") in shown
    queues = [dims["QueueName"] for namespace, name, dims, _ in arrays if namespace == "AWS/SQS"]
    assert sorted(queues) == sorted([SOURCES.dead_letter_queue_name, SOURCES.notifier_failure_queue_name])
    (text,) = [w for w in parsed()["widgets"] if w["type"] == "text"]
    assert f"]({SOURCES.runbook_url})" in text["properties"]["markdown"]


@BOTH
def test_every_widget_has_a_distinct_title_except_the_text(sources):
    titles = [w["properties"]["title"] for w in parsed(sources)["widgets"] if w["type"] != "text"]
    assert len(titles) == len(set(titles)) == len(parsed(sources)["widgets"]) - 1


def test_the_completions_table_reads_the_fields_the_handler_logs():
    (table,) = [w for w in parsed()["widgets"] if w["type"] == "log"]
    query = table["properties"]["query"]

    assert "| fields @timestamp, decision, jobId, jobQueue, status, arraySize, failed" in query
    assert "| filter decision in ['delivered']" in query
    assert table["properties"]["view"] == "table"


def test_with_the_sweep_the_table_has_what_the_sweep_reported_too_and_a_band_shows_the_sweep():
    """The sweep's log group joins the table (one SOURCE each, as aws-cdk's LogQueryWidget joins
    `logGroupNames`), its `reconciled` lines beside the notifier's `delivered` ones; and a band graphs its
    runs, errors and throttles, and what it reconciled and whether it stopped early, on the home queue."""
    body = parsed(WITH_SWEEP)
    (table,) = [w for w in body["widgets"] if w["type"] == "log"]
    query = table["properties"]["query"]
    assert query.startswith("SOURCE 'render-notifier-9a8b7c6' | SOURCE 'render-sweep-7e8f9a0' | fields ")
    assert "| filter decision in ['delivered', 'reconciled']" in query

    sweep_widgets = {
        w["properties"]["title"]: [split_array(a) for a in w["properties"]["metrics"]]
        for w in body["widgets"]
        if w["properties"].get("title", "").startswith("Reconciliation sweep")
    }
    assert sweep_widgets == {
        "Reconciliation sweep: runs, errors, throttles": [
            ("AWS/Lambda", name, {"FunctionName": "render-sweep-3b4c5d6"}, {"stat": "Sum", "label": label})
            for name, label in (
                ("Invocations", "runs"),
                ("Errors", "errors (not retried)"),
                ("Throttles", "throttled (one at a time)"),
            )
        ],
        "Reconciliation sweep: what it reported": [
            (
                "BatchArrayNotify",
                name,
                {"stage": "prod", "jobQueue": "render"},
                {"stat": stat, "label": label},
            )
            for name, stat, label in (
                ("ReconciledCompletions", "Sum", "reconciled (should stay 0)"),
                ("ReconcileStoppedEarly", "Maximum", "stopped early"),
            )
        ],
    }
    # Without the sweep, no sweep band (the throttled-calls graph names the sweep, but is the notifier's too).
    assert not [w for w in parsed(SEVERAL)["widgets"] if w["properties"].get("title", "").startswith("Reconciliation")]


@pytest.mark.parametrize(
    ("component", "stage", "region", "expected"),
    [
        ("render", "prod", "eu-west-1", "render-prod-eu-west-1"),
        ("my pipeline/v2", "dev", "us-east-1", "my-pipeline-v2-dev-us-east-1"),
        ("x" * 300, "dev", "us-east-1", "x" * 255),
    ],
)
def test_dashboard_names_use_only_what_cloudwatch_allows(component, stage, region, expected):
    assert dashboard_name(component, stage, region) == expected


@pytest.mark.parametrize(
    ("partition", "region", "host"),
    [
        ("aws", "eu-west-1", "eu-west-1.console.aws.amazon.com"),
        ("aws-cn", "cn-north-1", "console.amazonaws.cn"),
        ("aws-us-gov", "us-gov-west-1", "console.amazonaws-us-gov.com"),
    ],
)
def test_the_console_url_opens_the_dashboard_in_its_partition(partition, region, host):
    assert dashboard_url(partition, region, "render-prod-x") == (
        f"https://{host}/cloudwatch/home?region={region}#dashboards:name=render-prod-x"
    )


def test_the_component_s_metric_names_mirror_the_handler_s():
    shared = [name for name in dir(metric_names) if name.isupper()]

    assert len(shared) == 16
    for name in shared:
        assert getattr(metric_names, name) == getattr(handler_metrics, name), name
    for queue in ("arn:aws:batch:eu-west-1:123456789012:job-queue/render_2", "render"):
        assert metric_names.queue_name(queue) == handler_metrics.queue_name(queue) == queue.rpartition("/")[2]


def graphs(body: dict) -> dict[str, list[tuple[str, str, dict[str, str], dict]]]:
    """Each metric widget's lines, split, by title."""
    return {
        w["properties"]["title"]: [split_array(array) for array in w["properties"]["metrics"]]
        for w in body["widgets"]
        if w["type"] == "metric"
    }


def test_with_several_queues_each_graph_of_the_handlers_metrics_has_every_queues_lines():
    by_title = graphs(parsed(SEVERAL))
    expected = {
        "Array jobs finished, by status": [("ArrayJobsSucceeded", "Sum"), ("ArrayJobsFailed", "Sum")],
        "Children of finished array jobs": [("ArraySize", "Sum"), ("FailedChildren", "Sum")],
        "Array job duration (seconds)": [("ArrayJobDurationSeconds", s) for s in ("p50", "p90", "Maximum")],
        "Notification lag after the job stopped (seconds)": [
            ("NotificationLagSeconds", s) for s in ("p50", "p90", "Maximum")
        ],
    }

    for title, lines in expected.items():
        drawn = [(dims["jobQueue"], name, options["stat"]) for _, name, dims, options in by_title[title]]
        assert drawn == [(queue, name, stat) for queue in SEVERAL.job_queue_names for name, stat in lines], title
        labels = [(options["label"], dims["jobQueue"]) for _, _, dims, options in by_title[title]]
        assert all(label.endswith(f"({queue})") for label, queue in labels), title
        assert len(set(labels)) == len(labels), title
    children = [options["label"] for _, _, _, options in by_title["Children of finished array jobs"]]
    assert children == [
        f"{words} ({queue})" for queue in SEVERAL.job_queue_names for words in ("children", "failed children")
    ]


def test_ignored_events_are_one_line_on_the_home_queue_and_duplicates_one_per_queue():
    lines = graphs(parsed(SEVERAL))["Duplicate deliveries and ignored events"]
    drawn = [(name, dims["jobQueue"]) for _, name, dims, _ in lines]

    # The handler counts every ignored event under the first queue (handler/metrics.py), as the alarm reads it.
    assert drawn == [("DuplicateDeliveries", queue) for queue in SEVERAL.job_queue_names] + [
        ("IgnoredEvents", "render")
    ]


def test_with_several_rules_the_rule_graph_has_each_rules_three_lines():
    (title,) = [title for title in graphs(parsed(SEVERAL)) if title.startswith("Completion rule")]
    lines = graphs(parsed(SEVERAL))[title]

    assert title == "Completion rules: invocations and failures"
    assert [(dims["RuleName"], name) for _, name, dims, _ in lines] == [
        (rule, name)
        for rule in SEVERAL.completion_rule_names
        for name in ("Invocations", "FailedInvocations", "InvocationsFailedToBeSentToDlq")
    ]


def test_the_introduction_names_every_queue():
    (text,) = [w for w in parsed(SEVERAL)["widgets"] if w["type"] == "text"]

    assert "Array jobs of queues `render`, `encode`, `thumbnails`:" in text["properties"]["markdown"]


def test_past_cloudwatchs_lines_per_graph_a_graph_is_drawn_as_several_keeping_each_queues_lines_together():
    queues = tuple(f"queue-{n:02}" for n in range(40))
    body = parsed(dataclasses.replace(SEVERAL, job_queue_names=queues))
    by_title = graphs(body)
    parts = [title for title in by_title if title.startswith("Array job duration (seconds)")]

    # 40 queues x 3 percentiles: 120 lines, over the 100 a graph may hold.
    assert parts == ["Array job duration (seconds) (1/2)", "Array job duration (seconds) (2/2)"]
    assert all(len(lines) <= MAX_METRICS_PER_GRAPH for lines in by_title.values())
    per_part = [[dims["jobQueue"] for _, _, dims, _ in by_title[part]] for part in parts]
    assert [queue for part in per_part for queue in part] == [queue for queue in queues for _ in range(3)]
    assert not set(per_part[0]) & set(per_part[1]), "a queue's percentiles are split over two graphs"
    assert_on_the_grid_without_overlaps(body["widgets"])


def test_past_cloudwatchs_alarms_per_widget_the_alarms_are_shown_in_several_widgets():
    arns = tuple(f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:render-{n}" for n in range(130))
    body = parsed(dataclasses.replace(SOURCES, alarm_arns=arns))
    widgets = [w for w in body["widgets"] if w["type"] == "alarm"]

    assert [w["properties"]["title"] for w in widgets] == ["Alarms (1/2)", "Alarms (2/2)"]
    assert [len(w["properties"]["alarms"]) for w in widgets] == [100, 30]
    assert [arn for w in widgets for arn in w["properties"]["alarms"]] == list(arns)
    assert_on_the_grid_without_overlaps(body["widgets"])


def test_the_rule_graph_tells_lost_deliveries_from_failed_ones():
    (lines,) = [lines for title, lines in graphs(parsed(SOURCES)).items() if title.startswith("Completion rule")]

    assert [options["label"] for *_, options in lines] == [
        "invocations",
        "failed invocations",
        "lost (not dead-lettered)",
    ]


@BOTH
def test_the_dashboard_opens_on_the_last_day_and_its_graphs_add_up_counts(sources):
    """A graph's lines are sums unless a line says otherwise (the durations' percentiles): five completions in
    a period show as 5, not as an average of the data points."""
    body = parsed(sources)
    graphs_drawn = [w for w in body["widgets"] if w["type"] == "metric" and w["properties"]["view"] == "timeSeries"]

    assert (body["start"], body["periodOverride"]) == ("-PT24H", "inherit")
    assert graphs_drawn
    assert {w["properties"]["stat"] for w in graphs_drawn} == {"Sum"}
