"""The handler when Batch throttles (HTTP 429 TooManyRequestsException), against moto.

Batch's answers are scripted at the HTTP layer (a `before-send` hook on the handler's session), below
botocore's retries, so the retry mode and attempts the handler's clients are made with (handler/aws.py)
are what is tested; Stubber answers above the retries and could not show them. botocore's backoff
sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.delivery import active_sinks, delivered_to_completion_topic
from batch_array_notify.handler.metrics import BATCH_CALLS_THROTTLED
from batch_array_notify.testing.emf import read_documents


class Throttling:
    """Answers the first `first` attempts of each Batch operation with a 429 (then lets moto answer)."""

    def __init__(self, first: int) -> None:
        self.first = first
        self.attempts: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = request.url.rstrip("/").rpartition("/")[2]  # /v1/describejobs, /v1/listjobs
        self.attempts[operation] += 1
        if self.attempts[operation] > self.first:
            return None
        body = json.dumps({"__type": "TooManyRequestsException", "message": "Too Many Requests"}).encode()
        return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "TooManyRequestsException"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def throttled_by(first: int) -> Throttling:
    throttling = Throttling(first)
    # Before the handler makes its first client: clients copy the session's hooks when they are made.
    aws.session().events.register_first("before-send.batch", throttling)
    return throttling


def failed_array_job(moto_batch: Any) -> str:
    """A FAILED array job: the handler makes all three kinds of Batch call (DescribeJobs, ListJobs, DescribeJobs)."""
    parent_id = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent_id, [2, 5], reason="Essential container in task exited")
    return str(parent_id)


def throttled_metric(stdout: str) -> float:
    documents = read_documents(stdout.splitlines())
    return sum(
        document.value(BATCH_CALLS_THROTTLED) for document in documents if BATCH_CALLS_THROTTLED in document.metrics
    )


def test_three_throttled_answers_per_operation_are_ridden_out_one_message_from_one_invocation(
    moto_batch, subscriber, lambda_context, backoffs, capsys
):
    parent_id = failed_array_job(moto_batch)
    throttling = throttled_by(3)

    result = handler(moto_batch.completion_event(parent_id), lambda_context)

    assert result["outcome"] == "delivered"
    assert len(subscriber.notifications()) == 1
    assert throttling.attempts == {"describejobs": 4 + 1, "listjobs": 4}
    assert len(backoffs) == 6, "one backoff per throttled answer"
    assert throttled_metric(capsys.readouterr().out) == 6


def test_a_throttle_that_outlasts_the_retries_sends_nothing_and_the_next_invocation_delivers_once(
    moto_batch, subscriber, lambda_context, backoffs, capsys
):
    parent_id = failed_array_job(moto_batch)
    event = moto_batch.completion_event(parent_id)
    throttling = throttled_by(aws.MAX_ATTEMPTS)

    with pytest.raises(Exception, match="TooManyRequestsException"):
        handler(event, lambda_context)

    assert subscriber.notifications() == []
    assert not delivered_to_completion_topic(parent_id, "FAILED"), "an idempotency record would block Lambda's retry"
    assert throttling.attempts == {"describejobs": aws.MAX_ATTEMPTS}
    assert throttled_metric(capsys.readouterr().out) == aws.MAX_ATTEMPTS

    # Lambda's retry, once Batch answers again: delivered once; a redelivery after it sends nothing.
    throttling.first = 0
    first = handler(event, lambda_context)
    again = handler(event, lambda_context)

    assert (first["outcome"], again["outcome"]) == ("delivered", "duplicate")
    assert len(subscriber.notifications()) == 1
    assert len(active_sinks()) >= 2, "every sink is under test, not only SNS"
