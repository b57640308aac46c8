"""The notifier's CloudWatch metrics: which metrics an outcome produces (pure), and writing them.

Metrics leave as embedded metric format (EMF) documents on stdout, written by Powertools Metrics'
CloudWatch EMF provider: CloudWatch Logs extracts them from the log line, so there is no
PutMetricData call, no permission and no latency. Namespace `BatchArrayNotify`; dimensions `stage`
and `jobQueue` (the queue's name) and nothing else: a job id would make one metric per array job.

Ignored events (the scope check's skips: irrelevant, malformed, another queue's) are all counted under
the notifier's home queue, the first of `JOB_QUEUE_ARNS`: an ignored event may name no queue, or one
that is not the notifier's, and one alarm per notifier (stage + home queue) must see every one of them.
The completions a notifier reports are counted under their own queue, one of the notifier's.

Reuse, e.g. in the reconciliation sweep: build `Metric`s (`count("ReconciledCompletions", n)`, or
`outcome_metrics(...)` for a completion it reported itself) and call `emit(metrics, stage=...,
job_queue=...)` once per queue: one document each, in the same namespace with the same two dimensions,
so the dashboard and the alarms read them next to the handler's. Nothing is shared between calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

# Already imported by `aws_lambda_powertools` (the handler's Logger imports the package): free.
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from .aws import take_throttled_calls
from .report import CompletionReport
from .settings import settings

NAMESPACE = "BatchArrayNotify"
STAGE_DIMENSION = "stage"
QUEUE_DIMENSION = "jobQueue"
#: A member account's completions (central mode) carry a third dimension: the account they ran in.
ACCOUNT_DIMENSION = "account"
#: The home queue's `jobQueue` value of a central notifier without queues of its own.
ORGANIZATION_HOME_QUEUE = "organization"

ARRAY_JOBS_SUCCEEDED = "ArrayJobsSucceeded"
ARRAY_JOBS_FAILED = "ArrayJobsFailed"
ARRAY_SIZE = "ArraySize"
FAILED_CHILDREN = "FailedChildren"
ARRAY_JOB_DURATION = "ArrayJobDurationSeconds"
NOTIFICATION_LAG = "NotificationLagSeconds"
DUPLICATE_DELIVERIES = "DuplicateDeliveries"
IGNORED_EVENTS = "IgnoredEvents"
#: The reconciliation sweep's: completions the event path missed that it reported, and whether it ran
#: out of its budget before the end of the lookback window (1) or not (0).
RECONCILED_COMPLETIONS = "ReconciledCompletions"
RECONCILE_STOPPED_EARLY = "ReconcileStoppedEarly"
#: Batch answers throttled (HTTP 429 TooManyRequestsException) during one invocation, retried or not.
BATCH_CALLS_THROTTLED = "BatchCallsThrottled"

Unit = Literal["Count", "Seconds"]


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    value: float


def count(name: str, value: float = 1) -> Metric:
    return Metric(name, "Count", value)


def seconds(name: str, value: float) -> Metric:
    return Metric(name, "Seconds", value)


def completion_metrics(report: CompletionReport, published_at_ms: int) -> list[Metric]:
    """A reported completion: one of ArrayJobsSucceeded/ArrayJobsFailed is 1, the other 0 (so a
    graph of either has a point per completion), its size and failed children, and the two times
    when they are known. Lag runs from the parent's stop to the moment the notification went out; a
    skewed clock never makes it negative."""
    failed = report.status == "FAILED"
    metrics = [
        count(ARRAY_JOBS_SUCCEEDED, 0 if failed else 1),
        count(ARRAY_JOBS_FAILED, 1 if failed else 0),
        count(ARRAY_SIZE, report.array_size),
        count(FAILED_CHILDREN, report.failed),
    ]
    if report.duration_seconds is not None:
        metrics.append(seconds(ARRAY_JOB_DURATION, report.duration_seconds))
    if report.stopped_at_ms is not None:
        metrics.append(seconds(NOTIFICATION_LAG, max(published_at_ms - report.stopped_at_ms, 0) / 1000))
    return metrics


def outcome_metrics(report: CompletionReport, duplicate: bool, published_at_ms: int) -> list[Metric]:
    """What one delivery of a completion adds: the completion, or only a suppressed duplicate."""
    return duplicate_metrics() if duplicate else completion_metrics(report, published_at_ms)


def duplicate_metrics() -> list[Metric]:
    """A completion already reported: counted as a suppressed delivery, never as a second completion."""
    return [count(DUPLICATE_DELIVERIES)]


def ignored_metrics() -> list[Metric]:
    """An event the scope check skipped (irrelevant or malformed): zero with a correctly wired rule."""
    return [count(IGNORED_EVENTS)]


def throttle_metrics(throttled: int) -> list[Metric]:
    """Batch answers throttled during one invocation; nothing when there were none (no document)."""
    return [count(BATCH_CALLS_THROTTLED, throttled)] if throttled else []


def queue_name(queue: str) -> str:
    """`arn:…:job-queue/<name>` -> `<name>` (a name stays as it is)."""
    return queue.rpartition("/")[2] or queue


def emf_provider(stage: str, job_queue: str) -> AmazonCloudWatchEMFProvider:
    """A provider of its own per document: Powertools' `Metrics` shares its metric set between all
    instances of the process, so two writers (handler and sweep) would mix their dimensions.
    `service=""` keeps out the `service` dimension Powertools adds from POWERTOOLS_SERVICE_NAME."""
    provider = AmazonCloudWatchEMFProvider(
        namespace=NAMESPACE, service="", metric_set={}, dimension_set={}, metadata_set={}, default_dimensions={}
    )
    provider.add_dimension(STAGE_DIMENSION, stage)
    provider.add_dimension(QUEUE_DIMENSION, job_queue)
    return provider


def emit(metrics: Sequence[Metric], *, stage: str, job_queue: str) -> None:
    """Write `metrics` as one EMF document (one stdout line); nothing for an empty list."""
    if not metrics:
        return
    provider = emf_provider(stage, job_queue)
    for metric in metrics:
        provider.add_metric(name=metric.name, unit=metric.unit, value=metric.value)
    provider.flush_metrics(raise_on_empty_metrics=True)


@contextlib.contextmanager
def throttles_counted() -> Iterator[None]:
    """Count the Batch answers throttled within the block and emit them (`BatchCallsThrottled`, under the
    home queue like IgnoredEvents) even when the block raises: a throttle that outlasted the retries is the
    one that matters most."""
    take_throttled_calls()  # this invocation's count starts at zero
    try:
        yield
    finally:
        throttled = take_throttled_calls()
        if throttled:
            config = settings()
            emit(throttle_metrics(throttled), stage=config.stage, job_queue=queue_name(config.home_job_queue_arn))
