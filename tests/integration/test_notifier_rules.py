"""The ArrayCompletionNotifier's rules, as planned, through moto's EventBridge: exactly the array parents of
the queues it was given (one of them another stack's output), on every compute shape; never a third
queue's; and with more queues than one pattern holds, each parent through exactly one of the rules."""

from __future__ import annotations

import json

import pulumi
import pytest
from moto import mock_aws

from batch_array_notify import ArrayCompletionNotifier
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events, noise_events, single_job_events
from batch_array_notify.testing.program import Plan, run_under_mocks
from batch_array_notify.testing.rule_harness import RuleHarness
from tests.integration.rule_fixtures import ACCOUNT, REGION
from tests.support import RULE

RENDER = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/render"
ENCODE = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/encode"
THIRD = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/render-2"
DEFINITION = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/frames:4"
BATCH_STACK = "org/batch/prod"


def plan(job_queue_arns: list[pulumi.Input[str]] | None = None) -> Plan:
    def program() -> None:
        queues = job_queue_arns or [RENDER, pulumi.StackReference(BATCH_STACK).get_output("encodeQueueArn")]
        ArrayCompletionNotifier("byo", {"job_queue_arns": queues})

    return run_under_mocks(program, "byo", "test", {"aws:region": REGION}, {BATCH_STACK: {"encodeQueueArn": ENCODE}})


@pytest.fixture(scope="module")
def pattern() -> str:
    return str(plan().named(RULE, "byo-completed").inputs["eventPattern"])


def parent_ids(delivered: list[dict]) -> list[tuple[str, str]]:
    return sorted((event["detail"]["jobId"], event["detail"]["status"]) for event in delivered)


@pytest.mark.parametrize(("failures", "before_placement"), [(0, 0), (3, 1)])
@pytest.mark.parametrize("compute", list(Compute))
def test_exactly_the_parents_of_the_two_queues_and_never_a_third_queues(pattern, compute, failures, before_placement):
    specs = [
        ArrayJobSpec(
            queue,
            DEFINITION,
            size=6,
            failures=failures,
            failures_before_placement=before_placement,
            compute=compute,
            job_name=queue.rsplit("/", 1)[1],
        )
        for queue in (RENDER, ENCODE, THIRD)
    ]
    stream = [event for spec in specs for event in array_job_events(spec)]
    stream += list(noise_events(RENDER, DEFINITION, THIRD, compute))
    stream += list(single_job_events(ENCODE, DEFINITION, compute, status="FAILED"))

    with mock_aws():
        rule = RuleHarness(pattern, region=REGION)
        rule.put(stream)
        delivered = rule.delivered()

    status = "FAILED" if failures else "SUCCEEDED"
    assert rule.put_count == len(stream)
    assert parent_ids(delivered) == sorted([(specs[0].job_id, status), (specs[1].job_id, status)])


def test_with_more_queues_than_a_pattern_holds_each_parent_goes_through_exactly_one_rule():
    queues = [f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{'team-' * 10}{index:03d}" for index in range(30)]
    planned = plan(queues)
    patterns = sorted((r.name, r.inputs["eventPattern"]) for r in planned.of_type(RULE) if "-completed" in r.name)
    jobs = [ArrayJobSpec(queue, DEFINITION, size=2, job_name=f"job{n}") for n, queue in enumerate(queues)]
    outsider = ArrayJobSpec(THIRD, DEFINITION, size=2, job_name="outsider")

    with mock_aws():
        rules = [RuleHarness(text, region=REGION, name=name) for name, text in patterns]
        rules[0].put(event for spec in [*jobs, outsider] for event in array_job_events(spec))
        delivered = [rule.delivered() for rule in rules]

    assert len(rules) > 1
    assert sorted(id_ for events in delivered for id_, _ in parent_ids(events)) == sorted(spec.job_id for spec in jobs)
    # Each rule delivers the parents of its own queues, in the order the queues were given.
    listed = [json.loads(text)["detail"]["jobQueue"] for _, text in patterns]
    for events, its_queues in zip(delivered, listed, strict=True):
        assert {event["detail"]["jobQueue"] for event in events} == set(its_queues)
    assert [queue for its_queues in listed for queue in its_queues] == queues
