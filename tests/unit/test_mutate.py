"""The mutation driver's choices that a report depends on: which modules it measures, how it samples them,
and that only a whole run replaces the tracked report (tools/mutate.py).

The driver parses sources with `ast`; CPython 3.11's `ast` can fail in a process where an earlier test hit a
RecursionError ("AST constructor recursion depth mismatch"), so the checks that parse run in a fresh
interpreter, as `python -m tools.mutate` itself does.
"""

from __future__ import annotations

import json
import shutil
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


def run_main(arguments: list[str], work: Path, setup: str = "") -> dict[str, Any]:
    """`mutate.main(arguments)` with the work folder and untracked report in `work`, after `setup` (code run
    first), and what it printed to stderr; the coverage run must not be reached."""
    return in_fresh_interpreter(
        f"""
        import io, contextlib, pathlib
        mutate.WORK = pathlib.Path({str(work)!r})
        mutate.UNTRACKED_REPORT = mutate.WORK / "report.json"
        {textwrap.indent(textwrap.dedent(setup), " " * 8).strip()}
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


#: Points the driver at copies of the tracked report and docs/testing.md in `work`, and leaves in
#: `work/results.json` the given share of handler/console.py's mutants run, all killed, by one session.
MERGE_SETUP = """
    mutation_report.REPORT = mutate.WORK / "mutation-report.json"
    mutation_report.TESTING_DOC = mutate.WORK / "testing.md"
    console = mutate.mutants_of("batch_array_notify.handler.console")
    outcomes = [mutate.Outcome(m, "killed", 1.0, 1, 0.5, 1.0) for m in console[: round(len(console) * SHARE)]]
    session = {
        "finished": "2026-12-07T15:00Z", "modules": ["handler/console.py"], "mutants": len(outcomes),
        "sample": None, "seed": 0, "jobs": 1, "budget_seconds": 30.0, "coverage_seconds": 60,
        "wall_seconds": 20, "child_cpu_seconds": 5, "mean_load": 1.0, "load_15min_before": 1.0,
    }
    mutate.Results(outcomes, [session], {}).write(mutate.WORK / "results.json")
"""


def run_merge(arguments: list[str], work: Path, share: float) -> dict[str, Any]:
    shutil.copy(mutation_report.REPORT, work / "mutation-report.json")
    shutil.copy(mutation_report.TESTING_DOC, work / "testing.md")
    return run_main(arguments, work, MERGE_SETUP.replace("SHARE", repr(share)))


def test_a_merge_replaces_the_named_modules_rows_of_the_tracked_report_and_its_table_in_the_doc(tmp_path):
    """How modules added after the last whole run join the report: measured alone, merged in."""
    tracked_bytes = mutation_report.REPORT.read_bytes()
    tracked = mutation_report.load()
    targets = {mutate._file(module) for module in mutate.TARGETS}

    ran = run_merge(["--report", "--merge-report", "--module", "handler/console.py"], tmp_path, share=1.0)

    assert ran["code"] == 0, ran["stderr"]
    report = mutation_report.load(tmp_path / "mutation-report.json")
    rows = {row["module"]: row for row in report["modules"]}
    console = rows.pop("handler/console.py")
    assert (console["run"], console["killed"], console["score"]) == (console["chosen"], console["chosen"], 1.0)
    assert rows == {
        row["module"]: row for row in tracked["modules"] if row["module"] in targets - {"handler/console.py"}
    }
    assert [s for s in report["survivors"] if s["file"] == "handler/console.py"] == []
    assert report["sessions"][: len(tracked["sessions"])] == tracked["sessions"]
    assert report["sessions"][-1]["modules"] == ["handler/console.py"]
    doc = (tmp_path / "testing.md").read_text()
    assert mutation_report.markdown(report["modules"]) in doc
    assert mutation_report.summary(report) in doc
    assert mutation_report.markdown(tracked["modules"]) not in doc
    assert mutation_report.REPORT.read_bytes() == tracked_bytes


def test_a_merge_of_a_module_not_run_to_the_end_leaves_the_tracked_report_and_the_doc_as_they_were(tmp_path):
    ran = run_merge(["--report", "--merge-report", "--module", "handler/console.py"], tmp_path, share=0.5)

    assert ran["code"] == 1
    assert (tmp_path / "mutation-report.json").read_bytes() == mutation_report.REPORT.read_bytes()
    assert (tmp_path / "testing.md").read_bytes() == mutation_report.TESTING_DOC.read_bytes()
    assert mutation_report.load(tmp_path / "report.json")["modules"]


def test_a_merge_names_its_modules(tmp_path):
    ran = run_main(["--report", "--merge-report"], tmp_path)

    assert ran["code"] == USAGE_ERROR
    (line,) = ran["stderr"].splitlines()
    assert "--merge-report needs --module" in line


def test_modules_may_be_named_in_one_comma_separated_list(tmp_path):
    ran = in_fresh_interpreter(
        """
        print(json.dumps(mutate._chosen_modules(["handler/console.py,components/iam.py", "handler.models"])))
        """
    )

    assert ran == [
        "batch_array_notify.handler.console",
        "batch_array_notify.iam",
        "batch_array_notify.handler.models",
    ]
