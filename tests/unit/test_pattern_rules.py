"""testing/pattern_rules.py against the rule syntax EventBridge documents (content filtering and comparison
operators: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
valid patterns covering every operator pass, invalid ones are refused with a reason naming their path.

The expected verdicts come from the documentation, not from moto: moto's PutRule accepts most invalid
patterns (its matcher is lenient), which is why the validator exists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_array_notify.event_pattern import completion_event_pattern
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events
from batch_array_notify.testing.pattern_rules import (
    PatternError,
    check_pattern,
    exists_on_objects,
    object_paths,
    pattern_problems,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "patterns"
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/render"
DEFINITION = "arn:aws:batch:us-east-1:123456789012:job-definition/render-frames"

VALID = {
    "exact strings, numbers, booleans, null, empty string": {
        "source": ["aws.batch"],
        "detail": {"attempts": [1, 2.5], "retry": [True, False], "reason": [None, ""]},
    },
    "prefix": {"time": [{"prefix": "2017-10-02"}]},
    "prefix equals-ignore-case": {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
    "suffix": {"FileName": [{"suffix": ".png"}]},
    "suffix equals-ignore-case": {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
    "anything-but string": {"detail": {"state": [{"anything-but": "initializing"}]}},
    "anything-but number": {"detail": {"x-limit": [{"anything-but": 123}]}},
    "anything-but list of strings": {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
    "anything-but list of numbers": {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}},
    "anything-but prefix": {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
    "anything-but suffix": {"detail": {"FileName": [{"anything-but": {"suffix": ".txt"}}]}},
    "anything-but wildcard": {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]}},
    "anything-but wildcard list": {"detail": {"FilePath": [{"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}]}},
    "anything-but equals-ignore-case": {"detail": {"state": [{"anything-but": {"equals-ignore-case": "Stopped"}}]}},
    "anything-but equals-ignore-case list": {
        "detail": {"state": [{"anything-but": {"equals-ignore-case": ["Stopped", "OverLoaded"]}}]}
    },
    "numeric equals": {"detail": {"c-count": [{"numeric": ["=", 3]}]}},
    "numeric range": {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}], "d-count": [{"numeric": ["<", 10]}]}},
    "cidr v4 and v6": {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}]}},
    "exists": {"detail": {"state": [{"exists": True}], "gone": [{"exists": False}]}},
    "equals-ignore-case": {"detail-type": [{"equals-ignore-case": "ec2 instance state-change notification"}]},
    "wildcard": {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
    "$or": {"detail": {"$or": [{"c-count": [{"numeric": [">", 0, "<=", 5]}]}, {"d-count": [{"numeric": ["<", 10]}]}]}},
    "$or at the top": {"source": ["aws.batch"], "$or": [{"detail-type": ["A"]}, {"detail": {"status": ["FAILED"]}}]},
    "mixed matchers in one leaf": {"detail": {"status": ["FAILED", {"prefix": "SUCC"}, {"anything-but": "RUNNING"}]}},
}

INVALID = {
    "unknown operator": ({"source": [{"bogus": 1}]}, "source[0]: unknown operator 'bogus'"),
    "operator from another product": ({"type": [{"contains": "Normal"}]}, "type[0]: unknown operator 'contains'"),
    "non-array leaf string": ({"source": "aws.batch"}, 'source: "aws.batch" is not an array'),
    "non-array leaf number": ({"detail": {"size": 2}}, "detail.size: 2 is not an array"),
    "empty array": ({"detail": {"status": []}}, "detail.status: an empty array matches nothing"),
    "nested arrays": ({"detail": {"status": [["FAILED"]]}}, "detail.status[0]: arrays do not nest"),
    "two operators in one matcher": (
        {"detail": {"status": [{"prefix": "F", "suffix": "D"}]}},
        "detail.status[0]: a matcher has exactly one operator, got prefix, suffix",
    ),
    "empty matcher": ({"detail": {"status": [{}]}}, "detail.status[0]: a matcher has exactly one operator, got none"),
    "exists with a string": ({"detail": {"x": [{"exists": "true"}]}}, 'exists needs true or false, got "true"'),
    "exists with a number": ({"detail": {"x": [{"exists": 1}]}}, "exists needs true or false, got 1"),
    "numeric odd length": ({"detail": {"n": [{"numeric": [">", 0, "<"]}]}}, "numeric needs [op, number]"),
    "numeric string number": ({"detail": {"n": [{"numeric": [">", "5"]}]}}, "numeric compares numbers only"),
    "numeric unknown operator": ({"detail": {"n": [{"numeric": ["!=", 5]}]}}, "operator must be one of ="),
    "numeric range upside down": (
        {"detail": {"n": [{"numeric": ["<", 5, ">", 0]}]}},
        "a range is a lower bound then an upper bound",
    ),
    "numeric equals in a range": ({"detail": {"n": [{"numeric": ["=", 0, "<", 5]}]}}, "a range is a lower bound"),
    "numeric empty range": ({"detail": {"n": [{"numeric": [">", 5, "<", 5]}]}}, "range is empty: 5 is not below 5"),
    "numeric not a list": ({"detail": {"n": [{"numeric": 5}]}}, "numeric needs [op, number]"),
    "prefix with a number": ({"detail": {"v": [{"prefix": 1}]}}, "prefix needs a string"),
    "prefix ignore-case with a number": (
        {"detail": {"v": [{"prefix": {"equals-ignore-case": 1}}]}},
        "prefix needs a string or",
    ),
    "prefix with an unknown inner operator": ({"detail": {"v": [{"prefix": {"wildcard": "a*"}}]}}, "prefix needs"),
    "suffix with a list": ({"detail": {"v": [{"suffix": [".png"]}]}}, "suffix needs a string"),
    "wildcard with a number": ({"detail": {"v": [{"wildcard": 5}]}}, "wildcard needs a string, got 5"),
    "wildcard with consecutive stars": ({"detail": {"v": [{"wildcard": "a**b"}]}}, "consecutive wildcards"),
    "equals-ignore-case with a number": ({"detail": {"v": [{"equals-ignore-case": 5}]}}, "equals-ignore-case needs"),
    "cidr not a range": ({"detail": {"ip": [{"cidr": "10.0.0.300/24"}]}}, "cidr needs an IP range"),
    "cidr without a prefix length": ({"detail": {"ip": [{"cidr": "10.0.0.1"}]}}, "with a prefix length"),
    "anything-but boolean": ({"detail": {"v": [{"anything-but": True}]}}, "anything-but needs a string, a number"),
    "anything-but null": ({"detail": {"v": [{"anything-but": None}]}}, "anything-but needs"),
    "anything-but empty list": ({"detail": {"v": [{"anything-but": []}]}}, "anything-but needs at least one value"),
    "anything-but mixed list": ({"detail": {"v": [{"anything-but": ["a", 1]}]}}, "not both"),
    "anything-but list with an object": ({"detail": {"v": [{"anything-but": [{"prefix": "a"}]}]}}, "no true/false"),
    "anything-but numeric inside": (
        {"detail": {"v": [{"anything-but": {"numeric": [">", 1]}}]}},
        "anything-but takes one of equals-ignore-case, prefix, suffix, wildcard",
    ),
    "anything-but prefix with a number": (
        {"detail": {"v": [{"anything-but": {"prefix": 1}}]}},
        "anything-but prefix inside it needs a string",
    ),
    "anything-but prefix list": (
        {"detail": {"v": [{"anything-but": {"prefix": ["a", "b"]}}]}},
        "anything-but prefix inside it needs a string",
    ),
    "$or with one alternative": ({"$or": [{"source": ["a"]}]}, "$or: must be an array of at least two"),
    "$or not an array": ({"detail": {"$or": {"a": ["b"]}}}, "detail.$or: must be an array"),
    "$or alternative not an object": ({"$or": [{"source": ["a"]}, ["b"]]}, "$or[1]: each alternative"),
    "$or inside a leaf": ({"detail": {"v": [{"$or": [{"a": ["b"]}, {"c": ["d"]}]}]}}, "$or combines fields"),
    "$or alternative with a bad leaf": (
        {"$or": [{"source": ["a"]}, {"detail": {"n": [{"numeric": [">"]}]}}]},
        "detail.n[0]: numeric",
    ),
    "empty pattern": ({}, "an event pattern must be a non-empty JSON object"),
    "not an object": (["aws.batch"], "an event pattern must be a non-empty JSON object"),
    "empty nested object": ({"detail": {}}, "detail: an empty object matches nothing"),
    "over 2048 characters": (
        {"detail": {"jobQueue": [f"arn:aws:batch:us-east-1:123456789012:job-queue/q{i:03d}" for i in range(50)]}},
        "characters; EventBridge allows 2048",
    ),
}


@pytest.mark.parametrize("pattern", VALID.values(), ids=VALID.keys())
def test_a_pattern_eventbridge_documents_passes(pattern):
    assert pattern_problems(pattern) == []
    assert check_pattern(json.dumps(pattern)) == pattern


@pytest.mark.parametrize(("pattern", "reason"), INVALID.values(), ids=INVALID.keys())
def test_a_pattern_putrule_refuses_is_refused_with_the_reason(pattern, reason):
    problems = pattern_problems(pattern)

    assert len(problems) == 1
    assert reason in problems[0]
    with pytest.raises(PatternError) as refused:
        check_pattern(json.dumps(pattern))
    assert str(refused.value) == problems[0]


def test_every_documented_operator_appears_in_the_valid_table():
    used = json.dumps(list(VALID.values()))
    for operator in ("prefix", "suffix", "anything-but", "numeric", "cidr", "exists", "equals-ignore-case"):
        assert f'"{operator}"' in used
    assert '"wildcard"' in used
    assert '"$or"' in used


def test_every_problem_is_reported_not_just_the_first():
    problems = pattern_problems({"source": "aws.batch", "detail": {"status": [], "v": [{"bogus": 1}]}})

    assert [problem.split(":")[0] for problem in problems] == ["source", "detail.status", "detail.v[0]"]


def test_text_that_is_not_json_is_refused_with_line_and_column():
    with pytest.raises(PatternError, match=r"not valid JSON: Expecting value \(line 1, column 12\)"):
        check_pattern('{"source": }')


@pytest.mark.parametrize("definitions", [None, [DEFINITION]], ids=["any definition", "one definition"])
def test_the_projects_own_completion_pattern_passes(definitions):
    pattern = completion_event_pattern([QUEUE, QUEUE.replace("render", "encode")], definitions)

    assert pattern_problems(pattern) == []
    assert exists_on_objects(pattern, batch_object_paths()) == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda path: path.name)
def test_the_example_patterns_pass(path):
    assert check_pattern(path.read_text())


def batch_object_paths() -> frozenset[str]:
    events = list(array_job_events(ArrayJobSpec(QUEUE, f"{DEFINITION}:1", size=2, compute=Compute.EC2)))
    return object_paths(events)


def test_exists_on_a_field_the_events_carry_as_an_object_is_refused():
    """PutRule accepts this; EventBridge's `exists` tests leaves only, so it would never match."""
    pattern = {"detail": {"arrayProperties": {"statusSummary": [{"exists": True}]}, "container": [{"exists": False}]}}

    problems = exists_on_objects(pattern, batch_object_paths())

    assert [problem.split(":")[0] for problem in problems] == [
        "detail.arrayProperties.statusSummary",
        "detail.container",
    ]
    assert "exists applies to leaves only" in problems[0]


def test_exists_on_objects_looks_inside_or_alternatives():
    pattern = {"$or": [{"source": ["aws.batch"]}, {"detail": {"arrayProperties": [{"exists": True}]}}]}

    assert len(exists_on_objects(pattern, batch_object_paths())) == 1
