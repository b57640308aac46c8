"""The runbook sections the component names (components/runbook.py), each by name: every one a heading of
docs/operations.md, and the runbook named as this version's file when the team hosts none."""

import pytest

from batch_array_notify import __version__, runbook
from tests.stack.test_runbook import ROOT, sections


def anchors() -> tuple[str, ...]:
    """Read when a test runs, not when the file is imported: what the module holds then."""
    return (
        runbook.UNDELIVERED_EVENTS,
        runbook.NOTIFIER_FAILED_EVENTS,
        runbook.NOTIFIER_ERRORS,
        runbook.ASYNC_EVENTS_DROPPED,
        runbook.ASYNC_EVENT_AGE,
        runbook.BATCH_CALLS_THROTTLED,
        runbook.RULE_FAILED_INVOCATIONS,
        runbook.DEAD_LETTER_FAILED,
        runbook.IGNORED_EVENTS,
        runbook.QUEUE_BLOCKED,
        runbook.RECONCILED_COMPLETIONS,
        runbook.SWEEP_ERRORS,
        runbook.SWEEP_STOPPED_EARLY,
    )


def test_every_section_the_component_names_is_a_distinct_heading_of_the_runbook():
    named = anchors()

    assert len(set(named)) == len(named)
    assert [anchor for anchor in named if anchor not in sections()] == []


def test_without_a_hosted_runbook_a_section_is_named_in_this_versions_file():
    assert (ROOT / runbook.RUNBOOK_PATH).is_file()
    assert runbook.runbook_url(None, runbook.NOTIFIER_ERRORS) == (
        f"batch-array-notify {__version__} docs/operations.md#notifier-errors"
    )


def test_an_alarm_description_of_cloudwatchs_longest_is_kept_and_one_character_more_is_refused():
    base = "https://example.com/ops.md"
    suffix = len(f". Runbook: {base}#{runbook.NOTIFIER_ERRORS}")
    longest = "x" * (runbook.MAX_ALARM_DESCRIPTION_CHARS - suffix)

    assert len(runbook.alarm_description(longest, runbook.NOTIFIER_ERRORS, base)) == 1024
    with pytest.raises(ValueError, match="alarm description is 1025 characters, over 1024"):
        runbook.alarm_description(longest + "x", runbook.NOTIFIER_ERRORS, base)
