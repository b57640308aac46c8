"""Argument types every tool shares, so one rule reads the same from every command line.

An array job has 2 to 10,000 children (SubmitJob's `arrayProperties.size`; testing/eventgen.py states the
bounds): `--size` of submit, rehearse and compare_rules all parse with `array_size` and say so in the
same words.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from batch_array_notify.testing.eventgen import MAX_ARRAY_SIZE, MIN_ARRAY_SIZE

ARRAY_SIZE_HELP = f"children of the array job ({MIN_ARRAY_SIZE}-{MAX_ARRAY_SIZE})"


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in range, else a usage error (exit 2) that says what is allowed."""

    def parse(text: str) -> int:
        value = _whole(text)
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    return parse


def array_size(text: str) -> int:
    """An argparse type for `--size`: the children of one array job, as SubmitJob allows them."""
    size = _whole(text)
    if not MIN_ARRAY_SIZE <= size <= MAX_ARRAY_SIZE:
        raise argparse.ArgumentTypeError(f"an array job has {MIN_ARRAY_SIZE} to {MAX_ARRAY_SIZE} children, got {size}")
    return size


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
