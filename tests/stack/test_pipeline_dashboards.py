"""One dashboard per pipeline, in both stages and in the two-pipeline example: its name, its outputs, and
every resource its body names belongs to that pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from batch_array_notify.pipeline import TYPE_TOKEN
from tests.support import ALARM, FUNCTION, LOG_GROUP, QUEUE, RULE, SQS_QUEUE
from tools.program import Plan, PlannedResource, run_program

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
STAGES = ("dev", "prod")


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


def children(plan: Plan, component: str, type_token: str) -> list[PlannedResource]:
    return [r for r in plan.of_type(type_token) if r.parent == (TYPE_TOKEN, component)]


def expected_names(plan: Plan, component: str, stage: str) -> dict[str, set[str]]:
    """Everything of `component` a dashboard may name."""

    def names(type_token: str, suffix: str = "") -> set[str]:
        return {r.state["name"] for r in children(plan, component, type_token) if r.name.endswith(suffix)}

    return {
        "alarms": {alarm.state["arn"] for alarm in children(plan, component, ALARM)},
        "log groups": names(LOG_GROUP, "-notifier"),
        "regions": {r.state["arn"].split(":")[3] for r in children(plan, component, QUEUE)},
        "stage": {stage},
        "jobQueue": names(QUEUE),
        "FunctionName": names(FUNCTION, "-notifier"),
        "RuleName": names(RULE, "-completed"),
        "QueueName": names(SQS_QUEUE, "-undelivered") | names(SQS_QUEUE, "-notifier-failed"),
    }


def body_of(dashboard: PlannedResource) -> dict:
    return json.loads(dashboard.inputs["dashboardBody"])


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_plans_one_dashboard_naming_only_its_pipeline(stage_plans, stage):
    plan = stage_plans[stage]
    (dashboard,) = plan.of_type(DASHBOARD)

    assert dashboard.parent == (TYPE_TOKEN, plan.project)
    assert dashboard.inputs["dashboardName"] == f"batch-array-notify-{stage}-us-east-1"
    assert named_in(body_of(dashboard)) == expected_names(plan, plan.project, stage)
    assert len(expected_names(plan, plan.project, stage)["alarms"]) == 7
    assert named_in(body_of(dashboard))["regions"] == {"us-east-1"}


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
        assert named_in(body_of(dashboard)) == expected_names(two_pipelines, component, "dev"), component
    render, encode = named_in(body_of(dashboards["render"])), named_in(body_of(dashboards["encode"]))
    for kind in ("alarms", "jobQueue", "FunctionName", "RuleName", "QueueName", "log groups"):
        assert not render[kind] & encode[kind], kind
