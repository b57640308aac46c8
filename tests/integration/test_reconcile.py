"""The reconciliation sweep (`handler.reconcile.handler`) against moto: completions whose event never reached
the notifier are reported once, through the notifier's sinks and idempotency records, and nothing else is.

Where moto's Batch is not Batch, the tests say so: moto's ListJobs ignores `filters`, `maxResults` and
`nextToken`, lists children among a queue's jobs and returns them oldest first. Tests (a) and (b) run on
moto's own ListJobs (the sweep must cope with its children and order); test (c) answers Batch calls from
`ListJobsAsBatchDoes`, which pages as the ListJobs reference says (see the class), because moto neither pages
nor holds 1,000 array jobs within the suite's time (each submit costs ~35 ms there).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from batch_array_notify.handler import aws
from batch_array_notify.handler import reconcile as sweep_module
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.metrics import RECONCILE_STOPPED_EARLY, RECONCILED_COMPLETIONS
from batch_array_notify.handler.reconcile import (
    CURSOR_KEY_PREFIX,
    LIST_PAGES_PER_QUEUE,
    MAX_BATCH_CALLS_PER_QUEUE,
    REPORTS_PER_QUEUE,
)
from tests.integration.moto_stack import REGION, BatchStack, create_queue_beside, make_lambda_context

# The completion bus's consumer (a rule on the bus with an SQS target), as that module builds it.
from tests.integration.test_completion_event import consumer, consumer_queue  # noqa: F401 (fixtures)
from tests.support import SimulatedTime
from tools.emf import read_documents, totals
from tools.rehearsal_world import reset_handler_caches


def run_sweep(capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """One sweep; its result and the summed metrics it wrote (EMF on stdout)."""
    capsys.readouterr()
    result = sweep_module.handler({}, make_lambda_context())
    documents = read_documents(capsys.readouterr().out.splitlines())
    summed: Counter[str] = Counter()
    for metrics in totals(documents).values():
        for metric in metrics:
            summed[metric.name] += sum(metric.values)
    return result, dict(summed)


SWEEP_ONLY_VARIABLES = (
    "JOB_DEFINITION_ARN_PREFIXES",
    "RECONCILE_LOOKBACK_HOURS",
    "NOTIFY_STATUSES",
    "BATCH_CALLS_PER_SECOND",
)


@pytest.fixture(autouse=True)
def simulated_time(monkeypatch: pytest.MonkeyPatch) -> SimulatedTime:
    """The sweep's pacer waits in simulated time: pacing costs the suite nothing."""
    time = SimulatedTime()
    monkeypatch.setattr(sweep_module, "pacer_clock", time.clock)
    monkeypatch.setattr(sweep_module, "pacer_sleep", time.sleep)
    return time


@pytest.fixture
def sweep_env(handler_env: BatchStack, monkeypatch: pytest.MonkeyPatch) -> BatchStack:
    """The sweep's own variables on top of the notifier's, as the component sets them."""
    monkeypatch.setenv("JOB_DEFINITION_ARN_PREFIXES", handler_env.job_definition_arn.rpartition(":")[0])
    monkeypatch.setenv("RECONCILE_LOOKBACK_HOURS", "24")
    # Where an earlier test's sweep stopped is no business of this one (the table lives per module).
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=handler_env.idempotency_table, Key={"id": {"S": CURSOR_KEY_PREFIX + handler_env.job_queue_arn}}
    )
    reset_handler_caches()
    return handler_env


# --------------------------------------------------------------------------------------------------
# (a) the rule disabled: the sweep reports, once


def test_a_sweep_reports_completions_whose_events_never_arrived_once(
    sweep_env,
    consumer,  # noqa: F811 (the imported fixture)
    moto_batch,
    subscriber,
    capsys,
    monkeypatch,
):
    """(a) Three array jobs finish with the completion rule disabled (no event reaches the notifier): one
    sweep sends three notifications and three completion events; a second sends none; the parents' real
    events, delivered late, send none either."""
    parents = [moto_batch.submit_array_job(size=3) for _ in range(3)]
    moto_batch.fail_children(parents[2], [1], "Essential container in task exited")

    first, metrics = run_sweep(capsys)

    received = subscriber.notifications()
    assert sorted(n["MessageAttributes"]["status"]["Value"] for n in received) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert sorted(event["detail"]["jobId"] for event in consumer.events()) == sorted(parents)
    assert first["reconciled"] == 3
    assert metrics[RECONCILED_COMPLETIONS] == 3
    assert metrics[RECONCILE_STOPPED_EARLY] == 0

    second, metrics = run_sweep(capsys)
    assert (second["reconciled"], metrics[RECONCILED_COMPLETIONS]) == (0, 0)
    # The records rule them out before any DescribeJobs: one ListJobs page is all the second sweep costs.
    assert second["queues"][0]["batchCalls"] == 1
    assert subscriber.notifications() == []
    assert consumer.events() == []

    # The notifier is another function: its environment lacks the sweep's own variables.
    for name in SWEEP_ONLY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    reset_handler_caches()
    late = [handler(moto_batch.completion_event(parent), make_lambda_context())["outcome"] for parent in parents]
    assert late == ["duplicate"] * 3
    assert subscriber.notifications() == []
    assert consumer.events() == []


def test_a_completion_the_event_path_reported_is_not_reported_again(sweep_env, moto_batch, subscriber, capsys):
    parent = moto_batch.submit_array_job(size=2)
    assert handler(moto_batch.completion_event(parent), make_lambda_context())["outcome"] == "delivered"
    assert len(subscriber.notifications()) == 1

    result, metrics = run_sweep(capsys)

    assert subscriber.notifications() == []
    assert (result["reconciled"], metrics[RECONCILED_COMPLETIONS]) == (0, 0)
    assert result["queues"][0]["alreadyReported"] >= 1


# --------------------------------------------------------------------------------------------------
# (b) never anything but this pipeline's array parents on this notifier's queues


@pytest.fixture(scope="module")
def elsewhere(batch_stack: BatchStack) -> dict[str, str]:
    """Another queue on the same compute environment, and another job definition, in the same account."""
    other_queue = create_queue_beside(batch_stack, "other-team")
    other_definition = boto3.client("batch", region_name=REGION).register_job_definition(
        jobDefinitionName="someone-else",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 1, "memory": 512},
    )["jobDefinitionArn"]
    return {"queue": other_queue, "definition": other_definition}


def test_b_single_jobs_children_other_definitions_and_other_queues_are_never_reported(
    sweep_env, elsewhere, moto_batch, subscriber, capsys
):
    """(b) moto lists the children among the queue's jobs (real Batch does not): the sweep must skip them."""
    batch = boto3.client("batch", region_name=REGION)
    single = batch.submit_job(
        jobName="single", jobQueue=sweep_env.job_queue_arn, jobDefinition=sweep_env.job_definition_arn
    )["jobId"]
    other_definition = batch.submit_job(
        jobName="theirs",
        jobQueue=sweep_env.job_queue_arn,
        jobDefinition=elsewhere["definition"],
        arrayProperties={"size": 2},
    )["jobId"]
    other_queue = batch.submit_job(
        jobName="theirs",
        jobQueue=elsewhere["queue"],
        jobDefinition=sweep_env.job_definition_arn,
        arrayProperties={"size": 2},
    )["jobId"]
    ours = moto_batch.submit_array_job(size=2)
    listed = batch.list_jobs(jobQueue=sweep_env.job_queue_arn, filters=[{"name": "AFTER_CREATED_AT", "values": ["0"]}])
    assert f"{ours}:0" in {job["jobId"] for job in listed["jobSummaryList"]}, "moto no longer lists children"

    result, _ = run_sweep(capsys)

    reported = {json.loads(n["Message"][n["Message"].index("\n{") + 1 :])["jobId"] for n in subscriber.notifications()}
    assert ours in reported
    assert not {single, other_definition, other_queue} & reported
    assert not any(":" in job_id for job_id in reported)
    assert {entry.rpartition(":")[0] for entry in result["queues"][0]["reconciled"]} == reported


def test_b_statuses_the_rule_does_not_notify_are_not_reported(sweep_env, moto_batch, subscriber, monkeypatch, capsys):
    monkeypatch.setenv("NOTIFY_STATUSES", "FAILED")
    reset_handler_caches()
    succeeded = moto_batch.submit_array_job(size=2)
    failed = moto_batch.submit_array_job(size=2)
    moto_batch.fail_children(failed, [0], "boom")

    run_sweep(capsys)

    bodies = [n["Message"] for n in subscriber.notifications()]
    assert any(failed in body for body in bodies)
    assert not any(succeeded in body for body in bodies)


# --------------------------------------------------------------------------------------------------
# (c) bounded work whatever the queue holds


class ListJobsAsBatchDoes:
    """Answers the sweep's Batch calls for `count` finished array parents, as the ListJobs and DescribeJobs
    references describe Batch: with a `filters` entry jobStatus is ignored and jobs of every status come
    back newest first; AFTER_CREATED_AT / BEFORE_CREATED_AT compare `createdAt` (epoch ms); pages of at most
    `maxResults` with an opaque `nextToken`; DescribeJobs takes at most 100 ids. Hooked on `before-call`, so
    moto never sees these calls (see the module docstring for why)."""

    def __init__(self, queue_arn: str, definition_arn: str, count: int, newest_ms: int, prefix: str) -> None:
        """`prefix` names the jobs: idempotency records outlive a test in the module's table."""
        self.queue_arn = queue_arn
        self.jobs = [
            {
                "jobId": f"{prefix}-{index:04d}",
                "jobName": "print-color",
                "jobArn": f"arn:aws:batch:{REGION}:123456789012:job/{prefix}-{index:04d}",
                "jobQueue": queue_arn,
                "jobDefinition": definition_arn,
                "status": "SUCCEEDED",
                "createdAt": newest_ms - index * 1000,
                "stoppedAt": newest_ms - index * 1000 + 500,
                "arrayProperties": {"size": 2, "statusSummary": {"SUCCEEDED": 2, "FAILED": 0}},
            }
            for index in range(count)
        ]
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = json.loads(params["body"] or b"{}")
        self.requests.append((model.name, body))
        if model.name == "ListJobs":
            parsed = self._list(body)
        elif model.name == "DescribeJobs":
            assert len(body["jobs"]) <= 100, "DescribeJobs takes at most 100 ids"
            parsed = {"jobs": [job for job in self.jobs if job["jobId"] in body["jobs"]]}
        else:
            raise AssertionError(f"the sweep made an unexpected Batch call: {model.name}")
        return AWSResponse("https://batch", 200, {}, None), {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        assert body["jobQueue"] == self.queue_arn
        assert "jobStatus" not in body
        (created,) = body["filters"]  # one filter at a time
        bound = int(created["values"][0])
        if created["name"] == "AFTER_CREATED_AT":
            rows = [job for job in self.jobs if job["createdAt"] > bound]
        else:
            rows = [job for job in self.jobs if job["createdAt"] < bound]
        rows.sort(key=lambda job: -job["createdAt"])
        start = int(body.get("nextToken", "0"))
        page = rows[start : start + min(body.get("maxResults", 100), 100)]
        fields = ("jobId", "jobName", "status", "createdAt", "jobDefinition")
        summaries = [{key: job[key] for key in fields} for job in page]
        answer: dict[str, Any] = {"jobSummaryList": summaries}
        if start + len(page) < len(rows):
            answer["nextToken"] = str(start + len(page))
        return answer


@pytest.fixture
def thousand_parents(sweep_env) -> Iterator[ListJobsAsBatchDoes]:
    newest_ms = int(sweep_module.clock() * 1000) - 60_000
    batch = ListJobsAsBatchDoes(sweep_env.job_queue_arn, sweep_env.job_definition_arn, 1000, newest_ms, "full")
    # Every Batch operation of the sweep's session lands here (any other one fails the test), so its
    # `requests` are all the Batch calls the sweep made.
    aws.session().events.register("before-call.batch", batch)
    yield batch
    aws.session().events.unregister("before-call.batch", batch)


def test_c_a_full_queue_costs_a_bounded_number_of_batch_calls_and_the_next_sweep_continues(
    thousand_parents, subscriber, capsys
):
    """(c) 1,000 finished parents nobody reported: each sweep stays within its Batch budget, says it
    stopped early (result, metric, resume point), and the next sweep continues below where it stopped."""
    batch = thousand_parents

    first, metrics = run_sweep(capsys)

    assert 0 < len(batch.requests) <= MAX_BATCH_CALLS_PER_QUEUE
    assert first["stoppedEarly"] is True
    assert metrics[RECONCILE_STOPPED_EARLY] == 1
    assert first["reconciled"] == REPORTS_PER_QUEUE == len(subscriber.notifications())
    (queue,) = first["queues"]
    first_reported = set(queue["reconciled"])
    assert queue["resumeBelowMs"] is not None

    batch.requests.clear()
    second, _ = run_sweep(capsys)

    assert len(batch.requests) <= MAX_BATCH_CALLS_PER_QUEUE
    first_list = next(body for name, body in batch.requests if name == "ListJobs")
    assert first_list["filters"] == [{"name": "BEFORE_CREATED_AT", "values": [str(queue["resumeBelowMs"])]}]
    second_reported = set(second["queues"][0]["reconciled"])
    assert len(second_reported) == REPORTS_PER_QUEUE
    assert not second_reported & first_reported
    assert len(subscriber.notifications()) == REPORTS_PER_QUEUE
    newest_second = max(int(entry.split(":")[0].rsplit("-", 1)[1]) for entry in second_reported)
    oldest_first = max(int(entry.split(":")[0].rsplit("-", 1)[1]) for entry in first_reported)
    assert newest_second > oldest_first, "the second sweep continues with older jobs"


def test_c_a_sweep_that_reaches_the_window_start_keeps_no_resume_point(sweep_env, subscriber, capsys):
    """A queue the budget covers: the pass ends, nothing stops early, and the next sweep starts at the top."""
    newest_ms = int(sweep_module.clock() * 1000) - 60_000
    few = REPORTS_PER_QUEUE - 5
    batch = ListJobsAsBatchDoes(sweep_env.job_queue_arn, sweep_env.job_definition_arn, few, newest_ms, "few")
    aws.session().events.register("before-call.batch", batch)
    try:
        first, metrics = run_sweep(capsys)
        batch.requests.clear()
        second, _ = run_sweep(capsys)
    finally:
        aws.session().events.unregister("before-call.batch", batch)

    assert (first["stoppedEarly"], metrics[RECONCILE_STOPPED_EARLY]) == (False, 0)
    assert first["reconciled"] == REPORTS_PER_QUEUE - 5 == len(subscriber.notifications())
    assert first["queues"][0]["resumeBelowMs"] is None
    lists = [body for name, body in batch.requests if name == "ListJobs"]
    assert [entry["name"] for entry in lists[0]["filters"]] == ["AFTER_CREATED_AT"]
    assert second["reconciled"] == 0


def test_c_a_queue_of_other_jobs_costs_at_most_the_page_budget(sweep_env, subscriber, capsys):
    """Jobs the sweep rules out from their summaries (another job definition) cost no DescribeJobs, but
    listing them still stops at the page budget, says so, and the next sweep continues below."""
    newest_ms = int(sweep_module.clock() * 1000) - 60_000
    theirs = sweep_env.job_definition_arn.replace("print-color", "theirs")
    count = (LIST_PAGES_PER_QUEUE + 1) * 100
    batch = ListJobsAsBatchDoes(sweep_env.job_queue_arn, theirs, count, newest_ms, "theirs")
    aws.session().events.register("before-call.batch", batch)
    try:
        first, metrics = run_sweep(capsys)
        second, _ = run_sweep(capsys)
    finally:
        aws.session().events.unregister("before-call.batch", batch)

    # The second sweep lists the last 101: from the oldest job seen, included again (as jobs of its millisecond).
    assert [name for name, _ in batch.requests] == ["ListJobs"] * (LIST_PAGES_PER_QUEUE + 2)
    assert first["stoppedEarly"] is True
    assert metrics[RECONCILE_STOPPED_EARLY] == 1
    assert first["queues"][0]["listed"] == LIST_PAGES_PER_QUEUE * 100
    assert second["stoppedEarly"] is False
    assert second["queues"][0]["listed"] == 101
    assert subscriber.notifications() == []


# --------------------------------------------------------------------------------------------------
# (d) paced: the sweep never takes more of the account's Batch calls than BATCH_CALLS_PER_SECOND


def test_d_the_sweeps_batch_calls_keep_to_their_pace(sweep_env, moto_batch, capsys, monkeypatch, simulated_time):
    monkeypatch.setenv("BATCH_CALLS_PER_SECOND", "2")
    parents = [moto_batch.submit_array_job(size=2) for _ in range(3)]
    for parent in parents:
        moto_batch.fail_children(parent, [0], "Essential container in task exited")
    sent_at: list[float] = []
    aws.session().events.register("after-call.batch", lambda **_: sent_at.append(simulated_time.now))

    result, _ = run_sweep(capsys)

    reconciled = {completion.partition(":")[0] for queue in result["queues"] for completion in queue["reconciled"]}
    assert set(parents) <= reconciled, "earlier tests' jobs share the module's queue; these three are reported"
    assert len(sent_at) >= 8, "a ListJobs, a DescribeJobs and two calls per failed array job"
    busiest = max(sum(1 for t in sent_at if start <= t < start + 1) for start in sent_at)
    assert busiest <= 2 + 2, "the rate, plus the burst of a full bucket"
    assert sent_at[-1] >= (len(sent_at) - 2) / 2
