"""examples/two_pipelines: a program embedding two pipelines and a consumer of their completion event.

Written as a user of the package writes the tests of their own program: only `batch_array_notify` and
its testing kit (`pip install 'batch-array-notify[testing]' pytest`). From the repository root:
`.venv/bin/python -m pytest examples/two_pipelines`.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from batch_array_notify import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.testing import (
    ArrayJobSpec,
    Plan,
    PlannedResource,
    array_job_events,
    completion_rule,
    matches,
    run_program,
)

HERE = Path(__file__).resolve().parent
PIPELINE = "batcharray:index:BatchArrayPipeline"
NOTIFIER = "batcharray:index:ArrayCompletionNotifier"
QUEUE = "aws:batch/jobQueue:JobQueue"
COMPUTE = "aws:batch/computeEnvironment:ComputeEnvironment"
JOB_DEF = "aws:batch/jobDefinition:JobDefinition"
RULE = "aws:cloudwatch/eventRule:EventRule"
BUS = "aws:cloudwatch/eventBus:EventBus"
FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(HERE, "dev")


def under(plan: Plan, pipeline: str) -> list[PlannedResource]:
    """Every resource below the pipeline `pipeline`: its children, theirs, and so on."""
    return [r for r in plan.resources if (PIPELINE, pipeline) in {(a.type, a.name) for a in plan.ancestors(r)}]


def queued_compute_types(plan: Plan, queue_name: str) -> list[str]:
    """Compute types in the order the queue tries them (its `computeEnvironmentOrders`)."""
    types_by_arn = {env.state["arn"]: env.inputs["computeResources"]["type"] for env in plan.of_type(COMPUTE)}
    orders = plan.named(QUEUE, queue_name).inputs["computeEnvironmentOrders"]
    return [types_by_arn[order["computeEnvironment"]] for order in sorted(orders, key=lambda o: o["order"])]


def test_two_components_and_no_type_and_name_clashes(plan):
    identities = Counter((r.type, r.name) for r in plan.resources)

    # Components register concurrently, so compare as a set: order is not part of the contract.
    assert sorted(r.name for r in plan.of_type(PIPELINE)) == ["encode", "render"]
    assert [identity for identity, count in identities.items() if count > 1] == []
    # Physical names, auto-named from logical ones, cannot clash either.
    physical = Counter((r.type, r.state.get("name")) for r in plan.resources if r.type.startswith("aws:"))
    assert [identity for identity, count in physical.items() if count > 1] == []


def test_every_pipeline_resource_sits_under_its_component(plan):
    for component in ("render", "encode"):
        children = [r for r in under(plan, component) if r.type != NOTIFIER]
        assert all(r.name.startswith(f"{component}-") for r in children)
        assert len(children) > 25
    top_level = {r.name for r in plan.resources if r.parent is None and r.type != PIPELINE}
    assert top_level == {"completions", "failed-array-jobs"}


def test_one_pipeline_is_ec2_and_the_other_fargate_with_their_own_settings(plan):
    assert queued_compute_types(plan, "render-queue") == ["SPOT", "EC2"]
    assert queued_compute_types(plan, "encode-queue") == ["FARGATE_SPOT", "FARGATE"]
    assert plan.named(JOB_DEF, "render-job").inputs["platformCapabilities"] == ["EC2"]
    assert plan.named(JOB_DEF, "encode-job").inputs["platformCapabilities"] == ["FARGATE"]
    assert plan.named(QUEUE, "render-queue").inputs["tags"]["Name"] == "render-dev-queue"


@pytest.mark.parametrize(("pipeline", "other"), [("render", "encode"), ("encode", "render")])
def test_each_pipelines_rule_catches_its_own_parent_and_nothing_of_the_other(plan, pipeline, other):
    def array_job(name: str) -> ArrayJobSpec:
        queue, definition = plan.named(QUEUE, f"{name}-queue"), plan.named(JOB_DEF, f"{name}-job")
        return ArrayJobSpec(queue.state["arn"], definition.state["arn"], size=4, failures=1, job_name=name)

    own, others = array_job(pipeline), array_job(other)
    rule = completion_rule(plan, pipeline)
    caught = [event for spec in (own, others) for event in array_job_events(spec) if matches(rule, event)]

    assert [(event["detail"]["jobId"], event["detail"]["status"]) for event in caught] == [(own.job_id, "FAILED")]


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
    assert Path(plan.named(FUNCTION, "encode-downstream").inputs["code"]["file"]).parts[-2:] == (
        "two_pipelines",
        "downstream",
    )
    assert not [r for r in plan.of_type(FUNCTION) if r.name == "render-downstream"]


def test_the_plan_command_plans_the_example(capsys):
    assert plan_main(["--program", str(HERE), "--stack", "dev"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["project"] == "two-pipelines"
    assert sum(r["type"] == PIPELINE for r in document["resources"]) == 2
    assert document["outputs"]["encodeDownstreamFunction"].startswith("encode-downstream-")
