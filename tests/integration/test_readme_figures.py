"""The README's rule comparison is what `make compare` prints today.

The README shows four rows of `batch-array-notify compare-rules`' table; this recomputes exactly those rows with the
tool's own `table()` (narrowed to one rule and one scenario at a time), rather than the whole table, which
costs twelve rehearsals."""

from pathlib import Path

import pytest

from batch_array_notify.cli import compare_rules
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rehearsal_world import StackTarget

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SIZE, FAILURES = 7, 2


def readme_comparison() -> tuple[list[str], list[str]]:
    """The table's two header lines and its rows, as the README has them."""
    lines = README[README.index("| rule | array job |") :].split("\n\n", 1)[0].splitlines()
    return lines[:2], lines[2:]


@pytest.fixture(scope="module")
def dev_target(stage_plans: dict[str, Plan]) -> StackTarget:
    return StackTarget.from_plan(stage_plans["dev"])


def test_the_readme_shows_rows_of_each_rule():
    _, rows = readme_comparison()

    assert {row.split(" | ")[0].removeprefix("| ") for row in rows} == {rule.label for rule in compare_rules.RULES}


@pytest.mark.parametrize("row", readme_comparison()[1])
def test_each_comparison_row_of_the_readme_is_what_the_tool_computes(row, dev_target, monkeypatch):
    rule_label, scenario_label = row.removeprefix("| ").split(" | ")[:2]
    (rule,) = [rule for rule in compare_rules.RULES if rule.label == rule_label]
    (scenario,) = [pair for pair in compare_rules.scenarios(SIZE, FAILURES) if pair[0] == scenario_label]
    monkeypatch.setattr(compare_rules, "RULES", (rule,))
    monkeypatch.setattr(compare_rules, "scenarios", lambda size, failures: [scenario])

    computed = compare_rules.table(dev_target, SIZE, FAILURES).splitlines()

    assert computed == [*readme_comparison()[0], row]
