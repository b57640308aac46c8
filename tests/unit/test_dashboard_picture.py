"""tools.dashboard_picture without drawing: statistics, alarm evaluation and the completions query, on
hand-made observations (no rehearsal)."""

from __future__ import annotations

import pytest

from batch_array_notify.testing.program import ROOT, Plan, run_program
from tests.support import ALARM
from tools.dashboard_picture import InsightsQuery, Observed, alarm_states, main, statistic, the_dashboard


@pytest.mark.parametrize(
    ("stat", "expected"),
    [("Sum", 55.0), ("Maximum", 10.0), ("Minimum", 1.0), ("Average", 5.5), ("SampleCount", 10.0), ("p50", 5.0),
     ("p90", 9.0), ("p99", 10.0)],
)  # fmt: skip
def test_statistics_are_cloudwatchs_over_the_values(stat, expected):
    assert statistic([float(v) for v in range(10, 0, -1)], stat) == expected


def test_no_values_are_no_data_and_an_unknown_statistic_is_refused():
    assert statistic([], "Sum") is None
    with pytest.raises(ValueError, match="'TM90'"):
        statistic([1.0], "TM90")


def test_an_alarm_fires_when_its_metric_is_above_the_threshold_and_not_without_data(stage_plans):
    plan: Plan = stage_plans["dev"]
    (alarms,) = [w for w in the_dashboard(plan, None)["widgets"] if w["type"] == "alarm"]
    queue = plan.outputs["jobQueueName"]
    observed = Observed()
    observed.add("BatchArrayNotify", "IgnoredEvents", {"stage": "dev", "jobQueue": queue}, [1.0])
    observed.add("AWS/Lambda", "Errors", {"FunctionName": plan.outputs["notifierFunctionName"]}, [0.0, 0.0])

    states = alarm_states(plan, alarms["properties"]["alarms"], observed)
    by_alarm = {state.name.rpartition("-")[0].removeprefix("batch-array-notify-"): state for state in states}

    assert len(by_alarm) == 11
    assert by_alarm["ignored-events-alarm"].firing
    assert (by_alarm["notifier-errors-alarm"].firing, by_alarm["notifier-errors-alarm"].value) == (False, 0.0)
    dropped = by_alarm["async-events-dropped-alarm"]
    assert (dropped.firing, dropped.value) == (False, None)
    # No sweep finished in these observations: the one alarm whose missing data breaches fires.
    stopped = by_alarm["sweep-stopped-early-alarm"]
    assert (stopped.firing, stopped.value) == (True, None)
    assert [name for name, state in by_alarm.items() if state.firing] == [
        "ignored-events-alarm",
        "sweep-stopped-early-alarm",
    ]


def test_a_sweep_that_finished_without_stopping_early_keeps_its_alarm_ok(stage_plans):
    plan: Plan = stage_plans["dev"]
    (alarms,) = [w for w in the_dashboard(plan, None)["widgets"] if w["type"] == "alarm"]
    observed = Observed()
    dimensions = {"stage": "dev", "jobQueue": plan.outputs["jobQueueName"]}
    observed.add("BatchArrayNotify", "ReconcileStoppedEarly", dimensions, [0.0])

    states = alarm_states(plan, alarms["properties"]["alarms"], observed)

    assert not [state.name for state in states if state.firing]


def test_the_completions_query_reads_several_sources_and_a_list_of_decisions():
    query = InsightsQuery.parse(
        "SOURCE 'notifier' | SOURCE 'sweep' | fields @timestamp, decision, jobId\n"
        "| filter decision in ['delivered', 'reconciled']\n| sort @timestamp desc\n| limit 5"
    )
    lines = [
        {"timestamp": "1", "decision": "delivered", "jobId": "a"},
        {"timestamp": "2", "decision": "duplicate", "jobId": "a"},
        {"timestamp": "3", "decision": "reconciled", "jobId": "b"},
    ]

    assert query.run(lines) == [["3", "reconciled", "b"], ["1", "delivered", "a"]]


def test_the_completions_query_runs_on_log_lines_newest_first():
    query = InsightsQuery.parse(
        "SOURCE 'lg' | fields @timestamp, jobId, failed\n| filter decision = 'delivered'\n"
        "| sort @timestamp desc\n| limit 2"
    )
    lines = [
        {"timestamp": "2026-01-01 10:00:01", "decision": "delivered", "jobId": "a", "failed": 0},
        {"timestamp": "2026-01-01 10:00:03", "decision": "duplicate", "jobId": "a", "failed": 0},
        {"timestamp": "2026-01-01 10:00:02", "decision": "delivered", "jobId": "b", "failed": 2},
        {"timestamp": "2026-01-01 10:00:04", "decision": "delivered", "jobId": "c", "failed": 1},
        {"timestamp": "2026-01-01 10:00:05", "level": "INFO", "message": "no decision"},
    ]

    assert query.run(lines) == [["2026-01-01 10:00:04", "c", "1"], ["2026-01-01 10:00:02", "b", "2"]]


@pytest.mark.parametrize(
    "query",
    [
        "fields jobId | filter decision = 'delivered' | limit 5",
        "SOURCE 'lg' | fields jobId | filter decision = 'delivered' | stats count(*) | limit 5",
        "SOURCE 'lg' | fields jobId | limit 5",
    ],
)
def test_a_query_the_tool_cannot_run_is_refused_not_misdrawn(query):
    with pytest.raises(ValueError, match=r"query|SOURCE"):
        InsightsQuery.parse(query)


def test_a_dashboard_name_the_plan_lacks_is_named_with_those_it_has(stage_plans):
    with pytest.raises(
        LookupError, match=r"--dashboard: the plan has no dashboard 'nope'; it has: batch-array-notify-dev-us-east-1$"
    ):
        the_dashboard(stage_plans["dev"], "nope")


def test_a_program_of_several_pipelines_is_refused_without_a_traceback(capsys):
    code = main(["--stack", "dev", "--program", "examples/two_pipelines", "--dashboard", "render-dev-eu-west-1"])

    assert code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: the rehearsal needs a program with one pipeline")
    assert "plans 2 job queues and lacks notifierFunctionName" in error


@pytest.mark.parametrize("pipeline", ["render", "encode"])
def test_the_body_is_the_named_dashboards_own(pipeline):
    """Of a program's two dashboards, the one named: its title and exactly its own pipeline's alarms,
    as the plan registers them (not read back from the body itself)."""
    plan = run_program(ROOT / "examples" / "two_pipelines", "dev")
    own_alarms = sorted(alarm.state["arn"] for alarm in plan.of_type(ALARM) if alarm.name.startswith(f"{pipeline}-"))

    body = the_dashboard(plan, f"{pipeline}-dev-eu-west-1")

    assert body["widgets"][0]["properties"]["markdown"].startswith(f"# {pipeline} (dev)\n")
    (alarms,) = [widget for widget in body["widgets"] if widget["type"] == "alarm"]
    assert len(own_alarms) == 11
    assert sorted(alarms["properties"]["alarms"]) == own_alarms
