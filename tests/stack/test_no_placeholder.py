"""No placeholder reaches a user: not in a tracked file (docs, examples, code), not in any plan's resources,
and no link to a release that does not exist (a tag of a repository nobody published)."""

import json
import subprocess

import pytest

from tools.program import ROOT, Plan

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
