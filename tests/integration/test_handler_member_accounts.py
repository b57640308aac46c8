"""A central notifier against moto with two member accounts: each member's completion is read through
its read role (moto keeps the accounts of assumed-role credentials apart, so a Batch call made in the
wrong account finds no job), reported once, naming its account, and another account's is refused."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from batch_array_notify.handler import accounts, reconcile
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.delivery import delivered_to_completion_topic
from batch_array_notify.handler.report import DEFAULT_LOG_GROUP
from batch_array_notify.handler.scope import Origin
from batch_array_notify.testing.emf import read_documents
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.integration.moto_stack import (
    MEMBER_ACCOUNT_IDS,
    REGION,
    BatchStack,
    MotoBatch,
    account_session,
    central_environment,
    create_member_stacks,
    make_lambda_context,
    record_aws_calls,
    set_central_sweep,
)

FIRST, SECOND = MEMBER_ACCOUNT_IDS
OUTSIDER = "333333333333"
CONTEXT = make_lambda_context()


@pytest.fixture(scope="module")
def member_batches(batch_stack: BatchStack) -> list[MotoBatch]:
    """Batch in the two member accounts (created once per module: ~1 s each)."""
    return create_member_stacks(batch_stack)


@pytest.fixture
def central(
    handler_env: BatchStack, member_batches: list[MotoBatch], monkeypatch: pytest.MonkeyPatch
) -> list[MotoBatch]:
    """The notifier in central mode: its own queue, and the two members, each listing its queue."""
    for name, value in central_environment(member_batches).items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    return member_batches


def _log_in_member(member: MotoBatch, child_id: str, line: str) -> None:
    """A line in the child's stream of the member's default job log group (the central account has none)."""
    logs = account_session(member.account_id).client("logs", region_name=REGION)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=DEFAULT_LOG_GROUP)
    stream = member.describe_job(child_id)["container"]["logStreamName"]
    logs.create_log_stream(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream)
    events = [{"timestamp": int(time.time() * 1000) - 1_000, "message": line}]
    logs.put_log_events(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream, logEvents=events)


def _without_counts(event: dict[str, Any]) -> dict[str, Any]:
    """The event with the array's size only: the counts must come from DescribeJobs."""
    size = event["detail"]["arrayProperties"]["size"]
    return {**event, "detail": {**event["detail"], "arrayProperties": {"size": size}}}


def _document(notification: dict[str, Any]) -> dict[str, Any]:
    _, _, document = notification["Message"].partition("Machine-readable report (JSON):\n")
    return dict(json.loads(document))


def _by_account(notifications: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    documents = [_document(notification) for notification in notifications]
    return {document.get("account"): document for document in documents}


def test_each_member_s_array_job_is_read_in_its_account_and_reported_once_naming_it(
    central, subscriber, capsys, caplog
):
    """Counts, failed children, log tails and metrics: all from and about the member's account."""
    first, second = central
    calls = record_aws_calls()
    parents = {FIRST: first.submit_array_job(size=3), SECOND: second.submit_array_job(size=4)}
    first.fail_children(parents[FIRST], [1], "Essential container in task exited")
    _log_in_member(first, f"{parents[FIRST]}:1", "read in the member's own logs")
    capsys.readouterr()
    caplog.set_level(logging.INFO)

    results = [
        handler(_without_counts(member.completion_event(parents[member.account_id])), CONTEXT) for member in central
    ]

    assert [result["outcome"] for result in results] == ["delivered", "delivered"]
    notifications = subscriber.notifications()
    documents = _by_account(notifications)
    assert set(documents) == {FIRST, SECOND}
    # The counts (not in the events) and the failed child come from each member's Batch: DescribeJobs and
    # ListJobs there knew the jobs.
    assert documents[FIRST]["counts"] == {"succeeded": 2, "failed": 1, "notFinal": 0}
    assert [child["jobId"] for child in documents[FIRST]["failedChildren"]] == [f"{parents[FIRST]}:1"]
    assert documents[SECOND]["counts"] == {"succeeded": 4, "failed": 0, "notFinal": 0}
    assert {document["region"] for document in documents.values()} == {REGION}
    for notification in notifications:
        account = notification["MessageAttributes"]["account"]["Value"]
        assert f"Account, region: {account}, {REGION}" in notification["Message"]
    assert calls["sts:AssumeRole"] == 2, "one AssumeRole per member account"
    assert "batch:DescribeJobs" not in calls, "no Batch call in the central account"
    assert documents[FIRST]["failedChildren"][0]["logTail"]["lines"] == ["read in the member's own logs"]
    printed = capsys.readouterr().out.splitlines()
    emf = {
        (document.dimensions.get("account"), name) for document in read_documents(printed) for name in document.metrics
    }
    assert {(FIRST, "ArrayJobsFailed"), (SECOND, "ArrayJobsSucceeded")} <= emf
    # The decision's log line names where the job ran, for Logs Insights queries by account.
    decisions = [record for record in caplog.records if getattr(record, "decision", None) == "delivered"]
    assert sorted((record.account, record.region) for record in decisions) == [(FIRST, REGION), (SECOND, REGION)]


def test_member_credentials_are_kept_for_the_next_completions_of_the_account(central, subscriber):
    first, _ = central
    calls = record_aws_calls()

    for _ in range(3):
        handler(first.completion_event(first.submit_array_job(size=2)), CONTEXT)

    assert len(subscriber.notifications()) == 3
    assert calls["sts:AssumeRole"] == 1


def test_duplicate_deliveries_across_accounts_stay_deduplicated_and_same_name_jobs_are_two(central, subscriber):
    """Both members run an array job named `nightly`; EventBridge delivers each completion twice (two event
    ids): two notifications, one per account, and two suppressed duplicates."""
    first, second = central
    parents = {member.account_id: member.submit_array_job(size=2, name="nightly") for member in central}
    events = [
        member.completion_event(parents[member.account_id], event_id=f"{member.account_id}-{n}")
        for member in central
        for n in range(2)
    ]

    outcomes = [handler(event, CONTEXT)["outcome"] for event in events]

    assert outcomes == ["delivered", "duplicate", "delivered", "duplicate"]
    documents = _by_account(subscriber.notifications())
    assert set(documents) == {first.account_id, second.account_id}
    assert {document["jobName"] for document in documents.values()} == {"nightly"}


def test_the_same_job_id_in_two_accounts_is_two_completions(central, subscriber):
    """Job ids are unique per account and region only: the key holds the account and the region."""
    first, second = central
    event = first.completion_event(first.submit_array_job(size=2))
    detail = {**event["detail"], "jobQueue": second.stack.job_queue_arn}
    same_id_in_second = {**event, "account": second.account_id, "detail": detail}

    outcomes = [handler(each, CONTEXT)["outcome"] for each in (event, same_id_in_second)]

    assert outcomes == ["delivered", "delivered"]
    documents = _by_account(subscriber.notifications())
    assert {account: document["jobId"] for account, document in documents.items()} == {
        FIRST: event["detail"]["jobId"],
        SECOND: event["detail"]["jobId"],
    }


def test_an_account_that_is_not_a_member_is_refused_without_assuming_anything(central, subscriber):
    first, _ = central
    event = first.completion_event(first.submit_array_job(size=2))
    calls = record_aws_calls()

    result = handler({**event, "account": OUTSIDER}, CONTEXT)

    assert result["outcome"] == "ignored"
    assert f"account {OUTSIDER} is not a member account" in result["reason"]
    assert subscriber.notifications() == []
    assert calls["sts:AssumeRole"] == 0


def test_the_notifier_s_own_queue_is_reported_as_before_in_central_mode(central, moto_batch, subscriber):
    result = handler(moto_batch.completion_event(moto_batch.submit_array_job(size=2)), CONTEXT)

    assert result["outcome"] == "delivered"
    (notification,) = subscriber.notifications()
    assert "account" not in _document(notification)
    assert "Account, region:" not in notification["Message"]


@pytest.fixture
def central_sweep(
    handler_env: BatchStack, member_batches: list[MotoBatch], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[MotoBatch]]:
    """The sweep of a central notifier without queues of its own (`set_central_sweep`)."""
    set_central_sweep(member_batches, monkeypatch)
    reset_handler_caches()
    yield member_batches
    reset_handler_caches()


def test_the_sweep_reports_each_member_s_missed_completions_through_its_role(central_sweep, subscriber):
    """Each member's queues (found by DescribeJobQueues there) are swept under the event path's key: a
    completion the notifier reported is not sent again, the missed ones are, naming their accounts."""
    first, second = central_sweep
    missed = {member.account_id: member.submit_array_job(size=2) for member in central_sweep}
    seen = first.submit_array_job(size=2)
    assert handler(first.completion_event(seen), CONTEXT)["outcome"] == "delivered"
    subscriber.notifications()
    # What the sweep asks before spending Batch calls on a job: the record under the member's key only.
    assert delivered_to_completion_topic(seen, "SUCCEEDED", Origin(first.account_id, REGION))
    assert not delivered_to_completion_topic(seen, "SUCCEEDED", Origin(second.account_id, REGION))
    assert not delivered_to_completion_topic(seen, "SUCCEEDED")

    result = reconcile.handler({}, CONTEXT)

    reconciled = [entry for queue in result["queues"] for entry in queue["reconciled"]]
    for account, job_id in missed.items():
        assert f"{account}/{REGION}/{job_id}:SUCCEEDED" in reconciled
    assert not [entry for entry in reconciled if seen in entry]
    assert sorted(queue["account"] for queue in result["queues"]) == [first.account_id, second.account_id]
    accounts = {_document(notification).get("account") for notification in subscriber.notifications()}
    assert accounts == {first.account_id, second.account_id}
    # A second sweep finds every record: nothing is sent twice.
    assert reconcile.handler({}, CONTEXT)["reconciled"] == 0
    assert subscriber.notifications() == []


def test_a_member_whose_role_refuses_does_not_keep_the_sweep_from_the_others(central_sweep, subscriber, monkeypatch):
    """The first member refuses: the second is swept all the same, and the sweep then fails (Lambda's
    errors, and the sweep-errors alarm, see it)."""
    first, second = central_sweep
    missed = second.submit_array_job(size=2)
    assume = accounts._assume

    def refuse_first(member: Any) -> dict[str, Any]:
        if member.account_id == first.account_id:
            raise accounts.MemberAccessError(f"cannot assume {member.role_arn}")
        return assume(member)

    monkeypatch.setattr(accounts, "_assume", refuse_first)

    with pytest.raises(accounts.MemberAccessError, match=first.account_id):
        reconcile.handler({}, CONTEXT)

    assert missed in {_document(notification)["jobId"] for notification in subscriber.notifications()}
