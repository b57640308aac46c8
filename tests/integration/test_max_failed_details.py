"""`maxFailedDetails` at both of its bounds, end to end: the stack's config, the notifier's environment
in the plan, and the report the handler sends from that environment against moto."""

from __future__ import annotations

import pytest

from batch_array_notify.cli.rehearse import Scenario
from batch_array_notify.handler.app import handler
from batch_array_notify.testing.eventgen import array_job_events
from batch_array_notify.testing.program import ROOT, run_program
from batch_array_notify.testing.rehearsal_world import BatchLedger, StackTarget, rehearsal_account
from tests.support import FUNCTION


@pytest.mark.parametrize("limit", [1, 100])
def test_max_failed_details_bounds_reach_the_report(limit):
    plan = run_program(ROOT, "dev", {"batch-array-notify:maxFailedDetails": str(limit)})
    notifier = plan.named(FUNCTION, "batch-array-notify-notifier")
    assert notifier.inputs["environment"]["variables"]["MAX_FAILED_DETAILS"] == str(limit)
    target = StackTarget.from_plan(plan)
    # One more failure than the limit, and one child that succeeds.
    scenario = Scenario(size=limit + 2, failures=limit + 1, failures_before_placement=0, noise=False)

    with rehearsal_account(target) as world:
        parent_id = world.submit_array_job(scenario.size, scenario.job_name)
        ledger = BatchLedger()
        events = list(array_job_events(scenario.spec(target, parent_job_id=parent_id)))
        for event in events:
            ledger.observe(event)
        world.settle(ledger)
        handler(events[-1], world.lambda_context())
        (notification,) = world.notifications()

    document = notification.document
    assert document["counts"] == {"succeeded": 1, "failed": limit + 1, "notFinal": 0}
    assert [child["index"] for child in document["failedChildren"]] == sorted(scenario.spec(target).failed_indices)[
        :limit
    ]
    assert document["failedChildrenOmitted"] == 1
    assert f"Failed children ({limit} shown of {limit + 1}):" in notification.body
