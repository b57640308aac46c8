"""Where an operator reads what to do: docs/operations.md, one section per alarm and alert.

Each alarm's description ends with a link to its section, so the alarm e-mail or chat message says
where to look; the dashboard links the whole runbook. A test checks every anchor named here is a
heading of docs/operations.md and every alarm of both stages' plans points at one.
"""

from __future__ import annotations

from typing import Final

#: CloudWatch's limit on `AlarmDescription`.
MAX_ALARM_DESCRIPTION_CHARS: Final = 1024
#: The project's repository; `<owner>` until it is published (the README uses the same placeholder).
REPOSITORY_URL: Final = "https://github.com/<owner>/batch-array-notify"

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


def runbook_url(anchor: str | None = None) -> str:
    """The runbook of this version (a tag's copy matches the deployed alarms), or one of its sections."""
    from . import __version__  # noqa: PLC0415 (the package defines it after importing its modules)

    url = f"{REPOSITORY_URL}/blob/v{__version__}/docs/operations.md"
    return f"{url}#{anchor}" if anchor else url


def alarm_description(what: str, anchor: str) -> str:
    """`what` the alarm means, then its runbook section; within CloudWatch's limit."""
    description = f"{what}. Runbook: {runbook_url(anchor)}"
    if len(description) > MAX_ALARM_DESCRIPTION_CHARS:
        raise ValueError(f"alarm description is {len(description)} characters, over {MAX_ALARM_DESCRIPTION_CHARS}")
    return description
