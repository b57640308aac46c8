"""1,000 generated events (300 + 400 + 300) that are not an array parent's completion: none raises, none publishes,
none even reaches AWS. Each kind is asserted to be classified the way an operator would expect:
irrelevant events ignored (INFO), malformed ones rejected (ERROR). The AWS calls and the subscriber
queue are checked once after all examples of a test, since nothing may reach them at any point."""

from __future__ import annotations

import collections
import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_array_notify.handler.app import handler
from batch_array_notify.testing.eventgen import (
    ArrayJobSpec,
    Compute,
    array_job_events,
    queue_blocked_event,
    single_job_events,
)

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:1"

# Derandomized so CI runs the same 1,000 events every time; a failure prints the event to replay.
GENERATED = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _array_job(compute: Compute) -> list[dict[str, Any]]:
    spec = ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=3, failures=2, failures_before_placement=1, compute=compute)
    return list(array_job_events(spec))


ARRAY_JOBS = {compute: _array_job(compute) for compute in Compute}
#: Every event of an array job but its last (the parent's completion), single jobs and blocked queues,
#: on every compute type: children in every status, parents PENDING, jobs without arrayProperties.
IRRELEVANT_BATCH_EVENTS = [
    event
    for compute in Compute
    for event in [
        *ARRAY_JOBS[compute][:-1],
        *single_job_events(QUEUE_ARN, DEFINITION_ARN, compute, "SUCCEEDED"),
        *single_job_events(QUEUE_ARN, DEFINITION_ARN, compute, "FAILED"),
        queue_blocked_event(QUEUE_ARN, DEFINITION_ARN, compute=compute),
    ]
]
PARENT_COMPLETIONS = [events[-1] for events in ARRAY_JOBS.values()]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

other_sources = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["aws.ecs", "aws.batch", "custom.app"]),
        "detail-type": st.sampled_from(["ECS Task State Change", "Batch Service Job State Change", "Hello"]),
        "detail": st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    }
).filter(lambda event: event["detail-type"] != "Batch Job State Change")

#: Where a completion keeps each field the handler relies on, and what a wrong value for it is.
_NOT_STR = json_values.filter(lambda value: not isinstance(value, str))
_NOT_INT = json_values.filter(lambda value: not isinstance(value, int) or isinstance(value, bool))
_NOT_OBJECT = json_values.filter(lambda value: not isinstance(value, dict))
WRONG_VALUES: dict[tuple[str, ...], st.SearchStrategy[Any]] = {
    ("source",): _NOT_STR,
    ("detail-type",): _NOT_STR,
    ("time",): _NOT_STR.filter(lambda value: value is not None),
    ("detail",): _NOT_OBJECT,
    ("detail", "jobId"): _NOT_STR | st.just(""),
    ("detail", "jobName"): _NOT_STR,
    ("detail", "jobQueue"): _NOT_STR | st.just(""),
    ("detail", "jobDefinition"): _NOT_STR,
    ("detail", "status"): _NOT_STR,
    ("detail", "createdAt"): _NOT_INT.filter(lambda value: value is not None) | st.integers(max_value=-1),
    ("detail", "arrayProperties"): _NOT_OBJECT.filter(lambda value: value is not None),
    ("detail", "arrayProperties", "size"): (_NOT_INT.filter(lambda value: value is not None))
    | st.integers(max_value=0),
    ("detail", "arrayProperties", "statusSummary"): _NOT_OBJECT.filter(lambda value: value is not None),
}
REQUIRED = [
    ("source",),
    ("detail-type",),
    ("detail",),
    *[("detail", key) for key in ("jobId", "jobName", "jobQueue", "jobDefinition", "status")],
]


@st.composite
def malformed_completions(draw: st.DrawFn) -> dict[str, Any]:
    """A real parent completion with one required field removed or one field given a wrong type."""
    event = copy.deepcopy(draw(st.sampled_from(PARENT_COMPLETIONS)))
    if draw(st.booleans()):
        path = draw(st.sampled_from(REQUIRED))
        del _parent_of(event, path)[path[-1]]
    else:
        path = draw(st.sampled_from(sorted(WRONG_VALUES)))
        _parent_of(event, path)[path[-1]] = draw(WRONG_VALUES[path])
    return event


def _parent_of(event: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node = event
    for key in path[:-1]:
        node = node[key]
    return node


def test_irrelevant_events_are_ignored(subscriber, aws_calls, lambda_context):
    @settings(GENERATED, max_examples=300)
    @given(event=st.sampled_from(IRRELEVANT_BATCH_EVENTS) | other_sources)
    def check(event):
        assert handler(event, lambda_context)["outcome"] == "ignored"

    check()
    assert aws_calls == collections.Counter()
    assert subscriber.notifications() == []


def test_malformed_completions_are_rejected(subscriber, aws_calls, lambda_context):
    @settings(GENERATED, max_examples=400)
    @given(event=malformed_completions())
    def check(event):
        assert handler(event, lambda_context)["outcome"] == "rejected"

    check()
    assert aws_calls == collections.Counter()
    assert subscriber.notifications() == []


def test_arbitrary_json_is_never_a_completion(subscriber, aws_calls, lambda_context):
    @settings(GENERATED, max_examples=300)
    @given(event=json_values)
    def check(event):
        assert handler(event, lambda_context)["outcome"] in {"ignored", "rejected"}

    check()
    assert aws_calls == collections.Counter()
    assert subscriber.notifications() == []
