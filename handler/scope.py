"""Decide what an incoming event is: an array parent's completion to report, or something to skip.

The EventBridge rule already matches only array parents in a terminal status; this re-check is what
makes a wrongly wired rule, a manual test invoke or a future change of the event shape harmless.
Pure: no AWS, no logging. Nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from pydantic import ValidationError

from .models import EventEnvelope, JobDetail
from .settings import TERMINAL_STATUSES, MemberAccount

# Mirrors components/event_pattern.py (the code asset ships without components/); a unit test keeps
# the two in step.
BATCH_SOURCE = "aws.batch"
JOB_STATE_CHANGE = "Batch Job State Change"

_MAX_ERRORS_IN_REASON = 5


@dataclass(frozen=True)
class Origin:
    """The member account and region an array job ran in (a central notifier's completion)."""

    account: str
    region: str

    def job_key(self, job_id: str) -> str:
        """`<account>/<region>/<jobId>`: job ids (and names) are unique in one account and region only."""
        return f"{self.account}/{self.region}/{job_id}"


@dataclass(frozen=True)
class Completion:
    """An array parent reached a terminal status; `job` is the event's (possibly lagging) view of it."""

    job: JobDetail
    event_id: str | None
    event_time: str | None
    account: str | None = None
    """The envelope's `account` and `region` (None when the event names none)."""
    region: str | None = None
    origin: Origin | None = None
    """The member account and region whose Batch the notifier reads for it (`in_scope`); None: its own."""


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
    return Completion(
        job=job, event_id=envelope.id, event_time=envelope.time, account=envelope.account, region=envelope.region
    )


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


def in_scope(
    completion: Completion, job_queue_arns: Collection[str], members: Mapping[str, MemberAccount] | None
) -> Completion | Skip:
    """`on_own_queue`, and in central mode (`members`) the member path first: a member account's completion
    on one of the queues it lists (or any, when it lists none) comes back with its `origin`; another
    account's that is not on one of the notifier's own queues is a Skip naming the account."""
    job, account = completion.job, completion.account
    member = members.get(account) if members and account else None
    if member is None:
        own = on_own_queue(completion, job_queue_arns)
        if isinstance(own, Skip) and members is not None and account:
            return replace(own, reason=f"account {account} is not a member account of this notifier, and {own.reason}")
        return own
    account = member.account_id
    queue_account = job.job_queue.split(":")[4] if job.job_queue.count(":") >= 5 else None
    if queue_account != account:
        reason = f"job queue {job.job_queue} is not a queue of member account {account}, the event's account"
    elif member.job_queue_arns and job.job_queue not in member.job_queue_arns:
        listed = len(member.job_queue_arns)
        reason = f"job queue {job.job_queue} is not one of member account {account}'s {listed} queue(s)"
    else:
        return replace(completion, origin=Origin(account, completion.region or job.job_queue.split(":")[3]))
    return Skip(reason, malformed=False, job_id=job.job_id, status=job.status)


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
