"""docs/testing.md's mutation-testing figures are the ones `python -m tools.mutate` wrote to
docs/mutation-report.json, and every mutant that survived there is explained as equivalent."""

from __future__ import annotations

from collections import Counter

import pytest

from tools import mutation_report

DOC = mutation_report.TESTING_DOC.read_text()
REPORT = mutation_report.load()


def test_the_per_module_table_is_the_reports():
    assert mutation_report.markdown(REPORT["modules"]) in DOC


def test_the_cost_figures_are_the_reports():
    assert mutation_report.summary(REPORT) in DOC


def test_each_survivor_is_explained_or_named_as_a_missing_test_and_each_entry_is_of_a_survivor():
    survivors = {survivor.where for survivor in mutation_report.survivors(REPORT)}
    explained = mutation_report.explained_survivors(DOC)
    still_to_kill = mutation_report.explained_survivors(DOC, mutation_report.OPEN_HEADING)
    assert sorted(explained & still_to_kill) == [], "a survivor cannot be both equivalent and still to kill"
    assert sorted(survivors - explained - still_to_kill) == [], "survivors docs/testing.md does not list"
    assert sorted((explained | still_to_kill) - survivors) == [], "entries for mutants that no longer survive"


def test_the_equivalent_column_counts_the_survivors_explained_as_equivalent():
    explained = mutation_report.explained_survivors(DOC)
    per_module = Counter(s.file for s in mutation_report.survivors(REPORT) if s.where in explained)
    assert {row["module"]: row["equivalent"] for row in REPORT["modules"]} == {
        row["module"]: per_module[row["module"]] for row in REPORT["modules"]
    }


@pytest.mark.parametrize(
    ("killed", "mutants", "shown"),
    [(899, 1000, "89.9%"), (8996, 10000, "89.9%"), (9, 10, "90.0%"), (57, 100, "57.0%"), (0, 0, "100.0%")],
)
def test_a_score_is_never_rounded_up_to_the_target(killed, mutants, shown):
    (row,) = mutation_report.module_rows({"m.py": mutants}, [("m.py", "killed")] * killed, {})
    line = f"| `m.py` | {mutants} | {mutants} | {killed} | {killed} | 0 | 0 | {shown} | {shown} |"
    assert line in mutation_report.markdown([row])


@pytest.mark.parametrize(
    ("killed", "explained", "score", "passes"),
    [(9, 2, "100.0%", True), (9, 1, "90.0%", True), (8, 1, "80.0%", False), (9, 0, "81.8%", False)],
)
def test_the_score_leaves_out_the_survivors_explained_as_equivalent(killed, explained, score, passes):
    """console.py has 11 mutants: its 2 equivalent survivors may not fail it, and an unexplained one must."""
    outcomes = [("m.py", "killed")] * killed + [("m.py", "survived")] * (11 - killed)
    (row,) = mutation_report.module_rows({"m.py": 11}, outcomes, {"m.py": explained})

    line = f"| `m.py` | 11 | 11 | 11 | {killed} | {11 - killed} | {explained} | {score} | {killed / 11 * 100:.1f}% |"
    assert line in mutation_report.markdown([row])
    assert mutation_report.passed([row]) is passes


def test_a_module_not_run_to_the_end_does_not_pass():
    (row,) = mutation_report.module_rows({"m.py": 11}, [("m.py", "killed")] * 10, {})

    assert row["score"] >= mutation_report.TARGET_SCORE
    assert mutation_report.passed([row]) is False


def test_a_sampled_module_is_scored_over_its_sample_and_passes_only_once_the_whole_sample_ran():
    """40 of a module's 169 mutants chosen: 36 killed of them is 90%, of the sample, not of all 169."""
    outcomes = [("m.py", "killed")] * 36 + [("m.py", "survived")] * 4
    (row,) = mutation_report.module_rows({"m.py": 169}, outcomes, {}, {"m.py": 40})

    assert "| `m.py` | 169 | 40 | 40 | 36 | 4 | 0 | 90.0% | 90.0% |" in mutation_report.markdown([row])
    assert mutation_report.passed([row]) is True
    (short,) = mutation_report.module_rows({"m.py": 169}, outcomes[:39], {}, {"m.py": 40})
    assert mutation_report.passed([short]) is False


def test_the_cost_sentence_gives_the_largest_sessions_whole_time():
    sessions = [
        {"mutants": 2, "modules": ["handler/app.py"], "wall_seconds": 6, "coverage_seconds": 180},
        {"mutants": 1618, "modules": ["a.py", "b.py", "c.py"], "wall_seconds": 1008, "coverage_seconds": 169},
    ]

    sentence = mutation_report._largest_session(sessions)

    assert (
        sentence
        == " The largest session ran 1618 mutants of 3 modules in 19.6 minutes, 2.8 of them for its coverage run."
    )
    assert mutation_report._largest_session([]) == ""


def _report(rows: dict[str, tuple[int, int]], survivors: list[tuple[str, int]], sessions: list[dict]) -> dict:
    """A report of modules `file: (mutants, killed)` (all run), `survivors` `(file, line)` and `sessions`."""
    outcomes = [
        (file, status)
        for file, (mutants, killed) in rows.items()
        for status in ["killed"] * killed + ["survived"] * (mutants - killed)
    ]
    modules = mutation_report.module_rows({file: mutants for file, (mutants, _) in rows.items()}, outcomes, {})
    return {
        "command": "python -m tools.mutate",
        "target_score": mutation_report.TARGET_SCORE,
        "samples": {file: {"size": 30, "seed": 0} for file in rows},
        "modules": modules,
        "survivors": [
            {"file": file, "line": line, "operator": "0 -> 1", "source": "x = 0", "status": "survived"}
            for file, line in survivors
        ],
        "sessions": sessions,
        "totals": mutation_report.totals(modules, sessions),
    }


def _session(files: list[str], mutants: int, load: float) -> dict:
    return {
        "modules": files,
        "mutants": mutants,
        "wall_seconds": mutants * 2,
        "coverage_seconds": 60,
        "child_cpu_seconds": mutants,
        "mean_load": load,
    }


def test_a_merge_replaces_only_the_named_modules_rows_and_adds_the_session_that_ran_them():
    """The lead measures `new.py`, merged after the whole run, and `old.py` again; `kept.py` keeps its row,
    `gone.py` (no longer a target: deleted, or now 40 lines or fewer) loses its."""
    whole_run = _session(["old.py", "kept.py", "gone.py"], 30, 1.0)
    old = _report({"old.py": (10, 6), "kept.py": (10, 9), "gone.py": (5, 5)}, [("kept.py", 3)], [whole_run])
    old["survivors"] += [{**old["survivors"][0], "file": "old.py", "line": line} for line in (1, 2, 3, 4)]
    this_run = _session(["new.py", "old.py"], 20, 3.0)
    other_run = _session(["kept.py"], 10, 2.0)
    new = _report({"new.py": (10, 10), "old.py": (10, 9), "kept.py": (10, 0)}, [("old.py", 7)], [this_run, other_run])
    doc = f"{mutation_report.EXPLAINED_HEADING}\n\n- `old.py:7` `0 -> 1`: equivalent.\n"

    report = mutation_report.merged(old, new, ["new.py", "old.py"], ["new.py", "old.py", "kept.py"], doc)

    rows = {row["module"]: row for row in report["modules"]}
    assert list(rows) == ["kept.py", "new.py", "old.py"]
    assert rows["kept.py"] == next(row for row in old["modules"] if row["module"] == "kept.py")
    assert (rows["new.py"]["killed"], rows["new.py"]["score"]) == (10, 1.0)
    assert (rows["old.py"]["killed"], rows["old.py"]["equivalent"], rows["old.py"]["score"]) == (9, 1, 1.0)
    assert [(s["file"], s["line"]) for s in report["survivors"]] == [("kept.py", 3), ("old.py", 7)]
    assert report["sessions"] == [whole_run, this_run]
    assert report["samples"] == {file: {"size": 30, "seed": 0} for file in rows}
    assert report["totals"]["mutants_run"] == 30
    assert report["totals"]["mutant_runs"] == 50
    assert report["totals"]["mean_load"] == 1.8  # (30 x 1.0 + 20 x 3.0) / 50 runs
    assert mutation_report.passed(report["modules"])


def test_a_merge_counts_the_equivalents_of_the_kept_rows_again_from_the_doc():
    """A survivor of a kept module explained since the last run no longer fails it."""
    old = _report({"kept.py": (10, 8)}, [("kept.py", 3), ("kept.py", 4)], [_session(["kept.py"], 10, 1.0)])
    new = _report({"new.py": (1, 1)}, [], [_session(["new.py"], 1, 1.0)])
    doc = f"{mutation_report.EXPLAINED_HEADING}\n\n- `kept.py:3` `0 -> 1`: equivalent.\n"

    report = mutation_report.merged(old, new, ["new.py"], ["kept.py", "new.py"], doc)

    (kept, _) = report["modules"]
    assert (kept["equivalent"], kept["score"]) == (1, 0.8889)
    assert not mutation_report.passed([kept])


def test_the_doc_is_given_the_new_table_and_cost_sentence_in_place_of_the_old_ones_or_left_alone():
    old = _report({"a.py": (10, 9)}, [], [_session(["a.py"], 10, 1.0)])
    new = _report({"a.py": (10, 9), "b.py": (4, 4)}, [], [_session(["a.py", "b.py"], 14, 1.5)])
    doc = f"# Testing\n\n{mutation_report.markdown(old['modules'])}\n\nCost: {mutation_report.summary(old)} More.\n"

    updated = mutation_report.with_report_in_doc(doc, old, new)

    assert updated == (
        f"# Testing\n\n{mutation_report.markdown(new['modules'])}\n\nCost: {mutation_report.summary(new)} More.\n"
    )
    assert mutation_report.with_report_in_doc(doc.replace("| a.py", "| b.py"), new, old) is None


def test_the_report_lists_every_module_the_driver_measures_each_at_the_target_score():
    """Every module of handler/ and every module of components/ over 40 lines, as the driver counts them. A
    module added since the last whole run fails here until it is measured:
    `.venv/bin/python -m tools.mutate --sample 10 --seed 0 --merge-report --module components/forwarder.py` (say)."""
    measured = {str(path.relative_to(mutation_report.ROOT)) for path in mutation_report.measured_files()}
    rows = {row["module"]: row for row in REPORT["modules"]}

    assert sorted(measured - set(rows)) == [], "modules docs/mutation-report.json does not list yet"
    assert sorted(set(rows) - measured) == [], "rows of modules the driver no longer measures"
    below = [file for file, row in rows.items() if not mutation_report.passed([row])]
    assert below == [], "modules not run to the end or under 90% of their mutants that can be killed"
    # The three modules issue 20 found under the target in an independent sample.
    assert {"components/completion_notifier.py", "components/reconcile.py", "components/dashboard.py"} <= measured
