"""Replay the events the failure queues kept into the notifier, and delete each one it took.

    batch-array-notify redrive --stack dev [--dry-run] [--max N] [--json] [--force]
    batch-array-notify redrive --queue-url URL [--queue-url URL ...] --function NAME [--region REGION]
    batch-array-notify redrive --stack dev --batch-calls-per-second 20   # replay faster (default 5)

Failures are kept, not lost: the completion rules' dead-letter queue keeps events EventBridge could not
deliver (the body is the event), the notifier's on-failure queue keeps Lambda's record of events the
notifier failed on after its retries (the event is the record's `requestPayload`). SQS's own redrive only
moves messages between queues; this tool puts them back into the Lambda.

The queues and the function come from `pulumi stack output --json` (deadLetterQueueUrl,
notifierFailureQueueUrl, notifierFunctionName) when the Pulumi CLI is installed, or from `--queue-url`
(repeatable: either queue, in any order; each message says which kind it is) and `--function`, which win.

For each message (at most `--max` in all): the original event is taken out and the notifier invoked with
it synchronously (RequestResponse). The message is deleted only when the invocation succeeded without a
function error; a message that fails again stays, with the reason. Each outcome:
  delivered   the notifier reported the completion now
  duplicate   it had been reported before (the idempotency record answered); nothing was sent
  ignored     the notifier does not report it (e.g. another queue's job); the notifier says why
  failed      a function error, or the notifier rejected the event; the message stays
  skipped     not replayed; the message stays: not an event (not JSON, wrong shape), not a completion
              for the notifier (a blocked-queue alert for the alerts topic, a downstream rule's event),
              or older than the notifier's idempotency window without --force

Replays are paced: each invocation may make up to 4 Batch calls (handler/batch_jobs.py), and the tool
starts no more invocations than `--batch-calls-per-second` (default 5 of the account's 50) pays for, so a
large replay never takes Batch's quota from your own orchestrator (the pacer is handler/pacing.py's).

Replay is safe: the notifier reports a completion once per job id and status and keeps that record for
its idempotency window (7 days). A message older than that may have been reported already and its record
expired, so it could notify twice: it is listed and skipped unless `--force`. The age counts from the
older of the event's `time` and the message's SentTimestamp.

`--dry-run` invokes nothing and deletes nothing: it reads the messages (hiding them for at most 30 s,
then making them visible again at once) and says what it would do. Messages left in a queue are made
visible again at the end of the run. A progress bar is drawn on stderr when it is a terminal; the
summary table (queue, job id, status, outcome) or, with `--json`, one JSON document goes to stdout.

IAM permissions the caller needs:
  sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility
      on both queues (deadLetterQueueArn, notifierFailureQueueArn)
  kms:Decrypt on the stack's key (kmsKeyArn): both queues are encrypted with it
  lambda:InvokeFunction on the notifier (notifierFunctionArn)
  with --stack: read access to the stack in its Pulumi backend (`pulumi stack output`)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Final, TextIO

from batch_array_notify.cli.arguments import stack_name, whole_number
from batch_array_notify.cli.aws_errors import exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.cli.kept_failures import KeptEvent, Unreplayable, read_kept
from batch_array_notify.cli.progress import progress_for
from batch_array_notify.cli.stack_outputs import UsageError, stack_outputs
from batch_array_notify.handler.aws import new_client
from batch_array_notify.handler.batch_jobs import MAX_BATCH_CALLS_PER_NOTIFICATION
from batch_array_notify.handler.pacing import Pacer
from batch_array_notify.handler.settings import (
    DEFAULT_SWEEP_BATCH_CALLS_PER_SECOND,
    IDEMPOTENCY_EXPIRY_SECONDS,
    MAX_SWEEP_BATCH_CALLS_PER_SECOND,
)

QUEUE_OUTPUTS: Final = ("deadLetterQueueUrl", "notifierFailureQueueUrl")
FUNCTION_OUTPUT: Final = "notifierFunctionName"
#: The notifier's 60 s timeout plus margin: a received message stays hidden while it is replayed.
INVOKE_SECONDS: Final = 90
#: Long enough to page through a queue without reading a message twice; the run makes them visible at the end.
DRY_RUN_VISIBILITY_SECONDS: Final = 30
#: A standard queue holds at most about 120,000 in-flight messages (received, not deleted), and a run keeps
#: what it leaves hidden until its end (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html).
MAX_MESSAGES: Final = 120_000
#: SQS returns at most 10 messages per receive (and takes 10 entries per batch call).
SQS_BATCH: Final = 10
#: Long polling asks every SQS server, so an empty answer means the queue is empty (short polling samples).
RECEIVE_WAIT_SECONDS: Final = 1
SUCCEEDED: Final = frozenset({"delivered", "duplicate", "ignored", "replayed"})
_QUEUE_URL = re.compile(r"^https://(?:sqs\.(?P<region>[a-z0-9-]+)\.|(?P<legacy>[a-z0-9-]+)\.queue\.)amazonaws\.com")


@dataclass(frozen=True)
class Invocation:
    """What a synchronous invoke answered: the function's return value, or its error (`function_error`
    is Lambda's X-Amz-Function-Error, `Handled` or `Unhandled`; the payload is then the error object)."""

    payload: Any
    function_error: str | None = None


Invoker = Callable[[Mapping[str, Any]], Invocation]


@dataclass(frozen=True)
class Outcome:
    """What happened to one message."""

    queue: str
    message_id: str
    outcome: str
    reason: str | None = None
    job_id: str | None = None
    status: str | None = None
    origin: str | None = None
    age_seconds: float | None = None
    kept_because: str | None = None
    receive_count: int | None = None
    """SQS's ApproximateReceiveCount: how often the message has been read, this run included."""

    @classmethod
    def of(cls, kept: KeptEvent, queue: str, message_id: str, outcome: str, reason: str | None = None) -> Outcome:
        return cls(
            queue,
            message_id,
            outcome,
            reason,
            kept.job_id,
            kept.status,
            kept.origin,
            kept.age_seconds,
            kept.kept_because,
        )

    def text(self) -> str:
        return f"{self.outcome}: {self.reason}" if self.reason else self.outcome

    def document(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "messageId": self.message_id,
            "jobId": self.job_id,
            "status": self.status,
            "outcome": self.outcome,
            "reason": self.reason,
            "origin": self.origin,
            "ageSeconds": None if self.age_seconds is None else round(self.age_seconds),
            "keptBecause": self.kept_because,
            "receiveCount": self.receive_count,
        }


@dataclass(frozen=True)
class Targets:
    queue_urls: tuple[str, ...]
    function: str


# --------------------------------------------------------------------------------------------------
# Invoking the notifier


def lambda_invoker(client: Any, function: str) -> Invoker:
    """Invoke `function` synchronously, as Lambda would have, and read its answer."""

    def invoke(event: Mapping[str, Any]) -> Invocation:
        response = client.invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
        )
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return Invocation(payload=payload, function_error=response.get("FunctionError"))

    return invoke


def paced(invoker: Invoker, pacer: Pacer) -> Invoker:
    """`invoker`, waiting first until `pacer` has room for the Batch calls one notification may make."""

    def invoke(event: Mapping[str, Any]) -> Invocation:
        pacer.wait(MAX_BATCH_CALLS_PER_NOTIFICATION)
        return invoker(event)

    return invoke


def judge(invocation: Invocation) -> tuple[str, str | None]:
    """The outcome and reason of one replay, from the handler's answer (handler/app.py returns
    `{"outcome": "delivered" | "duplicate" | "ignored" | "rejected", ...}`)."""
    payload = invocation.payload
    if invocation.function_error:
        if isinstance(payload, dict) and "errorMessage" in payload:
            return "failed", f"{payload.get('errorType') or invocation.function_error}: {payload['errorMessage']}"
        return "failed", f"{invocation.function_error} function error: {payload}"
    outcome = payload.get("outcome") if isinstance(payload, dict) else None
    reason = payload.get("reason") if isinstance(payload, dict) else None
    if outcome in ("delivered", "duplicate"):
        return str(outcome), None
    if outcome == "ignored":
        return "ignored", str(reason) if reason else None
    if outcome == "rejected":
        # Malformed for the handler: retrying can never help, and deleting it would lose the evidence.
        return "failed", f"the notifier rejected it: {reason}"
    return "replayed", "the notifier answered without an outcome"


# --------------------------------------------------------------------------------------------------
# Reading the queues


@dataclass
class Redrive:
    sqs: Any
    invoke: Invoker
    dry_run: bool = False
    force: bool = False
    window_seconds: int = IDEMPOTENCY_EXPIRY_SECONDS
    receive_wait_seconds: int = RECEIVE_WAIT_SECONDS
    clock: Callable[[], float] = time.time
    outcomes: list[Outcome] = field(default_factory=list)
    _left: dict[str, list[str]] = field(default_factory=dict)

    def run(self, queue_urls: Sequence[str], limit: int | None, advance: Callable[[], None]) -> list[Outcome]:
        """Handle at most `limit` messages of the queues, in order; leave what fails, visible again."""
        try:
            for url in queue_urls:
                for message in self._messages(url, limit):
                    count = (message.get("Attributes") or {}).get("ApproximateReceiveCount")
                    outcome = self._handle(url, message)
                    self.outcomes.append(replace(outcome, receive_count=int(count) if count else None))
                    advance()
        finally:
            self._make_visible_again()
        return self.outcomes

    def _messages(self, url: str, limit: int | None) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        while limit is None or len(self.outcomes) < limit:
            count = SQS_BATCH if limit is None else min(SQS_BATCH, limit - len(self.outcomes))
            messages = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=count,
                VisibilityTimeout=DRY_RUN_VISIBILITY_SECONDS if self.dry_run else count * INVOKE_SECONDS,
                WaitTimeSeconds=self.receive_wait_seconds,
                MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [message for message in messages if message["MessageId"] not in seen]
            # A message seen before means the queue has been read round (its hiding ran out): stop there.
            for message in messages:
                if message["MessageId"] in seen:
                    self._leave(url, message)
            if not fresh:
                return
            for message in fresh:
                seen.add(message["MessageId"])
                yield message

    def _handle(self, url: str, message: Mapping[str, Any]) -> Outcome:
        attributes = message.get("Attributes") or {}
        sent = attributes.get("SentTimestamp")
        error_attribute = ((message.get("MessageAttributes") or {}).get("ERROR_MESSAGE") or {}).get("StringValue")
        kept = read_kept(
            str(message.get("Body", "")),
            sent_timestamp_ms=int(sent) if sent else None,
            now=self.clock(),
            error_message=error_attribute,
        )
        queue, message_id = queue_name(url), str(message["MessageId"])
        if isinstance(kept, Unreplayable):
            self._leave(url, message)
            return Outcome(queue, message_id, "skipped", kept.reason, kept.job_id, kept.status)
        too_old = self._too_old(kept)
        if too_old:
            self._leave(url, message)
            return Outcome.of(kept, queue, message_id, "skipped", too_old)
        if self.dry_run:
            self._leave(url, message)
            return Outcome.of(kept, queue, message_id, "would replay")
        outcome, reason = judge(self.invoke(kept.event))
        if outcome in SUCCEEDED:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            self._leave(url, message)
        return Outcome.of(kept, queue, message_id, outcome, reason)

    def _too_old(self, kept: KeptEvent) -> str | None:
        if self.force or kept.age_seconds is None or kept.age_seconds <= self.window_seconds:
            return None
        return (
            f"{kept.age_seconds / 86400:.1f} days old, past the {self.window_seconds / 86400:g}-day idempotency "
            "window: it may notify twice; --force replays it"
        )

    def _leave(self, url: str, message: Mapping[str, Any]) -> None:
        self._left.setdefault(url, []).append(str(message["ReceiptHandle"]))

    def _make_visible_again(self) -> None:
        """Messages left in a queue become visible now, not after the hiding: for the next run, the
        queue's alarm and anyone looking."""
        for url, handles in self._left.items():
            for start in range(0, len(handles), SQS_BATCH):
                entries = [
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(handles[start : start + SQS_BATCH])
                ]
                self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        self._left.clear()


def queue_name(url: str) -> str:
    return url.rstrip("/").rpartition("/")[2]


def queued_messages(sqs: Any, queue_urls: Sequence[str]) -> int:
    """Roughly how many messages wait in the queues (for the progress bar; SQS counts approximately)."""
    total = 0
    for url in queue_urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        total += int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return total


# --------------------------------------------------------------------------------------------------
# Command line


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify redrive",
        __doc__,
        bad_outcome="a message failed again or was skipped (it stays in its queue)",
        uses_aws=True,
    )
    arguments.add_argument("--stack", type=stack_name, help="stack whose outputs name the queues and the notifier")
    arguments.add_argument(
        "--queue-url",
        action="append",
        dest="queue_urls",
        metavar="URL",
        help="a failure queue to replay (repeatable; default: the stack's two failure queues)",
    )
    arguments.add_argument("--function", help="the notifier's name or ARN (default: the stack's notifierFunctionName)")
    arguments.add_argument("--dry-run", action="store_true", help="say what would be done; invoke and delete nothing")
    arguments.add_argument(
        "--max",
        type=whole_number(1, MAX_MESSAGES, "SQS keeps at most about 120,000 messages of a queue in flight"),
        metavar="N",
        help=f"handle at most N messages in all, 1 to {MAX_MESSAGES}",
    )
    arguments.add_argument("--json", action="store_true", help="one JSON document on stdout instead of the table")
    arguments.add_argument("--force", action="store_true", help="also replay messages older than the window")
    arguments.add_argument("--region", help="AWS region (default: the queue URL's)")
    arguments.add_argument(
        "--batch-calls-per-second",
        type=whole_number(1, MAX_SWEEP_BATCH_CALLS_PER_SECOND),
        default=DEFAULT_SWEEP_BATCH_CALLS_PER_SECOND,
        metavar="R",
        help="pace replays to R of the account's Batch calls a second (default %(default)s)",
    )
    arguments.add_argument("--program", type=Path, default=Path(), help="Pulumi program folder (default: .)")
    return arguments


def resolve_targets(options: argparse.Namespace, outputs: Callable[[], Mapping[str, Any]]) -> Targets:
    """Flags win; otherwise the stack's outputs, read only when a flag is missing."""
    urls, function = list(options.queue_urls or []), options.function
    if not urls or not function:
        if not options.stack:
            missing = " and ".join(
                flag for flag, given in (("--queue-url", urls), ("--function", function)) if not given
            )
            raise UsageError(f"pass --stack STAGE, or {missing} (no stack named to read them from)")
        values = outputs()
        urls = urls or [str(values[name]) for name in QUEUE_OUTPUTS if values.get(name)]
        function = function or values.get(FUNCTION_OUTPUT)
        if not urls or not function:
            names = ", ".join((*QUEUE_OUTPUTS, FUNCTION_OUTPUT))
            raise UsageError(f"stack {options.stack!r} lacks the outputs {names}; pass --queue-url and --function")
    for url in urls:
        if not url.startswith("https://"):
            raise UsageError(f"--queue-url {url!r} is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
    return Targets(tuple(dict.fromkeys(urls)), str(function))


def region_for(options: argparse.Namespace, targets: Targets) -> str | None:
    """`--region`, else the first queue URL's region, else boto3's default."""
    if options.region:
        return str(options.region)
    match = _QUEUE_URL.match(targets.queue_urls[0])
    return (match.group("region") or match.group("legacy")) if match else None


def render(outcomes: Sequence[Outcome], targets: Targets, *, dry_run: bool) -> str:
    """The summary table, then the counts."""
    dry = " (dry run: nothing invoked or deleted)" if dry_run else ""
    lines = [f"{len(outcomes)} message(s) read from {len(targets.queue_urls)} queue(s) for {targets.function}{dry}"]
    if outcomes:
        rows = [("queue", "job id", "status", "outcome")] + [
            (outcome.queue, outcome.job_id or "-", outcome.status or "-", outcome.text()) for outcome in outcomes
        ]
        # The outcome, last, is not padded: it may be a long reason.
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        lines += [
            "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]) for row in rows
        ]
    counts = Counter(outcome.outcome for outcome in outcomes)
    lines.append(", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "nothing to replay")
    return "\n".join(lines)


def exit_code(outcomes: Sequence[Outcome], *, dry_run: bool) -> int:
    acceptable = SUCCEEDED | {"would replay"} if dry_run else SUCCEEDED
    return DONE if all(outcome.outcome in acceptable for outcome in outcomes) else BAD_OUTCOME


def main(
    argv: Sequence[str] | None = None,
    outputs: Callable[[str, Path], Mapping[str, Any]] | None = None,
    invoker: Invoker | None = None,
    stderr: TextIO | None = None,
    receive_wait_seconds: int = RECEIVE_WAIT_SECONDS,
    pacer_clock: Callable[[], float] = time.monotonic,
    pacer_sleep: Callable[[float], None] = time.sleep,
) -> int:
    """`outputs` replaces `pulumi stack output`, `invoker` the Lambda invoke (tests: moto cannot run a Lambda
    without Docker); `receive_wait_seconds` 0 suits an emulator, whose short polls see every message."""
    options = parser().parse_args(argv)
    errors = stderr or sys.stderr
    read_outputs = outputs or partial(stack_outputs, instead="--queue-url and --function")
    try:
        targets = resolve_targets(options, lambda: read_outputs(options.stack, options.program))
    except UsageError as error:
        print(f"error: {error}", file=errors)
        return USAGE_ERROR

    with exit_on_aws_environment_errors(errors):
        region = region_for(options, targets)
        sqs = new_client("sqs", region=region)
        if invoker is None:
            # A retried read after a timeout re-runs the notifier, which its idempotency makes harmless.
            lambda_client = new_client("lambda", region=region, read_timeout=INVOKE_SECONDS)
            invoker = lambda_invoker(lambda_client, targets.function)
        rate = options.batch_calls_per_second
        burst = max(rate, MAX_BATCH_CALLS_PER_NOTIFICATION)
        invoker = paced(
            invoker,
            Pacer(rate=rate, burst=burst, clock=pacer_clock, sleep=pacer_sleep),
        )
        waiting = queued_messages(sqs, targets.queue_urls)
        total = waiting if options.max is None else min(waiting, options.max)
        bar = progress_for(total, quiet=options.json, stream=errors, label="messages")
        redrive = Redrive(
            sqs, invoker, dry_run=options.dry_run, force=options.force, receive_wait_seconds=receive_wait_seconds
        )
        try:
            outcomes = redrive.run(targets.queue_urls, options.max, bar.advance if bar else lambda: None)
        finally:
            if bar is not None:
                bar.close()

    code = exit_code(outcomes, dry_run=options.dry_run)
    if options.json:
        document = {
            "function": targets.function,
            "queues": list(targets.queue_urls),
            "dryRun": options.dry_run,
            "force": options.force,
            "messages": [outcome.document() for outcome in outcomes],
            "counts": dict(Counter(outcome.outcome for outcome in outcomes)),
            "exitCode": code,
        }
        print(json.dumps(document, indent=2))
    else:
        print(render(outcomes, targets, dry_run=options.dry_run))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
