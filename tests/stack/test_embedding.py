"""examples/two_pipelines: a program embedding two pipelines and a consumer of their completion event."""

import json
from collections import Counter
from pathlib import Path

import pytest

from batch_array_notify import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import Plan, run_program
from tests.support import BUS, FUNCTION, JOB_DEF, NOTIFIER, QUEUE, RULE, descendants, queued_compute_types, run_tool

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "two_pipelines"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(EXAMPLE, "dev")


def test_two_components_and_no_type_and_name_clashes(plan):
    identities = Counter((r.type, r.name) for r in plan.resources)

    # Components register concurrently, so compare as a set: order is not part of the contract.
    assert sorted(r.name for r in plan.of_type(TYPE_TOKEN)) == ["encode", "render"]
    assert [identity for identity, count in identities.items() if count > 1] == []
    # Physical names, auto-named from logical ones, cannot clash either.
    physical = Counter((r.type, r.state.get("name")) for r in plan.resources if r.type.startswith("aws:"))
    assert [identity for identity, count in physical.items() if count > 1] == []


def test_every_pipeline_resource_sits_under_its_component(plan):
    for component in ("render", "encode"):
        children = [r for r in descendants(plan, TYPE_TOKEN, component) if r.type != NOTIFIER]
        assert all(r.name.startswith(f"{component}-") for r in children)
        assert len(children) > 25
    top_level = {r.name for r in plan.resources if r.parent is None and r.type != TYPE_TOKEN}
    assert top_level == {"completions", "failed-array-jobs"}


def test_one_pipeline_is_ec2_and_the_other_fargate_with_their_own_settings(plan):
    assert queued_compute_types(plan, "render-queue") == ["SPOT", "EC2"]
    assert queued_compute_types(plan, "encode-queue") == ["FARGATE_SPOT", "FARGATE"]
    assert plan.named(JOB_DEF, "render-job").inputs["platformCapabilities"] == ["EC2"]
    assert plan.named(JOB_DEF, "encode-job").inputs["platformCapabilities"] == ["FARGATE"]
    assert plan.named(QUEUE, "render-queue").inputs["tags"]["Name"] == "render-dev-queue"


def test_both_notifiers_publish_to_the_shared_bus_and_the_consumer_rule_listens_there(plan):
    bus_name = plan.named(BUS, "completions").state["name"]
    consumer = plan.named(RULE, "failed-array-jobs")

    for component in ("render", "encode"):
        variables = plan.named(FUNCTION, f"{component}-notifier").inputs["environment"]["variables"]
        assert variables["EVENT_BUS_NAME"] == bus_name
    assert consumer.inputs["eventBusName"] == bus_name
    assert json.loads(consumer.inputs["eventPattern"]) == {
        "source": [COMPLETION_EVENT_SOURCE],
        "detail-type": [COMPLETION_EVENT_DETAIL_TYPE],
        "detail": {"status": ["FAILED"]},
    }


def test_downstream_function_reacts_to_the_encode_pipeline_only(plan):
    rule = plan.named(RULE, "encode-downstream")
    pattern = json.loads(rule.inputs["eventPattern"])

    assert pattern["detail"] == {"jobQueueArn": [plan.named(QUEUE, "encode-queue").state["arn"]]}
    assert plan.named(FUNCTION, "encode-downstream").inputs["code"] == {"file": "examples/two_pipelines/downstream"}
    assert not [r for r in plan.of_type(FUNCTION) if r.name == "render-downstream"]


def test_plan_cli_plans_the_example():
    result = run_tool(plan_main, "--program", str(EXAMPLE), "--stack", "dev")

    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["project"] == "two-pipelines"
    assert sum(r["type"] == TYPE_TOKEN for r in document["resources"]) == 2
    assert document["outputs"]["encodeDownstreamFunction"].startswith("encode-downstream-")
