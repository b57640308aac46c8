"""Push events through one EventBridge rule on moto's default bus and collect what it delivers.

Used by the rule tests, the stack tests and `batch-array-notify rehearse`. The rule's only target is an
SQS queue, so "delivered" means exactly "matched by moto's EventBridge pattern engine". Must be
created inside an active `moto.mock_aws()` context (it refuses otherwise, so it can never talk to a
real account).

Two ways in, same backend and the same pattern matcher:
- `Delivery.HTTP`: `boto3` `put_events`, the path a real producer takes (request serialisation,
  moto's response layer). Measured ~3,800-4,600 events/s: ~9-10 s for a 10,000-child array.
- `Delivery.BACKEND` (default): hands the identical entries to moto's `EventsBackend.put_events`,
  skipping only botocore's HTTP round trip: ~7,500-12,000 events/s (about 2x; the rest is moto's
  own matcher, which re-serialises and flattens every event for every rule). Why it is safe: moto's
  `responses.put_events` does nothing but `self.events_backend.put_events(self._get_param("Entries"))`,
  and the entries here are built exactly as boto3 serialises them (Detail as a JSON string, Time as
  epoch seconds), so rule matching and SQS delivery run the same code either way;
  `test_http_and_backend_delivery_agree` checks that.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from typing import Any, Final

from moto.core.models import MockAWS
from moto.events.models import events_backends

from batch_array_notify.handler.aws import new_client

Event = dict[str, Any]

#: PutEvents accepts at most 10 entries per call (EventBridge quota, enforced by moto too).
PUT_EVENTS_BATCH: Final = 10
DEFAULT_BUS: Final = "default"


class Delivery(StrEnum):
    """How `RuleHarness.put` hands events to moto's EventBridge."""

    HTTP = "http"
    BACKEND = "backend"


def _require_active_mock() -> None:
    # Without an active mock these boto3 calls would go to whatever account the environment points at.
    if MockAWS._nested_count < 1:
        raise RuntimeError("RuleHarness must be used inside an active moto.mock_aws() context")


@functools.cache
def _client(service: str, region: str) -> Any:
    """A boto3 client (untyped: boto3 ships no type information), cached across mock contexts.

    Why cached: creating the three clients costs 70-250 ms, most of a small test's time. Reuse is
    safe because moto intercepts every botocore client created after `moto` is imported whenever a
    mock is active, and each `mock_aws()` start resets the backends the client talks to.
    """
    return new_client(service, region=region)


def _session_client(session: Any, service: str, region: str) -> Any:
    return new_client(service, region=region, session=session)


def _chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _epoch_seconds(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


def put_events_entry(event: Event, *, epoch_time: bool) -> Event:
    """A PutEvents entry carrying `event`'s source, detail-type, time, resources and detail.

    `epoch_time` gives `Time` as epoch seconds (what boto3 puts on the wire, so what moto's backend
    receives) instead of a datetime. An event without `time` gets EventBridge's "now".
    """
    entry: Event = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": list(event.get("resources", [])),
    }
    if "time" in event:
        seconds = _epoch_seconds(event["time"])
        entry["Time"] = seconds if epoch_time else datetime.fromtimestamp(seconds, tz=UTC)
    return entry


class RuleHarness:
    """One rule (`event_pattern`, a JSON string) on the default bus, targeting one SQS queue.

    `put_count` counts entries EventBridge accepted; `delivered_count` counts messages drained by
    `delivered()`. Each delivered body is the full event as the rule's target received it.
    """

    def __init__(
        self,
        event_pattern: str,
        *,
        region: str = "us-east-1",
        name: str = "completion-under-test",
        delivery: Delivery = Delivery.BACKEND,
        session: Any = None,
    ) -> None:
        """`session`: a boto3 session whose account holds the rule (default: the environment's credentials,
        moto's default account); the events it delivers carry that account, as EventBridge's do."""
        _require_active_mock()
        self.delivery = Delivery(delivery)
        self.put_count = 0
        self.delivered_count = 0
        clients = _client if session is None else functools.partial(_session_client, session)
        self._events = clients("events", region)
        self._sqs = clients("sqs", region)
        self._queue_url = self._sqs.create_queue(QueueName=f"{name}-target")["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.rule_arn: str = self._events.put_rule(
            Name=name, EventBusName=DEFAULT_BUS, EventPattern=event_pattern, State="ENABLED"
        )["RuleArn"]
        # The rule ARN names the account moto files this caller under (`arn:aws:events:r:ACCOUNT:rule/n`).
        self._backend = events_backends[self.rule_arn.split(":")[4]][region]
        self._events.put_targets(
            Rule=name,
            EventBusName=DEFAULT_BUS,
            Targets=[
                {
                    "Id": "queue",
                    "Arn": queue_arn,
                    # moto's default target input drops `account`; `<aws.events.event.json>` is
                    # the whole event, which is what a Lambda target without a transformer gets.
                    "InputTransformer": {"InputPathsMap": {}, "InputTemplate": "<aws.events.event.json>"},
                }
            ],
        )

    def put(self, events: Iterable[Event]) -> int:
        """Put `events` in batches of 10; return how many were accepted. Raises on any rejected entry."""
        _require_active_mock()
        accepted = 0
        for chunk in _chunks(events, PUT_EVENTS_BATCH):
            if self.delivery is Delivery.HTTP:
                entries = [put_events_entry(e, epoch_time=False) for e in chunk]
                results = self._events.put_events(Entries=entries)["Entries"]
            else:
                results = self._backend.put_events([put_events_entry(e, epoch_time=True) for e in chunk])
            rejected = [r for r in results if "ErrorCode" in r]
            if rejected:
                raise RuntimeError(f"EventBridge rejected {len(rejected)} of {len(chunk)} entries: {rejected[0]}")
            accepted += len(results)
        self.put_count += accepted
        return accepted

    def delivered(self) -> list[Event]:
        """Drain the target queue: every event delivered since the last call (SQS order, not time order)."""
        _require_active_mock()
        drained = drain_queue(self._sqs, self._queue_url)
        for event in drained:
            # moto adds its internal `ingestion-time` to `<aws.events.event.json>`; AWS does not.
            event.pop("ingestion-time", None)
        self.delivered_count += len(drained)
        return drained


def drain_queue(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of an SQS queue; each body parsed as JSON, in SQS order.

    `sqs` is a boto3 SQS client (untyped: boto3 ships no type information).
    """
    drained: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    ):
        drained += [json.loads(message["Body"]) for message in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return drained
