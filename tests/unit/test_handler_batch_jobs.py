"""batch_jobs: the handler's Batch queries, call by call, on botocore's Stubber.

Why Stubber and not moto: moto's ListJobs never returns `nextToken` and ignores `maxResults`, and
its DescribeJobs answers in request order, so the paging loop, the remaining-count arithmetic and the
sort by array index cannot be exercised there. The Stubber sits on the handler's own batch client
(`handler/aws.py` makes every client), checks each request's parameters against what is queued and
fails on any call nobody queued, so "no second page" and "never more than 4 calls" are enforced by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from batch_array_notify.handler import aws
from batch_array_notify.handler.app import _report
from batch_array_notify.handler.batch_jobs import MAX_DESCRIBE_IDS, describe_job, first_failed_children
from batch_array_notify.handler.scope import Completion, decide
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from batch_array_notify.testing.rehearsal_world import FAKE_CREDENTIALS, LambdaContext, reset_handler_caches

REGION = "eu-west-1"
QUEUE_ARN = f"arn:aws:batch:{REGION}:123456789012:job-queue/test-queue"
DEFINITION_ARN = f"arn:aws:batch:{REGION}:123456789012:job-definition/print-color:3"
PARENT = "1b2c3d4e-0000-4000-8000-000000000001"
FAILED_CHILDREN = {"arrayJobId": PARENT, "jobStatus": "FAILED"}


@pytest.fixture(scope="module")
def batch_client() -> Iterator[Any]:
    """The handler's batch client, made once per module (a boto3 session costs a second or more)."""
    environment = {
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:done",
        "STAGE": "test",
        "IDEMPOTENCY_TABLE": "idempotency",
        "JOB_QUEUE_ARNS": f"arn:aws:batch:{REGION}:123456789012:job-queue/test-queue",
    }
    with pytest.MonkeyPatch.context() as env:
        for name, value in environment.items():
            env.setenv(name, value)
        env.delenv("MAX_FAILED_DETAILS", raising=False)
        env.delenv("AWS_PROFILE", raising=False)
        reset_handler_caches()
        yield aws.client("batch")
        reset_handler_caches()


@pytest.fixture
def batch(batch_client) -> Iterator[Stubber]:
    """A Stubber on the handler's batch client; fails the test if a queued response is left unused."""
    with Stubber(batch_client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _summaries(*indexes: int) -> list[dict[str, Any]]:
    return [{"jobId": f"{PARENT}:{index}", "jobName": "print-color"} for index in indexes]


def _child(index: int, *, with_index: bool = True, job_id: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "jobName": "print-color",
        "jobId": job_id or f"{PARENT}:{index}",
        "jobQueue": QUEUE_ARN,
        "jobDefinition": DEFINITION_ARN,
        "status": "FAILED",
        "startedAt": 1_700_000_000_000,
        "statusReason": "Essential container in task exited",
        "container": {"exitCode": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"},
    }
    if with_index:
        detail["arrayProperties"] = {"index": index}
    return detail


def _ids(*indexes: int) -> list[str]:
    return [f"{PARENT}:{index}" for index in indexes]


def test_a_short_first_page_with_a_token_asks_the_second_page_for_the_remaining_count(batch):
    batch.add_response(
        "list_jobs",
        {"jobSummaryList": _summaries(0, 1), "nextToken": "page-2"},
        {**FAILED_CHILDREN, "maxResults": 5},
    )
    batch.add_response(
        "list_jobs",
        {"jobSummaryList": _summaries(2, 3, 4), "nextToken": "page-3"},
        {**FAILED_CHILDREN, "maxResults": 3, "nextToken": "page-2"},
    )
    batch.add_response("describe_jobs", {"jobs": [_child(i) for i in range(5)]}, {"jobs": _ids(0, 1, 2, 3, 4)})

    children = first_failed_children(PARENT, 5)

    assert [child.array_index for child in children] == [0, 1, 2, 3, 4]


def test_a_full_first_page_with_a_token_is_not_followed_and_never_asks_for_zero_rows(batch):
    batch.add_response(
        "list_jobs",
        {"jobSummaryList": _summaries(0, 1, 2), "nextToken": "page-2"},
        {**FAILED_CHILDREN, "maxResults": 3},
    )
    # No second list_jobs is queued: a call with maxResults=0 (which Batch rejects) would fail the test.
    batch.add_response("describe_jobs", {"jobs": [_child(i) for i in range(3)]}, {"jobs": _ids(0, 1, 2)})

    assert [child.array_index for child in first_failed_children(PARENT, 3)] == [0, 1, 2]


def test_more_rows_than_asked_for_are_never_described(batch):
    """moto (and a misbehaving page) may return more than maxResults; only `limit` ids are described."""
    batch.add_response("list_jobs", {"jobSummaryList": _summaries(*range(7))}, {**FAILED_CHILDREN, "maxResults": 5})
    batch.add_response("describe_jobs", {"jobs": [_child(i) for i in range(5)]}, {"jobs": _ids(*range(5))})

    assert len(first_failed_children(PARENT, 5)) == 5


def test_no_failed_child_listed_means_no_describe_call(batch):
    batch.add_response("list_jobs", {"jobSummaryList": []}, {**FAILED_CHILDREN, "maxResults": 20})

    assert first_failed_children(PARENT, 20) == []


@pytest.mark.parametrize("limit", [1, MAX_DESCRIBE_IDS])
def test_the_bounds_of_the_detail_budget_are_accepted(batch, limit):
    batch.add_response(
        "list_jobs", {"jobSummaryList": _summaries(*range(limit))}, {**FAILED_CHILDREN, "maxResults": limit}
    )
    batch.add_response("describe_jobs", {"jobs": [_child(i) for i in range(limit)]}, {"jobs": _ids(*range(limit))})

    assert len(first_failed_children(PARENT, limit)) == limit


@pytest.mark.parametrize("limit", [0, MAX_DESCRIBE_IDS + 1])
def test_a_budget_outside_1_to_100_is_refused_before_any_call(batch, limit):
    with pytest.raises(ValueError, match=f"limit must be from 1 to 100, got {limit}"):
        first_failed_children(PARENT, limit)


def test_children_come_back_ordered_by_array_index_whatever_order_batch_answers_in(batch):
    batch.add_response(
        "list_jobs", {"jobSummaryList": _summaries(9, 2, 5, 11, 0)}, {**FAILED_CHILDREN, "maxResults": 20}
    )
    answer = [
        _child(9),
        _child(0, with_index=False, job_id="not-an-array-child"),  # no index anywhere: listed last
        _child(11, with_index=False),  # index only in the `<parent>:<index>` id
        _child(2),
        _child(5),
    ]
    batch.add_response("describe_jobs", {"jobs": answer}, {"jobs": _ids(9, 2, 5, 11, 0)})

    children = first_failed_children(PARENT, 20)

    assert [child.array_index for child in children] == [2, 5, 9, 11, None]
    assert children[-1].job_id == "not-an-array-child"


def test_a_job_batch_no_longer_knows_is_none(batch):
    batch.add_response("describe_jobs", {"jobs": []}, {"jobs": [PARENT]})

    assert describe_job(PARENT) is None


def _failed_parent_completion(size: int, failures: int) -> Completion:
    spec = ArrayJobSpec(
        QUEUE_ARN, DEFINITION_ARN, size=size, failures=failures, compute=Compute.EC2, parent_job_id=PARENT
    )
    *_, last = array_job_events(spec)
    completion = decide(last)
    assert isinstance(completion, Completion)
    return completion


def test_a_failed_parent_costs_at_most_four_batch_calls_even_when_every_page_is_short(batch):
    completion = _failed_parent_completion(size=50, failures=30)
    parent = {**completion.job.model_dump(by_alias=True, exclude_none=True), "startedAt": 1_700_000_000_000}
    batch.add_response("describe_jobs", {"jobs": [parent]}, {"jobs": [PARENT]})
    batch.add_response(
        "list_jobs", {"jobSummaryList": _summaries(0, 1), "nextToken": "p2"}, {**FAILED_CHILDREN, "maxResults": 20}
    )
    # A short second page that still has a token: a third page is one call too many.
    batch.add_response(
        "list_jobs",
        {"jobSummaryList": _summaries(2), "nextToken": "p3"},
        {**FAILED_CHILDREN, "maxResults": 18, "nextToken": "p2"},
    )
    batch.add_response("describe_jobs", {"jobs": [_child(i) for i in (2, 0, 1)]}, {"jobs": _ids(0, 1, 2)})

    report = _report(completion, LambdaContext.of_function("notifier", "eu-west-1"))

    assert [child.index for child in report.failed_children] == [0, 1, 2]
    assert report.failed == 30


def test_describe_job_returns_the_job_as_batch_reports_it(batch):
    parent = {**_child(0), "jobId": PARENT, "status": "SUCCEEDED", "arrayProperties": {"size": 4}}
    batch.add_response("describe_jobs", {"jobs": [parent]}, {"jobs": [PARENT]})

    job = describe_job(PARENT)

    assert job is not None
    assert (job.job_id, job.status, job.array_properties.size) == (PARENT, "SUCCEEDED", 4)


def test_the_described_children_are_the_ones_returned(batch):
    batch.add_response("list_jobs", {"jobSummaryList": _summaries(3)}, {**FAILED_CHILDREN, "maxResults": 20})
    batch.add_response("describe_jobs", {"jobs": [_child(3)]}, {"jobs": _ids(3)})

    (child,) = first_failed_children(PARENT, 20)

    assert (child.job_id, child.status, child.container.exit_code) == (f"{PARENT}:3", "FAILED", 137)


def test_index_zero_sorts_before_index_one(batch):
    batch.add_response("list_jobs", {"jobSummaryList": _summaries(1, 0)}, {**FAILED_CHILDREN, "maxResults": 20})
    batch.add_response("describe_jobs", {"jobs": [_child(1), _child(0)]}, {"jobs": _ids(1, 0)})

    assert [child.array_index for child in first_failed_children(PARENT, 20)] == [0, 1]
