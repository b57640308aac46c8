"""handler/lineage.py: the index map's compact ranges, the documented snippets that read it inside a job
(run for real: shell in `sh`, Python by exec), and the lineage the notifier reads back."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

from batch_array_notify.args import DEFAULTS
from batch_array_notify.handler.chat import chat_message
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
from batch_array_notify.handler.models import JobDetail
from batch_array_notify.handler.report import CompletionReport, build_report, sns_message
from batch_array_notify.handler.scope import Completion
from tests.support import original_indices_by_python, original_indices_by_shell

DOCS = Path(__file__).resolve().parents[2] / "docs"
PARENT = "4c7e2a31-0d5f-4c53-9d0b-5a1f8e2b9c10"


def test_consecutive_indices_become_ranges_in_their_order():
    assert compact_ranges([3, 17, 18, 19, 20, 99]) == "3,17-20,99"
    assert compact_ranges([0, 1, 9999]) == "0-1,9999"
    assert compact_ranges([5]) == "5"
    assert compact_ranges([]) == ""


def test_ranges_expand_back_to_the_same_indices():
    picked = sorted(random.Random(22).sample(range(10_000), 700))

    assert expand_ranges(compact_ranges(picked)) == picked
    assert expand_ranges("3,17-20,99") == [3, 17, 18, 19, 20, 99]
    assert expand_ranges("0-2,5") == [0, 1, 2, 5]  # the first child is index 0


@pytest.mark.parametrize("text", ["5-3", "-1", "a", "1-b"])
def test_anything_but_ranges_is_refused(text):
    with pytest.raises(ValueError, match="not a range of indices"):
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
    scattered = list(range(1, 1200, 3))
    index_map = compact_ranges(scattered)

    assert original_indices_by_python(index_map, len(scattered)) == scattered
    assert original_indices_by_shell(index_map, len(scattered)) == scattered


def test_the_docs_show_both_snippets_as_they_run():
    tools = (DOCS / "tools.md").read_text()

    # "snippet": a script for the job, not a command for a shell here (the documented-commands test skips it).
    assert f"```sh snippet\n{ORIGINAL_INDEX_SH}\n```" in tools
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
        ".venv/bin/batch-array-notify resubmit --job-id a1b2 --region eu-west-1"
    )


# --------------------------------------------------------------------------------------------------
# The second completion: what the notifier says about a resubmission

QUEUE_ARN = "arn:aws:batch:eu-west-1:123456789012:job-queue/render"
RETRY = "9f1c0a77-3b2e-4f55-8c1d-2e7b6a4d0f31"


def retry_detail(*, tags: dict[str, str], environment: list[dict[str, str]], failed: int = 0) -> dict[str, object]:
    """The resubmission's parent as DescribeJobs shows it once its 6 children ran."""
    return {
        "jobId": RETRY,
        "jobName": "render",
        "jobQueue": QUEUE_ARN,
        "jobDefinition": "arn:aws:batch:eu-west-1:123456789012:job-definition/render:3",
        "status": "FAILED" if failed else "SUCCEEDED",
        "arrayProperties": {"size": 6, "statusSummary": {"SUCCEEDED": 6 - failed, "FAILED": failed}},
        "tags": tags,
        "container": {"environment": environment},
    }


def second_completion(**detail: object) -> CompletionReport:
    current = JobDetail.model_validate(retry_detail(**detail))  # type: ignore[arg-type]
    return build_report(Completion(current, "event-2", None), current, [], stage="dev", default_region="eu-west-1")


LINEAGE = f"resubmission of {PARENT}: 6 of 6 failed children now succeeded"


@pytest.mark.parametrize(
    ("tags", "environment"),
    [
        ({RESUBMISSION_OF_TAG: PARENT}, []),
        ({}, [{"name": "AWS_BATCH_JOB_ID", "value": RETRY}, {"name": RESUBMISSION_OF_VARIABLE, "value": PARENT}]),
    ],
    ids=["tag", "environment"],
)
def test_the_second_completion_says_which_job_it_retried_and_how_many_now_succeeded(tags, environment):
    report = second_completion(tags=tags, environment=environment)

    assert report.lineage == LINEAGE
    assert f"\nThis is a {LINEAGE}.\n" in sns_message(report).body
    assert f"This is a `{LINEAGE}`." in chat_message(report)["content"]["description"]
    assert (report.document()["resubmissionOf"], report.document()["resubmitCommand"]) == (PARENT, None)


def test_a_resubmission_that_failed_again_counts_and_offers_the_next_resubmission():
    report = second_completion(tags={RESUBMISSION_OF_TAG: PARENT}, environment=[], failed=2)

    assert report.lineage == f"resubmission of {PARENT}: 4 of 6 failed children now succeeded"
    assert report.document()["resubmitCommand"] == resubmit_command(RETRY, "eu-west-1")
    assert f"\n  {resubmit_command(RETRY, 'eu-west-1')}\n" in sns_message(report).body
    assert chat_message(report)["content"]["nextSteps"][-1].endswith(f"`{resubmit_command(RETRY, 'eu-west-1')}`")


def test_an_ordinary_job_has_no_lineage():
    report = second_completion(tags={"team": "render"}, environment=[])

    assert (report.lineage, report.document()["resubmissionOf"]) == (None, None)
    assert "This is a resubmission" not in sns_message(report).body


def demo_colours(index_map: str, indices: range) -> list[str]:
    """What the default demo job (components/args.py `job_command`) prints for each array index."""
    program, flag, script = DEFAULTS["job_command"]
    loop = f"for n in {' '.join(map(str, indices))}; do AWS_BATCH_JOB_ARRAY_INDEX=$n\n{script}\ndone"
    environment = {"PATH": os.environ["PATH"], INDEX_MAP_VARIABLE: index_map}
    return subprocess.run(
        [program, flag, loop], env=environment, capture_output=True, text=True, check=True
    ).stdout.split()


def test_the_default_demo_job_prints_the_colour_of_the_original_child_in_a_resubmission():
    originals = demo_colours("", range(100))
    resubmitted = demo_colours("3,17-20,99", range(6))

    assert ORIGINAL_INDEX_SH in DEFAULTS["job_command"][2]
    assert resubmitted == [originals[index] for index in (3, 17, 18, 19, 20, 99)]
    assert resubmitted == ["green", "green", "blue", "indigo", "violet", "orange"]
