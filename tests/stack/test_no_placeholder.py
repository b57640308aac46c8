"""No placeholder reaches a user: not in a tracked file (docs, examples, code), not in any plan's resources,
and no link to a release that does not exist (a tag of a repository nobody published)."""

import json
import re
import subprocess

import pytest

import batch_array_notify
from batch_array_notify.testing.program import ROOT, Plan

#: Spelled apart, so this file does not contain what it looks for.
OWNER = "<" + "owner>"
STAGES = ("dev", "prod", "attach")


def tracked_text_files() -> list[str]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [name for name in names if not name.endswith((".png", ".json")) or name.startswith("docs/api")]


def test_no_tracked_file_holds_the_owner_placeholder():
    files = tracked_text_files()

    assert len(files) > 100
    assert [name for name in files if OWNER in (ROOT / name).read_text(errors="replace")] == []


@pytest.mark.parametrize("stage", STAGES)
def test_no_planned_resource_holds_a_placeholder_or_a_repository_link(stage_plans, stage):
    plan: Plan = stage_plans[stage]
    text = json.dumps([resource.inputs for resource in plan.resources])

    assert OWNER not in text
    # Without runbookUrl, nothing links anywhere: the runbook is named, not guessed at.
    assert "github.com" not in text
    assert "docs/operations.md#" in text


def test_every_version_the_docs_name_for_the_wheel_or_the_runbook_is_this_one():
    """No release that does not exist: the wheel `make wheel` builds and the runbook alarms name are of
    this version."""
    files = [name for name in tracked_text_files() if name.endswith((".md", ".txt", ".yaml"))]
    named = {
        (name, version)
        for name in files
        for version in re.findall(
            r"batch_array_notify-(\d[\w.]*)-py3|batch-array-notify (\d+\.\d+\.\d+) docs/",
            (ROOT / name).read_text(),
        )
    }

    assert len(named) >= 4
    assert {version for _, pair in named for version in pair if version} == {batch_array_notify.__version__}
