"""handler.delivery without AWS: the identity of the completion event and what PutEvents' answer means.
botocore's Stubber stands in for EventBridge, so the request the handler sends is checked as well."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from batch_array_notify.completion_bus import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE
from batch_array_notify.handler import aws, delivery
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.support import notifier_environment
from tests.unit.test_handler_metrics import QUEUE_ARN, SUCCEEDED

BUS = "analytics"


@pytest.fixture(autouse=True)
def handler_settings(monkeypatch):
    for name, value in notifier_environment(QUEUE_ARN, AWS_REGION="eu-west-1", EVENT_BUS_NAME=BUS).items():
        monkeypatch.setenv(name, value)
    reset_handler_caches()
    yield
    reset_handler_caches()


def put_events_answering(response: dict) -> Stubber:
    """A stubbed EventBridge client that expects the one entry the report `SUCCEEDED` makes and gives
    `response`."""
    stubber = Stubber(aws.client("events"))
    entry = {
        "Source": COMPLETION_EVENT_SOURCE,
        "DetailType": COMPLETION_EVENT_DETAIL_TYPE,
        "Detail": json.dumps(SUCCEEDED.document()),
        "Resources": [SUCCEEDED.job_arn],
        "EventBusName": BUS,
    }
    stubber.add_response("put_events", response, {"Entries": [entry]})
    return stubber


def test_handler_and_component_agree_on_the_event_identity():
    # The handler cannot import the component (the function ships without Pulumi): consumers' rules are
    # built from the component's constants, so the two must be the same strings.
    assert (delivery.COMPLETION_EVENT_SOURCE, delivery.COMPLETION_EVENT_DETAIL_TYPE) == (
        COMPLETION_EVENT_SOURCE,
        COMPLETION_EVENT_DETAIL_TYPE,
    )
    assert (COMPLETION_EVENT_SOURCE, COMPLETION_EVENT_DETAIL_TYPE) == (
        "batch-array-notify",
        "Batch Array Job Completed",
    )


def test_an_accepted_entry_returns_its_event_id():
    with put_events_answering({"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}) as stubber:
        assert delivery.put_completion_event(SUCCEEDED) == {"sink": "eventbridge", "eventId": "e-1"}
        stubber.assert_no_pending_responses()


def test_a_refused_entry_raises_with_its_error_code_although_the_call_succeeded():
    refused = {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}]}
    with put_events_answering(refused), pytest.raises(delivery.PutEventsError) as raised:
        delivery.put_completion_event(SUCCEEDED)
    assert str(raised.value) == "PutEvents failed: ThrottlingException: slow down"
