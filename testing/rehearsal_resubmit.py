"""`batch-array-notify rehearse --resubmit`: after the rehearsal's FAILED notification, resubmit its failed
children with cli/resubmit.py against the same moto account, run the new job's events through the stack's rule and
notifier, and keep the second notification, whose lineage names the first job.

The resubmission is the tool's own (`resubmit_job`: DescribeJobs, ListJobs, DescribeJobDefinitions,
SubmitJob on moto's Batch); the new job's children all succeed, as moto runs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from batch_array_notify.cli.resubmit import resubmit_job
from batch_array_notify.handler.aws import new_client
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from batch_array_notify.testing.rehearsal_world import Notification, RehearsalWorld

Event = dict[str, Any]


@dataclass
class ResubmissionRun:
    """One FAILED array job's resubmission in the rehearsal and what the notifier said about it."""

    original_job_id: str
    command: str
    output: str
    specs: list[ArrayJobSpec]
    """The new array jobs (a plain job of one child is not reported, so it has no events here)."""
    matches: int = 0
    notifications: list[Notification] = field(default_factory=list)

    @property
    def new_job_ids(self) -> list[str]:
        return [str(spec.parent_job_id) for spec in self.specs]

    def events(self) -> Iterator[Event]:
        """The new array jobs' events, every child succeeding."""
        for spec in self.specs:
            yield from array_job_events(spec)

    def problems(self) -> list[str]:
        """Exactly one notification per new array job, each naming the job it retried."""
        found: list[str] = []
        lineage = [notification.document.get("resubmissionOf") for notification in self.notifications]
        if len(self.notifications) != len(self.new_job_ids):
            found.append(
                f"resubmission of {self.original_job_id}: {len(self.notifications)} notifications for "
                f"{len(self.new_job_ids)} new array job(s)"
            )
        if any(each != self.original_job_id for each in lineage):
            found.append(f"resubmission of {self.original_job_id}: a notification names {lineage} as its lineage")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "originalJobId": self.original_job_id,
            "command": self.command,
            "newJobIds": self.new_job_ids,
            "matches": self.matches,
            "notifications": [
                notification.summary() | {"resubmissionOf": notification.document.get("resubmissionOf")}
                for notification in self.notifications
            ],
        }


def resubmit_failed(
    world: RehearsalWorld, compute: Compute, notifications: Sequence[Notification]
) -> list[ResubmissionRun]:
    """Resubmit the failed children of every job a notification offers a resubmit command for; each run
    holds the new array jobs' specs, whose events the rehearsal then sends through the rule."""
    batch = new_client("batch", region=world.target.region)
    runs: list[ResubmissionRun] = []
    for notification in notifications:
        command, job_id = notification.document.get("resubmitCommand"), notification.job_id
        if not command or not job_id:
            continue
        outcome = resubmit_job(batch, job_id, dry_run=False, sleep=lambda _: None)
        specs = [
            ArrayJobSpec(
                str(outcome.job["jobQueue"]),
                str(outcome.job["jobDefinition"]),
                size=len(planned.original_indices),
                failures=0,
                failures_before_placement=0,
                compute=compute,
                parent_job_id=planned.job_id,
                job_name=str(outcome.job["jobName"]),
            )
            for planned in outcome.planned
            if "arrayProperties" in planned.request
        ]
        runs.append(ResubmissionRun(job_id, str(command), outcome.text(dry_run=False), specs))
    return runs


def render_runs(runs: Sequence[ResubmissionRun], first_number: int) -> list[str]:
    """The resubmission's lines of the rehearsal's report, its notifications numbered on from the first."""
    lines: list[str] = []
    number = first_number
    for run in runs:
        lines += ["", f"Resubmission of {run.original_job_id}, as the FAILED message says:", f"$ {run.command}"]
        lines += run.output.splitlines()
        lines.append(f"  rule matches {run.matches}, notifications {len(run.notifications)}")
        for notification in run.notifications:
            lines += [
                "",
                f"Notification {number} (the resubmission)",
                f"Subject: {notification.subject}",
                "",
                notification.body.rstrip(),
            ]
            number += 1
    return lines
