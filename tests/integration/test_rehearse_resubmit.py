"""`tools.rehearse --resubmit`: the FAILED notification's resubmit command, run by cli/resubmit.py against
the rehearsal's moto account, and the second completion through the dev stack's real rule and notifier."""

from __future__ import annotations

import json

import pytest

from batch_array_notify.cli.rehearse import Scenario, main, rehearse, render
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rehearsal_world import StackTarget
from tests.support import run_tool


@pytest.fixture(scope="module")
def target(stage_plans: dict[str, Plan]) -> StackTarget:
    return StackTarget.from_plan(stage_plans["dev"])


def test_the_second_completion_names_the_job_it_retried_and_counts_the_children_that_now_succeeded(target):
    result = rehearse(target, Scenario(size=7, failures=2), resubmit=True)

    assert result.exact, result.problems
    (first,) = result.notifications
    failed = [child["index"] for child in first.document["failedChildren"]]
    (run,) = result.resubmissions
    assert run.original_job_id == first.job_id
    assert run.command == first.document["resubmitCommand"]
    assert f"original indices {','.join(map(str, failed))}" in run.output
    (second,) = run.notifications
    assert second.subject == "[dev] print-color array job SUCCEEDED: 2/2 children succeeded"
    assert second.job_id == run.new_job_ids[0] != first.job_id
    assert second.document["resubmissionOf"] == first.job_id
    assert f"This is a resubmission of {first.job_id}: 2 of 2 failed children now succeeded." in second.body
    text = render(result, target, "the stack's rule")
    assert f"$ {run.command}\n" in text
    assert "\nNotification 2 (the resubmission)\nSubject: [dev] print-color array job SUCCEEDED" in text


def test_the_json_document_carries_the_resubmission_and_its_lineage():
    ran = run_tool(main, "--stack", "dev", "--size", "5", "--failures", "3", "--resubmit", "--json")

    assert ran.code == 0, ran.stderr
    document = json.loads(ran.stdout)
    (resubmission,) = document["resubmissions"]
    (notification,) = resubmission["notifications"]
    assert resubmission["newJobIds"] == [notification["jobId"]]
    assert notification["resubmissionOf"] == resubmission["originalJobId"] == document["notifications"][0]["jobId"]
    assert (notification["status"], notification["size"]) == ("SUCCEEDED", 3)


def test_one_failed_child_is_resubmitted_as_a_plain_job_the_notifier_does_not_report(target):
    result = rehearse(target, Scenario(size=4, failures=1), resubmit=True)

    (run,) = result.resubmissions
    assert (run.new_job_ids, run.matches, run.notifications) == ([], 0, [])
    assert "a plain job" in run.output
    assert result.exact, result.problems


def test_resubmit_without_failures_is_a_usage_error():
    ran = run_tool(main, "--stack", "dev", "--size", "5", "--resubmit")

    assert ran.code == 2
    (line,) = ran.stderr.splitlines()
    assert "--resubmit needs failed children to resubmit: give --failures N (N > 0)" in line
