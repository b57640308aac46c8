"""Deliver a report to each sink exactly once per parent completion (jobId + status; for a member
account's completion, `<account>/<region>/<jobId>` + status).

Each sink is wrapped by the Powertools idempotency utility on its own key, so when one sink fails
and the invocation is retried, sinks that already delivered are not repeated. The key is the parent's
jobId and status, not the EventBridge event id: Batch may emit the same completion twice under two ids.
If a sink raises, Powertools deletes the in-progress record before re-raising, so the Lambda retry
publishes. Adding a sink = one function `name(report: CompletionReport) -> dict` (JSON-serialisable
result; the parameter must be called `report`, the idempotency utility finds the key data by that
name) put in `SINKS` before the completion topic's.

The completion topic's sink runs last, so its record means every sink of the time has delivered: it is
the one record that says a completion was reported. A sink added later (chat turned on for a running
pipeline) has no records of older completions, and that makes none of them missed, nor new.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .aws import client
from .chat import chat_message
from .report import CompletionReport, sns_message
from .scope import Origin
from .settings import IDEMPOTENCY_EXPIRY_SECONDS, settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

Sink = Callable[[CompletionReport], dict[str, Any]]

#: Fields of the report (as `dataclasses.asdict`) that identify a completion: `[jobId, status]` in the
#: notifier's own account (the key it always had: an upgrade re-sends nothing in flight), and
#: `[<account>/<region>/<jobId>, status]` for a member account's (`CompletionReport.completion_key`): job ids
#: are unique within one account and region only. JMESPath's `&&` binds tighter than `||`.
IDEMPOTENCY_KEY_JMESPATH = "[origin && join('/', [origin.account, origin.region, job_id]) || job_id, status]"


def publish_to_sns(report: CompletionReport) -> dict[str, Any]:
    message = sns_message(report)
    response = client("sns").publish(
        TopicArn=settings().topic_arn,
        Subject=message.subject,
        Message=message.body,
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in message.attributes.items()
        },
    )
    return {"sink": "sns", "messageId": response["MessageId"]}


#: The normalized completion event other stacks subscribe to (see docs/embedding.md).
COMPLETION_EVENT_SOURCE = "batch-array-notify"
COMPLETION_EVENT_DETAIL_TYPE = "Batch Array Job Completed"


class PutEventsError(RuntimeError):
    """EventBridge refused the entry; raised so the idempotency record is released and Lambda retries."""


def put_completion_event(report: CompletionReport) -> dict[str, Any]:
    response = client("events").put_events(
        Entries=[
            {
                "Source": COMPLETION_EVENT_SOURCE,
                "DetailType": COMPLETION_EVENT_DETAIL_TYPE,
                "Detail": json.dumps(report.document()),
                "Resources": [report.job_arn] if report.job_arn else [],
                "EventBusName": settings().event_bus_name,
            }
        ]
    )
    # PutEvents answers 200 even when the entry failed: a failed entry carries ErrorCode and no EventId
    # (and FailedEntryCount counts it), so the entry's own EventId is the one thing to check.
    (entry,) = response["Entries"]
    if "EventId" not in entry:
        raise PutEventsError(f"PutEvents failed: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")
    return {"sink": "eventbridge", "eventId": entry["EventId"]}


def publish_to_chat(report: CompletionReport) -> dict[str, Any]:
    """The custom notification on the chat topic, which the Slack and Teams channels subscribe to."""
    response = client("sns").publish(TopicArn=settings().chat_topic_arn, Message=json.dumps(chat_message(report)))
    return {"sink": "chat", "messageId": response["MessageId"]}


#: The completion topic's last (see the module's docstring).
SINKS: tuple[Sink, ...] = (put_completion_event, publish_to_chat, publish_to_sns)


def active_sinks() -> tuple[Sink, ...]:
    """The sinks this deployment has: the chat sink only with a chat topic (CHAT_TOPIC_ARN)."""
    return tuple(sink for sink in SINKS if sink is not publish_to_chat or settings().chat_topic_arn)


def deliver(report: CompletionReport, context: LambdaContext | None) -> list[dict[str, Any]]:
    """Run every sink once per completion. A result with `"duplicate": True` was delivered earlier and
    is returned from the idempotency record without calling the sink."""
    if context is not None:
        # Lets Powertools expire an in-progress record when this invocation times out mid-delivery.
        _idempotency_config().register_lambda_context(context)
    return [_exactly_once(sink)(report=report) for sink in active_sinks()]


@functools.cache
def _exactly_once(sink: Sink) -> Callable[..., dict[str, Any]]:
    # Deferred: the idempotency utility imports boto3 (~200 ms) and needs the table name from settings.
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="report",
        persistence_store=persistence,
        config=_idempotency_config(),
        key_prefix=_key_prefix(sink),
    )(sink)
    return wrapped


def _key_prefix(sink: Sink) -> str:
    # The sink name in the key keeps each sink's record separate and stable across redeployments
    # (the default prefix includes the Lambda function name).
    return f"batch-array-notify.{sink.__name__}"


def reported_before(results: Sequence[dict[str, Any]]) -> bool:
    """Whether `deliver`'s results say the completion had been reported before: the completion topic's
    sink (the last) found its record. Then the completion is not new, whatever a sink added since sent."""
    return bool(results[-1].get("duplicate"))


def delivered_to_completion_topic(job_id: str, status: str, origin: Origin | None = None) -> bool:
    """Whether the completion topic's sink has an idempotency record for this completion, whatever its
    state: a completed one was delivered, an in-progress one is being delivered right now. The
    reconciliation sweep asks this before spending Batch calls on a job; the record is `deliver`'s own."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer  # noqa: PLC0415
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyItemNotFoundError,
    )

    persistence = DynamoDBPersistenceLayer(table_name=settings().idempotency_table, boto3_client=client("dynamodb"))
    persistence.configure(_idempotency_config(), key_prefix=_key_prefix(publish_to_sns))
    try:
        record = persistence.get_record({"job_id": job_id, "status": status, "origin": origin and asdict(origin)})
    except IdempotencyItemNotFoundError:
        return False
    return record is not None and not record.is_expired


@functools.cache
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig  # noqa: PLC0415

    return IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_KEY_JMESPATH,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_EXPIRY_SECONDS,
        response_hook=_mark_duplicate,
    )


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "duplicate": True} if isinstance(response, dict) else response


def reset() -> None:
    """Forget cached wrappers and config (tests change settings and clients between cases)."""
    _exactly_once.cache_clear()
    _idempotency_config.cache_clear()
