"""tools.program plans each (program, stack, config) once per process and hands out copies."""

from pathlib import Path

from batch_array_notify.testing.program import run_program

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
