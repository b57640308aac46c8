"""Lambda entry point (`handler.app.handler`): parse and decide, report, deliver, log the decision and
write its metrics (one EMF document on stdout, see metrics.py).

Bad or irrelevant input is logged, counted and returned, never raised: retrying cannot change it. AWS
errors and invalid settings propagate so Lambda retries and, after that, the on-failure destination
keeps the event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from .batch_jobs import describe_job
from .completion import completion_report, deliver_once
from .log_tails import tail_deadline
from .metrics import emit, home_queue, ignored_metrics, throttles_counted
from .report import CompletionReport
from .scope import Completion, Skip, decide, in_scope
from .settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
#: When a notification counts as published (NotificationLagSeconds); the rehearsal, whose events carry
#: synthetic times, swaps in a clock that follows them.
clock: Callable[[], float] = time.time


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    with throttles_counted():
        return _handle(event, context)


def _handle(event: Any, context: LambdaContext) -> dict[str, Any]:
    decision = decide(event)
    if isinstance(decision, Completion):
        decision = in_scope(decision, settings().job_queue_arns, settings().member_accounts)
    if isinstance(decision, Skip):
        return _skip(decision, event)

    reported = deliver_once(_report(decision, context), context, clock)
    report, results, duplicate = reported.report, reported.deliveries, reported.duplicate
    outcome = "duplicate" if duplicate else "delivered"
    account = report.origin.account if report.origin else None
    emit(reported.metrics, stage=report.stage, job_queue=report.job_queue_name, account=account)
    logger.info(
        "completion already reported, nothing sent" if duplicate else "completion reported",
        extra={
            "decision": outcome,
            "jobId": report.job_id,
            "jobQueue": report.job_queue_name,
            **({"account": account, "region": report.origin.region} if report.origin else {}),
            "status": report.status,
            "arraySize": report.array_size,
            "failed": report.failed,
            "failedDetails": len(report.failed_children),
            "eventId": decision.event_id,
            "deliveries": results,
        },
    )
    return {"outcome": outcome, "jobId": report.job_id, "status": report.status, "deliveries": results}


def _report(completion: Completion, context: LambdaContext) -> CompletionReport:
    # The tails' deadline leaves the sinks their share of the Lambda's remaining time (log_tails.py).
    deadline = tail_deadline(context.get_remaining_time_in_millis(), time.monotonic())
    return completion_report(completion, describe_job(completion.job.job_id, completion.origin), deadline)


def _skip(skip: Skip, event: Any) -> dict[str, Any]:
    # Under the home queue whatever queue the event names, if any: the notifier's one alarm watches it.
    emit(ignored_metrics(), stage=settings().stage, job_queue=home_queue())
    fields = {"jobId": skip.job_id, "status": skip.status, "reason": skip.reason}
    if skip.malformed:
        logger.error("malformed event rejected, not retried", extra={"decision": "rejected", **fields, "event": event})
        return {"outcome": "rejected", "reason": skip.reason}
    logger.info("event ignored", extra={"decision": "ignored", **fields})
    return {"outcome": "ignored", "reason": skip.reason}
