"""The mutation driver's choices that a report depends on: which modules it measures, how it samples them,
and that only a whole run replaces the tracked report (tools/mutate.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_array_notify.cli.exit_codes import USAGE_ERROR
from tools import mutate, mutation_report

ROOT = Path(__file__).resolve().parents[2]


def test_every_handler_module_and_every_component_module_over_40_lines_is_measured():
    measured = set(mutate.TARGETS.values())
    handler = {path for path in (ROOT / "handler").glob("*.py") if path.stem != "__init__"}
    component = {path: len(path.read_text().splitlines()) for path in (ROOT / "components").glob("*.py")}

    assert handler <= measured
    assert {path for path, lines in component.items() if lines > 40 and path.stem != "__init__"} <= measured
    assert not {path for path, lines in component.items() if lines <= 40} & measured
    assert ROOT / "components" / "completion_notifier.py" in measured


def test_a_sample_is_chosen_by_its_seed_in_source_order():
    module = "batch_array_notify.dashboard"
    every = mutate.mutants_of(module)

    sample = mutate.sample_of(module, 10, 0)

    assert len(sample) == 10
    assert sample == mutate.sample_of(module, 10, 0)
    assert [mutant.index for mutant in sample] == sorted(mutant.index for mutant in sample)
    assert set(sample) <= set(every)
    assert sample != mutate.sample_of(module, 10, 1)
    assert mutate.sample_of(module, len(every) + 1, 0) == every
    assert mutate.sample_of(module, None, 0) == every


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The driver's work folder and untracked report in a temporary folder; the tracked report's bytes."""
    monkeypatch.setattr(mutate, "WORK", tmp_path)
    monkeypatch.setattr(mutate, "UNTRACKED_REPORT", tmp_path / "report.json")
    return mutation_report.REPORT.read_bytes()


def test_a_run_of_some_modules_is_refused_the_tracked_report_before_anything_runs(scratch, capsys, monkeypatch):
    monkeypatch.setattr(mutate, "collect_coverage", pytest.fail)

    code = mutate.main(["--module", "handler.aws", "--write-report"])

    assert code == USAGE_ERROR
    (line,) = capsys.readouterr().err.splitlines()
    assert "--write-report needs every module run to the end" in line
    assert mutation_report.REPORT.read_bytes() == scratch


def test_the_report_goes_to_the_build_folder_unless_asked_for(scratch, tmp_path):
    mutate.main(["--report"])

    assert mutation_report.REPORT.read_bytes() == scratch
    assert mutation_report.load(tmp_path / "report.json")["modules"]
