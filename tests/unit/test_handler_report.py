"""report: the report's content from event + DescribeJobs data, per compute type, and its SNS rendering."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from batch_array_notify.cli.chat_preview import EXAMPLES, example_report
from batch_array_notify.handler.models import ChildJobDetail, JobDetail
from batch_array_notify.handler.report import (
    MAX_SUBJECT_CHARS,
    build_report,
    needs_failed_children,
    sns_message,
    subject,
)
from batch_array_notify.handler.scope import Completion, Origin, decide
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


def _array_job(compute: Compute, size: int = 10, failures: int = 3, unplaced: int = 1, name: str = "print-color"):
    """The parent's completion and its failed children's details (what DescribeJobs would return)."""
    spec = ArrayJobSpec(
        QUEUE_ARN,
        DEFINITION_ARN,
        size=size,
        failures=failures,
        failures_before_placement=unplaced,
        compute=compute,
        job_name=name,
    )
    events = list(array_job_events(spec))
    completion = decide(events[-1])
    assert isinstance(completion, Completion)
    failed = [
        ChildJobDetail.model_validate(event["detail"])
        for event in events[:-1]
        if event["detail"]["status"] == "FAILED" and ":" in event["detail"]["jobId"]
    ]
    return spec, completion, failed


def _report(completion, failed=(), current=None, stage="dev"):
    return build_report(completion, current, failed, stage=stage, default_region="us-east-1")


@pytest.mark.parametrize(
    ("compute", "exit_code", "has_logs"),
    [
        (Compute.EC2, 1, True),
        (Compute.FARGATE, 1, True),
        # A Spot reclaim kills the host: no exit code, but the container had logged.
        (Compute.SPOT, None, True),
        # EKS logs go to the cluster's logging, not to CloudWatch Logs through Batch.
        (Compute.EKS, 1, False),
        (Compute.ECSPROPS, 1, True),
    ],
)
def test_failed_children_carry_reason_exit_code_and_logs_per_compute_type(compute, exit_code, has_logs):
    spec, completion, failed = _array_job(compute)

    report = _report(completion, failed)

    unplaced, *placed = report.failed_children
    assert [child.index for child in report.failed_children] == sorted(spec.failed_indices)
    assert unplaced.exit_code is None
    assert unplaced.logs_url is None
    assert unplaced.status_reason in {
        "Cancelled by operator: queue drained",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    }
    for child in placed:
        assert child.status_reason or child.container_reason
        assert child.exit_code == exit_code
        assert (child.logs_url is not None) is has_logs
        if has_logs:
            assert child.logs_url.startswith(
                "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/"
            )


def test_success_report_counts_and_subject():
    _, completion, _ = _array_job(Compute.EC2, size=7, failures=0, unplaced=0)

    report = _report(completion)

    assert subject(report) == "[dev] print-color array job SUCCEEDED: 7/7 children succeeded"
    assert (report.succeeded, report.failed, report.not_final) == (7, 0, 0)
    assert report.job_definition == "print-color:3"
    assert report.job_queue_name == "test-queue"


def test_failure_subject_counts_failed_children():
    _, completion, failed = _array_job(Compute.FARGATE, size=7, failures=2, unplaced=0)

    assert (
        subject(_report(completion, failed, stage="prod")) == "[prod] print-color array job FAILED: 2/7 children failed"
    )


def test_a_long_job_name_is_shortened_so_the_subject_fits_sns():
    _, completion, _ = _array_job(Compute.EC2, size=2, failures=2, unplaced=0, name="n" * 128)
    huge = completion.job.array_properties.model_copy(update={"size": 10_000, "status_summary": {"FAILED": 10_000}})
    job = completion.job.model_copy(update={"array_properties": huge})

    text = subject(_report(Completion(job, None, None), stage="preproduction"))

    assert len(text) == MAX_SUBJECT_CHARS
    assert text.startswith("[preproduction] nnnn")
    assert text.endswith("n... array job FAILED: 10000/10000 children failed")


def test_counts_come_from_describe_jobs_when_the_event_lags():
    _, completion, failed = _array_job(Compute.EC2, size=4, failures=1, unplaced=0)
    lagging = completion.job.model_copy(
        update={
            "array_properties": completion.job.array_properties.model_copy(
                update={"status_summary": {"RUNNING": 2, "SUCCEEDED": 1, "FAILED": 1}}
            )
        }
    )
    current = JobDetail.model_validate(
        {**completion.job.model_dump(by_alias=True), "stoppedAt": completion.job.created_at + 90_000}
    )

    report = _report(Completion(lagging, completion.event_id, completion.event_time), failed, current)

    assert (report.succeeded, report.failed, report.not_final) == (3, 1, 0)
    assert report.duration_seconds == 90


def test_without_describe_jobs_the_event_is_used_and_the_event_time_ends_the_run():
    _, completion, failed = _array_job(Compute.EKS, size=4, failures=1, unplaced=0)

    report = _report(completion, failed, current=None)

    document = report.document()
    assert document["counts"] == {"succeeded": 3, "failed": 1, "notFinal": 0}
    assert document["stoppedAt"] == completion.event_time
    assert document["durationSeconds"] == report.duration_seconds > 0


def test_needs_failed_children_only_when_something_failed():
    _, succeeded, _ = _array_job(Compute.EC2, size=3, failures=0, unplaced=0)
    _, failed, _ = _array_job(Compute.EC2, size=3, failures=1, unplaced=0)

    assert not needs_failed_children(succeeded, None)
    assert needs_failed_children(failed, None)


def test_sns_message_has_filterable_attributes_and_the_document_after_the_summary():
    _, completion, failed = _array_job(Compute.FARGATE, size=5, failures=2, unplaced=1)
    report = _report(completion, failed)

    message = sns_message(report)

    assert message.attributes == {"status": "FAILED", "stage": "dev", "jobQueue": "test-queue"}
    summary, _, document = message.body.partition("Machine-readable report (JSON):\n")
    assert json.loads(document) == report.document()
    assert "2 shown of 2" in summary
    assert f"Job in console:  {report.job_url}" in summary
    assert report.job_url == (
        f"https://eu-west-1.console.aws.amazon.com/batch/home?region=eu-west-1#jobs/detail/{report.job_id}"
    )


def test_other_partitions_link_to_their_own_console():
    _, completion, _ = _array_job(Compute.EC2, size=2, failures=0, unplaced=0)
    china = completion.job.model_copy(update={"job_queue": "arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q"})

    report = _report(Completion(china, None, None))

    assert report.job_url.startswith("https://console.amazonaws.cn/batch/home?region=cn-north-1#")


def test_long_reasons_are_clipped_to_bound_the_message_size():
    _, completion, failed = _array_job(Compute.EC2, size=3, failures=1, unplaced=0)
    verbose = failed[0].model_copy(update={"status_reason": "x" * 5_000})

    (child,) = _report(completion, [verbose]).failed_children

    assert child.status_reason is not None
    assert len(child.status_reason) == 500
    assert child.status_reason.endswith("...")


@pytest.mark.parametrize(("failures", "unplaced", "compute"), EXAMPLES)
def test_the_documented_examples_are_what_the_code_produces(failures, unplaced, compute):
    # The same two array jobs as the chat examples (docs/chat.md): cli/chat_preview.py builds both.
    message = sns_message(example_report(failures, unplaced, compute))

    documentation = (Path(__file__).resolve().parents[2] / "docs" / "message-format.md").read_text()
    assert f"```text\n{message.subject}\n```" in documentation
    assert f"```text\n{message.body}```" in documentation
    assert json.dumps(message.attributes) in documentation


def test_the_human_part_of_the_message_says_why_a_child_failed():
    """A reader of the e-mail sees the container's own reason (OOM kill), not only the JSON below it."""
    _, completion, failed = _array_job(Compute.FARGATE, size=4, failures=1, unplaced=0)
    (child,) = failed
    container = child.container.model_copy(
        update={"exit_code": 137, "reason": "OutOfMemoryError: Container killed due to memory usage"}
    )
    oom = child.model_copy(update={"container": container, "status_reason": "Essential container in task exited"})

    summary, _, _ = sns_message(_report(completion, [oom])).body.partition("Machine-readable report (JSON):")

    assert (
        f"- index {child.array_index} (job {child.job_id}), exit code 137: "
        "Essential container in task exited; OutOfMemoryError: Container killed due to memory usage"
    ) in summary


def test_a_child_without_any_reason_or_exit_code_says_so():
    _, completion, failed = _array_job(Compute.EC2, size=3, failures=1, unplaced=0)
    bare = failed[0].model_copy(update={"status_reason": None, "container": None})

    summary = sns_message(_report(completion, [bare])).body

    assert f"- index {bare.array_index} (job {bare.job_id}), exit code none: no reason" in summary


def test_every_parent_field_describe_jobs_knows_wins_over_the_lagging_event():
    """The event may predate the parent's final state: DescribeJobs' view is the one reported, except
    the status, which is what this notification is about."""
    _, completion, failed = _array_job(Compute.EC2, size=4, failures=1, unplaced=0)
    event_job = completion.job
    lagging_summary = event_job.array_properties.model_copy(update={"status_summary": {"RUNNING": 3, "FAILED": 1}})
    lagging = event_job.model_copy(
        update={
            "array_properties": lagging_summary,
            "job_arn": None,
            "status_reason": "event reason",
            "created_at": event_job.created_at + 1_000,
            "stopped_at": None,
        }
    )
    current = event_job.model_copy(
        update={
            "status_reason": "Batch reason",
            "stopped_at": event_job.created_at + 61_000,
            "job_queue": "arn:aws:batch:ap-south-1:123456789012:job-queue/test-queue",
        }
    )

    report = _report(Completion(lagging, "event-1", "2030-01-01T00:00:00Z"), failed, current)

    assert (report.succeeded, report.failed, report.not_final) == (3, 1, 0)
    assert report.status_reason == "Batch reason"
    assert report.job_arn == event_job.job_arn
    assert report.created_at_ms == event_job.created_at
    assert report.duration_seconds == 61
    # Links follow the region of the queue Batch reports.
    assert "region=ap-south-1" in report.job_url
    assert report.status == "FAILED"


def test_the_event_fills_in_what_describe_jobs_leaves_out():
    _, completion, failed = _array_job(Compute.EC2, size=4, failures=1, unplaced=0)
    event_job = completion.job.model_copy(update={"status_reason": "event reason", "stopped_at": 1_800_000_000_000})
    current = event_job.model_copy(
        update={"job_arn": None, "status_reason": None, "stopped_at": None, "array_properties": None}
    )

    report = _report(Completion(event_job, None, None), failed, current)

    assert report.job_arn == event_job.job_arn
    assert report.status_reason == "event reason"
    assert report.stopped_at_ms == 1_800_000_000_000
    assert (report.array_size, report.succeeded, report.failed) == (4, 3, 1)


@pytest.mark.parametrize("event_time", ["2030-01-01T02:00:00+02:00", "2030-01-01T00:00:00", "2030-01-01T00:00:00Z"])
def test_without_a_stop_time_the_event_time_is_read_as_the_instant_it_names(event_time):
    """The report falls back to the event's time when no stop time is known; a time with an offset is
    converted to UTC, a time without one is taken as UTC (as EventBridge writes it)."""
    _, completion, _ = _array_job(Compute.EC2, size=2, failures=0, unplaced=0)
    job = completion.job.model_copy(update={"stopped_at": None})

    report = _report(Completion(job, None, event_time))

    assert report.stopped_at_ms == 1_893_456_000_000  # 2030-01-01T00:00:00Z


def _with_counts(completion: Completion, status: str, counts: dict[str, int]) -> Completion:
    """The completion with the parent's status and `statusSummary` replaced (as a lagging event has them)."""
    properties = completion.job.array_properties.model_copy(update={"status_summary": counts})
    job = completion.job.model_copy(update={"status": status, "array_properties": properties})
    return Completion(job, completion.event_id, completion.event_time)


@pytest.mark.parametrize(
    ("status", "counts", "looked_up"),
    [
        # The parent failed before its counts caught up: the failed children are still worth listing.
        ("FAILED", {"SUCCEEDED": 2, "RUNNING": 1}, True),
        ("SUCCEEDED", {"SUCCEEDED": 2, "FAILED": 1}, True),
        # Batch leaves out a state no child is in.
        ("SUCCEEDED", {"SUCCEEDED": 3}, False),
    ],
)
def test_failed_children_are_looked_up_when_the_status_or_the_counts_show_a_failure(status, counts, looked_up):
    _, completion, _ = _array_job(Compute.EC2, size=3, failures=0, unplaced=0)

    assert needs_failed_children(_with_counts(completion, status, counts), None) is looked_up


@pytest.mark.parametrize(
    ("status", "counts", "succeeded", "failed"),
    [("FAILED", {"FAILED": 3}, 0, 3), ("SUCCEEDED", {"SUCCEEDED": 3}, 3, 0)],
)
def test_a_state_missing_from_the_counts_is_reported_as_zero(status, counts, succeeded, failed):
    """Batch's `statusSummary` leaves out the states no child is in."""
    _, completion, _ = _array_job(Compute.EC2, size=3, failures=0, unplaced=0)

    report = _report(_with_counts(completion, status, counts))

    assert (report.succeeded, report.failed, report.not_final) == (succeeded, failed, 0)


def test_a_container_without_a_stream_takes_its_latest_attempts_stream():
    """DescribeJobs names the stream in `container` and in each of `attempts[]`: when the container does
    not, the latest attempt that does is the child's log (the one its log tail is read from)."""
    _, completion, failed = _array_job(Compute.EC2, size=3, failures=1, unplaced=0)
    detail = failed[0].model_dump(by_alias=True, exclude_none=True)
    detail["container"].pop("logStreamName")
    detail["attempts"] = [
        {"container": {"logStreamName": "print-color/default/first"}},
        {"container": {"logStreamName": "print-color/default/second"}},
        {"container": {}},
    ]

    (child,) = _report(completion, [ChildJobDetail.model_validate(detail)]).failed_children

    assert (child.log_group, child.log_stream) == ("/aws/batch/job", "print-color/default/second")


def test_a_member_account_s_report_names_its_account_and_region_and_the_own_account_s_does_not():
    _, completion, failed = _array_job(Compute.EC2)
    own = _report(completion, failed)
    member = _report(replace(completion, origin=Origin("111111111111", "eu-central-1")), failed)

    assert "account" not in own.document()
    assert "Account, region:" not in sns_message(own).body
    assert "account" not in sns_message(own).attributes
    assert {key: member.document()[key] for key in ("account", "region")} == {
        "account": "111111111111",
        "region": "eu-central-1",
    }
    message = sns_message(member)
    assert "Account, region: 111111111111, eu-central-1\n" in message.body
    assert "fixed (with credentials of account 111111111111):" in message.body
    assert message.attributes["account"] == "111111111111"
    assert {key: value for key, value in member.document().items() if key not in ("account", "region")} == (
        own.document()
    )
