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
from batch_array_notify.handler.scope import Completion, Origin, Skip, decide, in_scope
from batch_array_notify.handler.settings import MemberAccount
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events

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


@pytest.mark.parametrize("suffix", [":4", "#0"], ids=["array child without index", "multi-node parallel node"])
def test_child_and_node_ids_are_ignored(suffix):
    event = _parent_completion(Compute.EC2)
    event["detail"]["jobId"] += suffix

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert decision.reason == f"jobId {event['detail']['jobId']!r} names a child or node, not an array parent"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("detail-type", "Batch Job Queue Blocked", "source 'aws.batch', detail-type 'Batch Job Queue Blocked'"),
        ("source", "my.app", "source 'my.app', detail-type 'Batch Job State Change'"),
    ],
)
def test_other_detail_types_and_sources_are_irrelevant_not_malformed(field, value, reason):
    event = _parent_completion(Compute.EC2)
    event[field] = value

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert decision.reason == f"not a Batch job state change ({reason})"


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


def test_array_properties_with_neither_size_nor_index_is_ignored_not_retried():
    event = _parent_completion(Compute.FARGATE)
    event["detail"]["arrayProperties"] = {"statusSummary": {}}

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert not decision.malformed
    assert (decision.reason, decision.job_id) == (
        "arrayProperties has no size, so this is not an array parent",
        event["detail"]["jobId"],
    )


@pytest.mark.parametrize("status", ["SUBMITTED", "RUNNING", "STARTING"])
def test_non_terminal_parents_are_ignored(status):
    event = _parent_completion(Compute.EC2)
    event["detail"]["status"] = status

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert decision.reason == f"the array parent is {status}, not in a terminal status"


def _with_wrong_types(count: int) -> dict:
    """A parent completion whose detail has `count` string fields replaced by numbers."""
    event = _parent_completion(Compute.EC2)
    for field in ("jobName", "jobQueue", "jobDefinition", "status", "statusReason", "jobArn", "jobId")[:count]:
        event["detail"][field] = 7
    return event


@pytest.mark.parametrize(("count", "ending"), [(1, "jobName: Input should be a valid string"), (5, "")])
def test_up_to_five_problems_are_all_named_separated_by_semicolons(count, ending):
    decision = decide(_with_wrong_types(count))

    assert isinstance(decision, Skip)
    problems = decision.reason.removeprefix("invalid Batch job detail: ").split("; ")
    assert len(problems) == count
    assert all(problem.endswith(": Input should be a valid string") for problem in problems)
    assert problems[0] == "jobName: Input should be a valid string"
    assert "more" not in decision.reason
    assert decision.reason.endswith(ending)


@pytest.mark.parametrize(("count", "more"), [(6, 1), (7, 2)])
def test_beyond_five_problems_the_rest_are_counted(count, more):
    decision = decide(_with_wrong_types(count))

    assert isinstance(decision, Skip)
    *named, rest = decision.reason.removeprefix("invalid Batch job detail: ").split("; ")
    assert len(named) == 5
    assert rest == f"and {more} more"


def test_the_first_child_index_0_is_a_child_not_a_malformed_event():
    event = _parent_completion(Compute.EC2)
    event["detail"]["jobId"] += ":0"
    event["detail"]["arrayProperties"] = {"index": 0, "statusSummary": {}}

    decision = decide(event)

    assert isinstance(decision, Skip)
    assert (decision.reason, decision.malformed) == ("an array child (index 0), not the parent", False)


def test_zero_counts_and_times_at_the_epoch_are_valid():
    event = _parent_completion(Compute.EC2)
    event["detail"]["createdAt"] = 0
    event["detail"]["arrayProperties"]["statusSummary"] = {"RUNNING": 0, "SUCCEEDED": 5, "FAILED": 0}

    decision = decide(event)

    assert isinstance(decision, Completion)
    assert decision.job.created_at == 0


# --------------------------------------------------------------------------------------------------
# Central mode: in_scope admits the member accounts' completions, and refuses every other account's

MEMBER = "111111111111"
MEMBER_QUEUE = f"arn:aws:batch:eu-central-1:{MEMBER}:job-queue/nightly"
MEMBERS = {
    MEMBER: MemberAccount(MEMBER, f"arn:aws:iam::{MEMBER}:role/read", (MEMBER_QUEUE,), ("eu-central-1",)),
    "222222222222": MemberAccount("222222222222", "arn:aws:iam::222222222222:role/read", (), ("eu-west-1",)),
}


def _completion_in(account: str, queue: str, region: str = "eu-central-1") -> Completion:
    event = {**_parent_completion(Compute.EC2), "account": account, "region": region}
    completion = decide({**event, "detail": {**event["detail"], "jobQueue": queue}})
    assert isinstance(completion, Completion)
    return completion


def test_a_member_s_completion_on_a_listed_queue_is_read_in_its_account_and_region():
    decision = in_scope(_completion_in(MEMBER, MEMBER_QUEUE), [QUEUE_ARN], MEMBERS)

    assert isinstance(decision, Completion)
    assert decision.origin == Origin(MEMBER, "eu-central-1")
    assert decision.origin.job_key("abc") == f"{MEMBER}/eu-central-1/abc"


def test_a_member_that_lists_no_queue_admits_any_queue_of_its_own_account():
    queue = "arn:aws:batch:eu-west-1:222222222222:job-queue/anything"

    decision = in_scope(_completion_in("222222222222", queue, "eu-west-1"), [], MEMBERS)

    assert isinstance(decision, Completion)
    assert decision.origin == Origin("222222222222", "eu-west-1")


@pytest.mark.parametrize(
    ("account", "queue", "reason"),
    [
        (MEMBER, MEMBER_QUEUE.replace("nightly", "other"), f"not one of member account {MEMBER}'s 1 queue(s)"),
        (MEMBER, QUEUE_ARN, f"is not a queue of member account {MEMBER}, the event's account"),
        ("333333333333", MEMBER_QUEUE, "account 333333333333 is not a member account of this notifier"),
    ],
)
def test_another_queue_or_account_is_skipped_with_a_reason_naming_it(account, queue, reason):
    decision = in_scope(_completion_in(account, queue), [QUEUE_ARN], MEMBERS)

    assert isinstance(decision, Skip)
    assert reason in decision.reason
    assert not decision.malformed


def test_the_notifier_s_own_queue_stays_its_own_in_central_mode_and_without_members():
    own = _completion_in("123456789012", QUEUE_ARN)

    for members in (MEMBERS, None):
        decision = in_scope(own, [QUEUE_ARN], members)
        assert isinstance(decision, Completion)
        assert decision.origin is None


def test_a_member_s_event_without_a_region_is_read_in_its_queue_s_region():
    """A manual invoke may leave `region` out: the queue's ARN says where the job ran."""
    event = {**_parent_completion(Compute.EC2), "account": MEMBER}
    event.pop("region", None)
    completion = decide({**event, "detail": {**event["detail"], "jobQueue": MEMBER_QUEUE}})
    assert isinstance(completion, Completion)

    decision = in_scope(completion, [QUEUE_ARN], MEMBERS)

    assert isinstance(decision, Completion)
    assert decision.origin == Origin(MEMBER, "eu-central-1")
