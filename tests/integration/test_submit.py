"""tools.submit against moto's Docker-free Batch: submit, wait, summary and exit codes; the progress bar."""

from __future__ import annotations

import io
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from batch_array_notify.cli import submit
from batch_array_notify.cli.submit import Progress, bar, main, watch


@pytest.fixture(autouse=True)
def no_waiting_between_polls(monkeypatch):
    """moto's jobs finish in moments: poll them without sleeping (the shortest --poll-seconds is 1)."""
    monkeypatch.setattr(submit, "watch", partial(watch, sleep=lambda _seconds: None))


def run(capsys, *argv: str, outputs: Any = None) -> tuple[int, str, str]:
    code = main(list(argv), outputs=outputs)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_wait_on_a_succeeding_array_job_exits_0_with_the_summary(batch_stack, capsys):
    code, out, err = run(
        capsys,
        *("--stack", "dev", "--size", "3", "--wait", "--poll-seconds", "1"),
        *("--queue", batch_stack.job_queue_arn, "--job-definition", batch_stack.job_definition_arn),
    )

    assert code == 0
    submitted, result = out.strip().splitlines()
    job_id = submitted.split()[1].rstrip(":")
    assert submitted.startswith("submitted ")
    assert "3 children" in submitted
    assert result == f"{job_id} SUCCEEDED: 3/3 children succeeded, 0 failed"
    assert err == ""  # not a terminal: no progress bar


def test_wait_on_a_failing_array_job_exits_1_with_the_summary(batch_stack, capsys, monkeypatch):
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")

    code, out, _ = run(
        capsys,
        *("--stack", "dev", "--size", "4", "--wait", "--poll-seconds", "1"),
        *("--queue", batch_stack.job_queue_arn, "--job-definition", batch_stack.job_definition_arn),
    )

    assert code == 1
    assert out.strip().splitlines()[-1].endswith("FAILED: 0/4 children succeeded, 4 failed")


def test_queue_and_definition_come_from_the_stack_outputs(batch_stack, capsys):
    asked: list[tuple[str, Path]] = []

    def outputs(stack: str, program: Path) -> dict[str, str]:
        asked.append((stack, program))
        return {"jobQueueName": "test-queue", "jobDefinitionName": "print-color"}

    code, out, _ = run(capsys, "--stack", "dev", "--size", "2", "--region", batch_stack.region, outputs=outputs)

    assert code == 0
    assert asked == [("dev", Path())]
    assert out.startswith("submitted ")
    assert "to test-queue with print-color" in out


def test_without_the_cli_or_flags_it_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _: None)

    code, out, err = run(capsys, "--stack", "dev", "--size", "5", "--queue", "q")

    assert code == 2
    assert out == ""
    assert "Pulumi CLI is not installed" in err
    assert "--queue and --job-definition" in err


def test_a_failing_cli_is_a_usage_error_naming_the_stack(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/pulumi")

    class Refused:
        returncode, stdout, stderr = 255, "", "error: no stack named 'qa' found"

    with pytest.raises(submit.UsageError, match=r"stack 'qa'.*no stack named"):
        submit.stack_outputs("qa", tmp_path, run=lambda *_, **__: Refused())


@pytest.mark.parametrize("size", ["1", "10001", "seven"])
def test_an_invalid_size_exits_2(size, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--stack", "dev", "--size", size, "--queue", "q", "--job-definition", "d"])

    assert exit_.value.code == 2
    assert "--size" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The progress bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class ScriptedBatch:
    """describe_jobs answers from a script of (status, statusSummary) snapshots."""

    def __init__(self, *snapshots: tuple[str, dict[str, int]]) -> None:
        self.snapshots = list(snapshots)

    def describe_jobs(self, jobs: list[str]) -> dict[str, Any]:
        status, summary = self.snapshots.pop(0)
        return {
            "jobs": [{"jobId": jobs[0], "status": status, "arrayProperties": {"size": 10, "statusSummary": summary}}]
        }


def test_progress_bar_is_redrawn_on_a_terminal_until_the_parent_ends():
    batch = ScriptedBatch(
        ("PENDING", {"RUNNABLE": 10}),
        ("PENDING", {"RUNNING": 6, "SUCCEEDED": 3, "FAILED": 1}),
        ("FAILED", {"SUCCEEDED": 8, "FAILED": 2}),
    )
    terminal = Terminal()
    sleeps: list[float] = []

    state = watch(batch, "job-1", 5.0, terminal, sleep=sleeps.append)

    assert state == Progress("FAILED", 10, {"SUCCEEDED": 8, "FAILED": 2})
    assert sleeps == [5.0, 5.0]
    frames = terminal.getvalue().split("\r\033[K")[1:]
    assert frames[0] == "[------------------------------] 0/10  RUNNABLE 10"
    assert frames[1] == "[#########xxx------------------] 4/10  RUNNING 6  SUCCEEDED 3  FAILED 1"
    assert frames[2] == "[########################xxxxxx] 10/10  SUCCEEDED 8  FAILED 2\n"


def test_no_bar_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()

    state = watch(ScriptedBatch(("SUCCEEDED", {"SUCCEEDED": 10})), "job-1", 0, stream, sleep=lambda _: None)

    assert state.status == "SUCCEEDED"
    assert stream.getvalue() == ""


def test_bar_of_an_empty_summary_does_not_divide_by_zero():
    assert bar(Progress("SUBMITTED", 0, {})) == "[------------------------------] 0/0"
