"""Lambda entry point (`handler.reconcile.handler`): the reconciliation sweep, run on a schedule.

A completion whose event never reached the notifier (the rule disabled or replaced during a deploy, a
target edited by hand, a kept event that expired from its queue) is still known to Batch. For each of
the notifier's queues the sweep keeps the array parents of its job definitions that reached a status the
rule notifies and stopped within its window, drops those the completion topic already has a delivery record
of, and reports the rest through the notifier's own path (`completion.completion_report`, `deliver_once`):
same report, same sinks, same key, so a sweep and a late event together still notify once.

The window (`Window`) is on stop time and ends `RECONCILE_GRACE_SECONDS` ago: a job that stopped more
recently may still have its event on the way (EventBridge and Lambda retry it), so it is left to a later
sweep. It spans `RECONCILE_LOOKBACK_HOURS` before that. ListJobs filters on creation time only, so the sweep
lists the jobs created up to `RECONCILE_MAX_ARRAY_RUNTIME_HOURS` before the window: a job that ran longer
than that is not seen (the component says so, docs/operations.md says what each hour costs).

ListJobs (API reference): exactly one of jobQueue/arrayJobId; with a `filters` entry `jobStatus` is ignored
and jobs of every status come back newest first, so the sweep filters statuses itself; one filter at a
time. A sweep starts at the window's end (`BEFORE_CREATED_AT`: a job created later stopped later); when its
budget runs out it stores where it stopped in the idempotency table, and the next sweep continues below it
until it passes the earliest creation time the window lists, then starts at the top again.

Bounded work: per queue and sweep at most `LIST_PAGES_PER_QUEUE` ListJobs pages, `DESCRIBE_CALLS_PER_QUEUE`
DescribeJobs calls and `REPORTS_PER_QUEUE` reports (each at most `REPORT_BATCH_CALLS` Batch calls for its
failed children), whatever the queue holds: `MAX_BATCH_CALLS_PER_QUEUE` in all. Stopping early is logged
per queue and counted (`ReconcileStoppedEarly`); `ReconciledCompletions` counts what the event path had
missed. Both are counted under the notifier's home queue, like `IgnoredEvents`, so one alarm sees them all.

A central notifier (`MEMBER_ACCOUNTS`) sweeps each member account the same way, in each of its regions, the
queues it lists (else every queue DescribeJobQueues shows there), through its read role (accounts.py), with a
pacer of its own per account and region: the same budget per queue, the same key as the notifier's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools import Logger

from .accounts import MemberAccessError, client_for
from .aws import client, pace_batch_calls
from .batch_jobs import MAX_DESCRIBE_IDS, MAX_LIST_PAGES
from .completion import completion_report, deliver_once
from .delivery import delivered_to_completion_topic
from .metrics import (
    RECONCILE_STOPPED_EARLY,
    RECONCILED_COMPLETIONS,
    count,
    emit,
    home_queue,
    queue_name,
    throttles_counted,
)
from .models import JobDetail
from .pacing import Pacer
from .report import needs_failed_children
from .scope import Completion, Origin, is_finished_parent
from .settings import MemberAccount, settings, sweep_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
#: When the sweep runs (the window ends now); the rehearsal, whose jobs carry synthetic times, swaps it.
clock: Callable[[], float] = time.time
#: The pacer's clock and how it waits (tests swap in simulated time).
pacer_clock: Callable[[], float] = time.monotonic
pacer_sleep: Callable[[float], None] = time.sleep

#: ListJobs returns at most 100 summaries a page.
LIST_PAGE_SIZE: Final = 100
LIST_PAGES_PER_QUEUE: Final = 10
DESCRIBE_CALLS_PER_QUEUE: Final = 10
#: Bounds the sweep's run time too: each report is a few DynamoDB, SNS and EventBridge calls.
REPORTS_PER_QUEUE: Final = 25
#: What reporting one completion may cost in Batch calls: its failed children's ListJobs pages and one DescribeJobs.
REPORT_BATCH_CALLS: Final = MAX_LIST_PAGES + 1
MAX_BATCH_CALLS_PER_QUEUE: Final = (
    LIST_PAGES_PER_QUEUE + DESCRIBE_CALLS_PER_QUEUE + REPORTS_PER_QUEUE * REPORT_BATCH_CALLS
)
#: DescribeJobQueues pages read to find a member's queues when it lists none (100 queues a page; Batch
#: allows an account 50 queues per region by default, Service Quotas "AWS Batch").
QUEUE_LIST_PAGES: Final = 3
#: The resume point's item in the idempotency table (apart from Powertools' `batch-array-notify.<sink>#...`).
CURSOR_KEY_PREFIX: Final = "batch-array-notify.reconcile#"
_HOUR_MS: Final = 3_600_000


@dataclass(frozen=True)
class Window:
    """What one sweep examines, in epoch milliseconds: jobs that stopped from `stopped_from_ms` to `end_ms`
    (the grace period's start), listed by creation time from `created_from_ms` to `end_ms`."""

    created_from_ms: int
    stopped_from_ms: int
    end_ms: int

    @classmethod
    def at(cls, now_ms: int, grace_seconds: int, lookback_hours: int, max_array_runtime_hours: int) -> Window:
        end_ms = now_ms - grace_seconds * 1000
        stopped_from_ms = end_ms - lookback_hours * _HOUR_MS
        return cls(stopped_from_ms - max_array_runtime_hours * _HOUR_MS, stopped_from_ms, end_ms)

    def holds_stop(self, stopped_ms: int) -> bool:
        return self.stopped_from_ms <= stopped_ms <= self.end_ms


def list_calls_per_sweep(jobs_per_hour: int, lookback_hours: int, max_array_runtime_hours: int) -> int:
    """The ListJobs calls one sweep of one queue makes to cover its window, for a queue that receives
    `jobs_per_hour` jobs (array parents and single jobs; Batch lists no children here): one per page of the
    jobs created over `lookback_hours + max_array_runtime_hours`; past LIST_PAGES_PER_QUEUE the sweep stops
    early and the next sweeps continue (docs/operations.md states this)."""
    created = jobs_per_hour * (lookback_hours + max_array_runtime_hours)
    return max(1, -(-created // LIST_PAGE_SIZE))


@dataclass
class Budget:
    """What one queue's sweep may still spend."""

    list_pages: int = LIST_PAGES_PER_QUEUE
    describe_calls: int = DESCRIBE_CALLS_PER_QUEUE
    reports: int = REPORTS_PER_QUEUE
    batch_calls: int = 0
    """Batch calls charged so far (a report is charged its worst case)."""


@dataclass
class QueueSweep:
    """One queue's sweep: what it looked at, what it reported, and whether it stopped early."""

    job_queue_arn: str
    resumed_below_ms: int | None
    origin: Origin | None = None
    """The member account and region of the queue (central mode); None for the notifier's own."""
    listed: int = 0
    candidates: int = 0
    reconciled: list[str] = field(default_factory=list)
    """Completions the event path had missed and this sweep reported (`<jobId>:<status>`)."""
    already_reported: int = 0
    stopped_early: bool = False
    resume_below_ms: int | None = None
    budget: Budget = field(default_factory=Budget)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobQueue": queue_name(self.job_queue_arn),
            **({"account": self.origin.account, "region": self.origin.region} if self.origin else {}),
            "listed": self.listed,
            "candidates": self.candidates,
            "reconciled": self.reconciled,
            "alreadyReported": self.already_reported,
            "stoppedEarly": self.stopped_early,
            "resumeBelowMs": self.resume_below_ms,
            "batchCalls": self.budget.batch_calls,
        }


class _StoppedEarlyError(Exception):
    """The budget cannot pay for the next step; `below_ms` is where the next sweep picks up."""

    def __init__(self, below_ms: int | None) -> None:
        super().__init__(below_ms)
        self.below_ms = below_ms


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """Sweep every queue of the notifier; the scheduled event's content does not matter."""
    with throttles_counted():
        return _sweep(context)


def _sweep(context: LambdaContext | None) -> dict[str, Any]:
    config, sweep_config = settings(), sweep_settings()
    window = Window.at(
        int(clock() * 1000),
        sweep_config.grace_seconds,
        sweep_config.lookback_hours,
        sweep_config.max_array_runtime_hours,
    )
    _pace(None)
    sweeps = [sweep_queue(queue, window, context) for queue in config.job_queue_arns]
    refused: list[str] = []
    for member in (config.member_accounts or {}).values():
        try:
            sweeps += sweep_member(member, window, context)
        except MemberAccessError as error:
            # Logged by accounts.py; the other members are swept all the same, and the sweep fails at the end.
            refused.append(str(error))
    reconciled = sum(len(sweep.reconciled) for sweep in sweeps)
    stopped_early = any(sweep.stopped_early for sweep in sweeps)
    # Under the home queue, like IgnoredEvents: the notifier's one alarm sees every queue's (the log says which).
    emit(
        [count(RECONCILED_COMPLETIONS, reconciled), count(RECONCILE_STOPPED_EARLY, int(stopped_early))],
        stage=config.stage,
        job_queue=home_queue(),
    )
    if refused:
        raise MemberAccessError("; ".join(refused))
    return {"reconciled": reconciled, "stoppedEarly": stopped_early, "queues": [sweep.to_json() for sweep in sweeps]}


def _pace(origin: Origin | None) -> None:
    """Pace the Batch calls of `origin`'s client (each account and region has its own quota): a sweep over a
    large window never takes the account's Batch quota from the user's orchestrator."""
    rate = sweep_settings().batch_calls_per_second
    pacer = Pacer(rate=rate, burst=rate, clock=pacer_clock, sleep=pacer_sleep)
    pace_batch_calls(pacer.wait, client_for("batch", origin) if origin else None)


def sweep_member(member: MemberAccount, window: Window, context: LambdaContext | None) -> list[QueueSweep]:
    """Sweep a member account's queues in each of its regions, through its read role: the queues it lists
    there, else every queue Batch has there (DescribeJobQueues)."""
    sweeps: list[QueueSweep] = []
    for region in member.regions:
        origin = Origin(member.account_id, region)
        _pace(origin)
        listed = [arn for arn in member.job_queue_arns if arn.split(":")[3] == region]
        queues = listed if member.job_queue_arns else _job_queues(origin)
        sweeps += [sweep_queue(queue, window, context, origin) for queue in queues]
    return sweeps


def _job_queues(origin: Origin) -> list[str]:
    """Every job queue of the member's account in its region, at most QUEUE_LIST_PAGES pages of them."""
    queues: list[str] = []
    request: dict[str, Any] = {"maxResults": 100}
    for _ in range(QUEUE_LIST_PAGES):
        page = client_for("batch", origin).describe_job_queues(**request)
        queues += [str(queue["jobQueueArn"]) for queue in page.get("jobQueues", [])]
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    return queues


def sweep_queue(
    job_queue_arn: str, window: Window, context: LambdaContext | None, origin: Origin | None = None
) -> QueueSweep:
    """Report the queue's missed completions that stopped within `window`, within the budget; `origin`: the
    member account and region the queue is in (None: the notifier's own)."""
    resume = _load_cursor(job_queue_arn)
    in_window = resume is not None and window.created_from_ms < resume <= window.end_ms
    sweep = QueueSweep(job_queue_arn, resume if in_window else None, origin)
    try:
        for summaries in _pages(sweep, window):
            _sweep_page(sweep, summaries, window, context)
    except _StoppedEarlyError as stop:
        sweep.stopped_early, sweep.resume_below_ms = True, stop.below_ms
    _save_cursor(job_queue_arn, sweep.resume_below_ms, window.created_from_ms)
    _log(sweep)
    return sweep


def _pages(sweep: QueueSweep, window: Window) -> Iterator[list[dict[str, Any]]]:
    """The queue's ListJobs pages, newest first, until the window's earliest creation time; raises
    _StoppedEarlyError when the page budget runs out first."""
    # One filter at a time: down from the window's end (`+ 1`: a job created at its last millisecond is in
    # it), or on from where a sweep stopped. Jobs created later stopped later: in the grace period.
    below = sweep.resumed_below_ms if sweep.resumed_below_ms is not None else window.end_ms + 1
    request: dict[str, Any] = {
        "jobQueue": sweep.job_queue_arn,
        "filters": [{"name": "BEFORE_CREATED_AT", "values": [str(below)]}],
        "maxResults": LIST_PAGE_SIZE,
    }
    oldest_seen: int | None = None
    while True:
        if sweep.budget.list_pages <= 0:
            # Same-millisecond jobs below the last one seen are listed again: `+ 1` keeps none out.
            raise _StoppedEarlyError(None if oldest_seen is None else oldest_seen + 1)
        sweep.budget.list_pages -= 1
        sweep.budget.batch_calls += 1
        page = client_for("batch", sweep.origin).list_jobs(**request)
        summaries = list(page.get("jobSummaryList", []))
        sweep.listed += len(summaries)
        yield summaries
        created_times = [_created_ms(summary) for summary in summaries]
        if created_times:
            oldest_seen = min(created_times)
        next_token = page.get("nextToken")
        # Newest first: once a page reaches past the window's start, so does everything after it.
        if not next_token or (oldest_seen is not None and oldest_seen < window.created_from_ms):
            return
        request["nextToken"] = next_token


def _sweep_page(
    sweep: QueueSweep, summaries: Sequence[Mapping[str, Any]], window: Window, context: LambdaContext | None
) -> None:
    """Report the page's missed completions, a DescribeJobs call (up to 100 jobs) at a time, in page order."""
    pending: list[Mapping[str, Any]] = []
    for summary in summaries:
        if not _worth_describing(summary, window):
            continue
        sweep.candidates += 1
        if delivered_to_completion_topic(str(summary["jobId"]), str(summary["status"]), sweep.origin):
            sweep.already_reported += 1
            continue
        pending.append(summary)
        if len(pending) == min(MAX_DESCRIBE_IDS, max(sweep.budget.reports, 1)):
            _report_pending(sweep, pending, window, context)
            pending = []
    if pending:
        _report_pending(sweep, pending, window, context)


def _report_pending(
    sweep: QueueSweep, pending: Sequence[Mapping[str, Any]], window: Window, context: LambdaContext | None
) -> None:
    if sweep.budget.describe_calls <= 0 or sweep.budget.reports <= 0:
        raise _StoppedEarlyError(_created_ms(pending[0]) + 1)
    sweep.budget.describe_calls -= 1
    sweep.budget.batch_calls += 1
    job_ids = [str(summary["jobId"]) for summary in pending]
    described = client_for("batch", sweep.origin).describe_jobs(jobs=job_ids).get("jobs", [])
    jobs = {job.job_id: job for job in (JobDetail.model_validate(item) for item in described)}
    for summary in pending:
        job = jobs.get(str(summary["jobId"]))
        if job is None or not _reportable(job, sweep.job_queue_arn, window):
            continue
        completion = Completion(job=job, event_id=None, event_time=None, origin=sweep.origin)
        # Never more than `reports` pending (see _sweep_page), so the report budget cannot go below 0.
        sweep.budget.reports -= 1
        sweep.budget.batch_calls += REPORT_BATCH_CALLS if needs_failed_children(completion, job) else 0
        if _report(sweep, completion, job, context):
            key = sweep.origin.job_key(job.job_id) if sweep.origin else job.job_id
            sweep.reconciled.append(f"{key}:{job.status}")
        else:
            sweep.already_reported += 1


def _report(sweep: QueueSweep, completion: Completion, job: JobDetail, context: LambdaContext | None) -> bool:
    """Deliver one completion; True when this sweep sent it (False: the event path got there first)."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415 (boto3-heavy)
        IdempotencyAlreadyInProgressError,
    )

    try:
        # No log tails (no deadline given): the sweep's role reads no job logs, and what it reports is late.
        reported = deliver_once(completion_report(completion, job), context, clock)
    except IdempotencyAlreadyInProgressError:
        # The notifier is delivering this very completion right now: it is not missed.
        return False
    account = sweep.origin.account if sweep.origin else None
    emit(reported.metrics, stage=reported.report.stage, job_queue=reported.report.job_queue_name, account=account)
    if not reported.duplicate:
        logger.warning(
            "completion reported by the sweep: its event never reached the notifier",
            extra={
                "decision": "reconciled",
                "jobId": job.job_id,
                "jobQueue": queue_name(sweep.job_queue_arn),
                **({"account": account, "region": sweep.origin.region} if sweep.origin else {}),
                "status": job.status,
                # The fields the dashboard's "Latest completions" shows for the notifier's reports too.
                "arraySize": reported.report.array_size,
                "failed": reported.report.failed,
                "deliveries": reported.deliveries,
            },
        )
    return not reported.duplicate


def _worth_describing(summary: Mapping[str, Any], window: Window) -> bool:
    """What the summary alone rules out: children and nodes, other statuses, other job definitions, jobs
    created before the window lists or stopped outside it. Whether it is an array parent at all,
    DescribeJobs says (summaries of emulators may lack `arrayProperties`)."""
    job_id, status = summary.get("jobId"), summary.get("status")
    array = summary.get("arrayProperties") or {}
    if not isinstance(job_id, str) or ":" in job_id or "#" in job_id or array.get("index") is not None:
        return False
    if status not in sweep_settings().notify_statuses or _created_ms(summary) < window.created_from_ms:
        return False
    stopped = summary.get("stoppedAt")
    if isinstance(stopped, int) and not window.holds_stop(stopped):
        return False
    definition = summary.get("jobDefinition")
    return not isinstance(definition, str) or _definition_in_scope(definition)


def _reportable(job: JobDetail, job_queue_arn: str, window: Window) -> bool:
    """The same scope the rule and the notifier apply to an event's job, and a stop within the window (a
    terminal job always has `stoppedAt`; without one, its creation time stands in)."""
    stopped = job.stopped_at if job.stopped_at is not None else job.created_at
    return (
        is_finished_parent(job)
        and stopped is not None
        and window.holds_stop(stopped)
        and job.job_queue == job_queue_arn
        and job.status in sweep_settings().notify_statuses
        and _definition_in_scope(job.job_definition)
    )


def _definition_in_scope(job_definition_arn: str) -> bool:
    prefixes = sweep_settings().job_definition_arn_prefixes
    return not prefixes or any(job_definition_arn.startswith(f"{prefix}:") for prefix in prefixes)


def _created_ms(summary: Mapping[str, Any]) -> int:
    created = summary.get("createdAt")
    return created if isinstance(created, int) else 0


# --------------------------------------------------------------------------------------------------
# Where the last sweep stopped, one item per queue in the idempotency table


def _cursor_key(job_queue_arn: str) -> dict[str, Any]:
    return {"id": {"S": f"{CURSOR_KEY_PREFIX}{job_queue_arn}"}}


def _load_cursor(job_queue_arn: str) -> int | None:
    item = (
        client("dynamodb")
        .get_item(TableName=settings().idempotency_table, Key=_cursor_key(job_queue_arn), ConsistentRead=True)
        .get("Item")
    )
    return int(item["resumeBelowMs"]["N"]) if item and "resumeBelowMs" in item else None


def _save_cursor(job_queue_arn: str, resume_below_ms: int | None, window_start_ms: int) -> None:
    """`window_start_ms`: the earliest creation time the window lists."""
    table = settings().idempotency_table
    if resume_below_ms is None:
        client("dynamodb").delete_item(TableName=table, Key=_cursor_key(job_queue_arn))
        return
    # Expires with the window it belongs to (the table's TTL attribute), should sweeps stop altogether.
    expiration = (int(clock() * 1000) + (int(clock() * 1000) - window_start_ms)) // 1000
    client("dynamodb").put_item(
        TableName=table,
        Item={
            **_cursor_key(job_queue_arn),
            "resumeBelowMs": {"N": str(resume_below_ms)},
            "expiration": {"N": str(expiration)},
        },
    )


def _log(sweep: QueueSweep) -> None:
    summary = {"decision": "swept", **sweep.to_json()}
    if sweep.stopped_early:
        logger.warning("sweep stopped early: its budget is spent, the next sweep continues below", extra=summary)
    else:
        logger.info("sweep done", extra=summary)
