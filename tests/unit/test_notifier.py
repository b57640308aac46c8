"""The notifier's environment built from the arguments (components/notifier.py), without a plan."""

import pytest

from batch_array_notify import BatchArrayPipelineArgs
from batch_array_notify.notifier import (
    MAX_FAILED_LOG_GROUPS_CHARS,
    NotifierSettings,
    failed_log_groups_variable,
    log_tail_environment,
)
from batch_array_notify.validation import resolve_args


def test_failed_log_groups_are_listed_once_each_in_the_order_given():
    assert failed_log_groups_variable(["/batch/render", "/aws/batch/job", "/batch/render"]) == (
        "/batch/render,/aws/batch/job"
    )


def test_failed_log_groups_up_to_the_room_in_the_environment_are_accepted_and_one_character_more_is_refused():
    """One line that names the variable, its length, the limit and what to do."""
    group = "/g" * ((MAX_FAILED_LOG_GROUPS_CHARS - 1) // 2)
    fits = [group, "x" * (MAX_FAILED_LOG_GROUPS_CHARS - len(group) - 1)]

    assert len(failed_log_groups_variable(fits)) == MAX_FAILED_LOG_GROUPS_CHARS
    with pytest.raises(ValueError, match="name fewer job log groups") as refused:
        failed_log_groups_variable([*fits[:1], fits[1] + "x"])
    assert str(refused.value) == (
        f"the notifier's FAILED_LOG_GROUPS would be {MAX_FAILED_LOG_GROUPS_CHARS + 1} characters; at most "
        f"{MAX_FAILED_LOG_GROUPS_CHARS} fit beside its other variables in Lambda's 4 KB: name fewer job log groups"
    )


def notifier_settings(**args: object) -> NotifierSettings:
    return resolve_args(BatchArrayPipelineArgs(**args)).notifier  # type: ignore[typeddict-item]


def test_with_log_tails_off_the_notifier_is_told_so_and_nothing_else_about_them():
    """Not the handler's own defaults (3 children): no tails are read, and no log group is named."""
    assert log_tail_environment(notifier_settings(failed_log_children=0), ["/aws/batch/job"]) == {
        "FAILED_LOG_CHILDREN": "0"
    }
