"""Least privilege, proven from the calls: every AWS call the handler makes against moto (recorded with a
botocore hook on the handler's own session, `handler/aws.py`) must be allowed by the notifier role's
policies in each stage's plan, and those policies must allow nothing else but the role's log group, its
destinations (on-failure queue, completion bus), its table and the key encrypting what it writes to.
The scenarios run twice: as the stages are, and with a chat topic (CHAT_TOPIC_ARN) against dev planned
with chat channels, whose role must allow the chat publish and nothing more.

The scenarios drive every AWS code path of the handler: a clean completion, one with failed children
(ListJobs + a second DescribeJobs, and one GetLogEvents per child for its log tail), a redelivered
completion (idempotency hit) and a failed publish (Lambda retries it; Powertools releases the
idempotency record). One module-scoped fixture runs them all,
so the plan-side tests see every call however pytest selects or orders the tests.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import handler
from batch_array_notify.testing.program import Plan, PlannedResource
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.integration.moto_stack import REGION, BatchStack, MotoBatch, TopicSubscriber, make_lambda_context
from tests.support import ROLE_POLICY

LAMBDA = "aws:lambda/function:Function"
#: Item-level operations Powertools idempotency may make on its table (GetItem is its fallback read).
TABLE_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
#: What the scenarios must have called between them, or they did not drive every code path.
EXPECTED_ACTIONS = {
    "batch:DescribeJobs",
    "batch:ListJobs",
    "sns:Publish",
    "events:PutEvents",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "logs:GetLogEvents",
}

Recorded = frozenset[tuple[str, str]]


def _resource_kind(action: str, params: dict[str, Any]) -> str:
    """Which of the role's resources a call addresses: the plan names them differently from moto."""
    service = action.split(":", 1)[0]
    if service == "batch":
        return "*"  # DescribeJobs and ListJobs take no resource ARN
    if service == "sns":
        if not params.get("TopicArn"):
            return "?"
        return "chat-topic" if params["TopicArn"] == os.environ.get("CHAT_TOPIC_ARN") else "topic"
    if service == "dynamodb":
        return "table" if params.get("TableName") else "?"
    if service == "events":
        return "bus"
    if service == "logs":
        # Only a stream of a group the notifier was told it may read (FAILED_LOG_GROUPS).
        readable = os.environ.get("FAILED_LOG_GROUPS", "").split(",")
        return "job-logs" if params.get("logGroupName") in readable and params.get("logStreamName") else "?"
    return "?"


def _record_handler_calls(recorded: set[tuple[str, str]]) -> None:
    """Hook the handler's current session (call after a cache reset, before the handler runs)."""

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        action = f"{model.service_model.signing_name}:{model.name}"
        recorded.add((action, _resource_kind(action, params)))

    # Parameters as the handler passed them (`before-call` sees the serialized request instead).
    aws.session().events.register("before-parameter-build", record)


def _clean_completion(moto_batch: MotoBatch, subscriber: TopicSubscriber) -> None:
    parent = moto_batch.submit_array_job(size=3)
    assert handler(moto_batch.completion_event(parent), make_lambda_context())["outcome"] == "delivered"
    assert len(subscriber.notifications()) == 1


def _completion_with_failed_children(moto_batch: MotoBatch, subscriber: TopicSubscriber) -> None:
    parent = moto_batch.submit_array_job(size=4)
    moto_batch.fail_children(parent, [1, 3], "Essential container in task exited")
    assert handler(moto_batch.completion_event(parent), make_lambda_context())["outcome"] == "delivered"
    assert len(subscriber.notifications()) == 1


def _redelivered_completion(moto_batch: MotoBatch, subscriber: TopicSubscriber) -> None:
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))
    assert handler(event, make_lambda_context())["outcome"] == "delivered"
    assert handler(event, make_lambda_context())["outcome"] == "duplicate"
    assert len(subscriber.notifications()) == 1


def _failed_publish(moto_batch: MotoBatch, subscriber: TopicSubscriber) -> None:
    # Runs with TOPIC_ARN naming a missing topic: Publish fails and Powertools deletes the record.
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))
    with pytest.raises(ClientError, match="NotFound"):
        handler(event, make_lambda_context())
    assert subscriber.notifications() == []


Scenario = Callable[[MotoBatch, TopicSubscriber], None]
#: Each scenario, and whether it runs against a topic that does not exist.
SCENARIOS: tuple[tuple[Scenario, bool], ...] = (
    (_clean_completion, False),
    (_completion_with_failed_children, False),
    (_redelivered_completion, False),
    (_failed_publish, True),
)


def _record(batch_stack: BatchStack, chat_topic_arn: str | None) -> Recorded:
    """Every scenario run once: the calls they made, as (IAM action, the kind of resource addressed)."""
    recorded: set[tuple[str, str]] = set()
    moto_batch, subscriber = MotoBatch(batch_stack), TopicSubscriber(batch_stack)
    for scenario, missing_topic in SCENARIOS:
        subscriber.notifications()  # start from an empty subscriber queue
        with pytest.MonkeyPatch.context() as env:
            if missing_topic:
                env.setenv("TOPIC_ARN", batch_stack.topic_arn + "-missing")
            if chat_topic_arn:
                env.setenv("CHAT_TOPIC_ARN", chat_topic_arn)
            reset_handler_caches()
            _record_handler_calls(recorded)
            scenario(moto_batch, subscriber)
        reset_handler_caches()
    return frozenset(recorded)


@pytest.fixture(scope="module")
def recordings(batch_stack: BatchStack) -> dict[str, Recorded]:
    """The calls as the stages make them, and with a chat topic (by the plan each is checked against)."""
    chat_topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="chat")["TopicArn"]
    plain = _record(batch_stack, None)
    return {"dev": plain, "prod": plain, "dev-chat": _record(batch_stack, chat_topic_arn)}


@pytest.fixture(scope="module")
def recorded_calls(recordings: dict[str, Recorded]) -> Recorded:
    return recordings["dev"]


@pytest.fixture(scope="module")
def plans(stage_plans: dict[str, Plan], chat_plan: Plan) -> dict[str, Plan]:
    return {**stage_plans, "dev-chat": chat_plan}


def test_the_scenarios_drive_every_aws_code_path(recordings):
    assert {action for action, _ in recordings["dev"]} >= EXPECTED_ACTIONS, sorted(recordings["dev"])
    assert ("sns:Publish", "chat-topic") not in recordings["dev"]
    assert recordings["dev-chat"] >= {*recordings["dev"], ("sns:Publish", "chat-topic")}, sorted(recordings["dev-chat"])


# --------------------------------------------------------------------------------------------------
# The plan side


def _notifier(plan: Plan) -> Any:
    return plan.named(LAMBDA, f"{plan.project}-notifier")


def _role_statements(plan: Plan) -> list[dict[str, Any]]:
    role_name = plan.named("aws:iam/role:Role", f"{plan.project}-notifier").state["name"]
    statements: list[dict[str, Any]] = []
    for policy in plan.of_type(ROLE_POLICY):
        if policy.inputs["role"] == role_name:
            statements += json.loads(policy.inputs["policy"])["Statement"]
    assert statements, "the notifier role has no inline policy"
    return statements


def runtime_grants(plan: Plan, function: PlannedResource) -> set[tuple[str, str]]:
    """What a function's role may do without its code calling it: the runtime writes the function's logs,
    SNS and SQS encrypt with the role's rights on the key."""
    log_group = next(
        group
        for group in plan.of_type("aws:cloudwatch/logGroup:LogGroup")
        if group.state["name"] == function.inputs["loggingConfig"]["logGroup"]
    )
    key_arn = plan.one("aws:kms/key:Key").state["arn"]
    return {
        ("logs:CreateLogStream", f"{log_group.state['arn']}:*"),
        ("logs:PutLogEvents", f"{log_group.state['arn']}:*"),
        ("kms:Decrypt", key_arn),
        ("kms:GenerateDataKey*", key_arn),
    }


def granted(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every (action, resource) pair the Allow statements grant."""
    return {
        (action, resource)
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    }


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _resources(plan: Plan) -> dict[str, str]:
    """The ARN of each resource kind the handler addresses, as the deployed function would see it."""
    variables = _notifier(plan).inputs["environment"]["variables"]
    tables = plan.of_type("aws:dynamodb/table:Table")
    table = next(t for t in tables if t.state["name"] == variables["IDEMPOTENCY_TABLE"])
    kinds = {"*": "*", "topic": variables["TOPIC_ARN"], "table": table.state["arn"]}
    if "CHAT_TOPIC_ARN" in variables:
        kinds["chat-topic"] = variables["CHAT_TOPIC_ARN"]
    bus = variables.get("EVENT_BUS_NAME")
    if bus is not None:
        kinds["bus"] = _bus_arn(plan, bus)
    if "FAILED_LOG_GROUPS" in variables:
        kinds["job-logs"] = _log_streams_arn(plan, variables["FAILED_LOG_GROUPS"])
    return kinds


def _log_streams_arn(plan: Plan, groups: str) -> str:
    """Every stream of the one group the notifier may read, in its account and region: a pipeline's notifier
    reads its own job log group (moto's jobs log to Batch's default group, the same kind of resource)."""
    (group,) = groups.split(",")
    _, partition, _, region, account, _ = _notifier(plan).state["arn"].split(":", 5)
    return f"arn:{partition}:logs:{region}:{account}:log-group:{group}:log-stream:*"


def _bus_arn(plan: Plan, bus: str) -> str:
    """EVENT_BUS_NAME is an ARN, a bus of the plan, or an existing bus (`default`) of the function's account."""
    if bus.startswith("arn:"):
        return bus
    for resource in plan.of_type("aws:cloudwatch/eventBus:EventBus"):
        if resource.state["name"] == bus:
            return str(resource.state["arn"])
    _, partition, _, region, account, _ = _notifier(plan).state["arn"].split(":", 5)
    return f"arn:{partition}:events:{region}:{account}:event-bus/{bus}"


def _allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatchcase(action, pattern) for pattern in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"]))
        for statement in statements
    )


@pytest.mark.parametrize("stage", ["dev", "prod", "dev-chat"])
def test_every_recorded_call_is_allowed_by_the_planned_role(plans, recordings, stage):
    recorded_calls = recordings[stage]
    assert {action for action, _ in recorded_calls} >= EXPECTED_ACTIONS, sorted(recorded_calls)
    plan = plans[stage]
    assert_allowed(recorded_calls, _role_statements(plan), _resources(plan), stage)


def assert_allowed(
    recorded_calls: Recorded, statements: list[dict[str, Any]], kinds: dict[str, str], stage: str
) -> None:
    """Every recorded (action, kind of resource) is allowed by `statements` on that resource of the plan."""
    for action, kind in sorted(recorded_calls):
        assert kind in kinds, f"{action} addressed a resource the role does not know: {kind}"
        assert _allows(statements, action, kinds[kind]), f"{stage}: the role denies {action} on {kinds[kind]}"


@pytest.mark.parametrize("stage", ["dev", "prod", "dev-chat"])
def test_the_planned_role_allows_nothing_else(plans, recordings, stage):
    recorded_calls = recordings[stage]
    assert {action for action, _ in recorded_calls} >= EXPECTED_ACTIONS, sorted(recorded_calls)
    plan = plans[stage]
    kinds = _resources(plan)
    recorded = {(action, kinds[kind]) for action, kind in recorded_calls if kind in kinds}
    # The notifier's (the sweep has one of its own, without a destination).
    invoke_config = plan.named(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", f"{plan.project}-notifier"
    )
    destination = invoke_config.inputs["destinationConfig"]["onFailure"]["destination"]
    # Besides what the runtime does with the role, Lambda sends failed events to the destination with it.
    beyond_calls = {
        *runtime_grants(plan, _notifier(plan)),
        ("sqs:SendMessage", destination),
        *((action, kinds["table"]) for action in TABLE_ACTIONS),
        *((("events:PutEvents", kinds["bus"]),) if "bus" in kinds else ()),
    }
    granted_pairs = granted(_role_statements(plan))
    extra = {
        (action, resource)
        for action, resource in granted_pairs - beyond_calls
        # batch:* reads with Resource "*" are allowed exactly when they were called.
        if (action, resource) not in recorded
    }
    assert not extra, f"{stage}: the role allows more than the handler uses: {sorted(extra)}"
    kms = [s for s in _role_statements(plan) if any(a.startswith("kms:") for a in _listed(s["Action"]))]
    assert kms, "the role has no key statement (it writes to encrypted queues)"
    assert all(s["Condition"]["StringEquals"]["kms:ViaService"] for s in kms), "the key only through SNS/SQS"
