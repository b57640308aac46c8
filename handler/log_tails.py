"""The last lines of the first failed children's CloudWatch Logs streams, for the report.

Bounded whatever happens: at most one `GetLogEvents` per child shown (no retries, short socket
timeouts), no call once the deadline has passed, and every failure (no group, no stream, AccessDenied,
throttling, a timeout) becomes "log unavailable: <reason>" on that child, never an error: the report is
sent with or without its tails. Lines that look like credentials are masked before they leave here.

`GetLogEvents` with `startFromHead=false` and `limit=N` answers the newest N events, oldest first (API
reference, GetLogEvents; "at most 10,000 log events or 1 MB"); a missing group or stream answers
`ResourceNotFoundException`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Final

from .accounts import client_for
from .report import CompletionReport, FailedChild, LogTail
from .settings import TailSettings

#: What every tail of one notification may take, in seconds, from the first call on.
TAIL_BUDGET_SECONDS: Final = 5.0
#: What is left for the sinks (SNS, PutEvents, chat, idempotency records) after the tails: no call
#: starts unless this much of the Lambda's remaining time would still be left (the notifier's timeout is 60 s).
DELIVERY_RESERVE_SECONDS: Final = 20.0
#: One call can overrun the deadline by at most this much (connect + read timeouts, no retries).
CALL_TIMEOUT_SECONDS: Final = 3.0
#: Why a child without a stream has no tail (failed before placement, EKS, a non-awslogs driver).
NO_STREAM: Final = "the child has no CloudWatch Logs stream (it never ran, or logs elsewhere)"
#: Where a notifier is told which groups it may read: the component's argument, the stack's config key.
NAME_THE_GROUP: Final = "name it in job_log_group_names, config existingJobLogGroupNames"
#: An AWS error message can be long (AccessDenied names the role and the resource); one line of it is enough.
MAX_REASON_CHARS: Final = 200
MASK: Final = "****"
ELLIPSIS: Final = "…"
#: Credential shapes masked in every line (docs/message-format.md lists them). Each keeps what names
#: the secret and replaces the secret itself.
SECRET_PATTERNS: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = (
    # AWS access key ids: long-term (AKIA) and temporary (ASIA), 20 upper-case letters and digits.
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
    # The value after aws_secret_access_key (credentials files, environment dumps, CLI config).
    (
        "AWS secret access key",
        re.compile(r"(?i)(aws_secret_access_key[\"']?\s*[=:]\s*[\"']?)[^\s\"',;]+"),
        rf"\g<1>{MASK}",
    ),
    # password=..., passwd: ..., pwd=... (also in JSON: "password": "...").
    ("password", re.compile(r"(?i)\b(password|passwd|pwd)([\"']?\s*[=:]\s*[\"']?)[^\s\"',;&]+"), rf"\g<1>\g<2>{MASK}"),
    # Authorization: Bearer <token>, or any bearer token (RFC 6750's token68; 8 characters or more, so
    # that "the bearer of" stays as it is).
    ("bearer token", re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*"), rf"\g<1>{MASK}"),
)
#: PEM private keys: the header, the body and the footer are all masked.
PRIVATE_KEY_BEGIN: Final = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
PRIVATE_KEY_END: Final = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def mask_secrets(lines: Iterable[str]) -> list[str]:
    """`lines` with every credential shape of `SECRET_PATTERNS` masked, and PEM private keys whole."""
    masked: list[str] = []
    in_private_key = False
    for line in lines:
        if PRIVATE_KEY_BEGIN.search(line):
            in_private_key = True
        if in_private_key:
            in_private_key = not PRIVATE_KEY_END.search(line)
            masked.append(f"{MASK} (private key)")
            continue
        masked.append(mask_line(line))
    return masked


def mask_line(line: str) -> str:
    """One line with every credential shape of `SECRET_PATTERNS` masked."""
    for _, pattern, replacement in SECRET_PATTERNS:
        line = pattern.sub(replacement, line)
    return line


def fit(lines: Sequence[str], max_bytes: int) -> LogTail:
    """The newest of `lines` whose UTF-8 encoding, one line break each, fits `max_bytes`. When even the
    newest line alone does not fit, its end is kept, marked with a leading `…`."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        size = len(line.encode()) + 1
        if used + size > max_bytes:
            if not kept:
                kept.append(_end_of(line, max_bytes - 1))
            return LogTail(tuple(reversed(kept)), truncated=True)
        kept.append(line)
        used += size
    return LogTail(tuple(reversed(kept)))


def _end_of(line: str, max_bytes: int) -> str:
    room = max_bytes - len(ELLIPSIS.encode())
    return ELLIPSIS + line.encode()[-room:].decode(errors="ignore")


def tail_deadline(remaining_ms: int, now: float) -> float:
    """When the last call may start: the tail budget from now, or earlier when the Lambda's remaining
    time would otherwise leave less than `DELIVERY_RESERVE_SECONDS` (plus one call) for the sinks."""
    room = remaining_ms / 1000 - DELIVERY_RESERVE_SECONDS - CALL_TIMEOUT_SECONDS
    return now + min(TAIL_BUDGET_SECONDS, room)


def with_log_tails(
    report: CompletionReport,
    settings: TailSettings,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> CompletionReport:
    """`report` with a tail on each of its first `settings.children` failed children (nothing when off)."""
    if not settings.enabled or not report.failed_children:
        return report
    shown = report.failed_children[: settings.children]
    tails = [_tail(child, report, settings, deadline, clock) for child in shown]
    children = [replace(child, log_tail=tail) for child, tail in zip(shown, tails, strict=True)]
    return replace(report, failed_children=(*children, *report.failed_children[settings.children :]))


def _tail(
    child: FailedChild, report: CompletionReport, settings: TailSettings, deadline: float, clock: Callable[[], float]
) -> LogTail:
    if child.log_group is None or child.log_stream is None:
        return LogTail(unavailable=NO_STREAM)
    if child.log_group not in settings.readable_groups:
        return LogTail(unavailable=f"the notifier may not read log group {child.log_group} ({NAME_THE_GROUP})")
    if clock() >= deadline:
        return LogTail(unavailable="the time budget for log tails was spent")
    # botocore comes with the first client (handler/aws.py); never imported at module import.
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        # A member's child logged in the member's account: read through its read role (accounts.py).
        answer = client_for("logs", report.origin).get_log_events(
            logGroupName=child.log_group, logStreamName=child.log_stream, startFromHead=False, limit=settings.lines
        )
    except ClientError as error:
        details = error.response.get("Error", {})
        reason = f"{details.get('Code', 'error')}: {details.get('Message', '')}".strip()
        return LogTail(unavailable=reason[:MAX_REASON_CHARS])
    except BotoCoreError as error:  # timeouts, no connection: the notification goes out anyway
        return LogTail(unavailable=f"no answer from CloudWatch Logs ({type(error).__name__})")
    messages = [str(event.get("message", "")).rstrip("\n") for event in answer.get("events", [])]
    lines = [line for message in messages for line in message.splitlines() or [""]]
    return fit(mask_secrets(lines[-settings.lines :]), settings.bytes_per_child)
