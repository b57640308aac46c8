"""The notifier's custom metrics as the dashboard and alarms read them.

Mirrors handler/metrics.py, which writes them: the component must not import the handler's modules
(they need Powertools, which only the Lambda layer provides), and a unit test keeps the two in step.
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "BatchArrayNotify"
STAGE_DIMENSION: Final = "stage"
QUEUE_DIMENSION: Final = "jobQueue"
#: A member account's completions also carry the account (central mode, handler/accounts.py).
ACCOUNT_DIMENSION: Final = "account"
#: The home-queue metrics' `jobQueue` in central mode when the notifier has no queue of its own.
ORGANIZATION_HOME_QUEUE: Final = "organization"

ARRAY_JOBS_SUCCEEDED: Final = "ArrayJobsSucceeded"
ARRAY_JOBS_FAILED: Final = "ArrayJobsFailed"
ARRAY_SIZE: Final = "ArraySize"
FAILED_CHILDREN: Final = "FailedChildren"
ARRAY_JOB_DURATION: Final = "ArrayJobDurationSeconds"
NOTIFICATION_LAG: Final = "NotificationLagSeconds"
DUPLICATE_DELIVERIES: Final = "DuplicateDeliveries"
IGNORED_EVENTS: Final = "IgnoredEvents"
RECONCILED_COMPLETIONS: Final = "ReconciledCompletions"
RECONCILE_STOPPED_EARLY: Final = "ReconcileStoppedEarly"
BATCH_CALLS_THROTTLED: Final = "BatchCallsThrottled"


def pipeline_dimensions(stage: str, job_queue_name: str) -> dict[str, str]:
    """The dimensions every one of a pipeline's custom metrics carries."""
    return {STAGE_DIMENSION: stage, QUEUE_DIMENSION: job_queue_name}


def member_dimensions(stage: str, job_queue_name: str, account_id: str) -> dict[str, str]:
    """The dimensions of a member account's completion metrics (central mode)."""
    return {**pipeline_dimensions(stage, job_queue_name), ACCOUNT_DIMENSION: account_id}


def queue_name(job_queue_arn: str) -> str:
    """The `jobQueue` dimension of a queue: `arn:…:job-queue/<name>` -> `<name>`, as the handler writes it."""
    return job_queue_arn.rpartition("/")[2] or job_queue_arn
