"""scope.decide: only an array parent's terminal event is a completion; everything else is skipped
with a reason, and malformed input is told apart from irrelevant input."""

from __future__ import annotations

import collections
import copy
import json
from pathlib import Path

import pytest

from batch_array_notify import event_pattern
from batch_array_notify.handler import scope
from batch_array_notify.handler.scope import Completion, Skip, decide
from tools.eventgen import ArrayJobSpec, Compute, array_job_events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/test-queue"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:123456789012:job-definition/print-color:3"


def _parent_completion(compute: Compute, failures: int = 0) -> dict:
    spec = ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=5, failures=failures, compute=compute)
    (last,) = collections.deque(array_job_events(spec), maxlen=1)
    return last


def test_constants_match_the_event_pattern_the_component_deploys():
    assert scope.BATCH_SOURCE == event_pattern.BATCH_SOURCE
    assert scope.JOB_STATE_CHANGE == event_pattern.JOB_STATE_CHANGE
    assert scope.TERMINAL_STATUSES == event_pattern.TERMINAL_STATUSES


@pytest.mark.parametrize("compute", list(Compute))
@pytest.mark.parametrize(("failures", "status"), [(0, "SUCCEEDED"), (2, "FAILED")])
def test_a_parent_completion_on_every_compute_type_is_a_completion(compute, failures, status):
    event = _parent_completion(compute, failures)

    decision = decide(event)

    assert isinstance(decision, Completion)
    assert decision.job.status == status
    assert decision.job.array_properties is not None
    assert decision.job.array_properties.size == 5
    assert decision.event_id == event["id"]


@pytest.mark.parametrize(
    ("fixture", "malformed", "reason"),
    [
        ("docs-sample-single-runnable.json", False, "not an array job"),
        ("ec2-single-succeeded.json", False, "not an array job"),
        ("fargate-single-failed.json", False, "not an array job"),
        ("ec2-array-child-succeeded.json", False, "an array child (index 12)"),
        # The blog's events were abridged by their author down to a few keys: not usable events.
        ("ec2-array-child-succeeded-blog-abridged.json", True, "jobId: Field required"),
        ("ec2-array-parent-succeeded-blog-abridged.json", True, "status: Field required"),
    ],
)
def test_captured_events_are_skipped_with_their_reason(fixture, malformed, reason):
    decision = decide(json.loads((FIXTURES / fixture).read_text()))

    assert isinstance(decision, Skip)
    assert decision.malformed is malformed
    assert reason in decision.reason


def test_a_pending_parent_is_ignored_with_its_id_and_status():
    first = next(array_job_events(ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=3)))

    decision = decide(first)

    assert decision == Skip(
        "the array parent is PENDING, not in a terminal status",
        malformed=False,
        job_id=first["detail"]["jobId"],
        status="PENDING",
    )


def test_a_child_id_without_index_is_still_recognised_as_a_child():
    event = _parent_completion(Compute.EC2)
    event["detail"]["jobId"] += ":4"

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert "names a child or node" in decision.reason


def test_other_detail_types_are_irrelevant_not_malformed():
    event = _parent_completion(Compute.EC2)
    event["detail-type"] = "Batch Job Queue Blocked"

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert "'Batch Job Queue Blocked'" in decision.reason


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["detail"]["arrayProperties"].update(size="5"), "arrayProperties.size: Input should be"),
        (lambda e: e["detail"]["arrayProperties"].update(size=True), "arrayProperties.size: Input should be"),
        (lambda e: e["detail"].update(status=None), "status: Input should be a valid string"),
        (lambda e: e.update(detail=[]), "detail: Input should be a valid dictionary"),
        (lambda e: e.pop("source"), "source: Field required"),
    ],
)
def test_wrong_types_and_missing_fields_are_malformed(mutate, reason):
    event = copy.deepcopy(_parent_completion(Compute.FARGATE))
    mutate(event)

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert decision.malformed
    assert reason in decision.reason


@pytest.mark.parametrize("event", [None, "aws.batch", 7, ["detail"]])
def test_non_objects_are_malformed(event):
    decision = decide(event)

    assert isinstance(decision, Skip)
    assert decision.malformed
    assert "not a JSON object" in decision.reason


def test_unknown_fields_are_tolerated():
    event = _parent_completion(Compute.EKS)
    event["brandNewEnvelopeField"] = {"x": 1}
    event["detail"]["brandNewDetailField"] = [1, 2]
    event["detail"]["arrayProperties"]["brandNew"] = "yes"

    assert isinstance(decide(event), Completion)
