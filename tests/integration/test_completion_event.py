"""The normalized completion event on EventBridge, through moto: a consumer rule on the bus (the
pattern the component gives consumers) forwards to SQS; exactly one event per array job arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from batch_array_notify.completion_bus import (
    COMPLETION_EVENT_DETAIL_TYPE,
    COMPLETION_EVENT_SOURCE,
    completion_event_pattern,
)
from batch_array_notify.handler import aws, delivery
from batch_array_notify.handler.app import handler
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from batch_array_notify.testing.rule_harness import drain_queue
from tests.integration.moto_stack import REGION, BatchStack

BUS = "analytics"


class BusConsumer:
    """A rule on the completion bus with an SQS target: what another stack would deploy."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def events(self) -> list[dict[str, Any]]:
        return drain_queue(boto3.client("sqs", region_name=REGION), self.queue_url)


@pytest.fixture(scope="module")
def consumer_queue(batch_stack: BatchStack) -> str:
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="completion-consumer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="this-queues-completions",
        EventBusName=BUS,
        EventPattern=json.dumps(completion_event_pattern(batch_stack.job_queue_arn)),
    )
    events.put_targets(Rule="this-queues-completions", EventBusName=BUS, Targets=[{"Id": "consumer", "Arn": queue_arn}])
    return str(queue_url)


@pytest.fixture
def consumer(handler_env: BatchStack, consumer_queue: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[BusConsumer]:
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    reset_handler_caches()
    bus_consumer = BusConsumer(consumer_queue)
    bus_consumer.events()  # start empty
    yield bus_consumer
    reset_handler_caches()


def test_duplicate_deliveries_put_exactly_one_normalized_event(consumer, moto_batch, subscriber, lambda_context):
    parent_id = moto_batch.submit_array_job(size=5)
    # Batch may re-emit a completion under a new event id, so the ids differ too.
    deliveries = [moto_batch.completion_event(parent_id, event_id=f"dup-{n}") for n in range(3)]

    outcomes = [handler(event, lambda_context)["outcome"] for event in deliveries]

    assert outcomes == ["delivered", "duplicate", "duplicate"]
    (event,) = consumer.events()
    assert len(subscriber.notifications()) == 1
    assert event["source"] == COMPLETION_EVENT_SOURCE
    assert event["detail-type"] == COMPLETION_EVENT_DETAIL_TYPE
    detail = event["detail"]
    assert detail["jobId"] == parent_id
    assert detail["status"] == "SUCCEEDED"
    assert detail["jobQueue"] == "test-queue"
    assert detail["jobQueueArn"] == moto_batch.stack.job_queue_arn
    assert detail["arraySize"] == 5
    assert detail["counts"] == {"succeeded": 5, "failed": 0, "notFinal": 0}
    assert detail["stage"] == "test"


def test_a_failed_array_job_reports_its_failed_count(consumer, moto_batch, lambda_context):
    parent_id = moto_batch.submit_array_job(size=4)
    moto_batch.fail_children(parent_id, [1, 3], "Essential container in task exited")

    handler(moto_batch.completion_event(parent_id), lambda_context)
    handler(moto_batch.completion_event(parent_id, event_id="again"), lambda_context)

    (event,) = consumer.events()
    assert event["detail"]["status"] == "FAILED"
    assert event["detail"]["counts"]["failed"] == 2
    assert sorted(child["index"] for child in event["detail"]["failedChildren"]) == [1, 3]


def test_put_events_failing_once_is_retried_without_a_second_sns_message(
    consumer, moto_batch, subscriber, lambda_context
):
    failures: list[str] = []

    def fail_once(**_: Any) -> None:
        if not failures:
            failures.append("ThrottlingException")
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "PutEvents")

    aws.session().events.register("before-call.events.PutEvents", fail_once)
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))

    with pytest.raises(ClientError, match="ThrottlingException"):
        handler(event, lambda_context)
    assert consumer.events() == []
    # The completion topic's sink runs last: nothing was published, so nothing counts as reported.
    assert subscriber.notifications() == []

    result = handler(event, lambda_context)  # Lambda's retry

    assert [(d["sink"], d.get("duplicate", False)) for d in result["deliveries"]] == [
        ("eventbridge", False),
        ("sns", False),
    ]
    assert len(consumer.events()) == 1
    assert len(subscriber.notifications()) == 1


def test_a_failed_entry_fails_the_invocation_and_the_retry_puts_it(consumer, moto_batch, lambda_context):
    # PutEvents answers 200 and reports the failure in the entry, e.g. under internal errors.
    refused: list[dict[str, Any]] = []

    def refuse_once(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if refused:
            return None
        refused.append({"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]})
        return AWSResponse("https://events", 200, {}, None), refused[0]

    aws.session().events.register("before-call.events.PutEvents", refuse_once)
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))

    with pytest.raises(delivery.PutEventsError, match="InternalFailure"):
        handler(event, lambda_context)
    assert consumer.events() == []

    assert handler(event, lambda_context)["outcome"] == "delivered"
    assert len(consumer.events()) == 1


def test_a_missing_bus_fails_the_invocation(consumer, moto_batch, lambda_context, monkeypatch):
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    reset_handler_caches()
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=2))

    with pytest.raises(ClientError, match="no-such-bus"):
        handler(event, lambda_context)
