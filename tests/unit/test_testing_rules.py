"""batch_array_notify.testing's rule queries (testing/rules.py) and Plan.children, on planned programs."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_array_notify.testing import PatternError, Plan, completion_rule, matches, run_program
from batch_array_notify.testing.rules import NOTIFIER_TYPE
from tests.integration.rule_fixtures import BLOG_PATTERN, JOB_DEFINITION_ARN, QUEUE_ARN

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = "batcharray:index:BatchArrayPipeline"


@pytest.fixture(scope="module")
def two_pipelines() -> Plan:
    return run_program(ROOT / "examples" / "two_pipelines", "dev")


def test_each_notifiers_rule_names_its_own_queue_only(two_pipelines):
    queues = {r.name: r.state["arn"] for r in two_pipelines.of_type("aws:batch/jobQueue:JobQueue")}

    for name, other in (("render", "encode"), ("encode", "render")):
        rule = completion_rule(two_pipelines, name)
        assert rule["detail"]["jobQueue"] == [queues[f"{name}-queue"]]
        assert queues[f"{other}-queue"] not in str(rule)
        assert rule["detail"]["arrayProperties"] == {"size": [{"exists": True}], "index": [{"exists": False}]}


def test_a_plan_of_several_notifiers_needs_the_name(two_pipelines):
    with pytest.raises(LookupError, match=r"named anything, found \['(render|encode)', '(render|encode)'\]"):
        completion_rule(two_pipelines)
    with pytest.raises(LookupError, match="named etl"):
        completion_rule(two_pipelines, "etl")


def test_the_dev_stacks_rule_is_the_one_targeting_its_notifier(stage_plans):
    plan = stage_plans["dev"]
    rule = completion_rule(plan)

    assert rule["detail-type"] == ["Batch Job State Change"]
    assert rule["detail"]["jobQueue"] == [plan.one("aws:batch/jobQueue:JobQueue").state["arn"]]
    definition = plan.one("aws:batch/jobDefinition:JobDefinition").state["arnPrefix"]
    assert rule["detail"]["jobDefinition"] == [{"prefix": f"{definition}:"}]
    # Not the blocked-queue alert, the notifier's other rule.
    assert "Batch Job Queue Blocked" not in str(rule)


def test_children_are_the_direct_ones(two_pipelines):
    render = two_pipelines.named(PIPELINE, "render")
    notifier = two_pipelines.named(NOTIFIER_TYPE, "render")
    children = two_pipelines.children(render)

    assert notifier in children
    assert two_pipelines.named("aws:batch/jobQueue:JobQueue", "render-queue") in children
    assert two_pipelines.named("aws:sns/topic:Topic", "render-completed") not in children
    assert two_pipelines.named("aws:sns/topic:Topic", "render-completed") in two_pipelines.children(notifier)
    assert all(two_pipelines.ancestors(child)[0] == render for child in children)


def parent_event(**detail: object) -> dict:
    return {
        "source": "aws.batch",
        "detail-type": "Batch Job State Change",
        "detail": {
            "jobQueue": QUEUE_ARN,
            "jobDefinition": JOB_DEFINITION_ARN,
            "status": "FAILED",
            "arrayProperties": {"size": 3},
            **detail,
        },
    }


def test_matches_reads_a_pattern_as_eventbridge_does():
    pattern = {"detail": {"arrayProperties": {"size": [{"exists": True}], "index": [{"exists": False}]}}}

    assert matches(pattern, parent_event())
    assert not matches(pattern, parent_event(arrayProperties={"index": 1}))
    assert matches(BLOG_PATTERN | {"detail": {"status": ["FAILED"]}}, parent_event())
    assert not matches(BLOG_PATTERN, parent_event())


def test_matches_refuses_a_pattern_eventbridge_refuses_though_moto_takes_it():
    from moto.events.models import EventPattern  # noqa: PLC0415

    refused = '{"detail": {"status": [{"bogus": 1}]}}'
    EventPattern.load(refused)  # moto parses it without complaint

    with pytest.raises(PatternError, match="bogus"):
        matches(refused, parent_event())
