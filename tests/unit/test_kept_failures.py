"""tools.kept_failures: the event inside each kind of kept message, what is not one, and the age it counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from batch_array_notify.cli.kept_failures import KeptEvent, Unreplayable, age_seconds, read_kept

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).timestamp()
EVENT_TIME = "2026-12-01T12:00:00Z"  # one day before NOW


def completion_event(**changes: Any) -> dict[str, Any]:
    event = {
        "version": "0",
        "id": "e-1",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "time": EVENT_TIME,
        "detail": {"jobId": "job-1", "status": "FAILED", "arrayProperties": {"size": 3}},
    }
    return event | changes


def invocation_record(payload: Any) -> dict[str, Any]:
    """Lambda's on-failure record, as docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
    shows it."""
    return {
        "version": "1.0",
        "timestamp": "2026-12-01T12:05:00.000Z",
        "requestContext": {"requestId": "r-1", "functionArn": "arn:f", "condition": "RetriesExhausted"},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "NotFoundException", "errorMessage": "Topic does not exist"},
    }


def test_a_dead_letter_body_is_the_event():
    kept = read_kept(json.dumps(completion_event()), sent_timestamp_ms=None, now=NOW, error_message="NO_PERMISSIONS")

    assert kept == KeptEvent(
        event=completion_event(),
        origin="event",
        job_id="job-1",
        status="FAILED",
        age_seconds=86400.0,
        kept_because="NO_PERMISSIONS",
    )


def test_an_on_failure_record_gives_its_request_payload_and_last_error():
    kept = read_kept(json.dumps(invocation_record(completion_event())), sent_timestamp_ms=None, now=NOW)

    assert isinstance(kept, KeptEvent)
    assert kept.event == completion_event()
    assert kept.origin == "on-failure record"
    assert kept.kept_because == "NotFoundException: Topic does not exist"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not an event: the body is not JSON"),
        ("[1, 2]", "not an event: the body is a JSON list, not an object"),
        (json.dumps(invocation_record("text")), "not an event: an invocation record without a requestPayload object"),
        (json.dumps({"source": "aws.batch"}), "not an event: no detail-type, detail in the event"),
        (json.dumps(invocation_record({"hello": 1})), "not an event: no source, detail-type, detail in the on-failure"),
    ],
)
def test_what_is_not_an_event_is_described(body, reason):
    kept = read_kept(body, sent_timestamp_ms=1, now=NOW)

    assert isinstance(kept, Unreplayable)
    assert kept.reason.startswith(reason)


def test_another_rules_event_is_not_a_completion_for_the_notifier():
    alert = completion_event(**{"detail-type": "Batch Job Queue Blocked"})

    kept = read_kept(json.dumps(alert), sent_timestamp_ms=None, now=NOW)

    assert kept == Unreplayable(
        "not a completion for the notifier (source 'aws.batch', detail-type 'Batch Job Queue Blocked')",
        "job-1",
        "FAILED",
    )


def test_the_age_counts_from_the_older_of_event_time_and_sent_timestamp():
    day_before_ms = int((NOW - 2 * 86400) * 1000)

    assert age_seconds(EVENT_TIME, int(NOW * 1000), NOW) == 86400  # the event is older than its message
    assert age_seconds(EVENT_TIME, day_before_ms, NOW) == 2 * 86400  # a clock ahead of SQS's
    assert age_seconds("yesterday", day_before_ms, NOW) == 2 * 86400  # no readable time
    assert age_seconds(None, None, NOW) is None
