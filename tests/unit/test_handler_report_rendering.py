"""report, field by field: the summary's arithmetic and wording, the subject's limits, which container a
failed child is blamed on and where its logs are, on hand-built reports and DescribeJobs results."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from batch_array_notify.handler.models import ChildJobDetail, JobDetail
from batch_array_notify.handler.report import (
    CompletionReport,
    FailedChild,
    build_report,
    sns_message,
    subject,
    summary_text,
)
from batch_array_notify.handler.scope import Completion

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"
PARENT = "11111111-2222-4333-8444-555555555555"

REPORT = CompletionReport(
    stage="dev",
    status="FAILED",
    status_reason=None,
    job_id=PARENT,
    job_name="print-color",
    job_arn=f"arn:aws:batch:eu-west-1:123456789012:job/{PARENT}",
    job_queue_arn=QUEUE_ARN,
    job_definition_arn=DEFINITION_ARN,
    array_size=10,
    succeeded=7,
    failed=3,
    failed_children=(),
    created_at_ms=1_700_000_000_000,
    stopped_at_ms=1_700_000_090_000,
    job_url="https://example.test/job",
)


def report(**changes: Any) -> CompletionReport:
    return dataclasses.replace(REPORT, **changes)


def child(index: int | None = 3, **fields: Any) -> FailedChild:
    values: dict[str, Any] = {
        "index": index,
        "job_id": f"{PARENT}:{index}",
        "status_reason": None,
        "exit_code": None,
        "container_reason": None,
        "log_group": None,
        "log_stream": None,
        "logs_url": None,
    }
    return FailedChild(**{**values, **fields})


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m 00s"),
        (61, "1m 01s"),
        (3599, "59m 59s"),
        (3600, "1h 00m 00s"),
        (3661, "1h 01m 01s"),
    ],
)
def test_the_duration_reads_as_hours_minutes_seconds(seconds, shown):
    text = summary_text(report(stopped_at_ms=REPORT.created_at_ms + seconds * 1000))

    assert f"Duration:        {shown}\n" in text


def test_times_are_utc_and_unknown_ones_say_so():
    text = summary_text(report(created_at_ms=0, stopped_at_ms=None))

    assert "Created:         1970-01-01T00:00:00Z\n" in text
    assert "Stopped:         unknown\n" in text
    assert "Duration:        unknown\n" in text
    assert report(stopped_at_ms=None).duration_seconds is None
    assert report(created_at_ms=None).duration_seconds is None


def test_a_stop_before_the_start_is_a_zero_duration():
    assert report(stopped_at_ms=REPORT.created_at_ms - 5_000).duration_seconds == 0


def test_children_not_counted_yet_are_reported_and_never_negative():
    assert report(succeeded=3, failed=2).not_final == 5
    assert "3 of 10 children succeeded, 2 failed, 5 not yet counted.\n" in summary_text(report(succeeded=3, failed=2))
    assert report(succeeded=8, failed=5).not_final == 0
    assert "8 of 10 children succeeded, 5 failed.\n" in summary_text(report(succeeded=8, failed=5))


def test_the_document_counts_children_left_out_and_never_a_negative_number():
    listed = report(failed=3, failed_children=(child(1),))
    assert listed.document()["failedChildrenOmitted"] == 2
    assert report(failed=1, failed_children=(child(1), child(2))).document()["failedChildrenOmitted"] == 0


def test_the_document_has_every_field_under_its_documented_name():
    document = report(
        status_reason="Array Child Job failed",
        failed_children=(child(1, exit_code=2),),
        resubmission_of="first-job",
        resubmit_command="resubmit it",
    ).document()

    assert document == {
        "schemaVersion": 1,
        "stage": "dev",
        "status": "FAILED",
        "statusReason": "Array Child Job failed",
        "jobId": PARENT,
        "jobName": "print-color",
        "jobArn": REPORT.job_arn,
        "jobQueue": "test-queue",
        "jobQueueArn": QUEUE_ARN,
        "jobDefinition": "print-color:3",
        "jobDefinitionArn": DEFINITION_ARN,
        "arraySize": 10,
        "counts": {"succeeded": 7, "failed": 3, "notFinal": 0},
        "failedChildren": [
            {
                "index": 1,
                "jobId": f"{PARENT}:1",
                "statusReason": None,
                "exitCode": 2,
                "containerReason": None,
                "logGroup": None,
                "logStream": None,
                "logsUrl": None,
                "logTail": None,
            }
        ],
        "failedChildrenOmitted": 2,
        "createdAt": "2023-11-14T22:13:20Z",
        "stoppedAt": "2023-11-14T22:14:50Z",
        "durationSeconds": 90,
        "links": {"job": "https://example.test/job"},
        "resubmissionOf": "first-job",
        "resubmitCommand": "resubmit it",
    }


def test_names_without_a_path_are_shown_whole():
    plain = report(job_queue_arn="test-queue", job_definition_arn="print-color:3")

    assert (plain.job_queue_name, plain.job_definition) == ("test-queue", "print-color:3")


def test_the_summary_lists_each_failed_child_with_its_reasons_and_logs():
    children = (
        child(None, exit_code=0, status_reason="Host EC2 terminated."),
        child(4, status_reason="Essential container in task exited", container_reason="OOM", logs_url="https://l"),
    )

    text = summary_text(report(status_reason="Array Child Job failed", failed=5, failed_children=children))

    assert "Status reason:   Array Child Job failed\n" in text
    assert "\nFailed children (2 shown of 5):\n" in text
    assert f"- index ? (job {PARENT}:None), exit code 0: Host EC2 terminated.\n" in text
    assert (
        f"- index 4 (job {PARENT}:4), exit code none: Essential container in task exited; OOM\n  logs: https://l\n"
        in text
    )


def test_a_success_has_no_failed_children_section_or_status_reason_line():
    text = summary_text(report(status="SUCCEEDED", succeeded=10, failed=0))

    assert "Failed children" not in text
    assert "Status reason" not in text
    assert text.startswith("Array job print-color finished with status SUCCEEDED (stage dev).\n\n")
    assert text.endswith("Job in console:  https://example.test/job\n")


def test_the_message_body_is_the_summary_then_the_json_document():
    message = sns_message(report())

    assert message.body.startswith(summary_text(report()) + "\nMachine-readable report (JSON):\n{\n")
    assert message.body.endswith("}\n")
    assert message.attributes == {"status": "FAILED", "stage": "dev", "jobQueue": "test-queue"}


def test_a_job_name_that_just_fits_is_kept_whole_and_one_more_character_is_shortened():
    budget = 99 - len("[dev] ") - len(" array job FAILED: 3/10 children failed")

    assert subject(report(job_name="n" * budget)) == f"[dev] {'n' * budget} array job FAILED: 3/10 children failed"
    shortened = subject(report(job_name="n" * (budget + 1)))
    assert shortened == f"[dev] {'n' * (budget - 3)}... array job FAILED: 3/10 children failed"
    assert len(shortened) == 99


def test_the_subject_is_printable_ascii():
    text = subject(report(job_name="caf\u00e9\nline\x7f~ end", status="SUCCEEDED", succeeded=10))

    assert text == "[dev] caf??line?~ end array job SUCCEEDED: 10/10 children succeeded"


# --------------------------------------------------------------------------------------------------
# Which container a failed child is blamed on, and where its logs are

PARENT_DETAIL = {
    "jobId": PARENT,
    "jobName": "print-color",
    "jobQueue": QUEUE_ARN,
    "jobDefinition": DEFINITION_ARN,
    "status": "FAILED",
    "createdAt": 1_700_000_000_000,
    "arrayProperties": {"size": 10, "statusSummary": {"SUCCEEDED": 9, "FAILED": 1}},
}


def blamed(default_region: str = "us-east-1", parent: dict[str, Any] | None = None, **detail: Any) -> FailedChild:
    completion = Completion(JobDetail.model_validate(parent or PARENT_DETAIL), "event-1", None)
    failed = ChildJobDetail.model_validate(
        {**PARENT_DETAIL, "jobId": f"{PARENT}:4", "arrayProperties": {"index": 4}, **detail}
    )
    (only,) = build_report(completion, None, [failed], stage="dev", default_region=default_region).failed_children
    return only


def _container(exit_code: int | None, stream: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"exitCode": exit_code, "reason": f"exit {exit_code}", "logStreamName": stream, **extra}


def test_a_multi_container_child_is_blamed_on_the_first_container_that_failed():
    task = {"containers": [_container(0, "s/ok"), _container(2, "s/bad"), _container(3, "s/worse")]}

    failed = blamed(ecsProperties={"taskProperties": [task]})

    assert (failed.exit_code, failed.container_reason, failed.log_stream) == (2, "exit 2", "s/bad")


def test_without_a_failed_container_the_first_with_logs_is_shown():
    task = {"containers": [_container(None), _container(None, "s/logged")]}

    failed = blamed(ecsProperties={"taskProperties": [task]})

    assert (failed.exit_code, failed.log_stream, failed.log_group) == (None, "s/logged", "/aws/batch/job")


def test_a_multi_container_child_without_containers_has_nothing_to_show():
    failed = blamed(ecsProperties={"taskProperties": [{"containers": []}]}, statusReason="Cancelled")

    assert (failed.exit_code, failed.container_reason, failed.logs_url, failed.status_reason) == (
        None,
        None,
        None,
        "Cancelled",
    )


def test_an_eks_child_is_blamed_on_the_failed_container_of_its_last_attempt():
    attempts = [
        {"containers": [{"exitCode": 1, "reason": "first attempt"}]},
        {"containers": [{"exitCode": 0, "reason": "Completed"}, {"exitCode": 137, "reason": "OOMKilled"}]},
    ]

    failed = blamed(eksAttempts=attempts)

    assert (failed.exit_code, failed.container_reason, failed.logs_url) == (137, "OOMKilled", None)


def test_an_eks_child_whose_containers_did_not_exit_shows_the_first():
    failed = blamed(eksAttempts=[{"containers": [{"reason": "Pending"}, {"reason": "Pending too"}]}])

    assert (failed.exit_code, failed.container_reason) == (None, "Pending")


@pytest.mark.parametrize(
    ("log_configuration", "group"),
    [
        (None, "/aws/batch/job"),
        ({"logDriver": "awslogs"}, "/aws/batch/job"),
        ({"logDriver": "awslogs", "options": {"awslogs-group": "/team/jobs"}}, "/team/jobs"),
        ({"options": {"awslogs-group": "/team/jobs"}}, "/team/jobs"),
        ({"logDriver": "splunk", "options": {"splunk-url": "https://s"}}, None),
    ],
)
def test_logs_link_to_the_awslogs_group_and_to_nothing_for_other_drivers(log_configuration, group):
    container = _container(1, "job/default/abc", logConfiguration=log_configuration)

    failed = blamed(container=container)

    assert failed.log_group == group
    assert (failed.logs_url is not None) is (group is not None)


def test_a_container_without_a_log_stream_has_no_logs():
    failed = blamed(container=_container(1, None))

    assert (failed.log_group, failed.log_stream, failed.logs_url) == (None, None, None)


def test_links_use_the_queues_partition_and_region_or_else_the_default_region():
    china = {**PARENT_DETAIL, "jobQueue": "arn:aws-cn:batch:cn-north-1:123456789012:job-queue/q"}
    assert blamed(parent=china, container=_container(1, "s/x")).logs_url.startswith(
        "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#"
    )
    for queue in ("test-queue", "arn::batch:eu-west-1:1:job-queue/q", "arn:aws:batch::1:job-queue/q"):
        logs_url = blamed(
            "ap-south-1", parent={**PARENT_DETAIL, "jobQueue": queue}, container=_container(1, "s/x")
        ).logs_url
        assert logs_url.startswith("https://ap-south-1.console.aws.amazon.com/cloudwatch/home?region=ap-south-1#"), (
            queue
        )


@pytest.mark.parametrize(("length", "kept"), [(500, 500), (501, 497)])
def test_reasons_are_clipped_to_500_characters(length, kept):
    failed = blamed(statusReason="r" * length, container={**_container(1), "reason": "c" * length})

    for reason in (failed.status_reason, failed.container_reason):
        assert len(reason) == 500
        assert reason.startswith(reason[0] * kept)
        assert reason.endswith("..." if kept < length else reason[0])


@pytest.mark.parametrize(
    ("event_time", "stopped"),
    [
        ("2026-01-05T10:00:00Z", 1_767_607_200_000),
        ("2026-01-05T10:00:00", 1_767_607_200_000),
        ("yesterday", None),
        (None, None),
    ],
)
def test_without_any_stop_time_the_events_time_is_used_read_as_utc(event_time, stopped):
    completion = Completion(JobDetail.model_validate(PARENT_DETAIL), "event-1", event_time)

    assert build_report(completion, None, [], stage="dev", default_region="us-east-1").stopped_at_ms == stopped


def test_a_failed_listing_beyond_a_lagging_summary_raises_the_failed_count():
    completion = Completion(JobDetail.model_validate(PARENT_DETAIL), "event-1", None)
    failed = [
        ChildJobDetail.model_validate({**PARENT_DETAIL, "jobId": f"{PARENT}:{i}", "arrayProperties": {"index": i}})
        for i in (1, 2, 3)
    ]

    assert build_report(completion, None, failed, stage="dev", default_region="us-east-1").failed == 3
