"""Resubmit only the failed children of an array job: one new array job of exactly those children.

    batch-array-notify resubmit --job-id ARRAY_JOB_ID [--region REGION] [--dry-run] [--json]

Everything comes from the original job (DescribeJobs): its queue, its job definition revision, its
parameters, its container overrides (command, environment, resource requirements, as they differ from
the definition's), its tags, timeout, retry strategy and fair-share fields. Its failed children come
from ListJobs (`arrayJobId`, `jobStatus` FAILED), paged through all of them (at most 10,000).

The new job's child `i` runs the original's failed child named by the environment variable
BATCH_ARRAY_NOTIFY_INDEX_MAP, compact ranges such as `3,17-20,99` (docs/tools.md has the snippet, in
shell and Python, that turns it into the original index inside the job). When the original job was
itself a resubmission, the map points at the first job's indices. The new job names the job it
retries in the tag `batch-array-notify:resubmission-of` and the variable
BATCH_ARRAY_NOTIFY_RESUBMISSION_OF; the notifier's message for it then says "resubmission of <id>: N of
M failed children now succeeded". One failed child becomes a plain job (the notifier reports array
jobs only). A map too long for SubmitJob's 30 KiB payload is split over several jobs, and the output
says so. `--dry-run` submits nothing and shows the jobs it would submit.

IAM permissions the caller needs: batch:DescribeJobs, batch:ListJobs, batch:DescribeJobDefinitions,
batch:SubmitJob, and batch:TagResource (SubmitJob with tags).
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, TextIO

import botocore.session  # type: ignore[import-untyped]
from botocore.serialize import create_serializer  # type: ignore[import-untyped]

from batch_array_notify.cli.aws_errors import exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.cli.progress import Progress, progress_for
from batch_array_notify.handler.aws import new_client
from batch_array_notify.handler.lineage import (
    INDEX_MAP_VARIABLE,
    RESUBMISSION_OF_TAG,
    RESUBMISSION_OF_VARIABLE,
    compact_ranges,
    expand_ranges,
)
from batch_array_notify.handler.settings import TERMINAL_STATUSES
from batch_array_notify.testing.eventgen import MAX_ARRAY_SIZE

#: What the caller's IAM policy must allow (docs/tools.md lists the same). SubmitJob with tags also
#: authorises batch:TagResource (Service Authorization Reference, "Actions, resources, and condition keys
#: for AWS Batch", API operations table).
IAM_ACTIONS: Final = (
    "batch:DescribeJobs",
    "batch:ListJobs",
    "batch:DescribeJobDefinitions",
    "batch:SubmitJob",
    "batch:TagResource",
)
#: "Maximum job payload size (for SubmitJob API operations): 30 KiB" (Batch user guide, service quotas).
MAX_SUBMIT_PAYLOAD_BYTES: Final = 30 * 1024
#: ListJobs with a jobStatus returns up to 1000 jobs a page (botocore's batch model, ListJobs maxResults).
LIST_PAGE_SIZE: Final = 1000
#: 10,000 children at 1000 a page, with room for the short pages ListJobs may return.
MAX_LIST_PAGES: Final = 20
#: Between Batch calls of one run: a run lists at most ~10 pages and submits a few jobs.
PAUSE_SECONDS: Final = 0.2

#: Job properties SubmitJob cannot carry over as container overrides: the tool refuses such jobs.
UNSUPPORTED_PROPERTIES: Final = {
    "ecsProperties": "multi-container (ecsProperties)",
    "eksProperties": "EKS (eksProperties)",
    "nodeProperties": "multi-node parallel (nodeProperties)",
}


class UsageError(Exception):
    """The job cannot be resubmitted as asked; one line, exit 2."""


@dataclass(frozen=True)
class PlannedJob:
    """One SubmitJob request of the resubmission, and the original indices its children run."""

    request: dict[str, Any]
    original_indices: tuple[int, ...]
    job_id: str | None = None

    @property
    def index_map(self) -> str:
        return compact_ranges(self.original_indices)

    def document(self) -> dict[str, Any]:
        return {
            "jobId": self.job_id,
            "size": len(self.original_indices),
            "array": "arrayProperties" in self.request,
            "indexMap": self.index_map,
            "payloadBytes": payload_bytes(self.request),
        }


# --------------------------------------------------------------------------------------------------
# Reading the original job


def original_job(batch: Any, job_id: str) -> dict[str, Any]:
    """The array parent as DescribeJobs shows it; UsageError when it is not a finished array parent."""
    jobs = batch.describe_jobs(jobs=[job_id]).get("jobs", [])
    if not jobs:
        raise UsageError(f"--job-id {job_id}: Batch does not know this job here: check the id and --region")
    job: dict[str, Any] = jobs[0]
    if not (job.get("arrayProperties") or {}).get("size"):
        raise UsageError(f"--job-id {job_id}: not an array parent (no arrayProperties.size): give the array job's id")
    if job.get("status") not in TERMINAL_STATUSES:
        raise UsageError(f"--job-id {job_id}: the array job is {job.get('status')}: resubmit once it has finished")
    unsupported = [what for key, what in UNSUPPORTED_PROPERTIES.items() if job.get(key)]
    if unsupported:
        raise UsageError(f"--job-id {job_id}: a {unsupported[0]} job: only container jobs can be resubmitted")
    return job


def definition_container(batch: Any, job_definition_arn: str) -> dict[str, Any]:
    """The `containerProperties` of the job's definition revision, what overrides are measured against."""
    definitions = batch.describe_job_definitions(jobDefinitions=[job_definition_arn]).get("jobDefinitions", [])
    if not definitions:
        raise UsageError(f"job definition {job_definition_arn} is unknown to Batch: it cannot run again")
    return dict(definitions[0].get("containerProperties") or {})


def failed_indices(
    batch: Any,
    job_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    advance: Callable[[], None] = lambda: None,
) -> list[int]:
    """Every failed child's index, ascending: ListJobs pages of at most 1000, a pause between pages."""
    indices: set[int] = set()
    request: dict[str, Any] = {"arrayJobId": job_id, "jobStatus": "FAILED", "maxResults": LIST_PAGE_SIZE}
    for page_number in range(MAX_LIST_PAGES):
        if page_number:
            sleep(PAUSE_SECONDS)
        page = batch.list_jobs(**request)
        for summary in page.get("jobSummaryList", []):
            indices.add(child_index(summary))
            advance()
        if not page.get("nextToken"):
            return sorted(indices)
        request["nextToken"] = page["nextToken"]
    raise UsageError(f"--job-id {job_id}: ListJobs still had pages after {MAX_LIST_PAGES}: run again")


def child_index(summary: Mapping[str, Any]) -> int:
    """A child's array index: `arrayProperties.index`, else the `<parent>:<index>` suffix of its id."""
    index = (summary.get("arrayProperties") or {}).get("index")
    return int(index) if index is not None else int(str(summary["jobId"]).rpartition(":")[2])


# --------------------------------------------------------------------------------------------------
# The new job, from the original (pure)


def container_overrides(job_container: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """What the original job overrode of its definition's container: the overrides to submit again.

    DescribeJobs shows the job's effective container, not its overrides, so they are what differs from
    the definition. Batch's own variables (AWS_BATCH*, reserved) and this tool's lineage are left out.
    """
    overrides: dict[str, Any] = {}
    command = job_container.get("command")
    if command and command != definition.get("command"):
        overrides["command"] = list(command)
    inherited = {entry["name"]: entry.get("value") for entry in definition.get("environment") or []}
    environment = [
        {"name": entry["name"], "value": entry.get("value", "")}
        for entry in job_container.get("environment") or []
        if not entry["name"].startswith("AWS_BATCH")
        and entry["name"] not in (INDEX_MAP_VARIABLE, RESUBMISSION_OF_VARIABLE)
        and inherited.get(entry["name"]) != entry.get("value")
    ]
    if environment:
        overrides["environment"] = environment
    requirements = job_container.get("resourceRequirements")
    if requirements and _as_set(requirements) != _as_set(definition.get("resourceRequirements") or []):
        overrides["resourceRequirements"] = list(requirements)
    return overrides


def _as_set(requirements: Iterable[Mapping[str, str]]) -> set[tuple[str, str]]:
    return {(str(each.get("type")), str(each.get("value"))) for each in requirements}


def base_request(job: Mapping[str, Any], definition: Mapping[str, Any]) -> dict[str, Any]:
    """The SubmitJob request of the original, without array size, index map and lineage."""
    request: dict[str, Any] = {
        "jobName": job["jobName"],
        "jobQueue": job["jobQueue"],
        "jobDefinition": job["jobDefinition"],
        "containerOverrides": container_overrides(job.get("container") or {}, definition),
    }
    if job.get("parameters"):
        request["parameters"] = dict(job["parameters"])
    tags = {key: value for key, value in (job.get("tags") or {}).items() if not key.startswith("aws:")}
    request["tags"] = {**tags, RESUBMISSION_OF_TAG: job["jobId"]}
    for key in ("timeout", "retryStrategy", "propagateTags", "shareIdentifier"):
        if job.get(key) is not None:
            request[key] = job[key]
    if job.get("schedulingPriority") is not None:
        request["schedulingPriorityOverride"] = job["schedulingPriority"]
    return request


def inherited_map(job: Mapping[str, Any]) -> list[int] | None:
    """The original's own index map when it was itself a resubmission, else None."""
    for entry in (job.get("container") or {}).get("environment") or []:
        if entry.get("name") == INDEX_MAP_VARIABLE:
            return expand_ranges(str(entry.get("value", "")))
    return None


def original_indices(failed: Sequence[int], earlier_map: Sequence[int] | None) -> list[int]:
    """The indices the failed children stand for in the first job of the lineage."""
    return list(failed) if earlier_map is None else [earlier_map[index] for index in failed]


def with_children(base: Mapping[str, Any], indices: Sequence[int], retries: str) -> dict[str, Any]:
    """`base` for these original indices: array properties (none for one child), the index map, lineage."""
    request: dict[str, Any] = copy.deepcopy(dict(base))
    overrides = request.setdefault("containerOverrides", {})
    overrides["environment"] = [
        *overrides.get("environment", []),
        {"name": INDEX_MAP_VARIABLE, "value": compact_ranges(indices)},
        {"name": RESUBMISSION_OF_VARIABLE, "value": retries},
    ]
    if len(indices) > 1:
        request["arrayProperties"] = {"size": len(indices)}
    return request


def payload_bytes(request: Mapping[str, Any]) -> int:
    """The size of the SubmitJob body exactly as botocore serialises it."""
    model = _batch_model()
    body = create_serializer(model.metadata["protocol"]).serialize_to_request(
        dict(request), model.operation_model("SubmitJob")
    )["body"]
    return len(body)


@functools.cache
def _batch_model() -> Any:
    return botocore.session.get_session().get_service_model("batch")


def plan_jobs(base: Mapping[str, Any], indices: Sequence[int], retries: str) -> list[PlannedJob]:
    """One job of all `indices`, or several when the index map would push the payload past 30 KiB."""
    whole = with_children(base, indices, retries)
    if payload_bytes(whole) <= MAX_SUBMIT_PAYLOAD_BYTES:
        return [PlannedJob(whole, tuple(indices))]
    # The room for the map: the payload with an empty map and the largest array size.
    empty = with_children(base, [], retries) | {"arrayProperties": {"size": MAX_ARRAY_SIZE}}
    room = MAX_SUBMIT_PAYLOAD_BYTES - payload_bytes(empty)
    if room < len(f"{MAX_ARRAY_SIZE - 1}-{MAX_ARRAY_SIZE}"):
        raise UsageError(f"the original job's request leaves no room for an index map in {MAX_SUBMIT_PAYLOAD_BYTES}")
    return [PlannedJob(with_children(base, part, retries), tuple(part)) for part in split_by_map_length(indices, room)]


def split_by_map_length(indices: Sequence[int], room: int) -> list[list[int]]:
    """`indices` in order, in parts whose compact ranges are at most `room` characters each."""
    parts: list[list[int]] = []
    current: list[int] = []
    length = 0
    for run in _runs(indices):
        text = len(compact_ranges(run)) + (1 if current else 0)
        if current and length + text > room:
            parts.append(current)
            current, length, text = [], 0, text - 1
        current.extend(run)
        length += text
    if current:
        parts.append(current)
    return parts


def _runs(indices: Sequence[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


# --------------------------------------------------------------------------------------------------
# Submitting


def submit_all(batch: Any, planned: Sequence[PlannedJob], sleep: Callable[[float], None]) -> list[PlannedJob]:
    submitted: list[PlannedJob] = []
    for number, job in enumerate(planned):
        if number:
            sleep(PAUSE_SECONDS)
        response = batch.submit_job(**job.request)
        submitted.append(PlannedJob(job.request, job.original_indices, str(response["jobId"])))
    return submitted


def render(job: Mapping[str, Any], failed: Sequence[int], planned: Sequence[PlannedJob], *, dry_run: bool) -> str:
    size = job["arrayProperties"]["size"]
    lines = [f"{job['jobId']} ({job['jobName']}, {size} children): {len(failed)} failed: {compact_ranges(failed)}"]
    if len(planned) > 1:
        lines.append(
            f"the index map is too long for SubmitJob's {MAX_SUBMIT_PAYLOAD_BYTES // 1024} KiB payload: "
            f"split into {len(planned)} jobs"
        )
    verb = "would submit" if dry_run else "submitted"
    definition = str(job["jobDefinition"]).rpartition("/")[2]
    for each in planned:
        kind = f"{len(each.original_indices)} children" if "arrayProperties" in each.request else "a plain job"
        lines.append(f"{verb} {each.job_id or '(dry run)'}: {kind} of {definition}, original indices {each.index_map}")
        if "arrayProperties" not in each.request:
            lines.append("  (one child: a plain job, which the notifier does not report; it reports array jobs)")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify resubmit",
        __doc__,
        bad_outcome="nothing to resubmit: the array job has no failed children",
        uses_aws=True,
    )
    arguments.add_argument("--job-id", required=True, help="the array job whose failed children to resubmit")
    arguments.add_argument("--region", help="AWS region of the job (default: boto3's, e.g. AWS_REGION)")
    arguments.add_argument("--dry-run", action="store_true", help="submit nothing; show what would be submitted")
    arguments.add_argument("--json", action="store_true", help="print one JSON document")
    return arguments


@dataclass(frozen=True)
class Resubmission:
    """What one run did: the original job, its failed children (own indices) and the jobs planned or submitted."""

    job: Mapping[str, Any]
    failed: list[int]
    planned: list[PlannedJob]

    def text(self, *, dry_run: bool) -> str:
        if not self.planned:
            return f"{self.job['jobId']} has no failed children: nothing to resubmit"
        return render(self.job, self.failed, self.planned, dry_run=dry_run)


def resubmit_job(
    batch: Any,
    job_id: str,
    *,
    dry_run: bool,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], Progress | None] = lambda total: None,
) -> Resubmission:
    """Read the original and its failed children, plan the new jobs and (unless `dry_run`) submit them;
    `progress` makes the bar for the failed children Batch counts (None: no bar)."""
    job = original_job(batch, job_id)
    bar = progress(int(((job.get("arrayProperties") or {}).get("statusSummary") or {}).get("FAILED", 0)))
    try:
        failed = failed_indices(batch, job_id, sleep=sleep, advance=bar.advance if bar else lambda: None)
    finally:
        if bar is not None:
            bar.close()
    if not failed:
        return Resubmission(job, failed, [])
    base = base_request(job, definition_container(batch, job["jobDefinition"]))
    planned = plan_jobs(base, original_indices(failed, inherited_map(job)), job_id)
    return Resubmission(job, failed, planned if dry_run else submit_all(batch, planned, sleep))


def main(
    argv: Sequence[str] | None = None,
    stderr: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    options = parser().parse_args(argv)
    errors = stderr or sys.stderr
    job_id = str(options.job_id).strip()
    if not job_id:
        print("error: --job-id must not be empty: give the array job's id", file=errors)
        return USAGE_ERROR
    with exit_on_aws_environment_errors(errors):
        batch = new_client("batch", region=options.region)
        try:
            outcome = resubmit_job(
                batch,
                job_id,
                dry_run=options.dry_run,
                sleep=sleep,
                progress=partial(progress_for, quiet=options.json, stream=errors, label="failed children"),
            )
        except UsageError as error:
            print(f"error: {error}", file=errors)
            return USAGE_ERROR
    code = DONE if outcome.planned else BAD_OUTCOME
    if options.json:
        document = {
            "jobId": job_id,
            "failedChildren": compact_ranges(outcome.failed),
            "failedCount": len(outcome.failed),
            "dryRun": options.dry_run,
            "split": len(outcome.planned) > 1,
            "jobs": [each.document() for each in outcome.planned],
            "exitCode": code,
        }
        print(json.dumps(document, indent=2))
    else:
        print(outcome.text(dry_run=options.dry_run))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
