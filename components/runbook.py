"""Where an operator reads what to do: docs/operations.md, one section per alarm and alert.

Each alarm's description ends with its section, so the alarm e-mail or chat message says where to look;
the dashboard names the whole runbook. With `runbook_url` (where the team hosts docs/operations.md) they
link it; without, they name the file and section of this version of the project, with no link to guess
(`batch-array-notify 0.3.0 docs/operations.md#notifier-errors`). A test checks every anchor named here is
a heading of docs/operations.md and every alarm of both stages' plans points at one."""

from __future__ import annotations

from typing import Final

#: CloudWatch's limit on `AlarmDescription`.
MAX_ALARM_DESCRIPTION_CHARS: Final = 1024
#: The runbook's file in this repository and in the package's source distribution.
RUNBOOK_PATH: Final = "docs/operations.md"

# Anchors of docs/operations.md's sections (GitHub's heading slugs).
UNDELIVERED_EVENTS: Final = "undelivered-events"
NOTIFIER_FAILED_EVENTS: Final = "events-the-notifier-failed-on"
NOTIFIER_ERRORS: Final = "notifier-errors"
ASYNC_EVENTS_DROPPED: Final = "completion-events-dropped-by-lambda"
ASYNC_EVENT_AGE: Final = "completion-events-waiting-in-lambdas-queue"
#: Not an alarm: the dashboard's graph of `BatchCallsThrottled`.
BATCH_CALLS_THROTTLED: Final = "batch-calls-throttled"
RULE_FAILED_INVOCATIONS: Final = "rule-failed-to-invoke-the-notifier"
DEAD_LETTER_FAILED: Final = "event-lost-before-the-dead-letter-queue"
IGNORED_EVENTS: Final = "ignored-events"
QUEUE_BLOCKED: Final = "job-queue-blocked"
#: For the reconciliation sweep's alarm (`ReconciledCompletions`).
RECONCILED_COMPLETIONS: Final = "completions-the-sweep-reported"
#: For the sweep's own failures (AWS/Lambda `Errors` of its function) and its `ReconcileStoppedEarly`.
SWEEP_ERRORS: Final = "sweep-errors"
SWEEP_STOPPED_EARLY: Final = "sweep-stopped-early-or-silent"


def runbook_url(base_url: str | None, anchor: str | None = None) -> str:
    """The runbook, or one of its sections after `#`: at `base_url` when the team hosts it, else named as
    the file of this version of the project (`batch-array-notify 0.3.0 docs/operations.md`), no link."""
    if base_url is None:
        from . import __version__  # noqa: PLC0415 (the package defines it after importing its modules)

        base_url = f"batch-array-notify {__version__} {RUNBOOK_PATH}"
    return f"{base_url}#{anchor}" if anchor else base_url


def alarm_description(what: str, anchor: str, base_url: str | None) -> str:
    """`what` the alarm means, then its runbook section; within CloudWatch's limit."""
    description = f"{what}. Runbook: {runbook_url(base_url, anchor)}"
    if len(description) > MAX_ALARM_DESCRIPTION_CHARS:
        raise ValueError(f"alarm description is {len(description)} characters, over {MAX_ALARM_DESCRIPTION_CHARS}")
    return description
