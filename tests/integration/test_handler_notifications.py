"""The handler against moto: what subscribers receive for whole array jobs, and how many AWS calls it took."""

from __future__ import annotations

import collections
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.batch_jobs import MAX_LIST_PAGES
from batch_array_notify.handler.delivery import active_sinks
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from tests.integration.moto_stack import REGION


def _report_document(notification: dict[str, Any]) -> dict[str, Any]:
    """The JSON document that ends the message body."""
    _, _, document = notification["Message"].partition("Machine-readable report (JSON):\n")
    return dict(json.loads(document))


def _attributes(notification: dict[str, Any]) -> dict[str, str]:
    return {name: attribute["Value"] for name, attribute in notification["MessageAttributes"].items()}


def test_seven_children_succeeded_sends_one_report_with_all_counted(
    batch_stack, moto_batch, subscriber, aws_calls, lambda_context
):
    stage, region = batch_stack.stage, batch_stack.region
    parent_id = moto_batch.submit_array_job(size=7)

    result = handler(moto_batch.completion_event(parent_id), lambda_context)

    (notification,) = subscriber.notifications()
    assert result["outcome"] == "delivered"
    assert notification["Subject"] == f"[{stage}] print-color array job SUCCEEDED: 7/7 children succeeded"
    assert _attributes(notification) == {"status": "SUCCEEDED", "stage": stage, "jobQueue": "test-queue"}
    document = _report_document(notification)
    assert document["jobId"] == parent_id
    assert document["jobDefinition"] == "print-color:1"
    assert document["counts"] == {"succeeded": 7, "failed": 0, "notFinal": 0}
    assert document["failedChildren"] == []
    assert document["links"]["job"] == (
        f"https://{region}.console.aws.amazon.com/batch/home?region={region}#jobs/detail/{parent_id}"
    )
    # No failures: the parent's DescribeJobs is the only Batch call.
    assert {action: n for action, n in aws_calls.items() if action.startswith("batch:")} == {"batch:DescribeJobs": 1}
    assert aws_calls["sns:Publish"] == 1


def test_two_of_seven_failed_reports_failed_status_and_both_children(
    batch_stack, moto_batch, subscriber, aws_calls, lambda_context
):
    parent_id = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent_id, [2, 5], reason="Essential container in task exited")

    handler(moto_batch.completion_event(parent_id), lambda_context)

    (notification,) = subscriber.notifications()
    assert notification["Subject"] == f"[{batch_stack.stage}] print-color array job FAILED: 2/7 children failed"
    assert _attributes(notification)["status"] == "FAILED"
    document = _report_document(notification)
    assert document["counts"] == {"succeeded": 5, "failed": 2, "notFinal": 0}
    assert [(child["index"], child["jobId"]) for child in document["failedChildren"]] == [
        (2, f"{parent_id}:2"),
        (5, f"{parent_id}:5"),
    ]
    for child in document["failedChildren"]:
        assert child["statusReason"] == "Essential container in task exited"
        assert child["logGroup"] == "/aws/batch/job"
        escaped_stream = child["logStream"].replace("/", "$252F").replace(":", "$253A")
        assert child["logsUrl"].endswith(f"/log-group/$252Faws$252Fbatch$252Fjob/log-events/{escaped_stream}")
    assert "- index 2 (job " in notification["Message"]
    assert aws_calls["batch:DescribeJobs"] == 2
    assert aws_calls["batch:ListJobs"] == 1


def test_ten_thousand_failed_children_cost_a_bounded_number_of_calls(
    batch_stack, moto_batch, subscriber, aws_calls, lambda_context, monkeypatch
):
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    parent_id = moto_batch.submit_array_job(size=10_000)

    handler(moto_batch.completion_event(parent_id), lambda_context)

    (notification,) = subscriber.notifications()
    assert notification["Subject"].endswith("array job FAILED: 10000/10000 children failed")
    document = _report_document(notification)
    assert document["counts"]["failed"] == 10_000
    assert len(document["failedChildren"]) == 20
    assert document["failedChildrenOmitted"] == 10_000 - 20
    assert [child["index"] for child in document["failedChildren"]] == list(range(20))
    batch_calls = {action: count for action, count in aws_calls.items() if action.startswith("batch:")}
    assert batch_calls == {"batch:DescribeJobs": 2, "batch:ListJobs": 1}
    assert sum(batch_calls.values()) <= 2 + MAX_LIST_PAGES


def test_the_same_completion_delivered_three_times_sends_one_message(moto_batch, subscriber, aws_calls, lambda_context):
    parent_id = moto_batch.submit_array_job(size=7)
    # Batch may re-emit a completion under a new event id, so the ids differ too.
    deliveries = [moto_batch.completion_event(parent_id, event_id=f"event-{n}") for n in range(3)]

    outcomes = [handler(event, lambda_context)["outcome"] for event in deliveries]

    assert outcomes == ["delivered", "duplicate", "duplicate"]
    assert len(subscriber.notifications()) == 1
    assert aws_calls["sns:Publish"] == 1
    assert aws_calls["events:PutEvents"] == 1
    # Each delivery claims each sink's key with a conditional PutItem; only the first completes it. A
    # duplicate gets the stored result back from the failed condition check (no GetItem needed).
    assert {action: n for action, n in aws_calls.items() if action.startswith("dynamodb:")} == {
        "dynamodb:PutItem": 3 * len(active_sinks()),
        "dynamodb:UpdateItem": len(active_sinks()),
    }


def _fail_once(operation: str, code: str) -> list[str]:
    """Make the handler's next `operation` call fail with `code`; returns the list of failures raised."""
    failures: list[str] = []

    def fail(**_: Any) -> None:
        if not failures:
            failures.append(code)
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

    aws.session().events.register(f"before-call.*.{operation}", fail)
    return failures


def _idempotency_record_ids(table: str) -> set[str]:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    return {item["id"]["S"] for item in items}


def test_publish_failing_once_leaves_no_completion_topic_record_and_the_retry_sends_one_message(
    batch_stack, moto_batch, subscriber, aws_calls, lambda_context
):
    table = batch_stack.idempotency_table
    records_before = _idempotency_record_ids(table)
    injected = _fail_once("Publish", "Throttling")
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=3))

    with pytest.raises(ClientError, match="Throttling"):
        handler(event, lambda_context)
    assert injected == ["Throttling"]
    assert subscriber.notifications() == []
    # The completion event went out before the completion topic's sink (the last) failed: its record
    # stays, the failed sink's is gone, so the completion still counts as not reported.
    assert {record.partition("#")[0] for record in _idempotency_record_ids(table) - records_before} == {
        "batch-array-notify.put_completion_event"
    }

    assert aws_calls["dynamodb:DeleteItem"] == 1

    assert handler(event, lambda_context)["outcome"] == "delivered"
    assert handler(event, lambda_context)["outcome"] == "duplicate"
    assert len(subscriber.notifications()) == 1
    new_records = _idempotency_record_ids(table) - records_before
    # One record per sink, each keyed by the sink's name.
    assert sorted(record.partition("#")[0] for record in new_records) == sorted(
        f"batch-array-notify.{sink.__name__}" for sink in active_sinks()
    )
    (record_id,) = {record for record in new_records if record.startswith("batch-array-notify.publish_to_sns#")}
    record = boto3.client("dynamodb", region_name=REGION).get_item(TableName=table, Key={"id": {"S": record_id}})[
        "Item"
    ]
    assert record["status"]["S"] == "COMPLETED"
    assert int(record["expiration"]["N"]) > 0


def test_batch_access_denied_propagates_so_lambda_retries(moto_batch, subscriber, aws_calls, lambda_context):
    _fail_once("DescribeJobs", "AccessDeniedException")
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))

    with pytest.raises(ClientError, match="AccessDeniedException"):
        handler(event, lambda_context)

    assert subscriber.notifications() == []
    assert aws_calls["sns:Publish"] == 0


def _parent_terminal_event(spec: ArrayJobSpec) -> dict[str, Any]:
    (last,) = collections.deque(array_job_events(spec), maxlen=1)
    return last


@pytest.mark.parametrize("compute", [Compute.FARGATE, Compute.EKS])
def test_fargate_and_eks_shaped_parents_are_reported(batch_stack, moto_batch, subscriber, lambda_context, compute):
    parent_id = moto_batch.submit_array_job(size=4)
    moto_batch.fail_children(parent_id, [1], reason="Essential container in task exited")
    spec = ArrayJobSpec(
        job_queue_arn=batch_stack.job_queue_arn,
        job_definition_arn=batch_stack.job_definition_arn,
        size=4,
        failures=1,
        compute=compute,
        parent_job_id=parent_id,
    )

    result = handler(_parent_terminal_event(spec), lambda_context)

    (notification,) = subscriber.notifications()
    event_id = result["deliveries"][0].get("eventId")
    assert isinstance(event_id, str)
    assert event_id
    assert result == {
        "outcome": "delivered",
        "jobId": parent_id,
        "status": "FAILED",
        "deliveries": [
            {"sink": "eventbridge", "eventId": event_id},
            {"sink": "sns", "messageId": notification["MessageId"]},
        ],
    }
    assert notification["Subject"].endswith("array job FAILED: 1/4 children failed")
    assert [child["index"] for child in _report_document(notification)["failedChildren"]] == [1]
