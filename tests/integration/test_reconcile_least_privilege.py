"""Least privilege of the reconciliation sweep, proven from its calls as the notifier's is
(test_handler_least_privilege.py, whose helpers this reuses): every AWS call the sweep makes against moto
must be allowed by the sweep role's policy in each stage's plan, and the role may do nothing else but
write its log group, use its table and reach the key through SNS.

The scenarios drive every AWS path of the sweep: a missed completion with failed children (ListJobs of the
queue and of the children, DescribeJobs twice, the records, SNS, EventBridge), a queue larger than one
sweep's budget (the resume point written, then read), and a failed publish (Powertools releases its record).
The large queue's Batch calls are answered by `ListJobsAsBatchDoes` (moto does not page; see test_reconcile.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from batch_array_notify.handler import aws
from batch_array_notify.handler import reconcile as sweep_module
from batch_array_notify.handler.reconcile import REPORTS_PER_QUEUE
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.integration.moto_stack import BatchStack, MotoBatch, TopicSubscriber, make_lambda_context
from tests.integration.test_handler_least_privilege import (
    TABLE_ACTIONS,
    _bus_arn,
    _listed,
    _resource_kind,
    assert_allowed,
    granted,
    runtime_grants,
)
from tests.integration.test_reconcile import ListJobsAsBatchDoes
from tests.support import FUNCTION, ROLE_POLICY

EXPECTED_ACTIONS = {
    "batch:ListJobs",
    "batch:DescribeJobs",
    "sns:Publish",
    "events:PutEvents",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}


def _record_calls(recorded: set[tuple[str, str]]) -> None:
    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        action = f"{model.service_model.signing_name}:{model.name}"
        recorded.add((action, _resource_kind(action, params)))

    aws.session().events.register("before-parameter-build", record)


@pytest.fixture(scope="module")
def recorded(batch_stack: BatchStack) -> frozenset[tuple[str, str]]:
    calls: set[tuple[str, str]] = set()
    moto_batch, subscriber = MotoBatch(batch_stack), TopicSubscriber(batch_stack)
    context = make_lambda_context()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JOB_DEFINITION_ARN_PREFIXES", batch_stack.job_definition_arn.rpartition(":")[0])
        env.setenv("RECONCILE_GRACE_SECONDS", "0")  # moto's jobs stop as they are submitted
        reset_handler_caches()
        _record_calls(calls)
        parent = moto_batch.submit_array_job(size=3)
        moto_batch.fail_children(parent, [2], "Essential container in task exited")
        assert sweep_module.handler({}, context)["reconciled"] == 1

        reset_handler_caches()
        _record_calls(calls)
        newest_ms = int(sweep_module.clock() * 1000) - 60_000
        many = ListJobsAsBatchDoes(
            batch_stack.job_queue_arn, batch_stack.job_definition_arn, REPORTS_PER_QUEUE + 1, newest_ms, "lp"
        )
        aws.session().events.register("before-call.batch", many)
        assert sweep_module.handler({}, context)["stoppedEarly"] is True
        assert sweep_module.handler({}, context)["reconciled"] == 1  # from the resume point
        subscriber.notifications()

        env.setenv("TOPIC_ARN", batch_stack.topic_arn + "-missing")
        reset_handler_caches()
        _record_calls(calls)
        moto_batch.submit_array_job(size=2)
        with pytest.raises(ClientError, match="NotFound"):
            sweep_module.handler({}, context)
    reset_handler_caches()
    return frozenset(calls)


def test_the_scenarios_drive_every_aws_code_path(recorded):
    assert {action for action, _ in recorded} >= EXPECTED_ACTIONS, sorted(recorded)


def _sweep_statements(plan: Plan) -> list[dict[str, Any]]:
    role_name = plan.named("aws:iam/role:Role", f"{plan.project}-sweep").state["name"]
    statements = [
        statement
        for policy in plan.of_type(ROLE_POLICY)
        if policy.inputs["role"] == role_name
        for statement in json.loads(policy.inputs["policy"])["Statement"]
    ]
    assert statements, "the sweep role has no inline policy"
    return statements


def _kinds(plan: Plan) -> dict[str, str]:
    variables = plan.named(FUNCTION, f"{plan.project}-sweep").inputs["environment"]["variables"]
    table = next(
        t for t in plan.of_type("aws:dynamodb/table:Table") if t.state["name"] == variables["IDEMPOTENCY_TABLE"]
    )
    return {"*": "*", "topic": variables["TOPIC_ARN"], "table": table.state["arn"], "bus": _bus_arn(plan, "default")}


@pytest.mark.parametrize("stage", ["dev", "prod", "attach"])
def test_every_call_of_the_sweep_is_allowed_by_its_planned_role(stage_plans, recorded, stage):
    plan = stage_plans[stage]
    assert_allowed(recorded, _sweep_statements(plan), _kinds(plan), stage)


@pytest.mark.parametrize("stage", ["dev", "prod", "attach"])
def test_the_sweep_role_allows_nothing_else(stage_plans, recorded, stage):
    plan = stage_plans[stage]
    kinds = _kinds(plan)
    function = plan.named(FUNCTION, f"{plan.project}-sweep")
    beyond_calls = {*runtime_grants(plan, function), *((action, kinds["table"]) for action in TABLE_ACTIONS)}
    calls = {(action, kinds[kind]) for action, kind in recorded if kind in kinds}
    statements = _sweep_statements(plan)
    assert granted(statements) - beyond_calls - calls == set(), f"{stage}: the sweep role allows more than it uses"
    (kms,) = [s for s in statements if any(a.startswith("kms:") for a in _listed(s["Action"]))]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": ["sns.us-east-1.amazonaws.com"]}}
    assert not [s for s in statements if "sqs:SendMessage" in _listed(s["Action"])], "the sweep has no failure queue"


@pytest.mark.parametrize("stage", ["dev", "prod", "attach"])
def test_the_schedule_may_invoke_the_sweep_and_nothing_else(stage_plans, stage):
    plan = stage_plans[stage]
    schedule = plan.named("aws:scheduler/schedule:Schedule", f"{plan.project}-sweep")
    role = plan.named("aws:iam/role:Role", f"{plan.project}-sweep-schedule")
    function = plan.named(FUNCTION, f"{plan.project}-sweep")
    (policy,) = [p for p in plan.of_type(ROLE_POLICY) if p.inputs["role"] == role.state["name"]]

    assert schedule.inputs["target"]["arn"] == function.state["arn"]
    assert schedule.inputs["target"]["roleArn"] == role.state["arn"]
    assert schedule.inputs["scheduleExpression"] == "rate(60 minutes)"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "scheduler.amazonaws.com"
    }
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        {"Sid": "InvokeSweep", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function.state["arn"]}
    ]
