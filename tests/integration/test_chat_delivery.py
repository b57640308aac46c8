"""The chat sink against moto: one custom notification per array job on the chat topic, however often the
completion is delivered, on its own idempotency key; and none at all without a chat topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.delivery import SINKS, active_sinks, publish_to_chat
from batch_array_notify.testing.rehearsal_world import reset_handler_caches, subscribe_queue
from batch_array_notify.testing.rule_harness import drain_queue
from tests.chat_schema import CUSTOM_NOTIFICATION_SCHEMA
from tests.integration.moto_stack import REGION, BatchStack


@pytest.fixture(scope="module")
def chat_topic(batch_stack: BatchStack) -> tuple[str, str]:
    """A chat topic in the module's moto account, read through an SQS subscriber: (topic ARN, queue URL)."""
    topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name="batch-array-notify-chat")["TopicArn"]
    return topic_arn, subscribe_queue(topic_arn, "chat-subscriber", REGION)


@pytest.fixture
def chat_env(handler_env: BatchStack, chat_topic: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The handler with CHAT_TOPIC_ARN set, an empty chat subscriber queue; yields the queue URL."""
    topic_arn, queue_url = chat_topic
    monkeypatch.setenv("CHAT_TOPIC_ARN", topic_arn)
    _chat_messages(queue_url)
    reset_handler_caches()
    yield queue_url
    reset_handler_caches()


def _chat_messages(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    return [json.loads(envelope["Message"]) for envelope in drain_queue(sqs, queue_url)]


def test_three_deliveries_of_one_completion_send_one_chat_message(
    chat_env, moto_batch, subscriber, aws_calls, lambda_context
):
    parent_id = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent_id, [2, 5], reason="Essential container in task exited")
    deliveries = [moto_batch.completion_event(parent_id, event_id=f"event-{n}") for n in range(3)]

    outcomes = [handler(event, lambda_context)["outcome"] for event in deliveries]

    assert outcomes == ["delivered", "duplicate", "duplicate"]
    (message,) = _chat_messages(chat_env)
    jsonschema.validate(message, CUSTOM_NOTIFICATION_SCHEMA)
    assert message["metadata"]["threadId"] == parent_id
    assert message["content"]["keywords"] == ["test", "test-queue", "FAILED"]
    assert "2 failed" in message["content"]["description"]
    assert len(subscriber.notifications()) == 1
    # One publish to each topic; every sink, the chat sink included, claims its own key on each delivery.
    assert aws_calls["sns:Publish"] == 2
    assert aws_calls["dynamodb:PutItem"] == 3 * len(SINKS)
    assert aws_calls["dynamodb:UpdateItem"] == len(SINKS)


def test_a_failed_chat_publish_is_retried_without_repeating_the_other_sinks(
    chat_env, chat_topic, moto_batch, subscriber, aws_calls, lambda_context
):
    topic_arn, _ = chat_topic
    failures: list[str] = []

    def fail_chat_once(params: dict[str, Any], **_: Any) -> None:
        if params.get("TopicArn") == topic_arn and not failures:
            failures.append("Throttling")
            raise ClientError({"Error": {"Code": "Throttling", "Message": "injected by the test"}}, "Publish")

    aws.session().events.register("before-parameter-build.sns.Publish", fail_chat_once)
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=3))

    with pytest.raises(ClientError, match="Throttling"):
        handler(event, lambda_context)
    assert _chat_messages(chat_env) == []
    # The completion topic's sink runs last: its record is the one that says the completion was reported.
    assert subscriber.notifications() == []

    results = handler(event, lambda_context)["deliveries"]

    assert [result["sink"] for result in results] == ["eventbridge", "chat", "sns"]
    assert [bool(result.get("duplicate")) for result in results] == [True, False, False]
    assert len(_chat_messages(chat_env)) == 1
    assert len(subscriber.notifications()) == 1
    assert failures == ["Throttling"]


def test_without_a_chat_topic_the_chat_sink_is_not_run(handler_env, moto_batch, aws_calls, lambda_context):
    assert publish_to_chat not in active_sinks()

    result = handler(moto_batch.completion_event(moto_batch.submit_array_job(size=2)), lambda_context)

    assert [delivery["sink"] for delivery in result["deliveries"]] == ["eventbridge", "sns"]
    assert aws_calls["sns:Publish"] == 1
    assert aws_calls["dynamodb:PutItem"] == len(SINKS) - 1
