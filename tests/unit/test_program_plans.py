"""tools.program plans each (program, stack, config) once per process and hands out copies."""

import gc
import logging
from pathlib import Path

from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.testing.program import run_program
from tests.support import run_tool

ROOT = Path(__file__).resolve().parents[2]


def test_a_caller_changing_its_plan_does_not_change_the_next_callers():
    first = run_program(ROOT, "dev")
    count = len(first.resources)
    first.resources.clear()
    first.outputs.clear()

    again = run_program(ROOT, "dev")
    assert len(again.resources) == count > 0
    assert again.outputs


def test_other_config_is_another_plan():
    default = run_program(ROOT, "dev")
    smaller = run_program(ROOT, "dev", {"batch-array-notify:maxVcpus": "3"})

    def max_vcpus(plan):
        (environment,) = [r for r in plan.resources if r.type == "aws:batch/computeEnvironment:ComputeEnvironment"]
        return environment.inputs["computeResources"]["maxVcpus"]

    assert max_vcpus(smaller) == 3
    assert max_vcpus(default) != 3


def test_refused_runs_leave_nothing_that_formats_a_traceback_later(caplog):
    """The tasks and futures refused runs leave behind are finalised whenever the collector finds them, perhaps
    inside a later `ast.parse`; asyncio's default handler logs them there, and in CPython 3.11.7 that broke
    every later parse of the process ("AST constructor recursion depth mismatch", gh-106905)."""
    refusals = [
        "batch-array-notify:maxVcpus=8",  # refused by the member branch of the program
        "batch-array-notify:externalId=x",  # refused by the forwarder's validation
        'batch-array-notify:jobQueueArns=["arn:aws:batch:us-east-1:123456789012:job-queue/a"]',  # at deploy time
    ]
    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        for config in refusals:
            assert run_tool(plan_main, "--stack", "member", "--config", config).code == 2
        gc.collect()

    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
