"""EventBridge event patterns checked as PutRule checks them, with the reason, before anything runs.

moto's matcher is lenient: `{"source": [{"bogus": 1}]}` is accepted there and matches every event, so a
rehearsal of it would report nonsense. `pattern_problems` refuses what EventBridge's rule syntax refuses
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html): unknown
operators, leaves that are not arrays, empty arrays, operators given the wrong kind of value, misused
`anything-but`, `numeric` and `$or`, and patterns over the 2048-character limit. Every problem names its
path in the pattern (`detail.status[0]`). Pure: no AWS, no moto.

`exists_on_objects` adds one check PutRule cannot make, because it needs the events: `exists` matches
leaves only, so `exists` on a field that is an object in the events (`detail.arrayProperties`) is
accepted by PutRule but never matches. Given sample events, the rehearsal refuses that too.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from batch_array_notify.event_pattern import MAX_PATTERN_CHARS

OPERATORS: Final = ("anything-but", "cidr", "equals-ignore-case", "exists", "numeric", "prefix", "suffix", "wildcard")
ANYTHING_BUT_OPERATORS: Final = ("equals-ignore-case", "prefix", "suffix", "wildcard")
LOWER_BOUNDS: Final = (">", ">=")
UPPER_BOUNDS: Final = ("<", "<=")
OR: Final = "$or"


class PatternError(ValueError):
    """A pattern EventBridge would refuse (or that could never match); the message says where and why."""


def check_pattern(text: str) -> dict[str, Any]:
    """Parse `text` as an event pattern; PatternError with every problem when EventBridge would refuse it."""
    try:
        pattern = json.loads(text)
    except json.JSONDecodeError as error:
        raise PatternError(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    problems = pattern_problems(pattern)
    if problems:
        raise PatternError("; ".join(problems))
    checked: dict[str, Any] = pattern
    return checked


def pattern_problems(pattern: Any) -> list[str]:
    """Everything PutRule would refuse in `pattern` (already parsed JSON), each naming its path."""
    if not isinstance(pattern, dict) or not pattern:
        return ["an event pattern must be a non-empty JSON object"]
    problems = list(_object_problems(pattern, ""))
    length = len(json.dumps(pattern))
    if length > MAX_PATTERN_CHARS:
        problems.append(f"the pattern is {length} characters; EventBridge allows {MAX_PATTERN_CHARS}")
    return problems


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object_problems(node: Mapping[str, Any], path: str) -> Iterator[str]:
    for key, value in node.items():
        where = _join(path, key)
        if key == OR:
            yield from _or_problems(value, path)
        elif isinstance(value, dict):
            if not value:
                yield f"{where}: an empty object matches nothing; give fields or leave it out"
            yield from _object_problems(value, where)
        elif isinstance(value, list):
            yield from _leaf_problems(value, where)
        else:
            yield (
                f"{where}: {json.dumps(value)} is not an array; a leaf lists the values it matches, "
                f"e.g. [{json.dumps(value)}]"
            )


def _or_problems(alternatives: Any, path: str) -> Iterator[str]:
    where = _join(path, OR)
    if not isinstance(alternatives, list) or len(alternatives) < 2:
        yield f"{where}: must be an array of at least two pattern objects"
        return
    for index, alternative in enumerate(alternatives):
        if not isinstance(alternative, dict) or not alternative:
            yield f"{where}[{index}]: each alternative must be a non-empty pattern object"
        else:
            yield from _object_problems(alternative, path)


def _leaf_problems(values: Sequence[Any], path: str) -> Iterator[str]:
    if not values:
        yield f"{path}: an empty array matches nothing; EventBridge refuses it"
    for index, value in enumerate(values):
        where = f"{path}[{index}]"
        if isinstance(value, list):
            yield f"{where}: arrays do not nest; list the values in one array"
        elif isinstance(value, dict):
            yield from _operator_problems(value, where)


def _operator_problems(matcher: Mapping[str, Any], where: str) -> Iterator[str]:
    if len(matcher) != 1:
        keys = ", ".join(matcher) or "none"
        yield f"{where}: a matcher has exactly one operator, got {keys}"
        return
    ((operator, value),) = matcher.items()
    if operator == OR:
        yield f"{where}: $or combines fields of an object, not values of a leaf (the values of an array already OR)"
    elif operator not in OPERATORS:
        yield f"{where}: unknown operator {operator!r}; EventBridge knows {', '.join(OPERATORS)}"
    else:
        problem = OPERATOR_CHECKS[operator](value)
        if problem:
            yield f"{where}: {operator} {problem}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _string_or_ignore_case(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if (
        isinstance(value, dict)
        and list(value) == ["equals-ignore-case"]
        and isinstance(value["equals-ignore-case"], str)
    ):
        return None
    return f'needs a string or {{"equals-ignore-case": string}}, got {json.dumps(value)}'


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"needs a string, got {json.dumps(value)}"


def _wildcard(value: Any) -> str | None:
    if not isinstance(value, str):
        return _string(value)
    if "**" in value:
        return f"{json.dumps(value)} has consecutive wildcards, which EventBridge refuses"
    return None


def _exists(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"needs true or false, got {json.dumps(value)}"


def _cidr(value: Any) -> str | None:
    if not isinstance(value, str):
        return _string(value)
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"needs an IP range such as 10.0.0.0/24, got {json.dumps(value)}"
    return None if "/" in value else f"needs an IP range with a prefix length such as {value}/32"


def _numeric(value: Any) -> str | None:
    shape = 'needs [op, number] or [">"|">=", low, "<"|"<=", high]'
    if not isinstance(value, list) or len(value) not in (2, 4):
        return f"{shape}, got {json.dumps(value)}"
    operators, numbers = value[0::2], value[1::2]
    if not all(_is_number(number) for number in numbers):
        return f"compares numbers only, got {json.dumps(value)}"
    if len(value) == 2:
        known = ("=", *LOWER_BOUNDS, *UPPER_BOUNDS)
        return None if operators[0] in known else f"operator must be one of {', '.join(known)}, got {operators[0]!r}"
    if operators[0] not in LOWER_BOUNDS or operators[1] not in UPPER_BOUNDS:
        return f"{shape}: a range is a lower bound then an upper bound, got {json.dumps(value)}"
    if numbers[0] >= numbers[1]:
        return f"range is empty: {numbers[0]} is not below {numbers[1]}"
    return None


def _anything_but(value: Any) -> str | None:
    if isinstance(value, str) or _is_number(value):
        return None
    if isinstance(value, list):
        if not value:
            return "needs at least one value; an empty list would match everything"
        if all(isinstance(item, str) for item in value) or all(_is_number(item) for item in value):
            return None
        return f"lists strings or numbers (not both, no true/false/null/objects), got {json.dumps(value)}"
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in ANYTHING_BUT_OPERATORS:
            return f"takes one of {', '.join(ANYTHING_BUT_OPERATORS)} inside it, got {json.dumps(value)}"
        ((operator, inner),) = value.items()
        strings = inner if isinstance(inner, list) and operator in ("equals-ignore-case", "wildcard") else [inner]
        if not strings or not all(isinstance(item, str) for item in strings):
            return f"{operator} inside it needs a string, got {json.dumps(inner)}"
        return None
    allowed = f"a string, a number, a list of them or one of {', '.join(ANYTHING_BUT_OPERATORS)}"
    return f"needs {allowed}; got {json.dumps(value)}"


OPERATOR_CHECKS: Final = {
    "anything-but": _anything_but,
    "cidr": _cidr,
    "equals-ignore-case": _string,
    "exists": _exists,
    "numeric": _numeric,
    "prefix": _string_or_ignore_case,
    "suffix": _string_or_ignore_case,
    "wildcard": _wildcard,
}


# --------------------------------------------------------------------------------------------------
# What PutRule cannot see: `exists` on a field that the events carry as an object


def object_paths(events: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Dotted paths (`detail.arrayProperties`) whose value is an object in any of `events`."""
    found: set[str] = set()

    def walk(node: Mapping[str, Any], path: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                found.add(_join(path, key))
                walk(value, _join(path, key))

    for event in events:
        walk(event, "")
    return frozenset(found)


def exists_on_objects(pattern: Mapping[str, Any], objects: frozenset[str]) -> list[str]:
    """`exists` matchers on a path the events carry as an object: EventBridge's `exists` matches leaves
    only, so `exists: true` there never matches and `exists: false` always does."""
    problems: list[str] = []

    def walk(node: Mapping[str, Any], path: str) -> None:
        for key, value in node.items():
            if key == OR and isinstance(value, list):
                for alternative in value:
                    if isinstance(alternative, dict):
                        walk(alternative, path)
            elif isinstance(value, dict):
                walk(value, _join(path, key))
            elif (
                isinstance(value, list)
                and _join(path, key) in objects
                and any(isinstance(item, dict) and "exists" in item for item in value)
            ):
                problems.append(
                    f"{_join(path, key)}: exists applies to leaves only and the events carry an object "
                    "there (exists true never matches it, false always does); test a leaf inside it"
                )

    walk(pattern, "")
    return problems
