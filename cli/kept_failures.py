"""What the two failure queues keep, read back: the original event inside a message, its job and its age.

The rules' dead-letter queue keeps the event itself as the body (EventBridge adds `RULE_ARN`, `TARGET_ARN`,
`ERROR_CODE`, `ERROR_MESSAGE` as message attributes). The notifier's on-failure queue keeps Lambda's
invocation record, the event in its `requestPayload`; the format, from "Capturing records of Lambda
asynchronous invocations" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html,
"Example invocation record"):

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId": "...", "functionArn": "...", "condition": "RetriesExhausted",
                        "approximateInvokeCount": 3},
     "requestPayload": {...the event...},
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
     "responsePayload": {"errorMessage": "..."}}

Pure: no AWS. Anything that is not a completion event is described, never raised.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

#: What the notifier's completion rule matches; the dead-letter queue also keeps other rules' events
#: (blocked-queue alerts for the alerts topic, completion events for a downstream function), which the
#: notifier would only ignore: replaying them there would delete them without ever reaching their target.
BATCH_SOURCE: Final = "aws.batch"
JOB_STATE_CHANGE: Final = "Batch Job State Change"
ENVELOPE_FIELDS: Final = ("source", "detail-type", "detail")
RECORD_FIELDS: Final = ("requestContext", "requestPayload")


@dataclass(frozen=True)
class KeptEvent:
    """A completion event a failure queue kept, ready to replay."""

    event: dict[str, Any]
    origin: str
    """`event` (a dead-letter queue body) or `on-failure record` (a Lambda invocation record)."""
    job_id: str | None
    status: str | None
    age_seconds: float | None
    """Since the older of the event's `time` and the message's SentTimestamp; None when neither is known."""
    kept_because: str | None
    """Why it was kept: the dead-letter queue's ERROR_MESSAGE or the record's last error."""


@dataclass(frozen=True)
class Unreplayable:
    """A message that is not a completion event for the notifier; it stays where it is."""

    reason: str
    job_id: str | None = None
    status: str | None = None


def read_kept(
    body: str, *, sent_timestamp_ms: int | None, now: float, error_message: str | None = None
) -> KeptEvent | Unreplayable:
    """The completion event inside one kept message, or why there is none."""
    try:
        document = json.loads(body)
    except ValueError as error:
        return Unreplayable(f"not an event: the body is not JSON ({error})")
    if not isinstance(document, dict):
        return Unreplayable(f"not an event: the body is a JSON {type(document).__name__}, not an object")
    origin, event = "event", document
    if any(field in document for field in RECORD_FIELDS):
        payload = document.get("requestPayload")
        if not isinstance(payload, dict):
            return Unreplayable("not an event: an invocation record without a requestPayload object")
        origin, event = "on-failure record", payload
        error_message = _record_error(document) or error_message
    missing = [field for field in ENVELOPE_FIELDS if field not in event]
    if missing:
        return Unreplayable(f"not an event: no {', '.join(missing)} in the {origin}")
    detail = event["detail"]
    job_id, status = (
        (_text(detail.get("jobId")), _text(detail.get("status"))) if isinstance(detail, dict) else (None, None)
    )
    if event["source"] != BATCH_SOURCE or event["detail-type"] != JOB_STATE_CHANGE:
        return Unreplayable(
            f"not a completion for the notifier (source {event['source']!r}, detail-type {event['detail-type']!r})",
            job_id,
            status,
        )
    return KeptEvent(
        event=event,
        origin=origin,
        job_id=job_id,
        status=status,
        age_seconds=age_seconds(event.get("time"), sent_timestamp_ms, now),
        kept_because=error_message,
    )


def age_seconds(event_time: Any, sent_timestamp_ms: int | None, now: float) -> float | None:
    """How long ago the completion may first have been handled: from the older of the two times.

    The idempotency record that makes a replay safe was written when the notifier first handled the
    completion, which is after the event's `time` and before the message was sent to its queue (after the
    retries). Counting from the older time can only overstate the age, so an event is never replayed
    after its record may have expired. The event's `time` is usually the older and the truer one (a
    message moved between queues gets a new SentTimestamp); SentTimestamp covers an event without a
    readable `time`, or with a clock ahead of SQS's.
    """
    starts = [ms / 1000 for ms in [sent_timestamp_ms] if ms is not None]
    if isinstance(event_time, str):
        with contextlib.suppress(ValueError):
            starts.append(datetime.fromisoformat(event_time).timestamp())
    return now - min(starts) if starts else None


def _record_error(record: Mapping[str, Any]) -> str | None:
    response = record.get("responsePayload")
    if isinstance(response, dict) and isinstance(response.get("errorMessage"), str):
        error_type = response.get("errorType")
        return f"{error_type}: {response['errorMessage']}" if isinstance(error_type, str) else response["errorMessage"]
    context = record.get("requestContext")
    return _text(context.get("condition")) if isinstance(context, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
