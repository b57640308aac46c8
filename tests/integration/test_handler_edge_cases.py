"""The handler against moto where Batch's answers are not the happy path: a FAILED parent whose failed
children ListJobs does not (yet) list, and an event whose counts lag behind DescribeJobs."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import boto3

from batch_array_notify.handler.app import handler
from tests.integration.moto_stack import REGION


def _report_document(notification: dict[str, Any]) -> dict[str, Any]:
    _, _, document = notification["Message"].partition("Machine-readable report (JSON):\n")
    return dict(json.loads(document))


def test_a_failed_parent_with_no_failed_child_listed_notifies_once_without_error(
    moto_batch, subscriber, aws_calls, lambda_context
):
    parent_id = moto_batch.submit_array_job(size=3)
    event = moto_batch.completion_event(parent_id)
    # The event says FAILED, yet ListJobs(FAILED) returns nothing (it lags, or the parent itself was
    # failed). moto would report such a parent SUCCEEDED, so the event carries the FAILED status.
    event["detail"]["status"] = "FAILED"

    result = handler(event, lambda_context)

    (notification,) = subscriber.notifications()
    assert result["outcome"] == "delivered"
    assert notification["Subject"].endswith("print-color array job FAILED: 0/3 children failed")
    document = _report_document(notification)
    assert (document["status"], document["failedChildren"], document["failedChildrenOmitted"]) == ("FAILED", [], 0)
    # Nothing listed, so nothing to describe: the parent's DescribeJobs and one ListJobs.
    assert {action: n for action, n in aws_calls.items() if action.startswith("batch:")} == {
        "batch:DescribeJobs": 1,
        "batch:ListJobs": 1,
    }


def test_the_parent_as_describe_jobs_sees_it_wins_over_the_events_lagging_counts(
    moto_batch, subscriber, lambda_context
):
    parent_id = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent_id, [4], reason="Essential container in task exited")
    event = moto_batch.completion_event(parent_id)
    # As if the event had been built before the last children were counted.
    event["detail"]["arrayProperties"]["statusSummary"] = {"SUCCEEDED": 2, "RUNNING": 5}
    event["detail"].pop("stoppedAt", None)
    event["time"] = "2030-01-01T00:00:00Z"  # what the report would fall back to without DescribeJobs

    handler(event, lambda_context)

    (notification,) = subscriber.notifications()
    assert notification["Subject"].endswith("array job FAILED: 1/7 children failed")
    document = _report_document(notification)
    assert document["counts"] == {"succeeded": 6, "failed": 1, "notFinal": 0}
    assert [child["index"] for child in document["failedChildren"]] == [4]
    stopped_at = datetime.fromtimestamp(moto_batch.describe_job(parent_id)["stoppedAt"] / 1000, tz=UTC)
    assert document["stoppedAt"] == stopped_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_each_decision_is_logged_once_with_what_operators_search_for(moto_batch, subscriber, lambda_context, caplog):
    caplog.set_level(logging.INFO)
    parent_id = moto_batch.submit_array_job(size=4)
    moto_batch.fail_children(parent_id, [1], reason="Essential container in task exited")
    event = moto_batch.completion_event(parent_id, event_id="event-log-1")

    first = handler(event, lambda_context)
    second = handler(event, lambda_context)

    delivered, duplicate = [record for record in caplog.records if hasattr(record, "decision")]
    assert (delivered.levelno, delivered.getMessage()) == (logging.INFO, "completion reported")
    fields = ("decision", "jobId", "status", "arraySize", "failed", "failedDetails", "eventId", "deliveries")
    assert {name: getattr(delivered, name) for name in fields} == {
        "decision": "delivered",
        "jobId": parent_id,
        "status": "FAILED",
        "arraySize": 4,
        "failed": 1,
        "failedDetails": 1,
        "eventId": "event-log-1",
        "deliveries": first["deliveries"],
    }
    assert (duplicate.getMessage(), duplicate.decision) == ("completion already reported, nothing sent", "duplicate")
    assert second["outcome"] == "duplicate"
    assert len(subscriber.notifications()) == 1


def test_each_sinks_record_of_a_completion_is_kept_for_a_week(batch_stack, moto_batch, subscriber, lambda_context):
    """Batch retries delivery for 24 h and Lambda keeps events 6 h: the records must outlive both."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = batch_stack.idempotency_table
    earlier = {item["id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]}
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2), event_id="event-ttl-1")
    before = time.time()

    handler(event, lambda_context)

    new = [item for item in dynamodb.scan(TableName=table)["Items"] if item["id"]["S"] not in earlier]
    assert len(new) == 2
    week = 7 * 24 * 3600
    for item in new:
        assert before + week - 5 <= int(item["expiration"]["N"]) <= time.time() + week + 5
