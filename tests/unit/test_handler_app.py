"""handler.app without AWS: skipped events are returned, never raised, and logged once at the right
level with the reason (and, when malformed, the whole event)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from batch_array_notify.handler.app import handler
from tools.eventgen import ArrayJobSpec, array_job_events

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


@dataclass(frozen=True)
class Context:
    function_name: str = "notifier"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:notifier"
    aws_request_id: str = "req-1"


@pytest.fixture
def decisions(caplog):
    """Log records of the handler's decisions (records carrying a `decision` field)."""
    caplog.set_level(logging.INFO)
    return lambda: [record for record in caplog.records if hasattr(record, "decision")]


def test_malformed_event_is_logged_at_error_in_full_and_not_raised(decisions):
    event = {"source": "aws.batch", "detail-type": "Batch Job State Change", "detail": {"jobId": 42}}

    result = handler(event, Context())

    assert result["outcome"] == "rejected"
    (record,) = decisions()
    assert record.levelno == logging.ERROR
    assert record.decision == "rejected"
    assert record.event == event
    assert "jobId: Input should be a valid string" in record.reason
    assert result["reason"] == record.reason


def test_irrelevant_event_is_logged_at_info_with_job_id_and_status(decisions):
    child = list(array_job_events(ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=2)))[-2]

    result = handler(child, Context())

    assert result["outcome"] == "ignored"
    (record,) = decisions()
    assert record.levelno == logging.INFO
    assert (record.decision, record.jobId, record.status) == ("ignored", child["detail"]["jobId"], "SUCCEEDED")
    assert "array child" in record.reason
