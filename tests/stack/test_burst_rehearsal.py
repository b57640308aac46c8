"""`tools.rehearse --burst N`: the stack's completions through its rule, then the model at the planned
concurrency and unbounded; docs/reliability.md's table is the rehearsal's for N = 1,000."""

from __future__ import annotations

from pathlib import Path

from batch_array_notify.testing.burst import (
    BATCH_RATE,
    BurstRehearsal,
    LambdaSettings,
    burst_completions,
    burst_events,
    burst_table,
    planned_settings,
    rehearse_burst,
    render_burst,
    simulate,
)
from batch_array_notify.testing.rehearsal_world import StackTarget

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_BURST = 1_000


def test_a_burst_through_the_dev_stacks_rule_is_notified_once_each_within_batchs_rate(stage_plans):
    rehearsal = rehearse_burst(stage_plans["dev"], 40)

    planned, unbounded = rehearsal.results
    assert (rehearsal.sent, rehearsal.matched) == (40, 40)
    assert (planned.messages, planned.duplicates, planned.on_failure) == (40, 0, 0)
    assert planned.concurrency == "3"
    assert planned.peak_batch_calls_per_second < BATCH_RATE
    assert unbounded.concurrency == "unbounded"
    assert unbounded.peak_batch_calls_per_second > planned.peak_batch_calls_per_second
    assert rehearsal.problems() == []
    assert render_burst(rehearsal).endswith("ok: every completion notified once, none failed, Batch left room\n")


def test_a_planned_run_that_sends_to_the_on_failure_queue_is_reported(stage_plans):
    plan = stage_plans["dev"]
    target = StackTarget.from_plan(plan)
    completions = burst_completions(burst_events(target, 300))
    starved = simulate(completions, LambdaSettings(1, max_retries=0, max_event_age_seconds=60))

    rehearsal = BurstRehearsal("dev", 300, 300, (starved, starved))

    assert any("on the on-failure queue" in problem for problem in rehearsal.problems())
    assert "NOT OK:" in render_burst(rehearsal)


def test_the_reliability_docs_table_is_the_rehearsals_for_a_thousand(stage_plans):
    plan = stage_plans["dev"]
    target = StackTarget.from_plan(plan)
    settings = planned_settings(plan)
    # What the rule delivers of the burst is the burst (the test above shows the rule matches every one).
    completions = burst_completions(burst_events(target, DOCUMENTED_BURST))
    unbounded = LambdaSettings(None, settings.max_retries, settings.max_event_age_seconds)

    results = [simulate(completions, settings), simulate(completions, unbounded)]

    assert burst_table(results) in (ROOT / "docs" / "reliability.md").read_text()
