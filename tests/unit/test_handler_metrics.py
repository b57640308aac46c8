"""handler.metrics: which metrics each outcome produces, and the EMF document that carries them."""

from __future__ import annotations

import dataclasses
import json

from batch_array_notify.handler import metrics
from batch_array_notify.handler.metrics import (
    Metric,
    completion_metrics,
    count,
    emit,
)
from batch_array_notify.handler.report import CompletionReport, build_report
from batch_array_notify.handler.scope import Completion, decide
from batch_array_notify.handler.settings import settings
from batch_array_notify.testing.emf import read_documents
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from tests.support import notifier_environment

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/render-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


def completed(failures: int = 0) -> CompletionReport:
    """The report of a generated array job of 7 (its parent's terminal event, no DescribeJobs view)."""
    spec = ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=7, failures=failures, compute=Compute.EC2)
    completion = decide(list(array_job_events(spec))[-1])
    assert isinstance(completion, Completion)
    return build_report(completion, None, [], stage="dev", default_region="eu-west-1")


SUCCEEDED = completed()
STOPPED_MS = SUCCEEDED.stopped_at_ms or 0


def test_a_success_counts_one_succeeded_zero_failed_its_size_duration_and_lag():
    assert STOPPED_MS > 0
    assert SUCCEEDED.duration_seconds
    assert completion_metrics(SUCCEEDED, published_at_ms=STOPPED_MS + 2_500) == [
        Metric("ArrayJobsSucceeded", "Count", 1),
        Metric("ArrayJobsFailed", "Count", 0),
        Metric("ArraySize", "Count", 7),
        Metric("FailedChildren", "Count", 0),
        # Whole seconds, as the report says it.
        Metric("ArrayJobDurationSeconds", "Seconds", SUCCEEDED.duration_seconds),
        Metric("NotificationLagSeconds", "Seconds", 2.5),
    ]


def test_a_failure_counts_one_failed_and_its_failed_children():
    failed = completed(failures=3)

    by_name = {m.name: m for m in completion_metrics(failed, published_at_ms=failed.stopped_at_ms or 0)}

    assert (by_name["ArrayJobsSucceeded"].value, by_name["ArrayJobsFailed"].value) == (0, 1)
    assert by_name["FailedChildren"] == Metric("FailedChildren", "Count", 3)
    assert by_name["NotificationLagSeconds"].value == 0


def test_unknown_times_leave_duration_and_lag_out_and_a_skewed_clock_never_gives_negative_lag():
    unknown = dataclasses.replace(SUCCEEDED, created_at_ms=None, stopped_at_ms=None)
    names = [m.name for m in completion_metrics(unknown, published_at_ms=STOPPED_MS)]
    assert "ArrayJobDurationSeconds" not in names
    assert "NotificationLagSeconds" not in names

    (lag,) = [m for m in completion_metrics(SUCCEEDED, STOPPED_MS - 5_000) if m.name == "NotificationLagSeconds"]
    assert lag.value == 0


def test_duplicates_and_ignored_events_are_counted_on_their_own_metric_only():
    assert metrics.duplicate_metrics() == [Metric("DuplicateDeliveries", "Count", 1)]
    assert metrics.ignored_metrics() == [Metric("IgnoredEvents", "Count", 1)]
    # A repeated delivery never counts the completion a second time.
    assert metrics.outcome_metrics(SUCCEEDED, True, STOPPED_MS) == metrics.duplicate_metrics()
    assert metrics.outcome_metrics(SUCCEEDED, False, STOPPED_MS) == completion_metrics(SUCCEEDED, STOPPED_MS)


def test_emit_writes_one_emf_document_with_only_the_stage_and_queue_dimensions(capsys, monkeypatch):
    # The component sets this for the Logger; Powertools would turn it into a third dimension.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "batch-array-notify")

    emit([count("ArraySize", 7), metrics.seconds("NotificationLagSeconds", 1.25)], stage="prod", job_queue="q")

    (document,) = read_documents(capsys.readouterr().out.splitlines())
    assert document.namespace == "BatchArrayNotify"
    assert document.dimension_sets == (("stage", "jobQueue"),)
    assert document.dimensions == {"stage": "prod", "jobQueue": "q"}
    assert {name: (m.unit, m.values) for name, m in document.metrics.items()} == {
        "ArraySize": ("Count", (7.0,)),
        "NotificationLagSeconds": ("Seconds", (1.25,)),
    }


def test_two_writers_in_one_process_do_not_mix_their_documents(capsys):
    emit([count("IgnoredEvents")], stage="dev", job_queue="a")
    emit([count("ReconciledCompletions", 2)], stage="dev", job_queue="b")
    emit([], stage="dev", job_queue="c")

    first, second = read_documents(capsys.readouterr().out.splitlines())
    assert (first.dimensions["jobQueue"], list(first.metrics)) == ("a", ["IgnoredEvents"])
    assert (second.dimensions["jobQueue"], list(second.metrics)) == ("b", ["ReconciledCompletions"])
    assert second.value("ReconciledCompletions") == 2


def test_a_member_account_s_completion_carries_the_account_as_a_third_dimension(capsys):
    emit([count("ArraySize", 3)], stage="prod", job_queue="nightly", account="111111111111")

    (document,) = read_documents(capsys.readouterr().out.splitlines())
    assert document.dimension_sets == ((metrics.STAGE_DIMENSION, metrics.QUEUE_DIMENSION, metrics.ACCOUNT_DIMENSION),)
    assert document.dimensions == {"stage": "prod", "jobQueue": "nightly", "account": "111111111111"}


def test_the_home_queue_is_the_first_own_queue_or_organization_without_one(monkeypatch):
    monkeypatch.setenv("JOB_QUEUE_ARNS", f"{QUEUE_ARN},arn:aws:batch:eu-west-1:123456789012:job-queue/other")
    for name, value in notifier_environment(QUEUE_ARN, AWS_REGION="eu-west-1").items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    assert metrics.home_queue() == "render-queue"

    members = {"111111111111": {"roleArn": "arn:aws:iam::111111111111:role/read"}}
    monkeypatch.setenv("MEMBER_ACCOUNTS", json.dumps(members))
    monkeypatch.setenv("JOB_QUEUE_ARNS", "")
    settings.cache_clear()
    try:
        assert metrics.home_queue() == metrics.ORGANIZATION_HOME_QUEUE == "organization"
    finally:
        settings.cache_clear()
