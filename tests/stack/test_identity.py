"""Every resource of today's dev and prod stacks keeps its identity on the next `pulumi up`.

0.2.0 moved everything after the queue into an `ArrayCompletionNotifier` under the pipeline, which puts
one more type into each of those resources' URNs. The engine keys state on URNs, so without an alias it
would create each moved resource anew and delete the old one (a new topic whose subscribers must confirm
again, a new idempotency table, new ARNs). tests/fixtures/urns-before-notifier.json holds the URNs the
plans had before the split; each must still be claimed, by exactly one resource, by its URN or an alias.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import Plan, engine_urn
from tests.support import ALARM, DASHBOARD, FUNCTION, LOG_GROUP, NOTIFIER, ROLE, ROLE_POLICY, RULE, SCHEDULE, TOPIC

ROOT = Path(__file__).resolve().parents[2]
BEFORE = json.loads((ROOT / "tests" / "fixtures" / "urns-before-notifier.json").read_text())
STAGES = ("dev", "prod")
#: Deleted on purpose: the notifier's Throttles alarm paged for bursts its reserved concurrency queues by
#: design (issue 25); the AsyncEventsDropped and AsyncEventAge alarms replace it.
DELETED = ("batch-array-notify-notifier-throttles-alarm",)


def deleted(urn: str) -> bool:
    return urn.rpartition("::")[2] in DELETED


def claims(plan: Plan) -> Counter[str]:
    """How many resources of the plan answer to each URN (their own or an alias)."""
    return Counter(urn for resource in plan.resources for urn in {resource.urn, *resource.aliases})


@pytest.mark.parametrize("stage", STAGES)
def test_every_resource_of_the_stage_before_the_split_is_claimed_exactly_once(stage_plans, stage):
    claimed = claims(stage_plans[stage])

    assert len(BEFORE[stage]) > 30
    assert [urn for urn in BEFORE[stage] if claimed[urn] != (0 if deleted(urn) else 1)] == []
    assert sum(deleted(urn) for urn in BEFORE[stage]) == len(DELETED)


@pytest.mark.parametrize("stage", STAGES)
def test_the_only_new_resources_are_the_notifier_and_its_new_dashboard_and_alarm_and_none_claims_two_identities(
    stage_plans, stage
):
    plan = stage_plans[stage]
    before = set(BEFORE[stage])
    new = {(r.type, r.name) for r in plan.resources if not ({r.urn, *r.aliases} & before)}

    # The dashboard and the IgnoredEvents alarm are new in 0.2.0 too (issue 11): created, nothing replaced.
    assert new == {
        (NOTIFIER, "batch-array-notify"),
        (DASHBOARD, "batch-array-notify-dashboard"),
        (ALARM, "batch-array-notify-ignored-events-alarm"),
        # The reconciliation sweep is new in 0.3.0 (issue 12): created, nothing replaced.
        *((kind, "batch-array-notify-sweep") for kind in (FUNCTION, ROLE, ROLE_POLICY, LOG_GROUP, SCHEDULE)),
        *((kind, "batch-array-notify-sweep-schedule") for kind in (ROLE, ROLE_POLICY)),
        (ALARM, "batch-array-notify-reconciled-alarm"),
        # Issue 25: what the Throttles alarm was meant to catch, without paging for a queued burst.
        (ALARM, "batch-array-notify-async-events-dropped-alarm"),
        (ALARM, "batch-array-notify-async-event-age-alarm"),
        # Its invoke config and its own alarms are new since 0.3.0 (issue 20): created, nothing replaced.
        ("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "batch-array-notify-sweep"),
        (ALARM, "batch-array-notify-sweep-errors-alarm"),
        (ALARM, "batch-array-notify-sweep-stopped-early-alarm"),
    }
    assert all(len({r.urn, *r.aliases} & before) <= 1 for r in plan.resources)


def test_the_moved_resources_alias_their_old_urn_the_batch_resources_did_not_move(stage_plans):
    plan = stage_plans["prod"]
    topic = plan.one(TOPIC)
    queue = plan.one("aws:batch/jobQueue:JobQueue")

    old = engine_urn(
        "prod", "batch-array-notify", f"urn:pulumi:prod::batch-array-notify::{TYPE_TOKEN}::x", TOPIC, topic.name
    )
    assert topic.aliases == (old,)
    assert topic.urn != old
    assert f"{TYPE_TOKEN}${NOTIFIER}${TOPIC}" in topic.urn
    assert queue.aliases == ()
    assert queue.urn in BEFORE["prod"]
    # Only direct children carry aliases; the notifier component itself is new and needs none.
    assert plan.one(NOTIFIER).aliases == ()
    assert all(r.aliases for r in plan.resources if r.parent == (NOTIFIER, "batch-array-notify"))
    assert plan.named(ROLE, "batch-array-notify-notifier").aliases
    assert plan.named(RULE, "batch-array-notify-completed").aliases


def test_the_engine_urn_of_a_nested_resource_carries_every_parent_type():
    pipeline = engine_urn("dev", "p", None, TYPE_TOKEN, "x")
    notifier = engine_urn("dev", "p", pipeline, NOTIFIER, "x")

    assert pipeline == f"urn:pulumi:dev::p::{TYPE_TOKEN}::x"
    assert engine_urn("dev", "p", notifier, TOPIC, "x-completed") == (
        f"urn:pulumi:dev::p::{TYPE_TOKEN}${NOTIFIER}${TOPIC}::x-completed"
    )
    # Children of the stack itself carry no stack type.
    assert engine_urn("dev", "p", "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", TOPIC, "t") == (
        f"urn:pulumi:dev::p::{TOPIC}::t"
    )
