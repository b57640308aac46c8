"""The handler's metrics against moto: the EMF documents it writes on stdout for each outcome (what
CloudWatch would extract), read back with tools.emf."""

from __future__ import annotations

import logging
import time

import pytest

from batch_array_notify.dashboard import COMPLETION_DECISION, COMPLETION_LOG_FIELDS
from batch_array_notify.handler.app import handler
from batch_array_notify.testing.emf import EmfDocument, read_documents


def emitted(capsys: pytest.CaptureFixture[str]) -> list[EmfDocument]:
    return read_documents(capsys.readouterr().out.splitlines())


def metric_table(document: EmfDocument) -> dict[str, tuple[str, tuple[float, ...]]]:
    return {name: (metric.unit, metric.values) for name, metric in document.metrics.items()}


def test_a_succeeded_array_job_emits_one_document_with_its_completion_metrics(
    batch_stack, moto_batch, subscriber, lambda_context, capsys
):
    parent_id = moto_batch.submit_array_job(size=7)
    job = moto_batch.describe_job(parent_id)
    capsys.readouterr()

    before_ms = time.time() * 1000
    handler(moto_batch.completion_event(parent_id), lambda_context)
    after_ms = time.time() * 1000

    (document,) = emitted(capsys)
    assert document.namespace == "BatchArrayNotify"
    assert document.dimension_sets == (("stage", "jobQueue"),)
    assert document.dimensions == {"stage": batch_stack.stage, "jobQueue": "test-queue"}
    table = metric_table(document)
    lag_unit, (lag,) = table.pop("NotificationLagSeconds")
    assert table == {
        "ArrayJobsSucceeded": ("Count", (1.0,)),
        "ArrayJobsFailed": ("Count", (0.0,)),
        "ArraySize": ("Count", (7.0,)),
        "FailedChildren": ("Count", (0.0,)),
        "ArrayJobDurationSeconds": ("Seconds", (float((job["stoppedAt"] - job["createdAt"]) // 1000),)),
    }
    # From the parent's stoppedAt to publishing, which happened during the call.
    assert lag_unit == "Seconds"
    assert (before_ms - job["stoppedAt"]) / 1000 <= lag <= (after_ms - job["stoppedAt"]) / 1000
    assert len(subscriber.notifications()) == 1


def test_a_failed_array_job_counts_as_failed_with_its_failed_children(moto_batch, subscriber, lambda_context, capsys):
    parent_id = moto_batch.submit_array_job(size=7)
    moto_batch.fail_children(parent_id, [1, 4, 6], reason="Essential container in task exited")
    capsys.readouterr()

    handler(moto_batch.completion_event(parent_id), lambda_context)

    (document,) = emitted(capsys)
    table = metric_table(document)
    assert table["ArrayJobsSucceeded"] == ("Count", (0.0,))
    assert table["ArrayJobsFailed"] == ("Count", (1.0,))
    assert table["FailedChildren"] == ("Count", (3.0,))
    assert table["ArraySize"] == ("Count", (7.0,))
    assert len(subscriber.notifications()) == 1


def test_a_duplicate_delivery_counts_only_as_a_duplicate(batch_stack, moto_batch, subscriber, lambda_context, capsys):
    parent_id = moto_batch.submit_array_job(size=3)
    events = [moto_batch.completion_event(parent_id, event_id=f"event-{n}") for n in range(3)]
    capsys.readouterr()

    for event in events:
        handler(event, lambda_context)

    first, *duplicates = emitted(capsys)
    assert metric_table(first)["ArrayJobsSucceeded"] == ("Count", (1.0,))
    assert [metric_table(document) for document in duplicates] == [{"DuplicateDeliveries": ("Count", (1.0,))}] * 2
    assert all(d.dimensions == {"stage": batch_stack.stage, "jobQueue": "test-queue"} for d in duplicates)
    assert len(subscriber.notifications()) == 1


def test_an_ignored_event_counts_as_ignored_and_nothing_else(
    batch_stack, moto_batch, subscriber, lambda_context, capsys
):
    parent_id = moto_batch.submit_array_job(size=3)
    child = moto_batch.completion_event(f"{parent_id}:1")
    capsys.readouterr()

    assert handler(child, lambda_context)["outcome"] == "ignored"

    (document,) = emitted(capsys)
    assert metric_table(document) == {"IgnoredEvents": ("Count", (1.0,))}
    assert document.dimensions == {"stage": batch_stack.stage, "jobQueue": "test-queue"}
    assert subscriber.notifications() == []


def test_the_completion_log_line_has_the_fields_the_dashboard_table_reads(moto_batch, lambda_context, caplog):
    parent_id = moto_batch.submit_array_job(size=4)
    moto_batch.fail_children(parent_id, [3], reason="Essential container in task exited")
    caplog.set_level(logging.INFO)

    handler(moto_batch.completion_event(parent_id), lambda_context)

    (record,) = [r for r in caplog.records if getattr(r, "decision", None) == COMPLETION_DECISION]
    assert {field: getattr(record, field) for field in COMPLETION_LOG_FIELDS} == {
        "jobId": parent_id,
        "jobQueue": "test-queue",
        "status": "FAILED",
        "arraySize": 4,
        "failed": 1,
    }
