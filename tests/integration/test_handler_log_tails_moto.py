"""Log tails against moto: a FAILED array of 7 with 3 failing children whose streams hold known lines.

One message each time, whatever happens to the logs: with the streams there, the last lines under each
child (secrets masked, within the byte budget) after at most `failedLogChildren` GetLogEvents calls; with
the group missing, the streams missing, or CloudWatch Logs answering AccessDenied (a Stubber: moto grants
everything), each child says "log unavailable: <reason>" and the message still goes out, once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.report import DEFAULT_LOG_GROUP
from batch_array_notify.handler.settings import DEFAULT_FAILED_LOG_BYTES, DEFAULT_FAILED_LOG_LINES
from tests.integration.moto_stack import REGION, MotoBatch

FAILED = [1, 3, 5]
#: 30 lines per child, one of each credential shape among the last 20: what the tails must show, masked.
SECRETS = {
    "key id AKIAIOSFODNN7EXAMPLE": "key id ****",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": "aws_secret_access_key = ****",
    "db password=hunter2": "db password=****",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig": "Authorization: Bearer ****",
}


def _lines(index: int) -> list[str]:
    lines = [f"child {index} line {number:02d}" for number in range(26)]
    return [*lines, *SECRETS, f"child {index}: IndexError: list index out of range"]


def _expected_tail(index: int) -> list[str]:
    return [SECRETS.get(line, line) for line in _lines(index)][-DEFAULT_FAILED_LOG_LINES:]


@pytest.fixture
def failed_array(moto_batch: MotoBatch) -> str:
    parent = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent, FAILED, reason="Essential container in task exited")
    return parent


def _stream(moto_batch: MotoBatch, child_id: str) -> str:
    return str(moto_batch.describe_job(child_id)["container"]["logStreamName"])


@pytest.fixture
def log_group() -> Iterator[Any]:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=DEFAULT_LOG_GROUP)
    yield logs
    logs.delete_log_group(logGroupName=DEFAULT_LOG_GROUP)


def _write_streams(logs: Any, moto_batch: MotoBatch, parent: str) -> None:
    for index in FAILED:
        stream = _stream(moto_batch, f"{parent}:{index}")
        logs.create_log_stream(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream)
        # Recent times: CloudWatch Logs (and moto) refuse events older than 14 days.
        start = int(time.time() * 1000) - 60_000
        events = [{"timestamp": start + n, "message": line} for n, line in enumerate(_lines(index))]
        logs.put_log_events(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream, logEvents=events)


def _the_one_notification(subscriber: Any) -> tuple[str, dict[str, Any]]:
    (notification,) = subscriber.notifications()
    body = notification["Message"]
    return body, json.loads(body.partition("Machine-readable report (JSON):\n")[2])


def test_three_failed_children_get_their_last_lines_masked_in_one_message(
    failed_array, moto_batch, log_group, subscriber, aws_calls, lambda_context
):
    _write_streams(log_group, moto_batch, failed_array)

    result = handler(moto_batch.completion_event(failed_array), lambda_context)

    body, document = _the_one_notification(subscriber)
    assert result["outcome"] == "delivered"
    for child in document["failedChildren"]:
        tail = child["logTail"]
        assert tail == {"lines": _expected_tail(child["index"]), "truncated": False, "unavailable": None}
        assert len("\n".join(tail["lines"]).encode()) <= DEFAULT_FAILED_LOG_BYTES
        assert "\n".join(f"  | {line}" for line in tail["lines"]) in body
    assert [child["index"] for child in document["failedChildren"]] == FAILED
    assert not any(secret in body for secret in ("AKIAIOSFODNN7EXAMPLE", "hunter2", "wJalrXUtnFEMI", "eyJhbGci"))
    assert aws_calls["logs:GetLogEvents"] == len(FAILED)


def test_a_missing_group_says_so_under_each_child_and_the_message_still_goes_out(
    failed_array, moto_batch, subscriber, aws_calls, lambda_context
):
    assert handler(moto_batch.completion_event(failed_array), lambda_context)["outcome"] == "delivered"

    body, document = _the_one_notification(subscriber)
    reasons = {child["logTail"]["unavailable"] for child in document["failedChildren"]}
    assert reasons == {"ResourceNotFoundException: The specified log group does not exist."}
    assert body.count("  log unavailable: ResourceNotFoundException: The specified log group does not exist.") == 3
    assert aws_calls["logs:GetLogEvents"] == len(FAILED)


def test_missing_streams_say_so_and_the_message_still_goes_out(
    failed_array, moto_batch, log_group, subscriber, aws_calls, lambda_context
):
    assert handler(moto_batch.completion_event(failed_array), lambda_context)["outcome"] == "delivered"

    _, document = _the_one_notification(subscriber)
    reasons = [child["logTail"]["unavailable"] for child in document["failedChildren"]]
    # AWS answers "The specified log stream does not exist."; moto words a missing stream as a missing
    # group. The notifier passes AWS's own words on, so only the error code is moto's and AWS's alike.
    assert [reason.partition(": ")[0] for reason in reasons] == ["ResourceNotFoundException"] * len(FAILED)
    assert [child["logTail"]["lines"] for child in document["failedChildren"]] == [[]] * len(FAILED)
    assert aws_calls["logs:GetLogEvents"] == len(FAILED)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/notifier is not authorized"),
        ("ThrottlingException", "Rate exceeded"),
    ],
)
def test_access_denied_or_throttling_says_so_and_the_message_goes_out_once(
    failed_array, moto_batch, log_group, subscriber, lambda_context, code, message
):
    _write_streams(log_group, moto_batch, failed_array)
    event = moto_batch.completion_event(failed_array)
    # moto allows every call: CloudWatch Logs' refusal comes from a Stubber on the handler's own client.
    with Stubber(aws.client("logs")) as logs:
        for _ in FAILED:
            logs.add_client_error("get_log_events", service_error_code=code, service_message=message)
        assert handler(event, lambda_context)["outcome"] == "delivered"
        assert handler(event, lambda_context)["outcome"] == "duplicate"
        logs.assert_no_pending_responses()

    _, document = _the_one_notification(subscriber)
    reasons = {child["logTail"]["unavailable"] for child in document["failedChildren"]}
    assert reasons == {f"{code}: {message}"}
