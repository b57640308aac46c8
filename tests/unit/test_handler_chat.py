"""handler/chat.py: the chat message is a valid custom notification, within every field's budget even in
the worst case, says what happened and what to do, and is the one docs/chat.md shows."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from batch_array_notify.cli.chat_preview import EXAMPLES, channel_view, example_report, plain
from batch_array_notify.handler.chat import CHAT_REASON_CHARS, LIMITS, chat_message
from batch_array_notify.handler.models import ChildJobDetail
from batch_array_notify.handler.report import MAX_REASON_CHARS, LogTail, build_report
from batch_array_notify.handler.scope import Completion, Origin, decide
from batch_array_notify.handler.settings import MAX_FAILED_LOG_BYTES, MAX_FAILED_LOG_CHILDREN, MAX_FAILED_LOG_LINES
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from tests.chat_schema import CUSTOM_NOTIFICATION_SCHEMA, SOURCED_LIMITS

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = jsonschema.Draft202012Validator(CUSTOM_NOTIFICATION_SCHEMA)
#: SNS refuses messages over 256 KB.
SNS_MAX_MESSAGE_BYTES = 256 * 1024
#: The budgets as docs/chat.md states them: a change to LIMITS must be a change to the docs too.
DOCUMENTED_BUDGETS = {
    "id": (128, 1),
    "title": (150, 1),
    "description": (3000, 1),
    "nextSteps": (300, 5),
    "keywords": (64, 5),
    "threadId": (128, 1),
    "summary": (150, 1),
    "eventType": (100, 1),
    "relatedResources": (1024, 5),
    "additionalContext": (256, 10),
}


#: The largest tail a child can carry: `failedLogLines` at its maximum, `failedLogBytes` at its maximum.
WORST_TAIL = tuple(
    f"```<@here>&{'é' * (MAX_FAILED_LOG_BYTES // MAX_FAILED_LOG_LINES // 2 - 10)}" for _ in range(MAX_FAILED_LOG_LINES)
)


def _errors(message: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(message)]


@pytest.fixture(scope="module")
def worst_case():
    """The largest report the handler can build: 10,000 children all failed, 100 of them in detail (the
    detail maximum), every reason at the report's 500-character clip, every child with a logs link, a
    128-character job name. (Generated as an array of 100, then counted as 10,000: the same message.)"""
    queue = "arn:aws:batch:eu-west-1:123456789012:job-queue/" + "q" * 128
    definition = "arn:aws:batch:eu-west-1:123456789012:job-definition/" + "d" * 128 + ":3"
    spec = ArrayJobSpec(
        queue,
        definition,
        size=100,
        failures=100,
        failures_before_placement=0,
        compute=Compute.EC2,
        job_name="n" * 128,
    )
    events = list(array_job_events(spec))
    completion = decide(events[-1])
    assert isinstance(completion, Completion)
    failed = [
        ChildJobDetail.model_validate(event["detail"]).model_copy(
            update={"status_reason": "r<&>`" * 1000, "container": None}
        )
        for event in events[:-1]
        if event["detail"]["status"] == "FAILED" and ":" in event["detail"]["jobId"]
    ]
    report = build_report(completion, None, failed, stage="s" * 32, default_region="eu-west-1")
    # Every reason is at the report's clip, and every child links its logs (the longest line a child gets).
    children = tuple(
        replace(
            child,
            container_reason="c" * MAX_REASON_CHARS,
            logs_url=f"https://example.com/{'x' * 400}",
            # The first ones carry the largest log tails, of lines that would break out of a code block.
            log_tail=LogTail(WORST_TAIL) if position < MAX_FAILED_LOG_CHILDREN else None,
        )
        for position, child in enumerate(report.failed_children)
    )
    report = replace(
        report,
        failed_children=children,
        status_reason="p" * MAX_REASON_CHARS,
        array_size=10_000,
        succeeded=0,
        failed=10_000,
    )
    assert len(report.failed_children) == 100
    assert all(len(child.status_reason or "") == MAX_REASON_CHARS for child in report.failed_children)
    return report


@pytest.mark.parametrize("example", EXAMPLES, ids=["success", "failure"])
def test_the_examples_are_valid_custom_notifications(example):
    message = chat_message(example_report(*example))

    assert _errors(message) == []


def test_the_worst_case_is_a_valid_custom_notification_within_every_budget(worst_case):
    message = chat_message(worst_case)

    assert _errors(message) == []
    content, metadata = message["content"], message["metadata"]
    assert len(content["description"]) <= LIMITS["description"].chars
    assert len(content["title"]) <= LIMITS["title"].chars
    assert all(len(step) <= LIMITS["nextSteps"].chars for step in content["nextSteps"])
    assert all(len(keyword) <= LIMITS["keywords"].chars for keyword in content["keywords"])
    assert len(metadata["threadId"]) <= LIMITS["threadId"].chars
    assert len(json.dumps(message).encode()) < SNS_MAX_MESSAGE_BYTES


def test_the_worst_case_lists_what_fits_and_counts_the_rest(worst_case):
    description = chat_message(worst_case)["content"]["description"]

    listed = [line for line in description.splitlines() if line.startswith("• index ")]
    assert 0 < len(listed) < 100
    assert description.splitlines()[-1].startswith(f"…and {10_000 - len(listed)} more of 10000 failed children")
    # The console link comes before the children, so no amount of them pushes it out.
    assert f"<{worst_case.job_url}|" in description
    # Each reason is cut for chat; the e-mail report and the completion event keep 500 characters.
    reason = listed[0].split(" · ")[2]
    assert len(plain(reason)) == CHAT_REASON_CHARS


def test_the_budgets_are_the_documented_ones():
    documented = (ROOT / "docs" / "chat.md").read_text()

    assert {field: (limit.chars, limit.items) for field, limit in LIMITS.items()} == DOCUMENTED_BUDGETS
    for field, (chars, items) in DOCUMENTED_BUDGETS.items():
        assert f"| `{field}` | {chars:,} | {items} |" in documented
    assert f"A failed child's reasons are cut to {CHAT_REASON_CHARS} characters in chat" in documented


def test_a_failure_says_what_failed_and_what_to_do():
    report = example_report(2, 1, Compute.EC2)

    message = chat_message(report)

    content = message["content"]
    assert content["title"] == "\u274c [dev] print-color array job FAILED: 2/7 children failed"
    assert "*5 of 7 children succeeded, 2 failed* · duration 1m 31s" in content["description"]
    assert "• index 1 · exit code none · `MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT`" in content["description"]
    assert f"<{report.failed_children[1].logs_url}|logs>" in content["description"]
    assert f"<{report.job_url}|Open the array job in the AWS Batch console>" in content["description"]
    assert content["nextSteps"][0].startswith("Where to look:")
    assert content["nextSteps"][1] == (
        "Resubmit only the failed children once the cause is fixed: `.venv/bin/batch-array-notify resubmit "
        f"--job-id {report.job_id} --region eu-west-1`"
    )
    assert content["keywords"] == ["dev", "print-color-queue", "FAILED"]


def test_updates_about_one_array_job_share_its_thread():
    report = example_report(0, 0, Compute.FARGATE)

    metadata = chat_message(report)["metadata"]

    assert metadata["threadId"] == report.job_id
    assert chat_message(replace(report, status="FAILED"))["metadata"]["threadId"] == report.job_id
    assert chat_message(report)["id"] == f"{report.job_id}:SUCCEEDED"


def test_names_and_reasons_cannot_break_the_markup():
    report = example_report(2, 1, Compute.EC2)
    hostile = replace(
        report,
        job_name="etl` <!channel> *now*\nnext",
        failed_children=(replace(report.failed_children[0], status_reason="a <https://evil.example|click> `x`"),),
    )

    description = chat_message(hostile)["content"]["description"]

    assert "<!channel>" not in description
    assert "<https://evil.example|click>" not in description
    assert "`etl' &lt;!channel&gt; *now* next`" in description
    assert "`a &lt;https://evil.example|click&gt; 'x'`" in description


def test_the_handlers_budgets_are_within_the_documented_limits():
    """The schema's limits are data from their sources (tests/chat_schema.py), not read from the handler."""
    assert {field: limit.chars for field, limit in SOURCED_LIMITS.items()} == {
        "title": 150,
        "description": 3000,
        "eventType": 100,
    }
    for field, limit in SOURCED_LIMITS.items():
        assert LIMITS[field].chars <= limit.chars, field


def test_the_schema_is_live():
    """The schema refuses what the service and the documented limits refuse (so passing means something)."""
    good = chat_message(example_report(0, 0, Compute.FARGATE))
    broken = [
        {**good, "version": "2.0"},
        {**good, "source": "aws.batch"},
        {**good, "content": {**good["content"], "textType": "markdown"}},
        {**good, "content": {**good["content"], "title": "x" * 151}},
        {**good, "content": {**good["content"], "description": "x" * 3001}},
        {**good, "metadata": {**good["metadata"], "eventType": "Batch Array Job Completed"}},
        {**good, "metadata": {**good["metadata"], "additionalContext": {"n": 1}}},
        {**good, "metadata": {**good["metadata"], "threadID": "typo"}},
    ]

    assert all(_errors(message) for message in broken)


@pytest.mark.parametrize("example", EXAMPLES, ids=["success", "failure"])
def test_the_documented_examples_are_what_the_code_produces(example):
    message = chat_message(example_report(*example))

    documentation = (ROOT / "docs" / "chat.md").read_text()
    assert f"```text\n{channel_view(message)}```" in documentation
    assert f"```json\n{json.dumps(message, indent=2, ensure_ascii=False)}\n```" in documentation


def test_how_it_works_shows_the_failure_as_the_channel_does():
    failure = chat_message(example_report(*EXAMPLES[1]))

    assert f"```text\n{channel_view(failure)}```" in (ROOT / "docs" / "how-it-works.md").read_text()


def test_the_count_of_the_unlisted_always_fits(worst_case):
    """Whatever room the last listed child leaves, the closing count still fits in the budget."""
    for pad in range(0, 300, 3):
        children = tuple(
            replace(child, logs_url=f"https://example.com/{'y' * (200 + pad)}") for child in worst_case.failed_children
        )

        description = chat_message(replace(worst_case, failed_children=children))["content"]["description"]

        assert len(description) <= LIMITS["description"].chars, pad
        assert description.splitlines()[-1].startswith("…and "), pad


def _with_job_id(report, length: int):
    return replace(report, job_id="j" * length)


@pytest.mark.parametrize("spare", [0, 1])
def test_a_field_at_its_budget_is_kept_whole_and_one_character_more_is_cut_with_an_ellipsis(spare):
    report = example_report(0, 0, Compute.FARGATE)
    budget = LIMITS["id"].chars
    suffix = ":SUCCEEDED"

    at_budget = chat_message(_with_job_id(report, budget - len(suffix)))["id"]
    over = chat_message(_with_job_id(report, budget - len(suffix) + 1 + spare))["id"]

    assert at_budget == "j" * (budget - len(suffix)) + suffix
    assert len(over) == budget
    assert over == ("j" * (budget - len(suffix) + 1 + spare) + suffix)[: budget - 1] + "…"


def _failed_child_line(report, **changes) -> str:
    child = replace(report.failed_children[0], container_reason=None, logs_url=None, **changes)
    description = chat_message(replace(report, failed_children=(child,)))["content"]["description"]
    (line,) = [line for line in description.splitlines() if line.startswith("• index ")]
    return line


def test_a_reason_at_the_chat_clip_is_kept_whole_and_a_longer_one_is_cut_to_it():
    report = example_report(2, 1, Compute.EC2)

    at_clip = _failed_child_line(report, status_reason="r" * CHAT_REASON_CHARS)
    over = _failed_child_line(report, status_reason="r" * (CHAT_REASON_CHARS + 1))

    assert at_clip.endswith(f"`{'r' * CHAT_REASON_CHARS}`")
    assert over.endswith(f"`{'r' * (CHAT_REASON_CHARS - 1)}…`")


def test_a_child_shows_both_its_reasons_and_an_unknown_index_as_a_question_mark():
    report = example_report(2, 1, Compute.EC2)
    child = replace(report.failed_children[0], index=None, status_reason="Essential container exited")
    child = replace(child, container_reason="OutOfMemoryError: Container killed", logs_url=None)

    description = chat_message(replace(report, failed_children=(child,)))["content"]["description"]

    assert "• index ? · exit code " in description
    assert "`Essential container exited; OutOfMemoryError: Container killed`" in description


def test_children_the_counts_do_not_yet_include_are_said_to_be_not_yet_counted():
    report = replace(example_report(0, 0, Compute.FARGATE), succeeded=4, failed=0)

    description = chat_message(report)["content"]["description"]

    assert description.startswith("*4 of 7 children succeeded, 0 failed* (3 not yet counted) · duration ")


def test_the_parents_status_reason_is_shown():
    report = replace(example_report(2, 1, Compute.EC2), status_reason="Array Child Job failed")

    description = chat_message(report)["content"]["description"]

    assert "\nStatus reason: `Array Child Job failed`\n" in description


def test_children_are_listed_in_order_until_one_does_not_fit_and_the_rest_are_counted():
    """A child whose line does not fit ends the list: a shorter one after it is not listed in its place,
    so the list is always the first children by index and the count says how many follow."""
    report = example_report(2, 1, Compute.EC2)
    first = replace(report.failed_children[0], index=0, status_reason="short", logs_url=None)
    huge = replace(first, index=1, status_reason="h" * 3000, logs_url="https://example.com/" + "l" * 2900)
    last = replace(first, index=2)
    report = replace(report, failed=3, failed_children=(first, huge, last))

    description = chat_message(report)["content"]["description"]

    listed = [line for line in description.splitlines() if line.startswith("• index ")]
    assert [line.split(" · ")[0] for line in listed] == ["• index 0"]
    assert description.splitlines()[-1].startswith("…and 2 more of 3 failed children")


def test_the_description_lists_children_up_to_the_last_character_of_its_budget(worst_case):
    """No room is wasted and none overrun: whatever the length of the first child's line, the listed
    children and the count of the rest fit the budget, and the next child's line would not."""
    budget = LIMITS["description"].chars
    # 9,999 failed: the count of the rest has as many digits as the total, so the budget can be met exactly.
    # Without log tails, so that every child's entry is one line of the same length (tails: the tests above).
    untailed = tuple(replace(child, log_tail=None) for child in worst_case.failed_children)
    report = replace(worst_case, succeeded=1, failed=9_999, failed_children=untailed)
    first, *others = report.failed_children
    # Every child's line is the first one's as it is unpadded, but for the index.
    unpadded = chat_message(report)["content"]["description"].splitlines()
    (first_line,) = [line for line in unpadded if line.startswith("• index 0 ")]
    lengths = set()
    for pad in range(700):
        children = (replace(first, logs_url=f"https://example.com/{'y' * pad}"), *others)
        description = chat_message(replace(report, failed_children=children))["content"]["description"]
        listed = [line for line in description.splitlines() if line.startswith("• index ")]
        shown = len(listed)
        following = first_line.replace("• index 0 ", f"• index {shown} ")

        assert len(description) <= budget, pad
        assert len(description) + len(following) + 1 > budget, pad
        lengths.add(len(description))
    assert budget in lengths, "no length of the first line filled the budget exactly"


def test_a_member_account_s_message_names_its_account_and_region_and_threads_by_account():
    own = example_report(2, 1, Compute.EC2)
    member = replace(own, origin=Origin("111111111111", "eu-central-1"))

    message = chat_message(member)

    assert _errors(message) == []
    content, metadata = message["content"], message["metadata"]
    assert "Account `111111111111`, region `eu-central-1`" in content["description"]
    assert content["keywords"] == ["dev", "print-color-queue", "FAILED", "111111111111"]
    assert content["nextSteps"][1].startswith("Resubmit only the failed children once the cause is fixed (with ")
    assert metadata["threadId"] == f"111111111111/eu-central-1/{own.job_id}"
    assert message["id"] == f"111111111111/eu-central-1/{own.job_id}:FAILED"
    assert metadata["additionalContext"]["account"] == "111111111111"
    assert metadata["additionalContext"]["region"] == "eu-central-1"
    assert "Account" not in chat_message(own)["content"]["description"]
