"""The completion pattern as a pure function: shape, scoping, limits and input errors."""

import json

import pytest

from batch_array_notify.event_pattern import (
    MAX_PATTERN_CHARS,
    completion_event_pattern,
    job_definition_revision_prefix,
    queue_blocked_event_pattern,
)

QUEUE = "arn:aws:batch:eu-west-1:111122223333:job-queue/render"
DEFINITION = "arn:aws:batch:eu-west-1:111122223333:job-definition/print-color"


def test_pattern_pins_source_detail_type_queue_and_terminal_statuses():
    pattern = completion_event_pattern(QUEUE, DEFINITION)

    assert pattern["source"] == ["aws.batch"]
    assert pattern["detail-type"] == ["Batch Job State Change"]
    assert pattern["detail"]["jobQueue"] == [QUEUE]
    assert pattern["detail"]["status"] == ["SUCCEEDED", "FAILED"]


def test_parent_is_recognised_by_leaf_fields_not_by_container_instance():
    detail = completion_event_pattern(QUEUE, DEFINITION)["detail"]

    assert detail["arrayProperties"] == {"size": [{"exists": True}], "index": [{"exists": False}]}
    # The blog's discriminator is absent on Fargate, EKS and multi-container jobs; we must not rely on it.
    assert "container" not in detail


def test_job_definition_matches_every_revision_but_no_longer_names():
    detail = completion_event_pattern(QUEUE, DEFINITION)["detail"]

    assert detail["jobDefinition"] == [{"prefix": f"{DEFINITION}:"}]
    prefix = detail["jobDefinition"][0]["prefix"]
    assert f"{DEFINITION}:7".startswith(prefix)
    assert not f"{DEFINITION}-v2:1".startswith(prefix)


def test_statuses_can_be_narrowed_and_are_deduplicated_in_order():
    assert completion_event_pattern(QUEUE, DEFINITION, ["FAILED"])["detail"]["status"] == ["FAILED"]
    assert completion_event_pattern(QUEUE, DEFINITION, ["FAILED", "SUCCEEDED", "FAILED"])["detail"]["status"] == [
        "FAILED",
        "SUCCEEDED",
    ]


@pytest.mark.parametrize(
    ("statuses", "message"),
    [([], "at least one"), (["RUNNING"], "not terminal"), (["SUCCEEDED", "PENDING"], "PENDING")],
)
def test_non_terminal_or_empty_statuses_are_rejected(statuses, message):
    with pytest.raises(ValueError, match=message):
        completion_event_pattern(QUEUE, DEFINITION, statuses)


@pytest.mark.parametrize("bad_prefix", ["", f"{DEFINITION}:", f"{DEFINITION}:3", "print-color"])
def test_definition_prefix_must_be_an_arn_without_revision(bad_prefix):
    with pytest.raises(ValueError, match="without its revision"):
        job_definition_revision_prefix(bad_prefix)


def test_empty_queue_is_rejected():
    with pytest.raises(ValueError, match="job_queue_arn"):
        completion_event_pattern("", DEFINITION)


def test_rendered_pattern_fits_eventbridge_limit_with_realistic_arns():
    long_queue = f"arn:aws:batch:ap-southeast-2:111122223333:job-queue/{'q' * 120}"
    long_definition = f"arn:aws:batch:ap-southeast-2:111122223333:job-definition/{'d' * 120}"

    rendered = json.dumps(completion_event_pattern(long_queue, long_definition))

    assert len(rendered) < MAX_PATTERN_CHARS


def test_pattern_over_the_limit_raises_naming_the_limit():
    with pytest.raises(ValueError, match="2048"):
        completion_event_pattern("q" * MAX_PATTERN_CHARS, DEFINITION)


def test_queue_blocked_pattern_is_scoped_to_the_queue():
    assert queue_blocked_event_pattern(QUEUE) == {
        "source": ["aws.batch"],
        "detail-type": ["Batch Job Queue Blocked"],
        "detail": {"jobQueue": [QUEUE]},
    }


def test_a_pattern_of_exactly_2048_characters_is_allowed_and_one_more_is_not():
    def rendered_length(queue: str) -> int:
        return len(json.dumps(completion_event_pattern(queue, DEFINITION)))

    filler = 2048 - rendered_length("q")
    assert rendered_length("q" * (1 + filler)) == 2048
    too_long = r"^the completion pattern for 1 queue\(s\) is 2049 characters; EventBridge allows 2048$"
    with pytest.raises(ValueError, match=too_long):
        completion_event_pattern("q" * (2 + filler), DEFINITION)


def test_input_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"^job_queue_arns must name at least one job-queue ARN, got ''$"):
        queue_blocked_event_pattern("")
    with pytest.raises(ValueError, match=r"^statuses must name at least one of \['SUCCEEDED', 'FAILED'\]$"):
        completion_event_pattern(QUEUE, DEFINITION, [])
    with pytest.raises(
        ValueError, match=r"^statuses \['RUNNING'\] are not terminal; allowed: \['SUCCEEDED', 'FAILED'\]$"
    ):
        completion_event_pattern(QUEUE, DEFINITION, ["RUNNING", "FAILED"])
    with pytest.raises(
        ValueError, match=r"^job_definition_arn_prefix must be a job-definition ARN without its revision"
    ):
        job_definition_revision_prefix(f"{DEFINITION}:3")
