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
