"""The mutation driver's choices that a report depends on: which modules it measures, how it samples them,
and that only a whole run replaces the tracked report (tools/mutate.py).

The driver parses sources with `ast`; CPython 3.11's `ast` can fail in a process where an earlier test hit a
RecursionError ("AST constructor recursion depth mismatch"), so the checks that parse run in a fresh
interpreter, as `python -m tools.mutate` itself does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from batch_array_notify.cli.exit_codes import USAGE_ERROR
from tools import mutate, mutation_report

ROOT = Path(__file__).resolve().parents[2]


def in_fresh_interpreter(code: str) -> Any:
    """What `code` (run with `tools.mutate` imported as `mutate`) prints as JSON on its last line."""
    script = "import json, sys\nfrom tools import mutate, mutation_report\n" + textwrap.dedent(code)
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(ran.stdout.splitlines()[-1])


def test_every_handler_module_and_every_component_module_over_40_lines_is_measured():
    measured = set(mutate.TARGETS.values())
    handler = {path for path in (ROOT / "handler").glob("*.py") if path.stem != "__init__"}
    component = {path: len(path.read_text().splitlines()) for path in (ROOT / "components").glob("*.py")}

    assert handler <= measured
    assert {path for path, lines in component.items() if lines > 40 and path.stem != "__init__"} <= measured
    assert not {path for path, lines in component.items() if lines <= 40} & measured
    assert ROOT / "components" / "completion_notifier.py" in measured


def test_a_sample_is_chosen_by_its_seed_in_source_order():
    found = in_fresh_interpreter(
        """
        module = "batch_array_notify.dashboard"
        every = mutate.mutants_of(module)
        keys = lambda mutants: [m.index for m in mutants]
        print(json.dumps({
            "every": keys(every),
            "seed 0": keys(mutate.sample_of(module, 10, 0)),
            "seed 0 again": keys(mutate.sample_of(module, 10, 0)),
            "seed 1": keys(mutate.sample_of(module, 10, 1)),
            "more than all": keys(mutate.sample_of(module, len(every) + 1, 0)),
            "no size": keys(mutate.sample_of(module, None, 0)),
        }))
        """
    )
    sample = found["seed 0"]

    assert len(sample) == 10
    assert sample == found["seed 0 again"] == sorted(sample)
    assert set(sample) <= set(found["every"])
    assert sample != found["seed 1"]
    assert found["more than all"] == found["no size"] == found["every"]


def run_main(arguments: list[str], work: Path) -> dict[str, Any]:
    """`mutate.main(arguments)` with the work folder and untracked report in `work`, and what it printed to
    stderr; the coverage run must not be reached."""
    return in_fresh_interpreter(
        f"""
        import io, contextlib, pathlib
        mutate.WORK = pathlib.Path({str(work)!r})
        mutate.UNTRACKED_REPORT = mutate.WORK / "report.json"
        def never(*args, **kwargs):
            raise AssertionError("the coverage run was reached")
        mutate.collect_coverage = never
        stderr, stdout = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            code = mutate.main({arguments!r})
        print(json.dumps({{"code": code, "stderr": stderr.getvalue()}}))
        """
    )


def test_a_run_of_some_modules_is_refused_the_tracked_report_before_anything_runs(tmp_path):
    tracked = mutation_report.REPORT.read_bytes()

    ran = run_main(["--module", "handler.aws", "--write-report"], tmp_path)

    assert ran["code"] == USAGE_ERROR
    (line,) = ran["stderr"].splitlines()
    assert "--write-report needs every module run to the end" in line
    assert mutation_report.REPORT.read_bytes() == tracked


def test_the_report_goes_to_the_build_folder_unless_asked_for(tmp_path):
    tracked = mutation_report.REPORT.read_bytes()

    run_main(["--report"], tmp_path)

    assert mutation_report.REPORT.read_bytes() == tracked
    assert mutation_report.load(tmp_path / "report.json")["modules"]
