"""Compile the bytecode that the tests and tools import, once, on both cores (`make venv` runs this).

On a fresh clone nothing is compiled yet: each pytest worker and each tool process that a test starts
compiled pulumi_aws, moto and the rest for itself, the same modules two or three times over. Two processes
here import and exercise them instead (one plans every stage, the other rehearses an array job through
moto and loads the test-only libraries), and every later process reads the cached bytecode.
"""

from __future__ import annotations

import argparse
import importlib
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from batch_array_notify.cli.exit_codes import tool_parser

#: Libraries only tests import (the rehearsal below loads the handler's and moto's own).
TEST_LIBRARIES = ("hypothesis", "matplotlib.pyplot", "PIL.Image", "parliament", "jsonschema", "xdist", "pytest")


def plan_every_stage() -> None:
    from batch_array_notify.testing.program import ROOT, run_program  # noqa: PLC0415 (imported in the worker process)

    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        run_program(ROOT, path.name.split(".")[1])


def rehearse_and_load_test_libraries() -> None:
    # The suite shows these libraries' import warnings where they matter; here they would only be noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for library in TEST_LIBRARIES:
            importlib.import_module(library)
    from batch_array_notify.cli.rehearse import Scenario, rehearse  # noqa: PLC0415
    from batch_array_notify.testing.program import ROOT, run_program  # noqa: PLC0415
    from batch_array_notify.testing.rehearsal_world import StackTarget  # noqa: PLC0415

    rehearse(StackTarget.from_plan(run_program(ROOT, "dev")), Scenario(size=2, failures=1))


def parser() -> argparse.ArgumentParser:
    return tool_parser(".venv/bin/python -m tools.warm_bytecode", __doc__, bad_outcome=None, uses_aws=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser().parse_args(argv)
    with ProcessPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(plan_every_stage), pool.submit(rehearse_and_load_test_libraries)]:
            future.result()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
