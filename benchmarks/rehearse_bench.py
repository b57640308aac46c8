"""Rehearsal benchmark: events per second and wall time of `batch-array-notify rehearse` for growing arrays.

    .venv/bin/python -m benchmarks.rehearse_bench                 # N in {100, 1000, 10000}, in-process
    .venv/bin/python -m benchmarks.rehearse_bench --acceptance    # the issue's command, per compute type

In-process rows time `rehearse()` alone (fresh moto account, stream generation, EventBridge, settling
moto's Batch, handler, SNS), the stack planned once beforehand. Acceptance rows time the whole command
as users run it (interpreter start, imports, plan): `batch-array-notify rehearse --stack dev --size 10000
--failures 3 --compute C --duplicates 2 --json`. Target (issue 5): N = 10,000 under 60 s.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from batch_array_notify.cli.rehearse import Scenario, rehearse
from batch_array_notify.testing.eventgen import Compute
from batch_array_notify.testing.program import ROOT, run_program
from batch_array_notify.testing.rehearsal_world import StackTarget

SIZES = (100, 1000, 10_000)
TARGET_SECONDS = 60


def in_process(compute: Compute) -> list[str]:
    target = StackTarget.from_plan(run_program(ROOT, "dev"))
    rehearse(target, Scenario(size=2, compute=compute))  # warm-up: imports, moto's lazy backends
    rows = ["| N | events | wall time (s) | events/s | notifications | exact |", "|---|---|---|---|---|---|"]
    for size in SIZES:
        started = time.perf_counter()
        result = rehearse(target, Scenario(size=size, failures=3, compute=compute, duplicates=2))
        seconds = time.perf_counter() - started
        rows.append(
            f"| {size} | {result.events} | {seconds:.2f} | {result.events / seconds:,.0f} | "
            f"{len(result.notifications)} | {'yes' if result.exact else 'no'} |"
        )
    return rows


def acceptance() -> list[str]:
    rows = ["| compute | wall time (s) | exit | notification |", "|---|---|---|---|"]
    for compute in Compute:
        command = [
            sys.executable,
            "-m",
            "batch_array_notify.cli",
            "rehearse",
            "--stack",
            "dev",
            "--size",
            "10000",
            "--failures",
            "3",
            "--compute",
            compute.value,
            "--duplicates",
            "2",
            "--json",
        ]
        started = time.perf_counter()
        finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        notifications = json.loads(finished.stdout)["notifications"] if finished.returncode in (0, 1) else []
        shown = "; ".join(f"{n['status']}, {n['failed']} failed of {n['size']}" for n in notifications)
        rows.append(f"| {compute.value} | {seconds:.1f} | {finished.returncode} | {shown or finished.stderr.strip()} |")
    return rows


def main() -> int:
    arguments = argparse.ArgumentParser(prog="python -m benchmarks.rehearse_bench", description=__doc__)
    arguments.add_argument("--acceptance", action="store_true", help="time the issue's command per compute type")
    arguments.add_argument("--compute", choices=[c.value for c in Compute], default=Compute.FARGATE.value)
    options = arguments.parse_args()
    rows = acceptance() if options.acceptance else in_process(Compute(options.compute))
    print("\n".join(rows))
    print(f"\nTarget: N = 10000 under {TARGET_SECONDS} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
