"""The completion report: its data, its JSON document and its SNS rendering. Pure: no AWS, no clock.

`CompletionReport.document()` is the sink-neutral content (the EventBridge sink in delivery.py sends it
as the completion event's detail); `sns_message()` renders it for people and for SNS subscription filter policies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .console import batch_job_url, log_stream_url
from .lineage import resubmission_of, resubmit_command
from .models import ChildJobDetail, ContainerRun, JobDetail
from .scope import Completion, Origin

SCHEMA_VERSION = 1
#: SNS requires subjects "less than 100 characters", printable ASCII, no line breaks.
MAX_SUBJECT_CHARS = 99
#: Keeps a report with 100 failed children far below SNS's 256 KB message limit.
MAX_REASON_CHARS = 500
#: Where Batch sends container logs when the job definition sets no awslogs group.
DEFAULT_LOG_GROUP = "/aws/batch/job"


@dataclass(frozen=True)
class LogTail:
    """The last lines of a failed child's log (oldest first, secrets masked), or why there are none."""

    lines: tuple[str, ...] = ()
    unavailable: str | None = None
    truncated: bool = False
    """Older lines, or the start of the oldest kept line, were left out to stay within the byte budget."""

    def document(self) -> dict[str, Any]:
        return {"lines": list(self.lines), "truncated": self.truncated, "unavailable": self.unavailable}


@dataclass(frozen=True)
class FailedChild:
    index: int | None
    job_id: str
    status_reason: str | None
    exit_code: int | None
    container_reason: str | None
    log_group: str | None
    log_stream: str | None
    logs_url: str | None
    log_tail: LogTail | None = None
    """Only on the first children (`failedLogChildren`) of a notifier that reads tails (log_tails.py)."""

    def document(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "jobId": self.job_id,
            "statusReason": self.status_reason,
            "exitCode": self.exit_code,
            "containerReason": self.container_reason,
            "logGroup": self.log_group,
            "logStream": self.log_stream,
            "logsUrl": self.logs_url,
            "logTail": self.log_tail.document() if self.log_tail else None,
        }


@dataclass(frozen=True)
class CompletionReport:
    stage: str
    status: str
    status_reason: str | None
    job_id: str
    job_name: str
    job_arn: str | None
    job_queue_arn: str
    job_definition_arn: str
    array_size: int
    succeeded: int
    failed: int
    failed_children: tuple[FailedChild, ...]
    created_at_ms: int | None
    stopped_at_ms: int | None
    job_url: str
    resubmission_of: str | None = None
    """The job id this array job retries the failed children of (cli/resubmit.py), else None."""
    resubmit_command: str | None = None
    """The command that resubmits this job's failed children; None unless children failed."""
    origin: Origin | None = None
    """The member account and region the job ran in (a central notifier's); None in the notifier's own."""

    @property
    def completion_key(self) -> str:
        """What names this array job wherever the notifier reports from: its jobId in the notifier's own
        account, `<account>/<region>/<jobId>` in a member's (delivery.py keys its records the same way)."""
        return self.origin.job_key(self.job_id) if self.origin else self.job_id

    @property
    def lineage(self) -> str | None:
        """`resubmission of <id>: N of M failed children now succeeded`, for a resubmission only."""
        if self.resubmission_of is None:
            return None
        return (
            f"resubmission of {self.resubmission_of}: "
            f"{self.succeeded} of {self.array_size} failed children now succeeded"
        )

    @property
    def job_queue_name(self) -> str:
        return self.job_queue_arn.rpartition("/")[2] or self.job_queue_arn

    @property
    def job_definition(self) -> str:
        """`name:revision`, the way people refer to a job definition."""
        return self.job_definition_arn.rpartition("/")[2] or self.job_definition_arn

    @property
    def not_final(self) -> int:
        """Children that `statusSummary` does not yet count as succeeded or failed (it can lag)."""
        return max(self.array_size - self.succeeded - self.failed, 0)

    @property
    def duration_seconds(self) -> int | None:
        """From submission (parent `createdAt`) to completion, as users wait for it."""
        if self.created_at_ms is None or self.stopped_at_ms is None:
            return None
        return max(self.stopped_at_ms - self.created_at_ms, 0) // 1000

    def document(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "stage": self.stage,
            "status": self.status,
            "statusReason": self.status_reason,
            "jobId": self.job_id,
            "jobName": self.job_name,
            "jobArn": self.job_arn,
            "jobQueue": self.job_queue_name,
            "jobQueueArn": self.job_queue_arn,
            "jobDefinition": self.job_definition,
            "jobDefinitionArn": self.job_definition_arn,
            "arraySize": self.array_size,
            "counts": {"succeeded": self.succeeded, "failed": self.failed, "notFinal": self.not_final},
            "failedChildren": [child.document() for child in self.failed_children],
            "failedChildrenOmitted": max(self.failed - len(self.failed_children), 0),
            "createdAt": _iso(self.created_at_ms),
            "stoppedAt": _iso(self.stopped_at_ms),
            "durationSeconds": self.duration_seconds,
            "links": {"job": self.job_url},
            "resubmissionOf": self.resubmission_of,
            "resubmitCommand": self.resubmit_command,
            # A member's completion names where it ran; the notifier's own keep the document they always had.
            **({"account": self.origin.account, "region": self.origin.region} if self.origin else {}),
        }


@dataclass(frozen=True)
class SnsMessage:
    subject: str
    body: str
    attributes: dict[str, str]


def needs_failed_children(completion: Completion, current: JobDetail | None) -> bool:
    """Whether to look up failed children: the parent failed, or its counts show failures."""
    return completion.job.status == "FAILED" or _status_summary(completion, current).get("FAILED", 0) > 0


def build_report(
    completion: Completion,
    current: JobDetail | None,
    failed_children: Sequence[ChildJobDetail],
    *,
    stage: str,
    default_region: str,
) -> CompletionReport:
    """Combine the event with the parent's current state (`current`, from DescribeJobs; None if Batch
    no longer knows the job). The status is the event's: it is what this notification is about and
    what makes it unique. Counts and times prefer `current`, because the event's may lag."""
    event_job = completion.job
    parent = current or event_job
    partition, region = _partition_and_region(parent.job_queue, default_region)
    summary = _status_summary(completion, current)
    children = tuple(_failed_child(child, partition, region) for child in failed_children)
    failed = max(summary.get("FAILED", 0), len(children))
    return CompletionReport(
        stage=stage,
        status=event_job.status,
        status_reason=_clip(parent.status_reason or event_job.status_reason),
        job_id=event_job.job_id,
        job_name=parent.job_name,
        job_arn=parent.job_arn or event_job.job_arn,
        job_queue_arn=parent.job_queue,
        job_definition_arn=parent.job_definition,
        array_size=_array_size(completion, current),
        succeeded=summary.get("SUCCEEDED", 0),
        # Listing can find failures a lagging summary does not count yet; never report fewer.
        failed=failed,
        failed_children=children,
        created_at_ms=parent.created_at or event_job.created_at,
        stopped_at_ms=parent.stopped_at or event_job.stopped_at or _epoch_ms(completion.event_time),
        job_url=batch_job_url(partition, region, event_job.job_id),
        resubmission_of=resubmission_of(parent.tags, parent.container.environment if parent.container else []),
        resubmit_command=resubmit_command(event_job.job_id, region) if failed else None,
        origin=completion.origin,
    )


def sns_message(report: CompletionReport) -> SnsMessage:
    return SnsMessage(
        subject=subject(report),
        body=f"{summary_text(report)}\nMachine-readable report (JSON):\n{json.dumps(report.document(), indent=2)}\n",
        attributes={
            "status": report.status,
            "stage": report.stage,
            "jobQueue": report.job_queue_name,
            **({"account": report.origin.account} if report.origin else {}),
        },
    )


def subject(report: CompletionReport) -> str:
    """`[dev] print-color array job SUCCEEDED: 7/7 children succeeded`; the job name is shortened to fit."""
    if report.status == "SUCCEEDED":
        outcome = f"{report.succeeded}/{report.array_size} children succeeded"
    else:
        outcome = f"{report.failed}/{report.array_size} children failed"
    prefix = f"[{report.stage}] "
    suffix = f" array job {report.status}: {outcome}"
    name_budget = MAX_SUBJECT_CHARS - len(prefix) - len(suffix)
    name = report.job_name
    if len(name) > name_budget:
        name = name[: max(name_budget - 3, 0)] + "..."
    return _printable_ascii(f"{prefix}{name}{suffix}")[:MAX_SUBJECT_CHARS]


def summary_text(report: CompletionReport) -> str:
    lines = [
        f"Array job {report.job_name} finished with status {report.status} (stage {report.stage}).",
        *([f"This is a {report.lineage}."] if report.lineage else []),
        "",
        f"{report.succeeded} of {report.array_size} children succeeded, {report.failed} failed"
        + (f", {report.not_final} not yet counted." if report.not_final else "."),
        f"Job id:          {report.job_id}",
        f"Job queue:       {report.job_queue_name}",
        *([f"Account, region: {report.origin.account}, {report.origin.region}"] if report.origin else []),
        f"Job definition:  {report.job_definition}",
        f"Created:         {_iso(report.created_at_ms) or 'unknown'}",
        f"Stopped:         {_iso(report.stopped_at_ms) or 'unknown'}",
        f"Duration:        {human_duration(report.duration_seconds)}",
    ]
    if report.status_reason:
        lines.append(f"Status reason:   {report.status_reason}")
    lines.append(f"Job in console:  {report.job_url}")
    if report.failed:
        shown = len(report.failed_children)
        lines += ["", f"Failed children ({shown} shown of {report.failed}):"]
        for child in report.failed_children:
            index = "?" if child.index is None else child.index
            exit_code = "none" if child.exit_code is None else child.exit_code
            reasons = "; ".join(r for r in (child.status_reason, child.container_reason) if r) or "no reason"
            lines.append(f"- index {index} (job {child.job_id}), exit code {exit_code}: {reasons}")
            if child.logs_url:
                lines.append(f"  logs: {child.logs_url}")
            lines += tail_text(child.log_tail)
    if report.resubmit_command:
        lines += ["", f"{resubmit_advice(report)}:", f"  {report.resubmit_command}"]
    return "\n".join(lines) + "\n"


def resubmit_advice(report: CompletionReport) -> str:
    """What precedes the resubmit command; a member's job is resubmitted in its own account."""
    where = f" (with credentials of account {report.origin.account})" if report.origin else ""
    return f"Resubmit only the failed children once the cause is fixed{where}"


def tail_text(tail: LogTail | None) -> list[str]:
    """A child's tail under its line of the e-mail text, each log line behind `  | `."""
    if tail is None:
        return []
    if tail.unavailable is not None:
        return [f"  log unavailable: {tail.unavailable}"]
    if not tail.lines:
        return ["  log: empty"]
    cut = " (older ones cut to fit)" if tail.truncated else ""
    heading = f"  last {len(tail.lines)} lines of the log{cut}:"
    return [heading, *(f"  | {line}" for line in tail.lines)]


def _failed_child(child: ChildJobDetail, partition: str, region: str) -> FailedChild:
    run = _failed_container(child)
    exit_code, container_reason = (run.exit_code, run.reason) if run else _eks_exit(child)
    # The job's container names the stream; its attempts do too, when the container does not.
    log_stream = (run.log_stream_name or child.last_attempt_stream) if run else None
    log_group = _log_group(run) if run and log_stream else None
    return FailedChild(
        index=child.array_index,
        job_id=child.job_id,
        status_reason=_clip(child.status_reason),
        exit_code=exit_code,
        container_reason=_clip(container_reason),
        log_group=log_group,
        log_stream=log_stream,
        logs_url=log_stream_url(partition, region, log_group, log_stream) if log_group and log_stream else None,
    )


def _failed_container(child: ChildJobDetail) -> ContainerRun | None:
    """The container to blame: the job's `container`, or the first of a multi-container job's
    containers that exited non-zero (else the first with logs)."""
    if child.container is not None:
        return child.container
    tasks = child.ecs_properties.task_properties if child.ecs_properties else []
    runs = [run for task in tasks for run in task.containers]
    failed = [run for run in runs if run.exit_code not in (None, 0)]
    with_logs = [run for run in runs if run.log_stream_name]
    candidates = failed or with_logs
    return candidates[0] if candidates else None


def _eks_exit(child: ChildJobDetail) -> tuple[int | None, str | None]:
    containers = child.eks_attempts[-1].containers if child.eks_attempts else []
    failed = [run for run in containers if run.exit_code not in (None, 0)] or containers
    return (failed[0].exit_code, failed[0].reason) if failed else (None, None)


def _log_group(run: ContainerRun) -> str | None:
    """The CloudWatch Logs group, or None when the job logs elsewhere (splunk, fluentd, ...)."""
    config = run.log_configuration
    if config is None or config.log_driver in (None, "awslogs"):
        return (config.options.get("awslogs-group") if config else None) or DEFAULT_LOG_GROUP
    return None


def _status_summary(completion: Completion, current: JobDetail | None) -> dict[str, int]:
    for job in (current, completion.job):
        if job is not None and job.array_properties is not None and job.array_properties.status_summary:
            return job.array_properties.status_summary
    return {}


def _array_size(completion: Completion, current: JobDetail | None) -> int:
    for job in (current, completion.job):
        if job is not None and job.array_properties is not None and job.array_properties.size is not None:
            return job.array_properties.size
    raise ValueError("a completion always has an array size; scope.decide guarantees it")


def _partition_and_region(arn: str, default_region: str) -> tuple[str, str]:
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and parts[1] and parts[3]:
        return parts[1], parts[3]
    return "aws", default_region


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_REASON_CHARS:
        return text
    return text[: MAX_REASON_CHARS - 3] + "..."


def _printable_ascii(text: str) -> str:
    return "".join(char if " " <= char <= "~" else "?" for char in text)


def _iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_ms(iso_time: str | None) -> int | None:
    if not iso_time:
        return None
    try:
        parsed = datetime.fromisoformat(iso_time)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def human_duration(seconds: int | None) -> str:
    if seconds is None:
        return "unknown"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
