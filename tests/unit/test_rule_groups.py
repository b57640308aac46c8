"""The completion pattern for several queues, and how queues are shared out over rules when one pattern
cannot hold them all (components/event_pattern.py, pure)."""

import json
from pathlib import Path

import pytest

from batch_array_notify.completion_bus import completion_event_pattern as completion_bus_pattern
from batch_array_notify.event_pattern import (
    LONGEST_JOB_DEFINITION_ARN_PREFIX,
    LONGEST_JOB_QUEUE_ARN,
    MAX_PATTERN_CHARS,
    completion_event_pattern,
    completion_rule_queue_groups,
    member_completion_event_pattern,
    member_rule_groups,
    queue_blocked_event_pattern,
)
from batch_array_notify.notifier import MAX_JOB_QUEUE_ARNS_CHARS, job_queue_arns_variable
from batch_array_notify.validation import JOB_DEFINITION_ARN_PREFIX, JOB_QUEUE_ARN

ACCOUNT = "arn:aws:batch:eu-west-1:111122223333"
RENDER, ENCODE = f"{ACCOUNT}:job-queue/render", f"{ACCOUNT}:job-queue/encode"
FRAMES, AUDIO = f"{ACCOUNT}:job-definition/frames", f"{ACCOUNT}:job-definition/audio"


def chars(pattern: dict) -> int:
    return len(json.dumps(pattern))


def test_several_queues_and_definitions_are_listed_in_one_pattern():
    detail = completion_event_pattern([RENDER, ENCODE], [FRAMES, AUDIO])["detail"]

    assert detail["jobQueue"] == [RENDER, ENCODE]
    assert detail["jobDefinition"] == [{"prefix": f"{FRAMES}:"}, {"prefix": f"{AUDIO}:"}]


def test_no_definitions_means_any_job_definition():
    assert "jobDefinition" not in completion_event_pattern([RENDER], None)["detail"]


@pytest.mark.parametrize(
    ("queues", "definitions", "message"),
    [
        ([], None, "at least one job-queue ARN"),
        ([RENDER, RENDER], None, "names a queue twice"),
        ([RENDER], [], "or be None for any"),
        ([RENDER], [f"{FRAMES}:2"], "without its revision"),
    ],
)
def test_unusable_lists_are_refused(queues, definitions, message):
    with pytest.raises(ValueError, match=message):
        completion_event_pattern(queues, definitions)


def test_queues_that_fit_share_one_rule_in_their_order():
    queues = [f"{ACCOUNT}:job-queue/q{index}" for index in range(20)]

    assert completion_rule_queue_groups(queues, [FRAMES]) == [list(range(20))]


#: Definitions as planned (None: not known yet), and ARNs of the same lengths as they will be counted.
LONGEST_TWO = [f"{LONGEST_JOB_DEFINITION_ARN_PREFIX[:-1]}{n}" for n in range(2)]


@pytest.mark.parametrize(
    ("definitions", "known_definitions"), [(None, None), ([FRAMES], [FRAMES]), ([None, None], LONGEST_TWO)]
)
def test_each_rule_is_as_full_as_the_limit_allows_and_never_over(definitions, known_definitions):
    queues = [f"{ACCOUNT}:job-queue/{'q' * 100}{index:03d}" for index in range(40)]

    groups = completion_rule_queue_groups(queues, definitions)

    assert [index for group in groups for index in group] == list(range(40))
    for group, following in zip(groups, [*groups[1:], None], strict=True):
        assert chars(completion_event_pattern([queues[i] for i in group], known_definitions)) <= MAX_PATTERN_CHARS
        if following is not None:
            with pytest.raises(ValueError, match="EventBridge allows 2048"):
                completion_event_pattern([queues[i] for i in [*group, following[0]]], known_definitions)


def test_a_queue_not_known_while_planning_counts_as_the_longest_possible():
    known = completion_rule_queue_groups([RENDER] * 1 + [f"{ACCOUNT}:job-queue/q{n}" for n in range(11)], None)
    unknown = completion_rule_queue_groups([None] * 12, None)

    assert len(known) == 1
    assert len(unknown) == 2
    longest = [f"{LONGEST_JOB_QUEUE_ARN[:-2]}{n:02d}" for n in range(12)]
    assert [len(group) for group in unknown] == [len(group) for group in completion_rule_queue_groups(longest, None)]


def test_the_stand_ins_are_as_long_as_any_arn_the_arguments_accept():
    assert JOB_QUEUE_ARN.match(LONGEST_JOB_QUEUE_ARN)
    assert JOB_DEFINITION_ARN_PREFIX.match(LONGEST_JOB_DEFINITION_ARN_PREFIX)
    assert LONGEST_JOB_QUEUE_ARN.endswith("/" + "q" * 128)
    assert LONGEST_JOB_DEFINITION_ARN_PREFIX.endswith("/" + "d" * 128)
    assert LONGEST_JOB_QUEUE_ARN.startswith("arn:aws-us-gov:batch:")


def test_definitions_that_leave_no_room_for_a_queue_cannot_be_expressed():
    definitions = [f"{ACCOUNT}:job-definition/{n:02d}{'d' * 120}" for n in range(12)]

    with pytest.raises(ValueError, match="scope to fewer job definitions"):
        completion_rule_queue_groups([RENDER], definitions)


def test_the_blocked_and_downstream_patterns_list_the_queues_in_less_room_than_the_completion_pattern():
    """Why the completion rules' groups serve the blocked-queue and downstream rules too."""
    queues = [f"{LONGEST_JOB_QUEUE_ARN[:-1]}{index}" for index in range(5)]
    shortest_completion = chars(completion_event_pattern(queues, None, ["FAILED"]))

    assert queue_blocked_event_pattern(queues)["detail"] == {"jobQueue": queues}
    assert completion_bus_pattern(queues)["detail"] == {"jobQueueArn": queues}
    assert chars(queue_blocked_event_pattern(queues)) < shortest_completion
    assert chars(completion_bus_pattern(queues)) < shortest_completion


def test_the_figures_docs_embedding_gives_are_the_codes():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "embedding.md").read_text()
    typical = [f"arn:aws:batch:us-east-1:123456789012:job-queue/render-q-{index:03d}" for index in range(60)]
    fits_in_environment = MAX_JOB_QUEUE_ARNS_CHARS // (len(typical[0]) + 1)

    assert len(typical[0]) == 59
    assert len(completion_rule_queue_groups(typical, None)[0]) == 29
    assert len(completion_rule_queue_groups([None] * 20, None)[0]) == 9
    assert len(job_queue_arns_variable(typical[:fits_in_environment])) <= MAX_JOB_QUEUE_ARNS_CHARS
    with pytest.raises(ValueError, match="split the queues over two notifiers"):
        job_queue_arns_variable(typical[: fits_in_environment + 1])
    flat = " ".join(docs.split())
    assert (
        "With 59-character ARNs (a 12-character queue name in us-east-1) 29 queues share a rule; with Outputs, 9."
        in flat
    )
    assert f"{MAX_JOB_QUEUE_ARNS_CHARS:,} characters" in flat
    assert f"{fits_in_environment} such queues fit" in flat


def test_a_rule_takes_queues_up_to_the_last_character_of_the_pattern_limit():
    """Two queues whose pattern is exactly the limit share one rule; one character more takes two rules."""
    first = f"{ACCOUNT}:job-queue/first"
    filler = MAX_PATTERN_CHARS - chars(completion_event_pattern([first, f"{ACCOUNT}:job-queue/"], None))
    second = f"{ACCOUNT}:job-queue/{'s' * filler}"
    assert chars(completion_event_pattern([first, second], None)) == MAX_PATTERN_CHARS

    assert completion_rule_queue_groups([first, second], None) == [[0, 1]]
    assert completion_rule_queue_groups([first, f"{second}s"], None) == [[0], [1]]


def test_a_later_queue_too_long_for_a_rule_of_its_own_is_refused_not_given_one():
    """The definitions leave room for a short queue but not for a long one: the long one cannot be
    expressed, even though the rule before it holds queues."""
    definitions = [f"{ACCOUNT}:job-definition/{n:02d}{'d' * 120}" for n in range(9)]
    short = f"{ACCOUNT}:job-queue/q"
    room = MAX_PATTERN_CHARS - chars(completion_event_pattern([short], definitions))
    long = f"{short}{'q' * (room + 1)}"
    assert completion_rule_queue_groups([short], definitions) == [[0]]

    with pytest.raises(ValueError, match="scope to fewer job definitions"):
        completion_rule_queue_groups([short, long], definitions)


def test_members_are_shared_over_intake_rules_each_within_the_limit_each_once():
    accounts = [f"{n:012d}" for n in range(300)]
    queues = [f"arn:aws:batch:eu-west-1:{n % 7:012d}:job-queue/{'q' * 100}-{n}" for n in range(40)]

    groups = member_rule_groups(accounts, queues)

    any_queue = [group for group in groups if group[1] is None]
    listed = [group for group in groups if group[1] is not None]
    assert len(any_queue) > 1
    assert len(listed) > 1
    assert [account for group, _ in any_queue for account in group] == accounts
    assert [queue for _, group in listed for queue in group or []] == queues
    for group_accounts, group_queues in groups:
        pattern = member_completion_event_pattern(group_accounts, group_queues)
        assert len(json.dumps(pattern)) <= MAX_PATTERN_CHARS
        if group_queues is not None:
            assert pattern["account"] == list(dict.fromkeys(arn.split(":")[4] for arn in group_queues))
