"""The EventBridge pattern that matches only the *parent* of an array job reaching a terminal status.

Pure functions on plain strings: no Pulumi, no AWS. The component renders the result with
`pulumi.Output.json_dumps`; tests and the offline tools feed it straight to moto's EventBridge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Statuses in which a Batch job never changes again. An array parent only ever ends in one of these.
TERMINAL_STATUSES: tuple[str, ...] = ("SUCCEEDED", "FAILED")

#: EventBridge's default limit on a rule pattern's length (raisable to 4096 only by a quota request).
MAX_PATTERN_CHARS = 2048

BATCH_SOURCE = "aws.batch"
JOB_STATE_CHANGE = "Batch Job State Change"
QUEUE_BLOCKED = "Batch Job Queue Blocked"


def job_definition_revision_prefix(job_definition_arn_prefix: str) -> str:
    """Turn `...:job-definition/name` into `...:job-definition/name:`.

    The trailing colon is what keeps `name-v2` from matching a rule meant for `name`, while every
    revision of `name` (`name:1`, `name:2`, ...) still does: Pulumi registers a new revision on most
    changes, and a rule pinned to one revision would silently stop firing after the next `pulumi up`.
    """
    _, _, name = job_definition_arn_prefix.partition(":job-definition/")
    # A revision left on (`name:3`) would give `name:3:`, a prefix no event ever carries: silence.
    if not name or ":" in name:
        raise ValueError(
            "job_definition_arn_prefix must be a job-definition ARN without its revision, "
            f"got {job_definition_arn_prefix!r}"
        )
    return f"{job_definition_arn_prefix}:"


def completion_event_pattern(
    job_queue_arn: str,
    job_definition_arn_prefix: str,
    statuses: Sequence[str] = TERMINAL_STATUSES,
) -> dict[str, Any]:
    """Build the rule pattern for "this queue's array job has finished".

    Why each clause is there:

    - `source` + `detail-type`: Batch also emits `Batch Job Queue Blocked` and service-job events
      with the same `detail` shape; only job state changes mean "finished".
    - `detail.jobQueue`: the exact queue ARN scopes the rule to this component, so two stacks or two
      pipelines in one account never answer each other's jobs.
    - `detail.jobDefinition` prefix on the ARN *without* revision: events carry the full ARN with
      `:revision`, and jobs submitted with an older or newer revision must still match.
    - `detail.status`: terminal statuses only, so the parent's PENDING event never fires.
    - `detail.arrayProperties.size` exists: the Batch API returns `size` for parent array jobs only
      (children carry `index`, single jobs no `arrayProperties` at all). This holds on EC2, Spot,
      Fargate, EKS and multi-container (`ecsProperties`) jobs alike, unlike the well-known
      `container.containerInstanceArn` trick, which only EC2 jobs can satisfy. `exists` is applied to
      leaves only, as EventBridge requires (`statusSummary` is an object and would not work).
    - `detail.arrayProperties.index` absent: belt and braces in case a future event ever carries both.

    Raises ValueError for an empty or non-terminal status list, or a pattern over EventBridge's
    2048-character limit (possible only with absurdly long ARNs).
    """
    if not job_queue_arn:
        raise ValueError("job_queue_arn must be a job-queue ARN, got an empty string")
    if not statuses:
        raise ValueError(f"statuses must name at least one of {list(TERMINAL_STATUSES)}")
    unknown = [s for s in statuses if s not in TERMINAL_STATUSES]
    if unknown:
        raise ValueError(f"statuses {unknown} are not terminal; allowed: {list(TERMINAL_STATUSES)}")

    pattern: dict[str, Any] = {
        "source": [BATCH_SOURCE],
        "detail-type": [JOB_STATE_CHANGE],
        "detail": {
            "jobQueue": [job_queue_arn],
            "jobDefinition": [{"prefix": job_definition_revision_prefix(job_definition_arn_prefix)}],
            "status": list(dict.fromkeys(statuses)),
            "arrayProperties": {
                "size": [{"exists": True}],
                "index": [{"exists": False}],
            },
        },
    }
    rendered = json.dumps(pattern)
    if len(rendered) > MAX_PATTERN_CHARS:
        raise ValueError(
            f"the completion pattern is {len(rendered)} characters; EventBridge allows {MAX_PATTERN_CHARS}"
        )
    return pattern


def queue_blocked_event_pattern(job_queue_arn: str) -> dict[str, Any]:
    """Pattern for `Batch Job Queue Blocked` events of one queue: a job stuck RUNNABLE never completes."""
    if not job_queue_arn:
        raise ValueError("job_queue_arn must be a job-queue ARN, got an empty string")
    return {
        "source": [BATCH_SOURCE],
        "detail-type": [QUEUE_BLOCKED],
        "detail": {"jobQueue": [job_queue_arn]},
    }
