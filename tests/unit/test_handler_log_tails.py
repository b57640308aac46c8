"""handler/log_tails.py: which secrets are masked, how a tail fits its bytes, and what reading tails may
cost (one GetLogEvents per child shown, none past the deadline, none on a group the role may not read),
with botocore's Stubber standing in for CloudWatch Logs; and how tails read in the e-mail and in chat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from batch_array_notify.handler import aws, log_tails
from batch_array_notify.handler.chat import CHAT_TAIL_CHARS, LIMITS, chat_message
from batch_array_notify.handler.delivery import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE
from batch_array_notify.handler.log_tails import (
    DELIVERY_RESERVE_SECONDS,
    MASK,
    SECRET_PATTERNS,
    TAIL_BUDGET_SECONDS,
    fit,
    mask_secrets,
    tail_deadline,
    with_log_tails,
)
from batch_array_notify.handler.report import DEFAULT_LOG_GROUP, CompletionReport, FailedChild, LogTail, sns_message
from batch_array_notify.handler.settings import (
    MAX_FAILED_LOG_BYTES,
    MAX_FAILED_LOG_CHILDREN,
    MAX_FAILED_LOG_LINES,
    TailSettings,
)
from batch_array_notify.testing.rehearsal_world import FAKE_CREDENTIALS, reset_handler_caches

PARENT = "11111111-2222-4333-8444-555555555555"
SETTINGS = TailSettings(children=3, lines=20, bytes_per_child=2048, readable_groups=(DEFAULT_LOG_GROUP,))
#: One example per entry of SECRET_PATTERNS (a test keeps the two in step), and how it must read.
SECRET_EXAMPLES = {
    "AWS access key id": [
        ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", f"export AWS_ACCESS_KEY_ID={MASK}"),
        ("session key ASIAY34FZKBOKMUTVV7A in use", f"session key {MASK} in use"),
    ],
    "AWS secret access key": [
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY", f"aws_secret_access_key = {MASK}"),
        ('{"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}', f'{{"AWS_SECRET_ACCESS_KEY": "{MASK}"}}'),
    ],
    "password": [
        ("connecting with password=hunter2 to db", f"connecting with password={MASK} to db"),
        ("passwd: hunter2", f"passwd: {MASK}"),
        ('{"pwd": "hunter2", "user": "app"}', f'{{"pwd": "{MASK}", "user": "app"}}'),
        ("postgres://app?user=app&PASSWORD=hunter2&ssl=1", f"postgres://app?user=app&PASSWORD={MASK}&ssl=1"),
    ],
    "bearer token": [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc-_", f"Authorization: Bearer {MASK}"),
        ("curl -H 'authorization: bearer abc123def456=='", f"curl -H 'authorization: bearer {MASK}'"),
    ],
}


def child(index: int, *, group: str | None = DEFAULT_LOG_GROUP, stream: str | None = "auto") -> FailedChild:
    return FailedChild(
        index=index,
        job_id=f"{PARENT}:{index}",
        status_reason="Essential container in task exited",
        exit_code=1,
        container_reason=None,
        log_group=group,
        log_stream=f"print-color/default/{index}" if stream == "auto" else stream,
        logs_url=None,
    )


def report(*children: FailedChild) -> CompletionReport:
    return CompletionReport(
        stage="dev",
        status="FAILED",
        status_reason=None,
        job_id=PARENT,
        job_name="print-color",
        job_arn=None,
        job_queue_arn="arn:aws:batch:eu-west-1:123456789012:job-queue/q",
        job_definition_arn="arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:1",
        array_size=10,
        succeeded=10 - len(children),
        failed=len(children),
        failed_children=children,
        created_at_ms=None,
        stopped_at_ms=None,
        job_url="https://example.test/job",
    )


@pytest.fixture
def logs(monkeypatch) -> Iterator[Stubber]:
    for name, value in {**FAKE_CREDENTIALS, "AWS_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    for name, value in {
        "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
        "STAGE": "dev",
        "IDEMPOTENCY_TABLE": "t",
        "JOB_QUEUE_ARNS": "arn:aws:batch:eu-west-1:123456789012:job-queue/q",
    }.items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    with Stubber(aws.client("logs")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    reset_handler_caches()


def _expect(stubber: Stubber, index: int, messages: list[str], limit: int = 20) -> None:
    stubber.add_response(
        "get_log_events",
        {"events": [{"timestamp": 1, "message": message, "ingestionTime": 1} for message in messages]},
        {
            "logGroupName": DEFAULT_LOG_GROUP,
            "logStreamName": f"print-color/default/{index}",
            "startFromHead": False,
            "limit": limit,
        },
    )


# --------------------------------------------------------------------------------------------------
# Masking


def test_every_secret_pattern_has_examples():
    assert set(SECRET_EXAMPLES) == {name for name, _, _ in SECRET_PATTERNS}


@pytest.mark.parametrize(
    ("line", "masked"), [pair for pairs in SECRET_EXAMPLES.values() for pair in pairs], ids=lambda value: value[:24]
)
def test_each_credential_shape_is_masked(line, masked):
    assert mask_secrets([line]) == [masked]


def test_a_private_key_is_masked_from_its_header_to_its_footer():
    lines = ["before", "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA", "-----END RSA PRIVATE KEY-----", "after"]

    assert mask_secrets(lines) == ["before", *[f"{MASK} (private key)"] * 3, "after"]


@pytest.mark.parametrize(
    "line",
    ["passwords are hashed with bcrypt", "AKIA is the prefix of access key ids", "the bearer of bad news", "pwd"],
)
def test_lines_without_a_secret_are_left_alone(line):
    assert mask_secrets([line]) == [line]


# --------------------------------------------------------------------------------------------------
# Fitting a tail into its bytes


def test_a_tail_keeps_the_newest_lines_that_fit_its_bytes():
    lines = [f"line {n}" for n in range(10)]  # 7 bytes each with its line break

    assert fit(lines, 20) == LogTail(("line 8", "line 9"), truncated=True)
    assert fit(lines, 21) == LogTail(("line 7", "line 8", "line 9"), truncated=True)
    assert fit(lines, 70) == LogTail(tuple(lines))


def test_a_newest_line_too_long_alone_keeps_its_end_within_the_bytes():
    tail = fit(["é" * 5000], 300)

    (line,) = tail.lines
    assert tail.truncated
    assert line.startswith("…")
    assert line.endswith("é")
    assert len(line.encode()) + 1 <= 300


def test_a_cut_inside_a_multi_byte_character_drops_what_is_left_of_it():
    """297 bytes of room after the ellipsis hold 148 two-byte characters and half of one more."""
    (line,) = fit(["é" * 5000], 301).lines

    assert line == "…" + "é" * 148


# --------------------------------------------------------------------------------------------------
# What reading tails costs


def test_only_the_first_children_get_a_tail_one_call_each(logs):
    for index in range(3):
        _expect(logs, index, [f"child {index} says goodbye"])

    tailed = with_log_tails(report(*(child(index) for index in range(5))), SETTINGS, deadline=float("inf"))

    assert [c.log_tail for c in tailed.failed_children] == [
        LogTail((f"child {index} says goodbye",)) for index in range(3)
    ] + [None, None]


def test_a_multi_line_event_counts_its_lines_and_the_newest_are_kept(logs):
    _expect(logs, 0, ["first\nsecond", "third\n"], limit=2)

    tailed = with_log_tails(report(child(0)), replace(SETTINGS, lines=2), deadline=float("inf"))

    assert tailed.failed_children[0].log_tail == LogTail(("second", "third"))


def test_no_call_once_the_deadline_has_passed(logs):
    _expect(logs, 0, ["only the first child is read"])
    ticks = iter([0.0, 10.0, 10.0])

    tailed = with_log_tails(report(child(0), child(1), child(2)), SETTINGS, deadline=5.0, clock=lambda: next(ticks))

    assert [c.log_tail.unavailable for c in tailed.failed_children if c.log_tail] == [
        None,
        "the time budget for log tails was spent",
        "the time budget for log tails was spent",
    ]


def test_groups_the_role_may_not_read_and_children_without_a_stream_cost_no_call(logs):
    children = report(child(0, group="/other/group"), child(1, group=None, stream=None))

    tailed = with_log_tails(children, SETTINGS, deadline=float("inf"))

    assert [c.log_tail.unavailable for c in tailed.failed_children if c.log_tail] == [
        "the notifier may not read log group /other/group "
        "(name it in job_log_group_names, config existingJobLogGroupNames)",
        log_tails.NO_STREAM,
    ]


def test_a_call_that_times_out_leaves_the_child_without_a_tail(logs, monkeypatch):
    def time_out(**_: Any) -> dict[str, Any]:
        raise ReadTimeoutError(endpoint_url="https://logs.eu-west-1.amazonaws.com")

    monkeypatch.setattr(aws.client("logs"), "get_log_events", time_out)

    tailed = with_log_tails(report(child(0)), SETTINGS, deadline=float("inf"))

    assert tailed.failed_children[0].log_tail == LogTail(
        unavailable="no answer from CloudWatch Logs (ReadTimeoutError)"
    )


@pytest.mark.parametrize("off", [{"children": 0}, {"lines": 0}, {"bytes_per_child": 0}, {"readable_groups": ()}])
def test_any_setting_at_zero_turns_tails_off(logs, off):
    unchanged = report(child(0))

    assert with_log_tails(unchanged, replace(SETTINGS, **off), deadline=float("inf")) is unchanged


def test_the_logs_client_never_retries_and_gives_up_quickly(logs):
    config = aws.client("logs").meta.config

    assert config.retries["total_max_attempts"] == 1
    assert config.connect_timeout + config.read_timeout <= log_tails.CALL_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    ("remaining_ms", "deadline"),
    [(60_000, TAIL_BUDGET_SECONDS), (25_000, 25 - DELIVERY_RESERVE_SECONDS - 3), (10_000, 10 - 23)],
)
def test_the_deadline_leaves_the_sinks_their_reserve(remaining_ms, deadline):
    assert tail_deadline(remaining_ms, now=100.0) == pytest.approx(100.0 + deadline)


def test_the_notifier_timeout_holds_the_budget_the_reserve_and_one_late_call():
    from batch_array_notify.notifier import NOTIFIER_TIMEOUT_SECONDS  # noqa: PLC0415

    spent = TAIL_BUDGET_SECONDS + log_tails.CALL_TIMEOUT_SECONDS + DELIVERY_RESERVE_SECONDS
    assert spent < NOTIFIER_TIMEOUT_SECONDS
    assert tail_deadline(NOTIFIER_TIMEOUT_SECONDS * 1000, now=0.0) == TAIL_BUDGET_SECONDS


# --------------------------------------------------------------------------------------------------
# How tails read, and that the largest still fit every sink


def _largest() -> CompletionReport:
    """100 failed children in detail, the first `MAX_FAILED_LOG_CHILDREN` with tails of the largest size."""
    line = "x<&>" * (MAX_FAILED_LOG_BYTES // MAX_FAILED_LOG_LINES // 4 - 1)
    tail = fit([line] * MAX_FAILED_LOG_LINES, MAX_FAILED_LOG_BYTES)
    children = [replace(child(i), log_tail=tail if i < MAX_FAILED_LOG_CHILDREN else None) for i in range(100)]
    return replace(report(*children), array_size=10_000, failed=10_000)


def test_the_largest_tails_fit_the_sns_message_and_the_completion_event():
    largest = _largest()
    message = sns_message(largest)
    entry = {
        "Source": COMPLETION_EVENT_SOURCE,
        "DetailType": COMPLETION_EVENT_DETAIL_TYPE,
        "Detail": json.dumps(largest.document()),
    }

    assert len(largest.failed_children[0].log_tail.lines) == MAX_FAILED_LOG_LINES
    assert len(message.body.encode()) < 256 * 1024  # SNS: 256 KB
    assert len(json.dumps(entry).encode()) < 256 * 1024  # PutEvents: 256 KB an entry


def test_the_email_shows_each_line_under_its_child_and_says_why_one_is_missing():
    tailed = report(
        replace(child(0), log_tail=LogTail(("ValueError: bad colour",))),
        replace(child(1), log_tail=LogTail(unavailable="AccessDeniedException: no")),
    )

    body = sns_message(tailed).body

    assert f"(job {PARENT}:0), exit code 1: Essential container in task exited\n" in body
    assert "  last 1 lines of the log:\n  | ValueError: bad colour\n" in body
    assert "  log unavailable: AccessDeniedException: no\n" in body


def test_chat_shows_the_newest_lines_of_a_tail_escaped_in_a_code_block():
    lines = (*(f"old line {n}" for n in range(100)), "```<!channel> & done")
    tailed = report(replace(child(0), log_tail=LogTail(lines)))

    description = chat_message(tailed)["content"]["description"]

    block = description.split("\n```\n", 1)[1].rsplit("\n```", 1)[0]
    assert block.endswith("\n'''&lt;!channel&gt; &amp; done")
    assert "old line 99" in block
    assert "old line 0\n" not in block
    assert len(block) <= CHAT_TAIL_CHARS
    assert len(description) <= LIMITS["description"].chars


def test_chat_lists_the_largest_tails_within_its_budget_and_counts_the_rest():
    description = chat_message(_largest())["content"]["description"]

    assert len(description) <= LIMITS["description"].chars
    assert description.count("\n```\n") >= 1
    assert description.splitlines()[-1].startswith("…and ")


def test_chat_lists_a_child_without_its_tail_when_only_the_child_fits():
    # A child line of about 2,700 characters: with its tail it would pass the 3,000 of the description.
    long_link = replace(child(0), logs_url=f"https://example.test/{'l' * 2400}", log_tail=LogTail(("x" * 300,)))

    description = chat_message(report(long_link))["content"]["description"]

    assert "• index 0 " in description
    assert "```" not in description
    assert len(description) <= LIMITS["description"].chars
