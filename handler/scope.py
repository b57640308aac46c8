"""Decide what an incoming event is: an array parent's completion to report, or something to skip.

The EventBridge rule already matches only array parents in a terminal status; this re-check is what
makes a wrongly wired rule, a manual test invoke or a future change of the event shape harmless.
Pure: no AWS, no logging. Nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydantic import ValidationError

from .models import EventEnvelope, JobDetail
from .settings import TERMINAL_STATUSES

# Mirrors components/event_pattern.py (the code asset ships without components/); a unit test keeps
# the two in step.
BATCH_SOURCE = "aws.batch"
JOB_STATE_CHANGE = "Batch Job State Change"

_MAX_ERRORS_IN_REASON = 5


@dataclass(frozen=True)
class Completion:
    """An array parent reached a terminal status; `job` is the event's (possibly lagging) view of it."""

    job: JobDetail
    event_id: str | None
    event_time: str | None


@dataclass(frozen=True)
class Skip:
    """The event is not reported. `malformed` means retrying can never help (logged at ERROR)."""

    reason: str
    malformed: bool
    job_id: str | None = None
    status: str | None = None


def decide(event: object) -> Completion | Skip:
    if not isinstance(event, dict):
        return Skip(f"the event is a {type(event).__name__}, not a JSON object", malformed=True)
    try:
        envelope = EventEnvelope.model_validate(event)
    except ValidationError as error:
        return Skip(f"invalid EventBridge envelope: {_describe(error)}", malformed=True)
    if envelope.source != BATCH_SOURCE or envelope.detail_type != JOB_STATE_CHANGE:
        return Skip(
            f"not a Batch job state change (source {envelope.source!r}, detail-type {envelope.detail_type!r})",
            malformed=False,
        )
    try:
        job = JobDetail.model_validate(envelope.detail)
    except ValidationError as error:
        return Skip(f"invalid Batch job detail: {_describe(error)}", malformed=True)

    reason = _not_a_finished_parent(job)
    if reason:
        return Skip(reason, malformed=False, job_id=job.job_id, status=job.status)
    return Completion(job=job, event_id=envelope.id, event_time=envelope.time)


def on_own_queue(completion: Completion, job_queue_arns: Collection[str]) -> Completion | Skip:
    """The completion if its job ran on one of this notifier's queues, else a Skip saying whose it is.

    The rule already lists the queues; this makes a wrongly wired rule, a rule on a queue-ARN prefix or a
    manual test invoke unable to report another team's array job."""
    job = completion.job
    if job.job_queue in job_queue_arns:
        return completion
    return Skip(
        f"job queue {job.job_queue} is not one of this notifier's {len(job_queue_arns)} queue(s)",
        malformed=False,
        job_id=job.job_id,
        status=job.status,
    )


def is_finished_parent(job: JobDetail) -> bool:
    """Whether `job` (a DescribeJobs result the sweep found) is an array parent in a terminal status: the
    same test an event's job passes in `decide`."""
    return _not_a_finished_parent(job) is None


def _not_a_finished_parent(job: JobDetail) -> str | None:
    """Why `job` is not an array parent in a terminal status, or None if it is one."""
    array = job.array_properties
    if array is None:
        return "not an array job (no arrayProperties)"
    if array.index is not None:
        return f"an array child (index {array.index}), not the parent"
    # Child ids are `<parentId>:<index>`; multi-node parallel nodes are `<jobId>#<node>`.
    if ":" in job.job_id or "#" in job.job_id:
        return f"jobId {job.job_id!r} names a child or node, not an array parent"
    if array.size is None:
        return "arrayProperties has no size, so this is not an array parent"
    if job.status not in TERMINAL_STATUSES:
        return f"the array parent is {job.status}, not in a terminal status"
    return None


def _describe(error: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
        for item in error.errors(include_url=False)
    ]
    shown = "; ".join(problems[:_MAX_ERRORS_IN_REASON])
    hidden = len(problems) - _MAX_ERRORS_IN_REASON
    return f"{shown}; and {hidden} more" if hidden > 0 else shown
