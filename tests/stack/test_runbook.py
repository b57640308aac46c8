"""docs/operations.md behind every alarm: each alarm of both stages' plans links an existing section, the
alarm table lists exactly the plan's alarms, and the figures the runbook quotes are the code's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from batch_array_notify import runbook
from batch_array_notify.args import DEFAULTS
from batch_array_notify.handler.settings import IDEMPOTENCY_EXPIRY_SECONDS, MAX_RECONCILE_ARRAY_RUNTIME_HOURS
from batch_array_notify.reconcile import (
    GRACE_MARGIN_SECONDS,
    STOPPED_EARLY_PERIODS,
    SWEEP_RETRIES,
    SWEEP_TIMEOUT_SECONDS,
)
from batch_array_notify.reliability import ALARM_PERIOD_SECONDS
from batch_array_notify.testing.program import run_program
from batch_array_notify.validation import MAX_RUNBOOK_URL_CHARS, InvalidArgumentError
from tests.support import ALARM, DASHBOARD, FUNCTION, RULE

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "operations.md"
STAGES = ("dev", "prod", "attach")
DAY = 24 * 3600


def github_anchor(heading: str) -> str:
    """GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def sections() -> list[str]:
    return [github_anchor(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")]


def runbook_anchor(description: str) -> str:
    """The section an alarm's description links, which must end it."""
    match = re.search(r"Runbook: (.+)#([a-z0-9-]+)$", description)
    assert match, f"no runbook section at the end of {description!r}"
    assert match.group(1) == runbook.runbook_url(None)
    return match.group(2)


def test_sections_are_unique_and_every_anchor_the_component_names_is_one():
    anchors = {
        value
        for name, value in vars(runbook).items()
        if name.isupper() and isinstance(value, str) and name not in ("RUNBOOK_PATH",)
    }

    assert len(sections()) == len(set(sections()))
    assert len(anchors) == 13
    assert anchors <= set(sections()), anchors - set(sections())


@pytest.mark.parametrize("stage", STAGES)
def test_every_alarm_describes_itself_and_links_an_existing_section(stage_plans, stage):
    alarms = stage_plans[stage].of_type(ALARM)

    assert len(alarms) == 11
    linked = []
    for alarm in alarms:
        description = alarm.inputs["alarmDescription"]
        assert len(description) <= 1024, alarm.name
        assert len(description.partition(". Runbook:")[0]) > 40, f"{alarm.name} does not say what it means"
        linked.append(runbook_anchor(description))
    assert set(linked) <= set(sections())
    assert len(set(linked)) == len(alarms), "each alarm has its own section"


@pytest.mark.parametrize("stage", STAGES)
def test_the_blocked_queue_alert_links_its_section(stage_plans, stage):
    rule = stage_plans[stage].named(RULE, "batch-array-notify-blocked")

    assert runbook_anchor(rule.inputs["description"]) == runbook.QUEUE_BLOCKED
    assert len(rule.inputs["description"]) <= 512


@pytest.mark.parametrize("stage", STAGES)
def test_the_runbook_table_lists_exactly_the_plans_alarms(stage_plans, stage):
    plan = stage_plans[stage]
    planned = {alarm.name.removeprefix(f"{plan.project}-") for alarm in plan.of_type(ALARM)}
    table = {
        match.group(1)
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("| `")
        for match in [re.match(r"\| `([a-z-]+-alarm)` \| .* \| \[.+\]\(#([a-z0-9-]+)\) \|$", line)]
        if match
    }

    assert table == planned


def test_every_link_inside_the_runbook_resolves():
    targets = re.findall(r"\]\(#([^)]+)\)", RUNBOOK.read_text())

    assert len(targets) > 10
    assert set(targets) <= set(sections()), set(targets) - set(sections())


def test_the_figures_the_runbook_quotes_are_the_codes(stage_plans):
    text = " ".join(RUNBOOK.read_text().split())
    function = stage_plans["dev"].named(FUNCTION, "batch-array-notify-notifier")

    assert f"({DEFAULTS['dead_letter_retention_seconds'] // DAY} days by default)" in text
    assert f"record's lifetime ({IDEMPOTENCY_EXPIRY_SECONDS // DAY} days)" in text
    assert f"one {ALARM_PERIOD_SECONDS // 60}-minute period" in text
    assert f"the {int(function.inputs['timeout'])}-second timeout" in text
    assert DEFAULTS["notifier_max_retries"] == 2
    assert "(twice by default)" in text


def test_the_sweep_figures_the_runbook_quotes_are_the_codes():
    text = " ".join(RUNBOOK.read_text().split())

    assert f"`reconcileEveryMinutes` ({DEFAULTS['reconcile_every_minutes']} by default;" in text
    assert (
        f"`reconcileLookbackHours` ({DEFAULTS['reconcile_lookback_hours']} by default, at least the interval)" in text
    )
    assert f"at most the idempotency record's {IDEMPOTENCY_EXPIRY_SECONDS // DAY} days" in text
    assert f"+ {GRACE_MARGIN_SECONDS} seconds ago may still have" in text
    assert f"(its invoke config sets {SWEEP_RETRIES} retries" in text
    runtime = f"({DEFAULTS['reconcile_max_array_runtime_hours']} by default, 0-{MAX_RECONCILE_ARRAY_RUNTIME_HOURS})"
    assert f"`reconcileMaxArrayRuntimeHours` {runtime}" in text
    assert f"the {SWEEP_TIMEOUT_SECONDS}-second timeout" in text
    assert f"fires when {STOPPED_EARLY_PERIODS} of them in a row" in text
    # The sweep's bounds: tests/unit/test_handler_reconcile.py.


HOSTED = "https://wiki.example.com/ops/batch-array-notify"


@pytest.fixture(scope="module")
def hosted_plan():
    return run_program(ROOT, "dev", {"batch-array-notify:runbookUrl": HOSTED + "/"})


def test_with_runbook_url_every_alarm_the_blocked_rule_and_the_dashboard_link_it(hosted_plan):
    descriptions = [alarm.inputs["alarmDescription"] for alarm in hosted_plan.of_type(ALARM)]
    blocked = hosted_plan.named(RULE, "batch-array-notify-blocked").inputs["description"]
    (dashboard,) = hosted_plan.of_type(DASHBOARD)
    markdown = json.loads(dashboard.inputs["dashboardBody"])["widgets"][0]["properties"]["markdown"]

    assert len(descriptions) == 11
    for description in [*descriptions, blocked]:
        assert re.search(rf"Runbook: {re.escape(HOSTED)}#[a-z0-9-]+$", description), description
    assert f"[runbook]({HOSTED})" in markdown


def test_without_runbook_url_the_dashboard_names_the_runbook_and_links_nothing(stage_plans):
    (dashboard,) = stage_plans["dev"].of_type(DASHBOARD)
    markdown = json.loads(dashboard.inputs["dashboardBody"])["widgets"][0]["properties"]["markdown"]

    assert f"the runbook, {runbook.runbook_url(None)}, a section per alarm" in markdown
    assert "](" not in markdown.split("When one is not:", 1)[1]


@pytest.mark.parametrize(
    "url", ["http://wiki.example.com/ops", "https://wiki.example.com/ops#x", "wiki.example.com", "https://" + "a" * 600]
)
def test_a_runbook_url_that_cannot_take_a_section_is_refused(url):
    with pytest.raises(InvalidArgumentError) as raised:
        run_program(ROOT, "dev", {"batch-array-notify:runbookUrl": url})

    assert raised.value.key == "batch-array-notify:runbookUrl"


def test_the_longest_runbook_url_keeps_every_description_within_cloudwatchs_limit():
    longest = "https://" + "a" * (MAX_RUNBOOK_URL_CHARS - len("https://"))
    plan = run_program(ROOT, "prod", {"batch-array-notify:runbookUrl": longest})

    assert max(len(alarm.inputs["alarmDescription"]) for alarm in plan.of_type(ALARM)) <= 1024
