"""The offline rehearsal (`batch-array-notify rehearse`): the dev stack's real rule and handler, moto underneath.

Every number here is counted by hand from the stream `testing/eventgen.py` generates:
- array job of N children, F failing of which B before placement: 2 + 4N - 2B events;
- noise (`noise_events`): a single job SUCCEEDED and one FAILED (4 events each), an array job of 3 on
  another queue with 1 child failing after placement (2 + 12), one queue-blocked event: 23 events;
- D duplicates: D more events.
"""

from __future__ import annotations

import json

import pytest

from batch_array_notify.cli.compare_rules import main as compare_rules_main
from batch_array_notify.cli.rehearse import Scenario, main, rehearse, render
from batch_array_notify.handler.log_tails import NO_STREAM, mask_secrets
from batch_array_notify.testing.eventgen import FAILED_CHILD_LOG, Compute
from batch_array_notify.testing.program import ROOT, run_program
from batch_array_notify.testing.rehearsal_world import StackTarget

NOISE_EVENTS = 23
FIXTURES = ROOT / "tests" / "fixtures" / "events"
TRICK = ROOT / "examples" / "patterns" / "container-instance-arn-trick.json"
STATUS_ONLY = ROOT / "examples" / "patterns" / "status-only.json"


@pytest.fixture(scope="module")
def target() -> StackTarget:
    return StackTarget.from_plan(run_program(ROOT, "dev"))


def _only_job_id(result) -> str:
    (job_id,) = result.jobs
    return job_id


@pytest.mark.parametrize("compute", list(Compute))
def test_every_compute_type_gives_one_failed_notification_despite_duplicates(target, compute):
    result = rehearse(target, Scenario(size=7, failures=2, compute=compute, duplicates=2))

    # 2 failures, 1 of them before placement (the default: half, rounded down).
    assert result.events == 2 + 4 * 7 - 2 * 1 + NOISE_EVENTS + 2
    # The parent's terminal event and its two repeated deliveries; nothing else.
    assert (result.matches, result.invocations) == (3, 3)
    assert [n.summary() for n in result.notifications] == [
        {
            "subject": "[dev] print-color array job FAILED: 2/7 children failed",
            "status": "FAILED",
            "jobId": _only_job_id(result),
            "size": 7,
            "failed": 2,
        }
    ]
    assert result.exact, result.problems
    completion, *duplicates = result.metrics
    assert (completion.value("ArrayJobsFailed"), completion.value("FailedChildren")) == (1, 2)
    # The handler's clock follows the stream's (2024) times: the lag is the invocation's own time.
    assert 0 <= completion.value("NotificationLagSeconds") < 60
    assert [list(document.metrics) for document in duplicates] == [["DuplicateDeliveries"]] * 2


def test_all_children_succeeding_notifies_succeeded_once(target):
    result = rehearse(target, Scenario(size=7, compute=Compute.EC2))

    assert result.events == 2 + 4 * 7 + NOISE_EVENTS
    assert (result.matches, result.invocations) == (1, 1)
    (notification,) = result.notifications
    assert notification.subject == "[dev] print-color array job SUCCEEDED: 7/7 children succeeded"
    assert notification.document["counts"] == {"succeeded": 7, "failed": 0, "notFinal": 0}
    assert result.exact
    queue = target.job_queue_arn.rpartition("/")[2]
    report = render(result, target, "the stack's rule")
    assert f"Metrics the handler emitted (BatchArrayNotify; stage=dev, jobQueue={queue})" in report
    assert (
        "  ArrayJobsSucceeded       1 Count\n  ArrayJobsFailed          0 Count\n  ArraySize                7 Count"
        in report
    )


def test_children_failing_before_placement_are_reported_without_logs(target):
    result = rehearse(target, Scenario(size=7, failures=3, failures_before_placement=3, compute=Compute.SPOT))

    assert result.events == 2 + 4 * 7 - 2 * 3 + NOISE_EVENTS
    (notification,) = result.notifications
    children = notification.document["failedChildren"]
    # eventgen spreads 3 failures over 7 children at indices (2k+1)*7//6: 1, 3, 5.
    assert [child["index"] for child in children] == [1, 3, 5]
    assert [child["logStream"] for child in children] == [None, None, None]
    assert {child["statusReason"] for child in children} <= {
        "Cancelled by operator: queue drained",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    }
    assert notification.document["counts"] == {"succeeded": 4, "failed": 3, "notFinal": 0}
    assert result.exact


def test_status_only_rule_fires_per_child_and_for_another_queue_whose_completion_the_handler_ignores(target):
    result = rehearse(target, Scenario(size=7, compute=Compute.EC2), pattern=STATUS_ONLY.read_text())

    # Per array job: 7 children + the parent. Noise: 2 single jobs + 3 children and the parent of the
    # array job on the other queue, whose completion the handler ignores (not one of JOB_QUEUE_ARNS).
    assert result.jobs[_only_job_id(result)].matches == 8
    assert (result.other_matches, result.other_notifications) == (6, 0)
    assert result.matches == result.invocations == 14
    assert len(result.notifications) == 1
    assert not result.exact


def test_container_instance_arn_trick_on_fargate_is_not_exact(target, capsys):
    exit_code = main(["--stack", "dev", "--size", "7", "--compute", "fargate", "--pattern", str(TRICK), "--json"])

    document = json.loads(capsys.readouterr().out)
    assert exit_code == 1
    assert set(document) == {"events", "matches", "invocations", "notifications", "metrics", "exact"}
    # Fargate children have no containerInstanceArn: all 7 match, then the parent; and the noise's
    # single SUCCEEDED job and the 2 succeeding children of the other queue's array job.
    assert document["matches"] == document["invocations"] == 7 + 1 + 3
    # The handler ignores the children, so there is one notification: defensive, still not exact.
    assert [n["status"] for n in document["notifications"]] == ["SUCCEEDED"]
    assert document["exact"] is False
    # One metrics document per invocation: the stray matches show as IgnoredEvents, all under this
    # pipeline's queue (the other queue's children too: it is this notifier's rule that let them in).
    metrics = document["metrics"]
    assert len(metrics) == document["invocations"]
    ignored = [m for m in metrics if set(m["metrics"]) == {"IgnoredEvents"}]
    assert len(ignored) == 7 + 3
    assert {m["dimensions"]["jobQueue"] for m in metrics} == {target.job_queue_arn.rpartition("/")[2]}
    (completion,) = [m for m in metrics if "ArrayJobsSucceeded" in m["metrics"]]
    assert completion["metrics"]["ArraySize"] == {"unit": "Count", "values": [7.0]}


def test_container_instance_arn_trick_misses_a_failed_array_job_on_ec2(target):
    result = rehearse(target, Scenario(size=7, failures=2, compute=Compute.EC2), pattern=TRICK.read_text())

    assert (result.matches, result.notifications) == (0, [])
    assert not result.exact


def _adapted_fixtures(target: StackTarget) -> list[dict]:
    """The captured events, moved onto the dev stack's queue and job definition (the rule pins both;
    the captures come from other accounts). The blog's parent was abridged by its author: it gets back
    the identity fields every real parent event carries, and SUCCEEDED, the status the blog's rule
    matched on."""
    events = []
    for path in sorted(FIXTURES.glob("*.json")):
        event = json.loads(path.read_text())
        event["detail"]["jobQueue"] = target.job_queue_arn
        event["detail"]["jobDefinition"] = target.job_definition_arn
        if path.name == "ec2-array-parent-succeeded-blog-abridged.json":
            event["detail"].update(
                jobId="0b6f3c1e-5a4d-4e2b-9c8f-7d1a2b3c4d5e", jobName="print-color", status="SUCCEEDED"
            )
        events.append(event)
    return events


def test_replay_of_captured_events_notifies_once_for_the_array_parent(target, tmp_path, capsys):
    events = _adapted_fixtures(target)
    parent = next(e for e in events if e["detail"].get("jobId") == "0b6f3c1e-5a4d-4e2b-9c8f-7d1a2b3c4d5e")
    # The parent's event delivered twice: a repeated delivery, still exact.
    lines = [json.dumps(event) for event in [*events, parent]]
    capture = tmp_path / "captured.jsonl"
    capture.write_text("\n".join(lines) + "\n")

    exit_code = main(["--stack", "dev", "--events", str(capture), "--json"])

    document = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert document["events"] == 7
    assert document["matches"] == document["invocations"] == 2
    assert document["notifications"] == [
        {
            "subject": "[dev] print-color array job SUCCEEDED: 2/2 children succeeded",
            "status": "SUCCEEDED",
            "jobId": "0b6f3c1e-5a4d-4e2b-9c8f-7d1a2b3c4d5e",
            "size": 2,
            "failed": 0,
        }
    ]
    assert document["exact"] is True
    completion, duplicate = document["metrics"]
    assert completion["metrics"]["ArrayJobsSucceeded"] == {"unit": "Count", "values": [1.0]}
    assert duplicate["metrics"] == {"DuplicateDeliveries": {"unit": "Count", "values": [1.0]}}


def test_replay_without_any_array_job_of_the_stack_is_not_exact(tmp_path, capsys):
    capture = tmp_path / "foreign.jsonl"
    # A single job from another account, unadapted: no array job of this stack finishes in it.
    capture.write_text(json.dumps(json.loads((FIXTURES / "fargate-single-failed.json").read_text())) + "\n")

    assert main(["--stack", "dev", "--events", str(capture)]) == 1
    assert "nothing to judge" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stack", "dev"], "--size is required"),
        (["--stack", "dev", "--size", "7", "--compute", "lambda"], "invalid choice"),
        (["--stack", "dev", "--size", "-3"], "an array job has 2 to 10000 children, got -3"),
    ],
)
def test_argument_errors_exit_2(arguments, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--stack", "dev", "--size", "1"], "an array job has 2 to 10000 children, got 1"),
        (
            ["--stack", "dev", "--size", "7", "--failures", "8"],
            "error: argument --failures: must be 0 to --size (7), got 8",
        ),
        (["--stack", "nosuchstage", "--size", "7"], "no stack file Pulumi.nosuchstage.yaml"),
    ],
)
def test_impossible_scenarios_and_unknown_stacks_exit_2(arguments, message, capsys):
    try:
        code = main(arguments)
    except SystemExit as exited:  # plan_or_exit ends the process for config errors
        code = exited.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_jsonl_line_exits_2_naming_the_line(tmp_path, capsys):
    capture = tmp_path / "captured.jsonl"
    capture.write_text('{"source": "aws.batch", "detail-type": "x", "detail": {}}\n\n{"source": \n')

    assert main(["--stack", "dev", "--events", str(capture)]) == 2
    assert f"{capture}:3: not valid JSON" in capsys.readouterr().err


def test_bad_pattern_file_exits_2_naming_the_file(tmp_path, capsys):
    pattern = tmp_path / "pattern.json"
    pattern.write_text('{"source": ["aws.batch"],}')

    assert main(["--stack", "dev", "--size", "7", "--pattern", str(pattern)]) == 2
    assert f"{pattern}: not valid JSON" in capsys.readouterr().err


def test_events_excludes_generator_options(tmp_path, capsys):
    capture = tmp_path / "captured.jsonl"
    capture.write_text("")
    with pytest.raises(SystemExit) as exited:
        main(["--stack", "dev", "--events", str(capture), "--duplicates", "2"])
    assert exited.value.code == 2
    assert "--duplicates does not apply" in capsys.readouterr().err


def test_no_progress_bar_when_stderr_is_not_a_terminal(target, capsys):
    rehearse(target, Scenario(size=2, compute=Compute.EKS), progress=True)

    assert capsys.readouterr().err == ""


def test_report_names_exit_codes_of_placed_children_and_none_for_unplaced(target):
    result = rehearse(target, Scenario(size=7, failures=2, failures_before_placement=1, compute=Compute.EC2))
    (notification,) = result.notifications
    children = {child["index"]: child for child in notification.document["failedChildren"]}

    # eventgen spreads 2 failures over 7 children at indices 1 and 5; the first fails before placement.
    assert sorted(children) == [1, 5]
    assert children[1]["exitCode"] is None
    assert children[5]["exitCode"] == 1
    assert "exit code 1" in notification.body


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--size", "1"], "an array job has 2 to 10000 children, got 1"),
        (["--size", "seven"], "expected a whole number"),
        (["--failures", "0"], "argument --failures: must be 1 to 10000, got 0"),
        (["--failures", "9"], "argument --failures: must be 1 to --size (7), got 9"),
    ],
)
def test_compare_rules_rejects_impossible_arrays_with_exit_2(arguments, complaint, capsys):
    with pytest.raises(SystemExit) as ended:
        compare_rules_main(["--stack", "dev", *arguments])

    assert ended.value.code == 2
    assert complaint in capsys.readouterr().err


def test_lost_parent_events_are_recovered_by_the_sweep_exactly_once(target):
    """`--lose-parent-events 1` as docs/rehearsal.md shows it: the rule never sees the parent's terminal
    event; the sweep reports the completion, once, and the rehearsal is still exact."""
    result = rehearse(target, Scenario(size=7, lost_parents=1))

    job_id = _only_job_id(result)
    assert result.exact, result.problems
    assert (result.lost_events, result.sweep_recovered, result.jobs[job_id].matches) == (1, 1, 0)
    assert [n.job_id for n in result.notifications] == [job_id]
    reconciled = [d.value("ReconciledCompletions") for d in result.metrics if "ReconciledCompletions" in d.metrics]
    assert reconciled == [1]
    document = result.to_json()
    assert (document["lostEvents"], document["sweepRecovered"], document["exact"]) == (1, 1, True)
    rendered = render(result, target, "the stack's rule").replace(job_id, "...")
    docs = (ROOT / "docs" / "rehearsal.md").read_text()
    shown = docs[docs.index("$ .venv/bin/batch-array-notify rehearse --stack dev --size 7 --lose-parent-events 1") :]
    for line in shown.split("```", 1)[0].splitlines()[1:]:
        assert line in rendered, line


def test_a_sweep_that_recovers_nothing_makes_the_rehearsal_inexact(target, monkeypatch):
    """Control: without the sweep's report the lost completion is missing, and the rehearsal says so."""
    from batch_array_notify.handler import reconcile  # noqa: PLC0415

    monkeypatch.setattr(reconcile, "handler", lambda event, context: {"reconciled": 0})
    result = rehearse(target, Scenario(size=3, compute=Compute.EC2, duplicates=2, lost_parents=1))

    assert result.lost_events == 3  # the terminal event and its 2 duplicates never reached the rule
    assert result.jobs[_only_job_id(result)].matches == 0
    assert not result.exact
    assert f"array job {_only_job_id(result)}: 0 notifications, expected 1" in result.problems
    assert "the sweep reported 0 completions, 1 were lost" in result.problems


def test_losing_more_array_jobs_than_the_stack_runs_is_a_usage_error(capsys):
    assert main(["--stack", "dev", "--size", "3", "--lose-parent-events", "2"]) == 2
    assert (
        "--lose-parent-events 2: the rehearsal runs one array job per queue, 1 on stack dev" in capsys.readouterr().err
    )


def test_three_failures_print_each_ran_childs_log_tail_from_its_stream_in_moto(target):
    """`tools.rehearse --failures 3` (its scenario, on the module's plan): one child failed before placement
    (no stream, it says so), the two that ran show the last lines the rehearsal world wrote to their
    streams, the password masked."""
    printed = render(rehearse(target, Scenario(size=7, failures=3)), target, "the stack's rule")

    tail = "\n".join(f"  | {line}" for line in mask_secrets(FAILED_CHILD_LOG))
    assert printed.count(f"  last {len(FAILED_CHILD_LOG)} lines of the log:\n{tail}\n") == 2
    assert printed.count(f"  log unavailable: {NO_STREAM}\n") == 1
    assert "hunter2" not in printed
