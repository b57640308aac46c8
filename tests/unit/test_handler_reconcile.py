"""handler/reconcile.py: the sweep's bounds are the ones the runbook promises, and what one sweep lists,
reports, charges to its Batch budget, logs and leaves for the next sweep, against a fixed clock.

No moto here (its ListJobs ignores `filters`, `maxResults` and `nextToken`, so it cannot show what the
sweep asks for): Batch is `ScriptedBatch`, which answers ListJobs with the pages a test queues, as
botocore's Stubber would, and records each request; the resume point lives in `ResumeTable`, a DynamoDB
table as far as `get_item`/`put_item`/`delete_item` go; the notifier's delivery path (idempotency records,
sinks) is `Notifier`. The sweep against moto's DynamoDB, SNS and EventBridge is
tests/integration/test_reconcile.py.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from batch_array_notify.args import DEFAULTS
from batch_array_notify.dashboard import COMPLETION_LOG_FIELDS
from batch_array_notify.handler import reconcile
from batch_array_notify.handler.completion import Reported
from batch_array_notify.handler.reconcile import (
    DESCRIBE_CALLS_PER_QUEUE,
    LIST_PAGE_SIZE,
    LIST_PAGES_PER_QUEUE,
    MAX_BATCH_CALLS_PER_QUEUE,
    REPORT_BATCH_CALLS,
    REPORTS_PER_QUEUE,
)
from batch_array_notify.testing.rehearsal_world import LambdaContext, reset_handler_caches

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_sweeps_bounds_are_the_ones_the_runbook_states():
    runbook = " ".join(OPERATIONS.read_text().split())

    assert (
        f"({LIST_PAGES_PER_QUEUE} ListJobs pages, {DESCRIBE_CALLS_PER_QUEUE} DescribeJobs calls, "
        f"{REPORTS_PER_QUEUE} reports: at most {MAX_BATCH_CALLS_PER_QUEUE} Batch calls"
    ) in runbook
    assert (LIST_PAGES_PER_QUEUE, DESCRIBE_CALLS_PER_QUEUE, REPORTS_PER_QUEUE, MAX_BATCH_CALLS_PER_QUEUE) == (
        10,
        10,
        25,
        95,
    )


def list_cost_sentence(jobs_per_hour: int) -> str:
    """docs/operations.md's statement of what `reconcileMaxArrayRuntimeHours` costs, from the code's figures."""
    lookback, runtime = DEFAULTS["reconcile_lookback_hours"], DEFAULTS["reconcile_max_array_runtime_hours"]
    assert isinstance(lookback, int)
    assert isinstance(runtime, int)
    calls = reconcile.list_calls_per_sweep(jobs_per_hour, lookback, runtime)
    calls_without = reconcile.list_calls_per_sweep(jobs_per_hour, lookback, 0)
    return (
        f"A ListJobs call lists at most {LIST_PAGE_SIZE} jobs and a sweep makes at most {LIST_PAGES_PER_QUEUE} "
        "per queue (the next sweep continues below), so each hour of `reconcileMaxArrayRuntimeHours` adds one "
        f"ListJobs call per pass over the window for every {LIST_PAGE_SIZE} jobs the queue receives an hour. "
        f"With the defaults ({lookback} + {runtime} hours), a queue that receives {jobs_per_hour} jobs an hour "
        f"takes {calls} ListJobs calls per pass, over {-(-calls // LIST_PAGES_PER_QUEUE)} sweeps; with "
        f"`reconcileMaxArrayRuntimeHours` 0, {calls_without} calls over {-(-calls_without // LIST_PAGES_PER_QUEUE)}."
    )


def test_what_each_hour_of_runtime_costs_is_what_the_runbook_states():
    assert list_cost_sentence(50) in " ".join(OPERATIONS.read_text().split())
    # One page per 100 jobs created over lookback + runtime; at least the one call that finds nothing.
    assert [reconcile.list_calls_per_sweep(jobs, 24, 24) for jobs in (0, 1, 50, 51)] == [1, 1, 24, 25]
    assert reconcile.list_calls_per_sweep(50, 24, 0) == 12


# --------------------------------------------------------------------------------------------------
# The world one sweep sees

REGION = "eu-west-1"
QUEUE_ARN = f"arn:aws:batch:{REGION}:123456789012:job-queue/test-queue"
DEFINITION = f"arn:aws:batch:{REGION}:123456789012:job-definition/print-color"
TABLE = "idempotency"
#: docs/reliability.md names the resume point's item: `batch-array-notify.reconcile#<queue ARN>`.
RESUME_KEY = f"batch-array-notify.reconcile#{QUEUE_ARN}"
NOW_S = 1_750_000_000
LOOKBACK_HOURS = 2
WINDOW_START_MS = NOW_S * 1000 - LOOKBACK_HOURS * 3_600_000
#: Without a grace period the window ends now; ListJobs is asked for what was created before its next ms.
TOP = ("BEFORE_CREATED_AT", NOW_S * 1000 + 1)


def parent(
    job_id: str,
    created_ms: int,
    *,
    status: str = "SUCCEEDED",
    definition: str = f"{DEFINITION}:3",
    array: dict[str, Any] | None = None,
    stopped_ms: int | None = None,
) -> dict[str, Any]:
    """A ListJobs summary; an array parent's unless `array` says otherwise (emulators omit it: `{}`). Batch's
    summaries carry `stoppedAt`; without `stopped_ms` this one leaves it to DescribeJobs (a minute after
    creation), as an emulator's may."""
    summary: dict[str, Any] = {
        "jobId": job_id,
        "jobName": "print-color",
        "status": status,
        "createdAt": created_ms,
        "jobDefinition": definition,
    }
    if stopped_ms is not None:
        summary["stoppedAt"] = stopped_ms
    if array != {}:
        summary["arrayProperties"] = array or {"size": 2}
    return summary


def detail(summary: dict[str, Any], *, failed: int = 0) -> dict[str, Any]:
    """The DescribeJobs `JobDetail` of a summary's job, on this queue."""
    job: dict[str, Any] = {
        key: summary[key] for key in ("jobId", "jobName", "status", "createdAt", "jobDefinition") if key in summary
    }
    job.update(jobQueue=QUEUE_ARN, stoppedAt=summary.get("stoppedAt", summary["createdAt"] + 60_000))
    if "size" in summary.get("arrayProperties", {}):
        job["arrayProperties"] = {"size": 2, "statusSummary": {"SUCCEEDED": 2 - failed, "FAILED": failed}}
    return job


class ScriptedBatch:
    """Batch for the sweep: ListJobs answers with the queued pages in turn (a page but the last carries a
    `nextToken`); a ListJobs call beyond them fails the test, like an unqueued call on botocore's Stubber.
    DescribeJobs answers with the `details` of the ids asked for (at most 100, as Batch takes)."""

    def __init__(self, pages: list[list[dict[str, Any]]], details: list[dict[str, Any]]) -> None:
        self.pages = [
            {"jobSummaryList": page, **({"nextToken": f"token-{n + 1}"} if n + 1 < len(pages) else {})}
            for n, page in enumerate(pages)
        ]
        self.details = {job["jobId"]: job for job in details}
        self.list_requests: list[dict[str, Any]] = []
        self.described: list[list[str]] = []

    def list_jobs(self, **request: Any) -> dict[str, Any]:
        self.list_requests.append(copy.deepcopy(request))
        assert self.pages, "the sweep listed a page beyond the last one Batch has"
        return self.pages.pop(0)

    def describe_jobs(self, *, jobs: list[str]) -> dict[str, Any]:
        assert len(jobs) <= 100, "DescribeJobs takes at most 100 ids"
        self.described.append(jobs)
        return {"jobs": [self.details[job_id] for job_id in jobs if job_id in self.details]}


class ResumeTable:
    """The idempotency table as the resume point uses it: items by their `id` (a string key). As with
    DynamoDB, a read without `ConsistentRead` may return what the table held before its latest write."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.before_last_write: dict[str, dict[str, Any]] = {}

    def get_item(self, *, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        assert TableName == TABLE
        items = self.items if ConsistentRead else self.before_last_write
        item = items.get(Key["id"]["S"])
        return {"Item": copy.deepcopy(item)} if item else {}

    def put_item(self, *, TableName: str, Item: dict[str, Any]) -> None:  # noqa: N803
        assert TableName == TABLE
        self.before_last_write = copy.deepcopy(self.items)
        self.items[Item["id"]["S"]] = Item

    def delete_item(self, *, TableName: str, Key: dict[str, Any]) -> None:  # noqa: N803
        assert TableName == TABLE
        self.before_last_write = copy.deepcopy(self.items)
        self.items.pop(Key["id"]["S"], None)


@dataclass(frozen=True)
class SentReport:
    """What the sweep hands on to `deliver_once`, as far as the sweep reads it back."""

    job_id: str
    status: str
    stage: str = "test"
    job_queue_name: str = "test-queue"
    array_size: int = 2
    failed: int = 0


class Notifier:
    """The notifier's delivery path as the sweep uses it: the idempotency records of every sink
    (`recorded`), a completion the notifier is delivering right now (`in_progress`), one the event path
    delivers between the sweep's look at the records and its own delivery (`delivered_meanwhile`)."""

    def __init__(self) -> None:
        self.recorded: set[tuple[str, str]] = set()
        self.in_progress: set[tuple[str, str]] = set()
        self.delivered_meanwhile: set[tuple[str, str]] = set()
        self.sent: list[tuple[str, str]] = []

    def delivered_to_completion_topic(self, job_id: str, status: str, origin: Any = None) -> bool:
        return (job_id, status) in self.recorded

    def completion_report(self, completion: Any, job: Any) -> SentReport:
        return SentReport(job.job_id, job.status)

    def deliver_once(self, report: Any, context: Any, clock: Any) -> Reported:
        key = (report.job_id, report.status)
        if key in self.in_progress:
            raise IdempotencyAlreadyInProgressError(str(key))
        duplicate = key in self.recorded | self.delivered_meanwhile
        if not duplicate:
            self.sent.append(key)
            self.recorded.add(key)
        return Reported(report, [{"sink": "sns", "duplicate": duplicate}], duplicate, [])


class World:
    """What one sweep talks to: Batch (queued afresh per sweep), the table and the notifier, which persist."""

    def __init__(self, table: ResumeTable, notifier: Notifier) -> None:
        self.table = table
        self.notifier = notifier
        self.batch = ScriptedBatch([], [])

    def queue(self, pages: list[list[dict[str, Any]]], details: list[dict[str, Any]]) -> ScriptedBatch:
        """What Batch holds for the next sweep."""
        self.batch = ScriptedBatch(pages, details)
        return self.batch

    def client(self, service: str) -> Any:
        return {"batch": self.batch, "dynamodb": self.table}[service]

    def client_for(self, service: str, origin: Any) -> Any:
        assert origin is None, "this notifier has no member accounts"
        return self.client(service)

    def sweep(self) -> dict[str, Any]:
        return reconcile.handler({}, LambdaContext.of_function("batch-array-notify-sweep", REGION))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    """The sweep's environment as the component sets it, its clock stopped at NOW_S."""
    environment = {
        "AWS_REGION": REGION,
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:done",
        "STAGE": "test",
        "IDEMPOTENCY_TABLE": TABLE,
        "JOB_QUEUE_ARNS": QUEUE_ARN,
        "JOB_DEFINITION_ARN_PREFIXES": DEFINITION,
        "RECONCILE_LOOKBACK_HOURS": str(LOOKBACK_HOURS),
        "NOTIFY_STATUSES": "SUCCEEDED,FAILED",
        # No grace period and no runtime allowance here: the window is the lookback up to now (their tests
        # are below).
        "RECONCILE_GRACE_SECONDS": "0",
        "RECONCILE_MAX_ARRAY_RUNTIME_HOURS": "0",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    world = World(ResumeTable(), Notifier())
    monkeypatch.setattr(reconcile, "clock", lambda: float(NOW_S))
    monkeypatch.setattr(reconcile, "client", world.client)
    monkeypatch.setattr(reconcile, "client_for", world.client_for)
    for name in ("delivered_to_completion_topic", "completion_report", "deliver_once"):
        monkeypatch.setattr(reconcile, name, getattr(world.notifier, name))
    caplog.set_level(logging.INFO)
    yield world
    reset_handler_caches()


def decisions(caplog: pytest.LogCaptureFixture, decision: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if getattr(record, "decision", None) == decision]


def first_request(filter_name: str, value: int) -> dict[str, Any]:
    """The first ListJobs request of a sweep: the queue, one creation-time filter, full pages."""
    return {"jobQueue": QUEUE_ARN, "filters": [{"name": filter_name, "values": [str(value)]}], "maxResults": 100}


# --------------------------------------------------------------------------------------------------
# What one sweep lists, reports, charges and logs


def test_a_sweep_reports_the_missed_array_parents_of_its_window_and_nothing_else(world, caplog):
    """One page, newest first: only this pipeline's finished array parents created within the last
    `RECONCILE_LOOKBACK_HOURS` that no sink has a record of are reported; a job created at the window's
    first millisecond is in it, one a millisecond older is not."""
    theirs = parent("theirs", WINDOW_START_MS + 9_000, definition=f"{DEFINITION}ful:1")
    child = parent("missed-ok:0", WINDOW_START_MS + 8_000, array={"index": 0})
    recorded = parent("recorded", WINDOW_START_MS + 7_000)
    missed_ok = parent("missed-ok", WINDOW_START_MS + 6_000)
    running = parent("running", WINDOW_START_MS + 5_000, status="RUNNING")
    single = parent("single", WINDOW_START_MS + 4_000, array={})
    missed_failed = parent("missed-failed", WINDOW_START_MS + 3_000, status="FAILED")
    first_ms = parent("first-ms", WINDOW_START_MS)
    too_old = parent("too-old", WINDOW_START_MS - 1)
    page = [theirs, child, recorded, missed_ok, running, single, missed_failed, first_ms, too_old]
    world.notifier.recorded.add(("recorded", "SUCCEEDED"))
    batch = world.queue(
        [page], [detail(job) for job in page if job is not missed_failed] + [detail(missed_failed, failed=1)]
    )

    result = world.sweep()

    assert batch.list_requests == [first_request(*TOP)]
    assert batch.described == [["missed-ok", "single", "missed-failed", "first-ms"]]
    sent = [("missed-ok", "SUCCEEDED"), ("missed-failed", "FAILED"), ("first-ms", "SUCCEEDED")]
    assert world.notifier.sent == sent
    queue = {
        "jobQueue": "test-queue",
        "listed": len(page),
        "candidates": 5,
        "reconciled": ["missed-ok:SUCCEEDED", "missed-failed:FAILED", "first-ms:SUCCEEDED"],
        "alreadyReported": 1,
        "stoppedEarly": False,
        "resumeBelowMs": None,
        # One ListJobs page, one DescribeJobs call, and the failed array's children at their worst.
        "batchCalls": 2 + REPORT_BATCH_CALLS,
    }
    assert result == {"reconciled": 3, "stoppedEarly": False, "queues": [queue]}
    reported = decisions(caplog, "reconciled")
    assert [(r.levelno, r.getMessage(), r.jobId, r.jobQueue, r.status) for r in reported] == [
        (
            logging.WARNING,
            "completion reported by the sweep: its event never reached the notifier",
            job,
            "test-queue",
            status,
        )
        for job, status in sent
    ]
    assert all(r.deliveries == [{"sink": "sns", "duplicate": False}] for r in reported)
    # What the dashboard's "Latest completions" shows, as for the notifier's own reports.
    assert all(set(COMPLETION_LOG_FIELDS) <= set(vars(r)) for r in reported)
    assert [(r.arraySize, r.failed) for r in reported] == [(2, 0)] * 3
    (swept,) = decisions(caplog, "swept")
    assert (swept.levelno, swept.getMessage()) == (logging.INFO, "sweep done")
    assert {name: getattr(swept, name) for name in queue} == queue
    assert world.table.items == {}


def test_a_completion_the_notifier_delivered_meanwhile_or_is_delivering_is_not_counted_as_missed(world, caplog):
    """Between the sweep's look at the records and its delivery, the event path can get there first: the
    sweep then sends nothing, counts the completion as already reported and logs no `reconciled`."""
    meanwhile, in_progress, missed = (parent(job, WINDOW_START_MS + n) for n, job in enumerate(("a", "b", "c")))
    world.notifier.delivered_meanwhile.add(("a", "SUCCEEDED"))
    world.notifier.in_progress.add(("b", "SUCCEEDED"))
    world.queue([[missed, in_progress, meanwhile]], [detail(job) for job in (meanwhile, in_progress, missed)])

    result = world.sweep()

    assert world.notifier.sent == [("c", "SUCCEEDED")]
    (queue,) = result["queues"]
    assert (result["reconciled"], queue["reconciled"], queue["alreadyReported"]) == (1, ["c:SUCCEEDED"], 2)
    assert [record.jobId for record in decisions(caplog, "reconciled")] == ["c"]


def test_a_sweep_pages_on_until_a_page_reaches_past_the_window_start(world):
    """Newest first: a page whose oldest job is the window's first millisecond may be followed by more of
    that millisecond; once a page reaches below the window, no later page can hold a job of it (the
    scripted Batch fails the test on a fourth call)."""
    pages = [
        [parent("p1", WINDOW_START_MS + 2)],
        [parent("p2", WINDOW_START_MS + 1), parent("p3", WINDOW_START_MS)],
        [parent("p4", WINDOW_START_MS), parent("p5", WINDOW_START_MS - 1)],
        [parent("p6", WINDOW_START_MS - 2)],
    ]
    batch = world.queue(pages, [detail(job) for page in pages for job in page])

    result = world.sweep()

    first = first_request(*TOP)
    assert batch.list_requests == [first, {**first, "nextToken": "token-1"}, {**first, "nextToken": "token-2"}]
    assert result["queues"][0]["reconciled"] == [f"p{n}:SUCCEEDED" for n in range(1, 5)]
    assert (result["queues"][0]["listed"], result["queues"][0]["batchCalls"]) == (5, 3 + 3)


def other_teams_pages(count: int, newest_ms: int) -> list[list[dict[str, Any]]]:
    """`count` pages of another job definition's array jobs, a second apart: nothing to describe."""
    return [[parent(f"x{n}", newest_ms - n * 1000, definition=f"{DEFINITION}ful:1")] for n in range(count)]


def test_a_sweep_lists_at_most_its_page_budget_and_the_next_one_continues_below_the_oldest_job_seen(world, caplog):
    """A queue longer than 10 pages: the sweep stops after 10, says so, and keeps the resume point under
    its documented key until its window has passed; the next sweep, right after, lists below it (a
    consistent read: the default one may not see the write yet) and, reaching the end, drops it."""
    newest_ms = NOW_S * 1000 - 60_000
    pages = other_teams_pages(LIST_PAGES_PER_QUEUE + 1, newest_ms)
    batch = world.queue(pages, [])

    first = world.sweep()

    oldest_seen = newest_ms - (LIST_PAGES_PER_QUEUE - 1) * 1000
    assert len(batch.list_requests) == LIST_PAGES_PER_QUEUE
    (queue,) = first["queues"]
    assert (first["stoppedEarly"], queue["stoppedEarly"], queue["resumeBelowMs"]) == (True, True, oldest_seen + 1)
    assert (queue["listed"], queue["candidates"], queue["batchCalls"]) == (
        LIST_PAGES_PER_QUEUE,
        0,
        LIST_PAGES_PER_QUEUE,
    )
    assert world.table.items == {
        RESUME_KEY: {
            "id": {"S": RESUME_KEY},
            "resumeBelowMs": {"N": str(oldest_seen + 1)},
            "expiration": {"N": str(NOW_S + LOOKBACK_HOURS * 3600)},
        }
    }
    (swept,) = decisions(caplog, "swept")
    assert swept.levelno == logging.WARNING
    assert swept.getMessage() == "sweep stopped early: its budget is spent, the next sweep continues below"
    assert (swept.stoppedEarly, swept.resumeBelowMs) == (True, oldest_seen + 1)

    batch = world.queue([[parent("x10", oldest_seen - 1000, definition=f"{DEFINITION}ful:1")]], [])
    second = world.sweep()

    assert batch.list_requests == [first_request("BEFORE_CREATED_AT", oldest_seen + 1)]
    assert (second["stoppedEarly"], second["queues"][0]["resumeBelowMs"]) == (False, None)
    assert world.table.items == {}


def test_a_sweep_that_lists_nothing_but_empty_pages_keeps_no_resume_point(world):
    """Stopped at the page budget without having seen a job, it cannot say where to continue: the next
    sweep starts at the top again."""
    batch = world.queue([[] for _ in range(LIST_PAGES_PER_QUEUE + 1)], [])

    result = world.sweep()

    assert len(batch.list_requests) == LIST_PAGES_PER_QUEUE
    assert (result["stoppedEarly"], result["queues"][0]["resumeBelowMs"]) == (True, None)
    assert world.table.items == {}


@pytest.mark.parametrize("resume_below_ms", [WINDOW_START_MS, WINDOW_START_MS - 3_600_000])
def test_a_resume_point_at_or_before_the_window_start_is_ignored(world, resume_below_ms):
    """Left by a sweep long ago (its item's TTL not yet applied): the pass it belonged to has ended."""
    world.table.items[RESUME_KEY] = {"id": {"S": RESUME_KEY}, "resumeBelowMs": {"N": str(resume_below_ms)}}
    batch = world.queue([[]], [])

    world.sweep()

    assert batch.list_requests == [first_request(*TOP)]
    assert world.table.items == {}


def test_a_sweep_sends_at_most_25_reports_and_the_next_continues_with_the_first_it_did_not_send(world):
    """27 missed completions, one of them gone from Batch when described: 25 are reported (the vanished
    one took no report), the 27th is left to the next sweep, which lists from just above it."""
    newest_ms = NOW_S * 1000 - 60_000
    page = [parent(f"m{n:02d}", newest_ms - n) for n in range(REPORTS_PER_QUEUE + 2)]
    batch = world.queue([page], [detail(job) for job in page[1:]])

    result = world.sweep()

    assert world.notifier.sent == [(job["jobId"], "SUCCEEDED") for job in page[1:26]]
    assert batch.described == [[job["jobId"] for job in page[:25]], ["m25"]]
    (queue,) = result["queues"]
    assert (queue["stoppedEarly"], queue["resumeBelowMs"]) == (True, page[26]["createdAt"] + 1)
    # One ListJobs page and two DescribeJobs calls: no report of a successful array lists children.
    assert queue["batchCalls"] == 1 + 2


def test_a_sweep_makes_at_most_10_describe_calls(world):
    """300 of this pipeline's jobs that only DescribeJobs shows are not array jobs (their summaries lack
    `arrayProperties`, as emulators' do): 25 described a call, the sweep stops at 10 calls and the next
    continues from the first job it did not describe."""
    newest_ms = NOW_S * 1000 - 60_000
    jobs = [parent(f"s{n:03d}", newest_ms - n, array={}) for n in range(300)]
    batch = world.queue([jobs[:100], jobs[100:200], jobs[200:]], [detail(job) for job in jobs])

    result = world.sweep()

    assert [len(ids) for ids in batch.described] == [25] * DESCRIBE_CALLS_PER_QUEUE
    (queue,) = result["queues"]
    assert (queue["stoppedEarly"], queue["resumeBelowMs"]) == (True, jobs[250]["createdAt"] + 1)
    assert (queue["reconciled"], queue["batchCalls"]) == ([], 3 + DESCRIBE_CALLS_PER_QUEUE)
    assert world.notifier.sent == []


# --------------------------------------------------------------------------------------------------
# The grace period and the longest runtime: the window is on stop time, ListJobs filters on creation

HOUR_MS = 3_600_000
GRACE_SECONDS = 3 * 3600


def sweep_at(world: World, monkeypatch: pytest.MonkeyPatch, now_s: float) -> dict[str, Any]:
    monkeypatch.setattr(reconcile, "clock", lambda: now_s)
    return world.sweep()


@pytest.mark.parametrize("stop_in", ["summary", "describe"])
def test_a_job_that_stopped_within_the_grace_period_is_left_alone_and_reported_once_past_it(
    world, monkeypatch, stop_in
):
    """Its event may still be on its way (EventBridge's and Lambda's retries): a sweep then leaves it, and
    a sweep once the grace period has passed reports it. Whether the summary says when it stopped (Batch's
    do) or only DescribeJobs does."""
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", str(GRACE_SECONDS))
    reset_handler_caches()
    stopped_ms = NOW_S * 1000 - 60_000
    job = parent("late", stopped_ms - HOUR_MS, stopped_ms=stopped_ms if stop_in == "summary" else None)
    if stop_in == "describe":
        job["createdAt"] = stopped_ms - 60_000  # detail(): stopped a minute after it was created

    batch = world.queue([[job]], [detail(job)])
    early = world.sweep()

    assert batch.list_requests == [first_request("BEFORE_CREATED_AT", NOW_S * 1000 - GRACE_SECONDS * 1000 + 1)]
    assert (early["reconciled"], world.notifier.sent) == (0, [])
    # A summary's `stoppedAt` rules the job out before any DescribeJobs call.
    assert batch.described == ([] if stop_in == "summary" else [["late"]])

    world.queue([[job]], [detail(job)])
    # Exactly the grace period after its stop: no longer "less than the grace period ago".
    late = sweep_at(world, monkeypatch, stopped_ms / 1000 + GRACE_SECONDS)

    assert (late["reconciled"], world.notifier.sent) == (1, [("late", "SUCCEEDED")])


def test_a_job_created_before_the_window_that_stopped_inside_it_is_reported_when_it_ran_no_longer_than_allowed(
    world, monkeypatch
):
    """ListJobs cannot filter on stop time: the sweep lists `RECONCILE_MAX_ARRAY_RUNTIME_HOURS` further back
    by creation time. A job created 3 h before the window that stopped inside it is reported with a 3 h
    allowance and not with 2 h (the listing stops below the allowance)."""
    long_job = parent("long", WINDOW_START_MS - 3 * HOUR_MS, stopped_ms=WINDOW_START_MS + HOUR_MS)
    older = parent("older", WINDOW_START_MS - 4 * HOUR_MS - 1, stopped_ms=WINDOW_START_MS + HOUR_MS)

    monkeypatch.setenv("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "2")
    reset_handler_caches()
    world.queue([[long_job, older]], [detail(long_job), detail(older)])
    assert (world.sweep()["reconciled"], world.notifier.sent) == (0, [])

    monkeypatch.setenv("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "3")
    reset_handler_caches()
    world.queue([[long_job, older]], [detail(long_job), detail(older)])
    assert (world.sweep()["reconciled"], world.notifier.sent) == (1, [("long", "SUCCEEDED")])


def test_a_job_that_stopped_before_the_window_is_not_reported_whenever_it_was_created(world, monkeypatch):
    """Its stop was the business of earlier sweeps, while its idempotency record surely existed; one that
    stopped at the window's first millisecond is in it."""
    monkeypatch.setenv("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "1")
    reset_handler_caches()
    first = parent("first", WINDOW_START_MS - 2, stopped_ms=WINDOW_START_MS)
    before = parent("before", WINDOW_START_MS - 2, stopped_ms=WINDOW_START_MS - 1)
    batch = world.queue([[first, before]], [detail(first), detail(before)])

    world.sweep()

    assert world.notifier.sent == [("first", "SUCCEEDED")]
    assert batch.described == [["first"]]
