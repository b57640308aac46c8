"""delivery: each sink runs once per completion (the parent's jobId and status), for a week, whatever event
carried the completion and however its counts lagged.

moto's DynamoDB holds the idempotency records, in the table as the component creates it. The sink is one
that records the reports it was given, under the SNS sink's name: what SNS and EventBridge receive has its
own tests (test_handler_notifications.py, test_completion_event.py), so each test here takes milliseconds.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from batch_array_notify.cli.chat_preview import example_report
from batch_array_notify.handler import delivery
from batch_array_notify.handler.report import CompletionReport
from batch_array_notify.testing.eventgen import Compute
from batch_array_notify.testing.rehearsal_world import create_idempotency_table, reset_handler_caches
from tests.integration.moto_stack import REGION

WEEK_SECONDS = 7 * 24 * 3600
_tables = itertools.count()


@pytest.fixture
def table(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh idempotency table (no record of an earlier test's completion) and the handler's settings."""
    name = f"idempotency-{next(_tables)}"
    create_idempotency_table(name, REGION)
    for variable, value in {
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:completions",
        "STAGE": "dev",
        "IDEMPOTENCY_TABLE": name,
        "POWERTOOLS_SERVICE_NAME": "batch-array-notify",
        "JOB_QUEUE_ARNS": f"arn:aws:batch:{REGION}:123456789012:job-queue/q",
    }.items():
        monkeypatch.setenv(variable, value)
    reset_handler_caches()
    yield name
    reset_handler_caches()


@pytest.fixture
def sent(table: str, monkeypatch: pytest.MonkeyPatch) -> list[CompletionReport]:
    """The reports the (only) sink was called with."""
    reports: list[CompletionReport] = []

    def publish_to_sns(report: CompletionReport) -> dict[str, Any]:
        reports.append(report)
        return {"sink": "sns", "messageId": f"message-{len(reports)}"}

    monkeypatch.setattr(delivery, "SINKS", (publish_to_sns,))
    return reports


@pytest.fixture(scope="module")
def report() -> CompletionReport:
    """A FAILED 7-child array job (2 failed children)."""
    return example_report(failures=2, unplaced=0, compute=Compute.EC2)


def test_the_same_completion_sent_again_with_caught_up_counts_is_not_delivered_again(report, sent, lambda_context):
    # Batch may emit one completion twice, under two event ids, the second after its counts caught up.
    again = dataclasses.replace(report, succeeded=report.succeeded + 1, status_reason="Array Child Job failed")

    first = delivery.deliver(report, lambda_context)
    second = delivery.deliver(again, lambda_context)

    assert first == [{"sink": "sns", "messageId": "message-1"}]
    assert second == [{"sink": "sns", "messageId": "message-1", "duplicate": True}]
    assert sent == [report]


def test_another_status_or_another_job_is_a_completion_of_its_own(report, sent, lambda_context):
    succeeded = dataclasses.replace(report, status="SUCCEEDED", failed=0, failed_children=())
    other_job = dataclasses.replace(report, job_id="0b8a9c47-5f1d-4b7e-9d0c-3e2f1a6b7c8d")

    results = [delivery.deliver(completion, lambda_context) for completion in (report, succeeded, other_job)]

    assert [result[0].get("duplicate", False) for result in results] == [False, False, False]
    assert sent == [report, succeeded, other_job]


def test_the_record_of_a_completion_is_kept_for_a_week(report, sent, table, lambda_context):
    """Batch retries delivery for 24 h and Lambda keeps events 6 h: a late duplicate must still find it."""
    before = time.time()

    delivery.deliver(report, lambda_context)

    (record,) = boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]
    assert before + WEEK_SECONDS - 2 <= int(record["expiration"]["N"]) <= time.time() + WEEK_SECONDS + 2


def test_a_completion_delivered_before_a_redeployment_is_not_delivered_again_after_it(
    report, sent, lambda_context, monkeypatch
):
    """The function's name may change with a redeployment (a renamed stack or resource); the records of
    what was delivered must still be found."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "notifier-1a2b3c")
    delivery.deliver(report, lambda_context)
    reset_handler_caches()  # a new execution environment of the redeployed function
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "notifier-4d5e6f")

    (again,) = delivery.deliver(report, lambda_context)

    assert again.get("duplicate") is True
    assert sent == [report]


@pytest.mark.parametrize("sink", [delivery.publish_to_sns, delivery.publish_to_chat])
def test_each_sns_sink_names_itself_and_the_message_it_published(report, table, sink, monkeypatch):
    """What the decision log's `deliveries` shows operators: which sink, and SNS's id of the message."""
    sns = boto3.client("sns", region_name=REGION)
    monkeypatch.setenv("TOPIC_ARN", sns.create_topic(Name="completions")["TopicArn"])
    monkeypatch.setenv("CHAT_TOPIC_ARN", sns.create_topic(Name="chat")["TopicArn"])
    reset_handler_caches()

    result = sink(report)

    assert sorted(result) == ["messageId", "sink"]
    assert result["sink"] == {"publish_to_sns": "sns", "publish_to_chat": "chat"}[sink.__name__]
    assert len(result["messageId"]) == 36  # SNS message ids are UUIDs


def test_a_completion_being_delivered_is_claimed_only_until_the_invocation_would_time_out(
    report, table, lambda_context, monkeypatch
):
    """If the invocation times out mid-delivery, Lambda's retry must find the claim lapsed, not blocked for
    the record's week: the claim ends with the invocation's remaining time (60 s in this context)."""
    claims: list[dict[str, Any]] = []

    def publish_to_sns(report: CompletionReport) -> dict[str, Any]:
        claims.extend(boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"])
        return {"sink": "sns", "messageId": "message-1"}

    monkeypatch.setattr(delivery, "SINKS", (publish_to_sns,))
    before_ms = time.time() * 1000

    delivery.deliver(report, lambda_context)

    (claim,) = claims
    assert claim["status"]["S"] == "INPROGRESS"
    assert before_ms + 60_000 - 2_000 <= int(claim["in_progress_expiration"]["N"]) <= time.time() * 1000 + 60_000


def test_a_completion_is_delivered_to_the_completion_topic_once_delivered_and_no_longer_once_its_record_expired(
    report, sent, table, lambda_context
):
    """What the reconciliation sweep asks before reporting a job: a record past its week no longer counts
    (DynamoDB deletes expired items only eventually, so the item may still be there)."""
    assert delivery.delivered_to_completion_topic(report.job_id, report.status) is False

    delivery.deliver(report, lambda_context)
    assert delivery.delivered_to_completion_topic(report.job_id, report.status) is True
    assert delivery.delivered_to_completion_topic(report.job_id, "SUCCEEDED") is False

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    (record,) = dynamodb.scan(TableName=table)["Items"]
    dynamodb.update_item(
        TableName=table,
        Key={"id": record["id"]},
        UpdateExpression="SET expiration = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    delivery.reset()
    assert delivery.delivered_to_completion_topic(report.job_id, report.status) is False
