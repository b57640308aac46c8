"""handler.app without AWS: skipped events are returned, never raised, logged once at the right level
with the reason (and, when malformed, the whole event), and counted as IgnoredEvents."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from batch_array_notify.dashboard import COMPLETION_DECISION, COMPLETION_LOG_FIELDS
from batch_array_notify.handler import app
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.completion import Reported
from batch_array_notify.handler.report import build_report
from batch_array_notify.handler.scope import Completion, decide
from batch_array_notify.testing.emf import read_documents
from batch_array_notify.testing.eventgen import ArrayJobSpec, array_job_events
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.support import notifier_environment

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


@dataclass(frozen=True)
class Context:
    function_name: str = "notifier"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:notifier"
    aws_request_id: str = "req-1"


@pytest.fixture(autouse=True)
def handler_settings(monkeypatch):
    """The environment the component gives the notifier (no AWS call is made for skipped events)."""
    for name, value in notifier_environment(QUEUE_ARN, AWS_REGION="eu-west-1").items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    yield
    reset_handler_caches()


def ignored_events_documents(capsys):
    """The EMF documents the handler wrote, as (dimensions, metrics) pairs."""
    return [
        (dict(document.dimensions), {name: (m.unit, m.values) for name, m in document.metrics.items()})
        for document in read_documents(capsys.readouterr().out.splitlines())
    ]


@pytest.fixture
def decisions(caplog):
    """Log records of the handler's decisions (records carrying a `decision` field)."""
    caplog.set_level(logging.INFO)
    return lambda: [record for record in caplog.records if hasattr(record, "decision")]


def test_malformed_event_is_logged_at_error_in_full_and_not_raised(decisions, capsys):
    event = {"source": "aws.batch", "detail-type": "Batch Job State Change", "detail": {"jobId": 42}}

    result = handler(event, Context())

    assert result["outcome"] == "rejected"
    (record,) = decisions()
    assert record.levelno == logging.ERROR
    assert record.decision == "rejected"
    assert record.event == event
    assert "jobId: Input should be a valid string" in record.reason
    assert result["reason"] == record.reason
    # It names no queue: counted under the notifier's own, where this pipeline's alarm watches.
    assert ignored_events_documents(capsys) == [
        ({"stage": "qa", "jobQueue": "test-queue"}, {"IgnoredEvents": ("Count", (1.0,))})
    ]


def test_irrelevant_event_is_logged_at_info_with_job_id_and_status(decisions, capsys):
    child = list(array_job_events(ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=2)))[-2]

    result = handler(child, Context())

    assert result["outcome"] == "ignored"
    (record,) = decisions()
    assert record.levelno == logging.INFO
    assert (record.decision, record.jobId, record.status) == ("ignored", child["detail"]["jobId"], "SUCCEEDED")
    assert "array child" in record.reason
    assert ignored_events_documents(capsys) == [
        ({"stage": "qa", "jobQueue": "test-queue"}, {"IgnoredEvents": ("Count", (1.0,))})
    ]


@pytest.mark.parametrize("queue", ["second-queue", "someone-elses-queue"])
def test_every_ignored_event_counts_under_the_notifiers_home_queue(monkeypatch, capsys, queue):
    # Two queues, the home queue first: an ignored event of the second queue, or another team's finished
    # array parent (skipped by the own-queue check, no AWS call), counts where the one alarm watches.
    second = QUEUE_ARN.replace("test-queue", "second-queue")
    monkeypatch.setenv("JOB_QUEUE_ARNS", f"{QUEUE_ARN},{second}")
    reset_handler_caches()
    finished_parent = list(array_job_events(ArrayJobSpec(QUEUE_ARN.replace("test-queue", queue), DEFINITION_ARN, 2)))[
        -1
    ]
    if queue == "second-queue":
        # Made irrelevant (no size: not an array parent) so no AWS call follows the scope check.
        finished_parent["detail"]["arrayProperties"].pop("size")

    assert handler(finished_parent, Context())["outcome"] == "ignored"

    assert ignored_events_documents(capsys) == [
        ({"stage": "qa", "jobQueue": "test-queue"}, {"IgnoredEvents": ("Count", (1.0,))})
    ]


def test_the_log_messages_say_what_happened(decisions):
    malformed = handler({"source": "aws.batch"}, Context())
    child = list(array_job_events(ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=2)))[-2]
    ignored = handler(child, Context())

    rejected_record, ignored_record = decisions()
    assert rejected_record.getMessage() == "malformed event rejected, not retried"
    assert ignored_record.getMessage() == "event ignored"
    assert (rejected_record.jobId, rejected_record.status) == (None, None)
    assert malformed == {"outcome": "rejected", "reason": rejected_record.reason}
    assert ignored == {"outcome": "ignored", "reason": ignored_record.reason}


def test_a_delivered_completion_is_logged_with_every_field_the_dashboard_table_reads(decisions, monkeypatch):
    """The dashboard's "latest completions" table filters on the decision and shows these fields; a
    field missing from the log line leaves its column empty with no error anywhere."""
    event = list(array_job_events(ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=4, failures=1)))[-1]
    completion = decide(event)
    assert isinstance(completion, Completion)
    report = build_report(completion, None, [], stage="qa", default_region="eu-west-1")
    sent = [{"sink": "sns", "messageId": "m-1"}]
    # No AWS: the report is the event's own view, and every sink answers at once.
    monkeypatch.setattr(app, "_report", lambda decided, context: report)
    monkeypatch.setattr(app, "deliver_once", lambda *_: Reported(report, sent, duplicate=False, metrics=[]))

    result = handler(event, Context())

    assert result == {"outcome": COMPLETION_DECISION, "jobId": report.job_id, "status": "FAILED", "deliveries": sent}
    (record,) = decisions()
    assert record.decision == COMPLETION_DECISION
    assert {field: getattr(record, field) for field in COMPLETION_LOG_FIELDS} == {
        "jobId": report.job_id,
        "jobQueue": "test-queue",
        "status": "FAILED",
        "arraySize": 4,
        "failed": 1,
    }
    assert (record.eventId, record.deliveries) == (event["id"], sent)
