"""tools.redrive without moto: the Lambda invoke path (botocore Stubber: moto cannot run a Lambda without
Docker), how an answer is judged, the command line's usage errors and exit codes, and no credentials."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from batch_array_notify.cli.redrive import Invocation, Outcome, Redrive, exit_code, judge, lambda_invoker, main
from batch_array_notify.handler.settings import IDEMPOTENCY_EXPIRY_SECONDS

EVENT = {"source": "aws.batch", "detail-type": "Batch Job State Change", "detail": {"jobId": "job-1"}}
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/undelivered"


def answered(payload: bytes, function_error: str | None = None) -> Invocation:
    """What `lambda_invoker` makes of a stubbed Invoke response."""
    client = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
    if function_error:
        response["FunctionError"] = function_error
    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            response,
            {"FunctionName": "notifier", "InvocationType": "RequestResponse", "Payload": json.dumps(EVENT).encode()},
        )
        invocation = lambda_invoker(client, "notifier")(EVENT)
        stub.assert_no_pending_responses()
    return invocation


def test_a_handled_function_error_fails_with_the_error_type_and_message():
    invocation = answered(b'{"errorType": "NotFoundException", "errorMessage": "Topic does not exist"}', "Handled")

    assert judge(invocation) == ("failed", "NotFoundException: Topic does not exist")


def test_an_unhandled_function_error_without_a_type_still_fails():
    invocation = answered(b'{"errorMessage": "Task timed out after 60.00 seconds"}', "Unhandled")

    assert judge(invocation) == ("failed", "Unhandled: Task timed out after 60.00 seconds")


def test_an_error_payload_that_is_not_json_still_fails():
    assert judge(answered(b"Process exited", "Unhandled")) == ("failed", "Unhandled function error: Process exited")


@pytest.mark.parametrize(
    ("payload", "judged"),
    [
        (b'{"outcome": "delivered", "jobId": "job-1"}', ("delivered", None)),
        (b'{"outcome": "duplicate", "jobId": "job-1"}', ("duplicate", None)),
        (b'{"outcome": "ignored", "reason": "job queue q is not one of"}', ("ignored", "job queue q is not one of")),
        (b'{"outcome": "rejected", "reason": "invalid"}', ("failed", "the notifier rejected it: invalid")),
        (b"null", ("replayed", "the notifier answered without an outcome")),
    ],
)
def test_a_successful_invoke_is_judged_by_the_handlers_outcome(payload, judged):
    assert judge(answered(payload)) == judged


def test_only_replayed_messages_count_as_done():
    def outcome(name: str) -> Outcome:
        return Outcome("q", "m", name)

    assert exit_code([outcome("delivered"), outcome("duplicate"), outcome("ignored")], dry_run=False) == 0
    assert exit_code([outcome("delivered"), outcome("failed")], dry_run=False) == 1
    assert exit_code([outcome("skipped")], dry_run=False) == 1
    assert exit_code([outcome("would replay")], dry_run=True) == 0
    assert exit_code([outcome("would replay"), outcome("skipped")], dry_run=True) == 1
    assert exit_code([], dry_run=False) == 0


def test_the_window_is_the_handlers_idempotency_expiry():
    assert Redrive(sqs=None, invoke=lambda event: Invocation(None)).window_seconds == IDEMPOTENCY_EXPIRY_SECONDS


# --------------------------------------------------------------------------------------------------
# Command line


def test_help_lists_the_iam_permissions_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])

    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    for permission in (
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "kms:Decrypt",
        "lambda:InvokeFunction",
    ):
        assert permission in help_text
    assert "3  AWS unreachable or failing (5xx), no credentials" in help_text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "pass --stack STAGE, or --queue-url and --function"),
        (["--queue-url", QUEUE_URL], "pass --stack STAGE, or --function"),
        (["--function", "f"], "pass --stack STAGE, or --queue-url"),
        (["--queue-url", "undelivered", "--function", "f"], "--queue-url 'undelivered' is not a queue URL"),
    ],
)
def test_missing_or_bad_targets_are_usage_errors_naming_the_option(argv, message, capsys):
    assert main(argv) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}")
    assert err.count("\n") == 1


def test_a_stack_without_the_outputs_is_a_usage_error(capsys):
    code = main(["--stack", "dev"], outputs=lambda stack, program: {"topicArn": "arn:t"})

    assert code == 2
    assert "stack 'dev' lacks the outputs deadLetterQueueUrl" in capsys.readouterr().err


def test_max_must_be_a_positive_number_within_what_sqs_keeps_in_flight(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--queue-url", QUEUE_URL, "--function", "f", "--max", "0"])

    assert exit_.value.code == 2
    assert "--max: must be 1 to 120000, got 0" in capsys.readouterr().err


def test_without_credentials_it_exits_3_with_one_line(capsys, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    # A session made earlier in this process may hold credentials already.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)

    with pytest.raises(SystemExit) as exit_:
        main(["--queue-url", QUEUE_URL, "--function", "notifier"])

    captured = capsys.readouterr()
    assert exit_.value.code == 3
    assert captured.out == ""
    assert captured.err.startswith("error: no AWS credentials found: set AWS_PROFILE")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
