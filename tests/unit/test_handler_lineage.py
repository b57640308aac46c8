"""handler/lineage.py: the index map's compact ranges, the documented snippets that read it inside a job
(run for real: shell in `sh`, Python by exec), and the lineage the notifier reads back."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from batch_array_notify.handler.lineage import (
    INDEX_MAP_VARIABLE,
    ORIGINAL_INDEX_PY,
    ORIGINAL_INDEX_SH,
    RESUBMISSION_OF_TAG,
    RESUBMISSION_OF_VARIABLE,
    compact_ranges,
    expand_ranges,
    resubmission_of,
    resubmit_command,
)
from tests.support import original_indices_by_python, original_indices_by_shell

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_consecutive_indices_become_ranges_in_their_order():
    assert compact_ranges([3, 17, 18, 19, 20, 99]) == "3,17-20,99"
    assert compact_ranges([0, 1, 9999]) == "0-1,9999"
    assert compact_ranges([5]) == "5"
    assert compact_ranges([]) == ""


def test_ranges_expand_back_to_the_same_indices():
    picked = sorted(random.Random(22).sample(range(10_000), 700))

    assert expand_ranges(compact_ranges(picked)) == picked
    assert expand_ranges("3,17-20,99") == [3, 17, 18, 19, 20, 99]


@pytest.mark.parametrize("text", ["5-3", "-1", "a", "1-b"])
def test_anything_but_ranges_is_refused(text):
    with pytest.raises(ValueError):
        expand_ranges(text)


#: Each map with the original indices its children must compute, child 0 first.
MAPS = {
    "3,17-20,99": [3, 17, 18, 19, 20, 99],
    "0,17-20,9999": [0, 17, 18, 19, 20, 9999],
    "0-1,9998-9999": [0, 1, 9998, 9999],
}


@pytest.mark.parametrize(("index_map", "expected"), sorted(MAPS.items()))
@pytest.mark.parametrize("run", [original_indices_by_shell, original_indices_by_python])
def test_the_snippet_gives_every_child_its_original_index(run, index_map, expected):
    assert run(index_map, len(expected)) == expected


@pytest.mark.parametrize("run", [original_indices_by_shell, original_indices_by_python])
def test_a_plain_job_without_an_array_index_is_its_one_original_child(run):
    assert run("4711", 1, array=False) == [4711]


@pytest.mark.parametrize("run", [original_indices_by_shell, original_indices_by_python])
def test_without_a_map_the_index_is_the_jobs_own(run):
    assert run("", 3) == [0, 1, 2]


def test_a_scattered_map_of_every_third_child_reads_back_exactly():
    scattered = list(range(1, 3000, 3))
    index_map = compact_ranges(scattered)

    assert original_indices_by_python(index_map, len(scattered)) == scattered
    assert original_indices_by_shell(index_map, len(scattered)) == scattered


def test_the_docs_show_both_snippets_as_they_run():
    tools = (DOCS / "tools.md").read_text()

    assert f"```sh\n{ORIGINAL_INDEX_SH}\n```" in tools
    assert f"```python\n{ORIGINAL_INDEX_PY}\n```" in tools
    assert INDEX_MAP_VARIABLE in ORIGINAL_INDEX_SH
    assert INDEX_MAP_VARIABLE in ORIGINAL_INDEX_PY


def test_lineage_comes_from_the_tag_else_from_the_environment():
    environment = [{"name": "OTHER", "value": "x"}, {"name": RESUBMISSION_OF_VARIABLE, "value": "from-env"}]

    assert resubmission_of({RESUBMISSION_OF_TAG: "from-tag"}, environment) == "from-tag"
    assert resubmission_of({}, environment) == "from-env"
    assert resubmission_of({"team": "x"}, [{"name": "OTHER", "value": "x"}]) is None
    assert resubmission_of({}, [{"name": RESUBMISSION_OF_VARIABLE, "value": ""}]) is None


def test_the_resubmit_command_runs_from_a_checkout_as_printed():
    assert resubmit_command("a1b2", "eu-west-1") == (
        ".venv/bin/python -m tools.resubmit --job-id a1b2 --region eu-west-1"
    )
