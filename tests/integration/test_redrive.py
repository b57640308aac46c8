"""tools.redrive against moto: kept failures go back into the real handler, once per array job.

What moto does not run, and what stands in for it (moto_stack.py):
- Lambda: moto cannot invoke a function without Docker, so the notifier is invoked in this process
  (`invoke_in_process`: the real handler against moto; an exception becomes `FunctionError: Unhandled`, as
  a Lambda invoke answers). The production path, boto3's `lambda.invoke`, is unit-tested with botocore's
  Stubber (tests/unit/test_redrive_command.py).
- Asynchronous invokes and destinations: moto runs neither, so `invoke_asynchronously` makes the attempts
  Lambda makes and sends Lambda's invocation record to the on-failure queue when all of them fail.
- EventBridge's dead-letter queue: `keep_undelivered` puts the event there as EventBridge does.
SQS itself (receive, visibility, delete) is moto's.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from batch_array_notify.cli.redrive import Invocation, main
from tests.integration.moto_stack import (
    REGION,
    BatchStack,
    MotoBatch,
    invoke_asynchronously,
    invoke_in_process,
    keep_undelivered,
)
from tests.support import SimulatedTime

FUNCTION = "batch-array-notify-test"
RULE_ARN = f"arn:aws:events:{REGION}:123456789012:rule/batch-array-notify-completion"


@dataclass(frozen=True)
class FailureQueues:
    dead_letter: str
    on_failure: str


@pytest.fixture
def queues(handler_env: BatchStack) -> FailureQueues:
    """Fresh failure queues for each test (creating two queues in moto is cheap)."""
    sqs = boto3.client("sqs", region_name=REGION)
    suffix = uuid.uuid4().hex[:8]
    return FailureQueues(
        dead_letter=sqs.create_queue(QueueName=f"undelivered-{suffix}")["QueueUrl"],
        on_failure=sqs.create_queue(QueueName=f"notifier-failed-{suffix}")["QueueUrl"],
    )


@pytest.fixture
def invoke(lambda_context: Any) -> Any:
    return invoke_in_process(lambda_context)


@contextmanager
def sns_outage(stack: BatchStack) -> Iterator[None]:
    """The topic is gone (Publish answers NotFound, as SNS does); afterwards it and its subscriber are back."""
    sns = boto3.client("sns", region_name=REGION)
    sns.delete_topic(TopicArn=stack.topic_arn)
    try:
        yield
    finally:
        sns.create_topic(Name=stack.topic_arn.rpartition(":")[2])
        subscriber_arn = boto3.client("sqs", region_name=REGION).get_queue_attributes(
            QueueUrl=stack.subscriber_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=subscriber_arn)


def completion(moto_batch: MotoBatch, size: int, *, age: timedelta = timedelta(0)) -> dict[str, Any]:
    """A fresh array job's terminal event, its `time` `age` ago (the conftest's events carry a fixed date)."""
    event = moto_batch.completion_event(moto_batch.submit_array_job(size=size), event_id=str(uuid.uuid4()))
    event["time"] = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def messages_in(url: str) -> list[dict[str, Any]]:
    """Every message of the queue, left visible (a zero visibility timeout hides nothing)."""
    response = boto3.client("sqs", region_name=REGION).receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return list(response.get("Messages", []))


def job_ids(notifications: list[dict[str, Any]]) -> list[str]:
    """The job id of each notification's report (the JSON document that ends the message)."""
    return [
        json.loads(note["Message"].partition("Machine-readable report (JSON):\n")[2])["jobId"] for note in notifications
    ]


def redrive(
    capsys: Any, queues: FailureQueues, *argv: str, invoker: Any, time: SimulatedTime | None = None
) -> tuple[int, str, str]:
    """One run of the tool; its pacer waits in simulated time (`time`, or a fresh one)."""
    urls = ("--queue-url", queues.on_failure, "--queue-url", queues.dead_letter)
    time = time or SimulatedTime()
    code = main(
        [*urls, "--function", FUNCTION, *argv],
        invoker=invoker,
        receive_wait_seconds=0,
        pacer_clock=time.clock,
        pacer_sleep=time.sleep,
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def outcomes(out: str) -> list[dict[str, Any]]:
    return list(json.loads(out)["messages"])


def test_sns_failing_keeps_completions_and_redrive_notifies_each_array_job_once(
    handler_env, moto_batch, subscriber, queues, invoke, lambda_context, capsys
):
    events = [completion(moto_batch, size) for size in (2, 3, 4)]

    with sns_outage(handler_env):
        handled = [
            invoke_asynchronously(event, invoke, queues.on_failure, lambda_context.invoked_function_arn)
            for event in events
        ]

    assert handled == [False, False, False]
    records = [json.loads(message["Body"]) for message in messages_in(queues.on_failure)]
    assert sorted(record["requestPayload"]["id"] for record in records) == sorted(event["id"] for event in events)
    assert {record["requestContext"]["condition"] for record in records} == {"RetriesExhausted"}
    assert all("NotFound" in record["responsePayload"]["errorMessage"] for record in records)
    assert subscriber.notifications() == []
    # The first completion was also kept by the rule's dead-letter queue: two copies, one notification.
    keep_undelivered(events[0], queues.dead_letter, RULE_ARN, lambda_context.invoked_function_arn)

    code, out, err = redrive(capsys, queues, "--json", invoker=invoke)

    assert code == 0, out + err
    assert sorted(job_ids(subscriber.notifications())) == sorted(event["detail"]["jobId"] for event in events)
    assert messages_in(queues.on_failure) == []
    assert messages_in(queues.dead_letter) == []
    results = outcomes(out)
    assert sorted(result["outcome"] for result in results) == ["delivered", "delivered", "delivered", "duplicate"]
    (duplicate,) = [result for result in results if result["outcome"] == "duplicate"]
    assert duplicate["jobId"] == events[0]["detail"]["jobId"]
    assert duplicate["origin"] == "event"
    assert {result["origin"] for result in results if result["outcome"] == "delivered"} == {"on-failure record"}


def test_the_summary_table_names_each_job_its_status_and_outcome(moto_batch, subscriber, queues, invoke, capsys):
    event = completion(moto_batch, 2)
    keep_undelivered(event, queues.dead_letter, RULE_ARN, FUNCTION)

    code, out, _ = redrive(capsys, queues, invoker=invoke)

    assert code == 0
    header, columns, row, counts = out.strip().splitlines()
    assert header == f"1 message(s) read from 2 queue(s) for {FUNCTION}"
    assert columns.split() == ["queue", "job", "id", "status", "outcome"]
    assert row.split() == [queues.dead_letter.rpartition("/")[2], event["detail"]["jobId"], "SUCCEEDED", "delivered"]
    assert counts == "1 delivered"
    assert len(subscriber.notifications()) == 1


def test_dry_run_changes_nothing(batch_stack, moto_batch, subscriber, queues, capsys):
    events = [completion(moto_batch, 2), completion(moto_batch, 3)]
    keep_undelivered(events[0], queues.dead_letter, RULE_ARN, FUNCTION)
    keep_undelivered(events[1], queues.dead_letter, RULE_ARN, FUNCTION)
    records_before = boto3.client("dynamodb", region_name=REGION).scan(TableName=batch_stack.idempotency_table)
    invoked: list[Any] = []

    def must_not_invoke(event: Any) -> Invocation:
        invoked.append(event)
        return Invocation({"outcome": "delivered"})

    code, out, _ = redrive(capsys, queues, "--dry-run", "--json", invoker=must_not_invoke)

    assert code == 0
    assert [result["outcome"] for result in outcomes(out)] == ["would replay", "would replay"]
    assert invoked == []
    # Still there, and visible at once (the dry run's short hiding was undone).
    assert sorted(json.loads(message["Body"])["id"] for message in messages_in(queues.dead_letter)) == sorted(
        event["id"] for event in events
    )
    assert subscriber.notifications() == []
    records_after = boto3.client("dynamodb", region_name=REGION).scan(TableName=batch_stack.idempotency_table)
    assert records_after["Count"] == records_before["Count"]


def test_a_poison_message_stays_and_is_reported(moto_batch, subscriber, queues, invoke, capsys):
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=queues.dead_letter, MessageBody="{not json")
    sqs.send_message(QueueUrl=queues.on_failure, MessageBody=json.dumps({"requestContext": {}, "requestPayload": 7}))
    good = completion(moto_batch, 2)
    keep_undelivered(good, queues.dead_letter, RULE_ARN, FUNCTION)

    code, out, _ = redrive(capsys, queues, "--json", invoker=invoke)

    assert code == 1
    results = outcomes(out)
    assert sorted(result["outcome"] for result in results) == ["delivered", "skipped", "skipped"]
    reasons = sorted(result["reason"] for result in results if result["outcome"] == "skipped")
    assert reasons[0] == "not an event: an invocation record without a requestPayload object"
    assert reasons[1].startswith("not an event: the body is not JSON")
    assert [result["jobId"] for result in results if result["outcome"] == "delivered"] == [good["detail"]["jobId"]]
    assert [message["Body"] for message in messages_in(queues.dead_letter)] == ["{not json"]
    assert len(messages_in(queues.on_failure)) == 1
    assert len(subscriber.notifications()) == 1


def test_a_message_that_fails_again_stays_with_the_reason(handler_env, moto_batch, subscriber, queues, invoke, capsys):
    keep_undelivered(completion(moto_batch, 2), queues.dead_letter, RULE_ARN, FUNCTION)

    with sns_outage(handler_env):
        code, out, _ = redrive(capsys, queues, "--json", invoker=invoke)

    assert code == 1
    (result,) = outcomes(out)
    assert result["outcome"] == "failed"
    assert result["reason"].startswith("NotFoundException: ")
    assert len(messages_in(queues.dead_letter)) == 1  # visible again at once, for the next run
    assert subscriber.notifications() == []


def test_an_old_message_is_skipped_without_force_and_replayed_with_it(moto_batch, subscriber, queues, invoke, capsys):
    old = completion(moto_batch, 2, age=timedelta(days=8))
    keep_undelivered(old, queues.dead_letter, RULE_ARN, FUNCTION)

    code, out, _ = redrive(capsys, queues, "--json", invoker=invoke)

    assert code == 1
    (skipped,) = outcomes(out)
    assert skipped["outcome"] == "skipped"
    assert skipped["reason"].startswith("8.0 days old, past the 7-day idempotency window")
    assert len(messages_in(queues.dead_letter)) == 1
    assert subscriber.notifications() == []

    code, out, _ = redrive(capsys, queues, "--json", "--force", invoker=invoke)

    assert code == 0
    # Read three times: by the first run, by this test's look at the queue, and now.
    assert [(result["outcome"], result["receiveCount"]) for result in outcomes(out)] == [("delivered", 3)]
    assert messages_in(queues.dead_letter) == []
    assert job_ids(subscriber.notifications()) == [old["detail"]["jobId"]]


def test_max_bounds_the_messages_handled(moto_batch, subscriber, queues, invoke, capsys):
    for size in (2, 3, 4):
        keep_undelivered(completion(moto_batch, size), queues.dead_letter, RULE_ARN, FUNCTION)

    code, out, _ = redrive(capsys, queues, "--json", "--max", "2", invoker=invoke)

    assert code == 0
    assert [result["outcome"] for result in outcomes(out)] == ["delivered", "delivered"]
    assert len(messages_in(queues.dead_letter)) == 1
    assert len(subscriber.notifications()) == 2


def test_a_blocked_queue_alert_is_not_replayed_into_the_notifier(moto_batch, queues, invoke, capsys):
    alert = completion(moto_batch, 2)
    alert["detail-type"] = "Batch Job Queue Blocked"
    keep_undelivered(alert, queues.dead_letter, RULE_ARN, "arn:aws:sns:eu-west-1:123456789012:alerts")

    code, out, _ = redrive(capsys, queues, "--json", invoker=invoke)

    assert code == 1
    (result,) = outcomes(out)
    assert result["outcome"] == "skipped"
    assert "detail-type 'Batch Job Queue Blocked'" in result["reason"]
    assert len(messages_in(queues.dead_letter)) == 1


def test_the_queues_and_function_come_from_the_stack_outputs(moto_batch, subscriber, queues, invoke, capsys):
    keep_undelivered(completion(moto_batch, 2), queues.dead_letter, RULE_ARN, FUNCTION)
    outputs = {
        "deadLetterQueueUrl": queues.dead_letter,
        "notifierFailureQueueUrl": queues.on_failure,
        "notifierFunctionName": FUNCTION,
    }

    code = main(["--stack", "dev"], outputs=lambda stack, program: outputs, invoker=invoke, receive_wait_seconds=0)

    assert code == 0
    assert f"read from 2 queue(s) for {FUNCTION}" in capsys.readouterr().out
    assert messages_in(queues.dead_letter) == []
    assert len(subscriber.notifications()) == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_is_drawn_on_a_terminal_only(moto_batch, queues, invoke, capsys):
    for size in (2, 3, 4):
        keep_undelivered(completion(moto_batch, size), queues.dead_letter, RULE_ARN, FUNCTION)
    terminal = Terminal()
    urls = ["--queue-url", queues.dead_letter, "--function", FUNCTION]

    assert main([*urls, "--dry-run"], invoker=invoke, stderr=terminal, receive_wait_seconds=0) == 0
    quiet_terminal = Terminal()
    assert main([*urls, "--dry-run", "--json"], invoker=invoke, stderr=quiet_terminal, receive_wait_seconds=0) == 0
    piped = io.StringIO()
    assert main([*urls, "--dry-run"], invoker=invoke, stderr=piped, receive_wait_seconds=0) == 0

    frames = terminal.getvalue().split("\r")[1:]
    assert frames[-1] == f"[{'#' * 30}] 3/3 messages\n"
    assert len(frames) == 3
    assert piped.getvalue() == ""
    assert quiet_terminal.getvalue() == ""  # --json output is for programs
    capsys.readouterr()


def test_replays_are_paced_to_the_batch_calls_they_may_make(moto_batch, subscriber, queues, invoke, capsys):
    for size in (2, 3, 4, 5):
        keep_undelivered(completion(moto_batch, size), queues.dead_letter, RULE_ARN, FUNCTION)
    started: list[float] = []
    time = SimulatedTime()

    def timed(event: Any) -> Any:
        started.append(time.now)
        return invoke(event)

    code, out, _ = redrive(capsys, queues, "--json", "--batch-calls-per-second", "8", invoker=timed, time=time)

    assert code == 0
    assert [result["outcome"] for result in outcomes(out)] == ["delivered"] * 4
    # 4 Batch calls each at 8 a second, a bucket of 8: two at once, then one every half second.
    assert started == [0.0, 0.0, 0.5, 1.0]


def test_a_pace_beyond_batchs_account_rate_is_a_usage_error(queues, invoke, capsys):
    with pytest.raises(SystemExit) as exited:
        redrive(capsys, queues, "--batch-calls-per-second", "51", invoker=invoke)

    assert exited.value.code == 2
    assert "--batch-calls-per-second: must be 1 to 50, got 51" in capsys.readouterr().err
