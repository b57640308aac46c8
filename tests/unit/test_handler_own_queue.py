"""The handler knows its own queues (`JOB_QUEUE_ARNS`): another queue's completion is ignored, with its
reason logged, and never reported; the notifier's own queues' completions go through."""

from __future__ import annotations

import collections
import logging

import pytest

from batch_array_notify.handler.app import handler
from batch_array_notify.handler.scope import Completion, Skip, decide, on_own_queue
from batch_array_notify.handler.settings import settings
from batch_array_notify.testing.eventgen import ArrayJobSpec, array_job_events
from tests.unit.test_handler_app import Context

OURS = "arn:aws:batch:eu-west-1:123456789012:job-queue/render"
ALSO_OURS = "arn:aws:batch:eu-west-1:123456789012:job-queue/encode"
THEIRS = "arn:aws:batch:eu-west-1:123456789012:job-queue/render-other-team"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


def parent_completion(queue_arn: str) -> dict:
    (last,) = collections.deque(array_job_events(ArrayJobSpec(queue_arn, DEFINITION_ARN, size=3)), maxlen=1)
    return last


def completion(queue_arn: str) -> Completion:
    decision = decide(parent_completion(queue_arn))
    assert isinstance(decision, Completion)
    return decision


@pytest.mark.parametrize("queue_arn", [OURS, ALSO_OURS])
def test_a_completion_of_one_of_the_notifiers_queues_goes_through(queue_arn):
    decision = completion(queue_arn)

    assert on_own_queue(decision, {OURS, ALSO_OURS}) is decision


@pytest.mark.parametrize("queue_arn", [THEIRS, OURS + "x", OURS.replace("eu-west-1", "us-east-1")])
def test_a_completion_of_any_other_queue_is_skipped_naming_the_queue(queue_arn):
    decision = on_own_queue(completion(queue_arn), {OURS, ALSO_OURS})

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert f"job queue {queue_arn} is not one of this notifier's 2 queue(s)" == decision.reason
    assert (decision.job_id, decision.status) == (completion(queue_arn).job.job_id, "SUCCEEDED")


@pytest.fixture
def own_queue_environment(monkeypatch):
    for name, value in {
        "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:done",
        "STAGE": "dev",
        "IDEMPOTENCY_TABLE": "idempotency",
        "AWS_REGION": "eu-west-1",
        "JOB_QUEUE_ARNS": f"{OURS},{ALSO_OURS}",
    }.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_the_handler_ignores_another_queues_completion_and_logs_it_as_ignored(own_queue_environment, caplog):
    caplog.set_level(logging.INFO)
    event = parent_completion(THEIRS)

    # No AWS here: a handler that went on to report would fail on its first Batch call.
    result = handler(event, Context())

    assert result == {"outcome": "ignored", "reason": f"job queue {THEIRS} is not one of this notifier's 2 queue(s)"}
    (record,) = [record for record in caplog.records if hasattr(record, "decision")]
    assert record.levelno == logging.INFO
    assert (record.decision, record.jobId, record.status) == ("ignored", event["detail"]["jobId"], "SUCCEEDED")
