"""One dashboard per notifier (so per pipeline), in every stage (attach: the notifier alone, on two queues)
and in the two-pipeline example: its name, its outputs, and every resource its body names belongs to that
notifier; each of its queues has its lines, and ignored events are read where the handler and the alarm
count them (the home queue, the first of JOB_QUEUE_ARNS)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from batch_array_notify.testing.program import Plan, PlannedResource, run_program
from tests.support import ALARM, DASHBOARD, FUNCTION, LOG_GROUP, NOTIFIER, QUEUE, RULE, SQS_QUEUE, descendants

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod", "attach")
ATTACH_QUEUES = yaml.safe_load((ROOT / "Pulumi.attach.yaml").read_text())["config"][
    "batch-array-notify:existingJobQueueArns"
]


@pytest.fixture(scope="module")
def two_pipelines() -> Plan:
    return run_program(ROOT / "examples" / "two_pipelines", "dev")


def named_in(body: dict) -> dict[str, set[str]]:
    """What the body refers to, by kind: dimension values per dimension, alarm ARNs, log groups, regions."""
    named: dict[str, set[str]] = {"alarms": set(), "log groups": set(), "regions": set()}
    for widget in body["widgets"]:
        properties = widget["properties"]
        if "region" in properties:
            named["regions"].add(properties["region"])
        if widget["type"] == "metric":
            for array in properties["metrics"]:
                pairs = [part for part in array[2:] if isinstance(part, str)]
                for dimension, value in zip(pairs[::2], pairs[1::2], strict=True):
                    named.setdefault(dimension, set()).add(value)
        elif widget["type"] == "alarm":
            named["alarms"].update(properties["alarms"])
        elif widget["type"] == "log":
            named["log groups"].update(re.findall(r"SOURCE '([^']+)'", properties["query"]))
    return named


def queue_names(plan: Plan, component: str) -> list[str]:
    """The component's queues: the pipeline's own, or (attach) the configured ones, in order."""
    own = [r.state["name"] for r in plan.of_type(QUEUE) if r.parent and r.parent[1] == component]
    return own or [arn.rpartition("/")[2] for arn in ATTACH_QUEUES]


def expected_names(plan: Plan, component: str, stage: str, region: str) -> dict[str, set[str]]:
    """Everything of `component`'s notifier a dashboard may name."""
    notifier = descendants(plan, NOTIFIER, component)

    def names(type_token: str, suffix: str = "") -> set[str]:
        return {r.state["name"] for r in notifier if r.type == type_token and r.name.endswith(suffix)}

    return {
        "alarms": {r.state["arn"] for r in notifier if r.type == ALARM},
        # The sweep's log group: its completions are in "Latest completions" too.
        "log groups": names(LOG_GROUP, "-notifier") | names(LOG_GROUP, "-sweep"),
        "regions": {region},
        "stage": {stage},
        "jobQueue": set(queue_names(plan, component)),
        "FunctionName": names(FUNCTION, "-notifier") | names(FUNCTION, "-sweep"),
        "RuleName": {r.state["name"] for r in notifier if r.type == RULE and "-completed" in r.name},
        "QueueName": names(SQS_QUEUE, "-undelivered") | names(SQS_QUEUE, "-notifier-failed"),
    }


def body_of(dashboard: PlannedResource) -> dict:
    return json.loads(dashboard.inputs["dashboardBody"])


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_plans_one_dashboard_under_its_notifier_naming_only_its_resources(stage_plans, stage):
    plan = stage_plans[stage]
    (dashboard,) = plan.of_type(DASHBOARD)
    expected = expected_names(plan, plan.project, stage, "us-east-1")

    assert dashboard.parent == (NOTIFIER, plan.project)
    assert dashboard.inputs["dashboardName"] == f"batch-array-notify-{stage}-us-east-1"
    assert named_in(body_of(dashboard)) == expected
    assert len(expected["jobQueue"]) == (2 if stage == "attach" else 1)
    assert len(expected["alarms"]) == 11  # the notifier's eight and the reconciliation sweep's three
    assert len(expected["log groups"]) == len(expected["FunctionName"]) == 2  # the notifier's and the sweep's


@pytest.mark.parametrize("stage", STAGES)
def test_each_queue_has_its_lines_and_ignored_events_are_read_on_the_home_queue(stage_plans, stage):
    plan = stage_plans[stage]
    body = body_of(plan.one(DASHBOARD))
    queues = queue_names(plan, plan.project)
    home = (
        plan.named(FUNCTION, f"{plan.project}-notifier")
        .inputs["environment"]["variables"]["JOB_QUEUE_ARNS"]
        .split(",")[0]
        .rpartition("/")[2]
    )
    (ignored_alarm,) = [a for a in plan.of_type(ALARM) if a.inputs["metricName"] == "IgnoredEvents"]
    custom = [
        (array[1], array[5])
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for array in widget["properties"]["metrics"]
        if array[0] == "BatchArrayNotify"
    ]

    for metric in ("ArrayJobsSucceeded", "ArrayJobsFailed", "FailedChildren", "NotificationLagSeconds"):
        assert sorted(queue for name, queue in custom if name == metric) == sorted(
            queue for queue in queues for _ in range(3 if metric == "NotificationLagSeconds" else 1)
        ), metric
    assert home == queues[0]
    assert [queue for name, queue in custom if name == "IgnoredEvents"] == [home]
    assert ignored_alarm.inputs["dimensions"] == {"stage": stage, "jobQueue": home}


@pytest.mark.parametrize("stage", STAGES)
def test_each_failure_queue_is_drawn_under_its_own_label(stage_plans, stage):
    plan = stage_plans[stage]
    (dashboard,) = plan.of_type(DASHBOARD)
    (widget,) = [
        w for w in body_of(dashboard)["widgets"] if w["properties"].get("title") == "Failure queues: events waiting"
    ]

    drawn = {array[-1]["label"]: array[3] for array in widget["properties"]["metrics"]}

    assert drawn == {
        "dead-letter queue (rules)": plan.named(SQS_QUEUE, f"{plan.project}-undelivered").state["name"],
        "notifier failure queue": plan.named(SQS_QUEUE, f"{plan.project}-notifier-failed").state["name"],
    }


@pytest.mark.parametrize("stage", STAGES)
def test_the_dashboard_name_and_console_url_are_outputs(stage_plans, stage):
    plan = stage_plans[stage]
    name = f"batch-array-notify-{stage}-us-east-1"

    assert plan.outputs["dashboardName"] == name
    assert plan.outputs["dashboardUrl"] == (
        f"https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name={name}"
    )


def test_two_pipelines_get_two_dashboards_each_naming_only_its_own(two_pipelines):
    dashboards = {d.parent[1]: d for d in two_pipelines.of_type(DASHBOARD) if d.parent}

    assert sorted(dashboards) == ["encode", "render"]
    assert {d.inputs["dashboardName"] for d in dashboards.values()} == {"encode-dev-eu-west-1", "render-dev-eu-west-1"}
    for component, dashboard in dashboards.items():
        assert dashboard.parent == (NOTIFIER, component)
        assert named_in(body_of(dashboard)) == expected_names(two_pipelines, component, "dev", "eu-west-1"), component
    render, encode = named_in(body_of(dashboards["render"])), named_in(body_of(dashboards["encode"]))
    for kind in ("alarms", "jobQueue", "FunctionName", "RuleName", "QueueName", "log groups"):
        assert not render[kind] & encode[kind], kind
