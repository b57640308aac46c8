"""The completion rule, through moto's EventBridge: one delivery per array job, whatever it runs on."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from batch_array_notify.event_pattern import completion_event_pattern
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events, noise_events
from batch_array_notify.testing.rule_harness import Delivery, RuleHarness
from tests.integration.rule_fixtures import (
    BLOG_PATTERN,
    JOB_DEFINITION_ARN,
    JOB_DEFINITION_ARN_PREFIX,
    OTHER_QUEUE_ARN,
    QUEUE_ARN,
    rule_under_test,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
PATTERN = completion_event_pattern(QUEUE_ARN, JOB_DEFINITION_ARN_PREFIX)
SIZE = 7

#: (failures, failures_before_placement): all succeed; some fail after running; some never placed.
OUTCOMES = [(0, 0), (2, 0), (3, 2)]


def _spec(compute: Compute, failures: int = 0, before_placement: int = 0, **overrides: Any) -> ArrayJobSpec:
    fields: dict[str, Any] = {
        "job_queue_arn": QUEUE_ARN,
        "job_definition_arn": JOB_DEFINITION_ARN,
        "size": SIZE,
        "failures": failures,
        "failures_before_placement": before_placement,
        "compute": compute,
    } | overrides
    return ArrayJobSpec(**fields)


@pytest.mark.parametrize(("failures", "before_placement"), OUTCOMES)
@pytest.mark.parametrize("compute", list(Compute))
def test_exactly_the_parent_terminal_event_is_delivered(compute: Compute, failures: int, before_placement: int) -> None:
    spec = _spec(compute, failures, before_placement)
    events = list(array_job_events(spec))
    with rule_under_test(PATTERN) as rule:
        rule.put(events)
        delivered = rule.delivered()

    assert rule.put_count == spec.event_count() == len(events)
    assert rule.delivered_count == 1
    [parent] = delivered
    assert parent["detail"] == events[-1]["detail"]
    assert parent["detail"]["jobId"] == spec.job_id
    assert parent["detail"]["status"] == ("FAILED" if failures else "SUCCEEDED")
    summary = parent["detail"]["arrayProperties"]["statusSummary"]
    assert (summary["SUCCEEDED"], summary["FAILED"]) == (SIZE - failures, failures)


@pytest.mark.parametrize("compute", list(Compute))
def test_noise_never_matches(compute: Compute) -> None:
    """Single jobs on our queue, an array on another queue, and a queue-blocked event."""
    noise = list(noise_events(QUEUE_ARN, JOB_DEFINITION_ARN, OTHER_QUEUE_ARN, compute))
    with rule_under_test(PATTERN) as rule:
        rule.put(noise)
        assert rule.delivered() == []
    assert rule.put_count == len(noise) == 2 * 4 + (2 + 3 * 4) + 1


@pytest.mark.parametrize(
    ("definition_arn", "delivered"),
    [
        (f"{JOB_DEFINITION_ARN_PREFIX}:2", 1),
        (f"{JOB_DEFINITION_ARN_PREFIX}:17", 1),
        (f"{JOB_DEFINITION_ARN_PREFIX}-v2:1", 0),  # a definition whose name merely extends ours
    ],
)
def test_job_definition_is_matched_by_name_across_revisions(definition_arn: str, delivered: int) -> None:
    with rule_under_test(PATTERN) as rule:
        rule.put(array_job_events(_spec(Compute.FARGATE, job_definition_arn=definition_arn)))
        assert len(rule.delivered()) == delivered


@pytest.mark.parametrize(("failures", "delivered_statuses"), [(0, []), (1, ["FAILED"])])
def test_failed_only_rule_ignores_successful_arrays(failures: int, delivered_statuses: list[str]) -> None:
    with rule_under_test(completion_event_pattern(QUEUE_ARN, JOB_DEFINITION_ARN_PREFIX, ["FAILED"])) as rule:
        rule.put(array_job_events(_spec(Compute.EC2, failures)))
        assert [e["detail"]["status"] for e in rule.delivered()] == delivered_statuses


#: Every captured fixture and whether the rule must fire on it. Listing them all makes a newly added
#: fixture fail `test_every_fixture_is_classified` until someone decides what it should do.
FIXTURE_MATCHES = {
    "docs-sample-single-runnable.json": False,
    "ec2-array-child-succeeded-blog-abridged.json": False,
    "ec2-array-child-succeeded.json": False,
    "ec2-array-parent-succeeded-blog-abridged.json": True,
    "ec2-single-succeeded.json": False,
    "fargate-single-failed.json": False,
}


def test_every_fixture_is_classified() -> None:
    assert {p.name for p in FIXTURES.glob("*.json")} == set(FIXTURE_MATCHES)


def _as_our_terminal_event(fixture: dict[str, Any]) -> dict[str, Any]:
    """A copy of a captured event moved onto this test's queue and definition, in a terminal status.

    The captures come from other accounts' queues, some are in RUNNABLE, and the blog's abridged ones
    lack jobQueue/jobDefinition/status entirely. Overriding exactly those three fields leaves the
    event's *shape* (arrayProperties, container, ...) as the only thing that can make the rule match.
    Statuses already terminal are kept (the Fargate capture stays FAILED).
    """
    event = copy.deepcopy(fixture)
    detail = event["detail"]
    detail["jobQueue"] = QUEUE_ARN
    detail["jobDefinition"] = JOB_DEFINITION_ARN
    if detail.get("status") not in ("SUCCEEDED", "FAILED"):
        detail["status"] = "SUCCEEDED"
    return event


@pytest.mark.parametrize(("name", "must_match"), sorted(FIXTURE_MATCHES.items()))
def test_captured_fixture(name: str, must_match: bool) -> None:
    event = _as_our_terminal_event(json.loads((FIXTURES / name).read_text()))
    with rule_under_test(PATTERN) as rule:
        rule.put([event])
        delivered = rule.delivered()
    assert [e["detail"] for e in delivered] == ([event["detail"]] if must_match else [])


@pytest.mark.parametrize(
    ("compute", "delivered"),
    [
        (Compute.EC2, 1),
        (Compute.SPOT, 1),
        (Compute.FARGATE, SIZE + 1),
        (Compute.EKS, SIZE + 1),
        (Compute.ECSPROPS, SIZE + 1),
    ],
)
def test_blog_pattern_fires_once_per_child_off_ec2(compute: Compute, delivered: int) -> None:
    """Why this project exists: `containerInstanceArn` absent means "parent" only on EC2 hosts."""
    spec = _spec(compute)
    with rule_under_test(BLOG_PATTERN) as rule:
        rule.put(array_job_events(spec))
        job_ids = sorted(e["detail"]["jobId"] for e in rule.delivered())
    assert len(job_ids) == delivered
    assert spec.job_id in job_ids


def test_blog_pattern_turned_to_failed_also_fires_for_never_placed_children_on_ec2() -> None:
    blog_failed = copy.deepcopy(BLOG_PATTERN)
    blog_failed["detail"]["status"] = ["FAILED"]
    spec = _spec(Compute.EC2, failures=3, before_placement=2)
    with rule_under_test(blog_failed) as rule:
        rule.put(array_job_events(spec))
        job_ids = {e["detail"]["jobId"] for e in rule.delivered()}
    never_placed = {f"{spec.job_id}:{i}" for i in spec.failed_before_placement_indices}
    assert job_ids == {spec.job_id} | never_placed
    assert len(job_ids) == 3


def test_http_and_backend_delivery_agree() -> None:
    """The fast path must not change what matches: same input, same delivered events."""
    events = [
        *array_job_events(_spec(Compute.EKS, 1)),
        *noise_events(QUEUE_ARN, JOB_DEFINITION_ARN, OTHER_QUEUE_ARN, Compute.EKS),
    ]
    delivered_by_path = {}
    for delivery in Delivery:
        with rule_under_test(PATTERN, delivery) as rule:
            rule.put(events)
            delivered_by_path[delivery] = [(e["detail"], e["time"], e["resources"]) for e in rule.delivered()]
    assert delivered_by_path[Delivery.HTTP] == delivered_by_path[Delivery.BACKEND]
    assert len(delivered_by_path[Delivery.HTTP]) == 1


def test_harness_drains_and_keeps_counting() -> None:
    first, second = _spec(Compute.EC2), _spec(Compute.EC2, parent_job_id="second-array")
    with rule_under_test(PATTERN) as rule:
        assert rule.put(array_job_events(first)) == first.event_count()
        assert len(rule.delivered()) == 1
        assert rule.delivered() == []
        rule.put(array_job_events(second))
        [event] = rule.delivered()
    assert event["detail"]["jobId"] == "second-array"
    assert (rule.put_count, rule.delivered_count) == (2 * first.event_count(), 2)
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"


def test_harness_refuses_to_run_outside_moto() -> None:
    with pytest.raises(RuntimeError, match="mock_aws"):
        RuleHarness(json.dumps(PATTERN))
