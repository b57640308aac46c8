"""Argument types every tool shares, so one rule reads the same from every command line.

Every numeric option has a stated bound, and the message past it gives the reason (an AWS limit, or what
the run would cost). An array job has 2 to 10,000 children (SubmitJob's `arrayProperties.size`;
testing/eventgen.py states the bounds): `--size` of submit, rehearse and compare_rules all parse with
`array_size` and say so in the same words.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from batch_array_notify.testing.eventgen import MAX_ARRAY_SIZE, MIN_ARRAY_SIZE

ARRAY_SIZE_HELP = f"children of the array job ({MIN_ARRAY_SIZE}-{MAX_ARRAY_SIZE})"
#: The Pulumi CLI's rule for a stack name (its backends' validateStackName, `^[a-zA-Z0-9-_.]{1,100}$`),
#: optionally qualified as ORG/PROJECT/NAME.
_STACK_NAME = re.compile(r"(?:[A-Za-z0-9_.-]{1,100}/){0,2}[A-Za-z0-9_.-]{1,100}")


def whole_number(minimum: int, maximum: int, why: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from `minimum` to `maximum`, else a usage error (exit 2) that says
    what is allowed and `why` the bound is there."""

    def parse(text: str) -> int:
        return _within(_whole(text), minimum, maximum, why)

    return parse


def seconds(minimum: float, maximum: float, why: str = "") -> Callable[[str], float]:
    """An argparse type: a number of seconds from `minimum` to `maximum`, else a usage error that says why."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        # NaN compares false with everything: refuse it with the bound rather than let it through.
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be {minimum:g} to {maximum:g} seconds, got {text}{_because(why)}")
        return value

    return parse


def array_size(text: str) -> int:
    """An argparse type for `--size`: the children of one array job, as SubmitJob allows them."""
    size = _whole(text)
    if not MIN_ARRAY_SIZE <= size <= MAX_ARRAY_SIZE:
        raise argparse.ArgumentTypeError(f"an array job has {MIN_ARRAY_SIZE} to {MAX_ARRAY_SIZE} children, got {size}")
    return size


def stack_name(text: str) -> str:
    """An argparse type for `--stack`: a name the Pulumi CLI accepts (`dev`, or `my-org/project/dev`)."""
    if not _STACK_NAME.fullmatch(text) or {".", ".."} & set(text.split("/")):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a stack name: letters, digits, '-', '_' and '.', at most 100 (e.g. dev)"
        )
    return text


def _within(value: int, minimum: int, maximum: int, why: str) -> int:
    if not minimum <= value <= maximum:
        raise argparse.ArgumentTypeError(f"must be {minimum} to {maximum}, got {value}{_because(why)}")
    return value


def _because(why: str) -> str:
    return f" ({why})" if why else ""


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def bounded_number(minimum: float, maximum: float) -> Callable[[str], float]:
    """An argparse type: a number (decimals allowed) from `minimum` to `maximum`, else a usage error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not minimum <= value <= maximum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be {minimum:g} to {maximum:g}, got {text}")
        return value

    return parse
