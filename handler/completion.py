"""Report one array parent's completion through every sink, once: the one path the notifier (an event
arrived) and the reconciliation sweep (no event ever arrived) share, so both build the same report and
deliver it under the same idempotency key (parent jobId, or `<account>/<region>/<jobId>` for a member
account's, and status) to the same sinks. Whichever comes
first sends; the other finds the records and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .batch_jobs import first_failed_children
from .delivery import deliver, reported_before
from .log_tails import with_log_tails
from .metrics import Metric, outcome_metrics
from .models import JobDetail
from .report import CompletionReport, build_report, needs_failed_children
from .scope import Completion
from .settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass(frozen=True)
class Reported:
    """What reporting one completion did: the report, each sink's result, and the metrics it adds."""

    report: CompletionReport
    deliveries: list[dict[str, Any]]
    duplicate: bool
    """The completion topic had delivered it before: it is not new and adds no completion metrics (a sink
    added since, such as chat, may still have sent it now)."""
    metrics: list[Metric]


def completion_report(
    completion: Completion, current: JobDetail | None, log_tails_until: float | None = None
) -> CompletionReport:
    """The report of a completion and of the parent as DescribeJobs shows it now (`current`; None once
    Batch forgot the job), with its first failed children when it has any, and the last lines of the
    first ones' logs when `log_tails_until` (a `time.monotonic()` deadline) is given."""
    config = settings()
    failed_children = (
        first_failed_children(completion.job.job_id, config.max_failed_details, completion.origin)
        if needs_failed_children(completion, current)
        else []
    )
    report = build_report(completion, current, failed_children, stage=config.stage, default_region=config.region)
    return report if log_tails_until is None else with_log_tails(report, config.log_tails, log_tails_until)


def deliver_once(report: CompletionReport, context: LambdaContext | None, clock: Callable[[], float]) -> Reported:
    """Deliver `report` to every sink at most once; `clock` says when it went out (NotificationLagSeconds).
    The completion's metrics come with its first delivery to the completion topic only, so an array job
    counts once however many sinks it reaches and whenever they were added."""
    deliveries = deliver(report, context)
    published_at_ms = int(clock() * 1000)
    duplicate = reported_before(deliveries)
    return Reported(report, deliveries, duplicate, outcome_metrics(report, duplicate, published_at_ms))
