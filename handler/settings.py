"""The handler's configuration, read from the environment the component sets.

Read on first use, not at import, so tests can set the environment after importing the package and a
bad value fails the invocation with a message naming the variable instead of breaking the import.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

DEFAULT_MAX_FAILED_DETAILS = 20
#: DescribeJobs accepts at most 100 job ids per call; the detail budget is one such call.
MAX_FAILED_DETAILS_LIMIT = 100


class SettingsError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    topic_arn: str
    stage: str
    idempotency_table: str
    max_failed_details: int
    region: str
    event_bus_name: str = "default"
    """Bus (name, or ARN for another account's) that receives the normalized completion event."""
    job_queue_arns: tuple[str, ...] = ()
    """The job queues this notifier serves (metrics count events it ignores under them)."""


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} must be set to a non-empty value")
    return value


def _max_failed_details() -> int:
    raw = os.environ.get("MAX_FAILED_DETAILS", "").strip()
    if not raw:
        return DEFAULT_MAX_FAILED_DETAILS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_FAILED_DETAILS_LIMIT:
        raise SettingsError(
            f"environment variable MAX_FAILED_DETAILS must be an integer from 1 to "
            f"{MAX_FAILED_DETAILS_LIMIT}, got {raw!r}"
        )
    return value


@functools.cache
def settings() -> Settings:
    """The validated settings, read once per execution environment."""
    return Settings(
        topic_arn=_required("TOPIC_ARN"),
        stage=_required("STAGE"),
        idempotency_table=_required("IDEMPOTENCY_TABLE"),
        max_failed_details=_max_failed_details(),
        region=_required("AWS_REGION"),
        event_bus_name=os.environ.get("EVENT_BUS_NAME", "").strip() or "default",
        job_queue_arns=tuple(arn.strip() for arn in os.environ.get("JOB_QUEUE_ARNS", "").split(",") if arn.strip()),
    )
