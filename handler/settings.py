"""The handler's configuration, read from the environment the component sets.

Read on first use, not at import, so tests can set the environment after importing the package and a
bad value fails the invocation with a message naming the variable instead of breaking the import.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

DEFAULT_MAX_FAILED_DETAILS = 20
_JOB_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-queue/[\w-]{1,128}$")
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
    job_queue_arns: tuple[str, ...]
    """The queues whose completions this notifier reports (`JOB_QUEUE_ARNS`, in its order, each once); any
    other queue's are ignored."""
    event_bus_name: str = "default"
    """Bus (name, or ARN for another account's) that receives the normalized completion event."""
    chat_topic_arn: str | None = None
    """Topic of the chat channels (custom notifications); None when no chat channel is configured."""

    @property
    def home_job_queue_arn(self) -> str:
        """The first of `JOB_QUEUE_ARNS`: the queue whose `IgnoredEvents` metric counts every event this
        notifier ignores, so the notifier's one alarm on it sees them all (metrics.py)."""
        return self.job_queue_arns[0]


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


def _job_queue_arns() -> tuple[str, ...]:
    arns = [arn.strip() for arn in _required("JOB_QUEUE_ARNS").split(",")]
    for arn in arns:
        if not _JOB_QUEUE_ARN.match(arn):
            raise SettingsError(
                "environment variable JOB_QUEUE_ARNS must be comma-separated job-queue ARNs "
                f"(arn:aws:batch:<region>:<account>:job-queue/<name>), got {arn!r} in it"
            )
    # Ordered: the first is the home queue (home_job_queue_arn).
    return tuple(dict.fromkeys(arns))


@functools.cache
def settings() -> Settings:
    """The validated settings, read once per execution environment."""
    return Settings(
        topic_arn=_required("TOPIC_ARN"),
        stage=_required("STAGE"),
        idempotency_table=_required("IDEMPOTENCY_TABLE"),
        max_failed_details=_max_failed_details(),
        region=_required("AWS_REGION"),
        job_queue_arns=_job_queue_arns(),
        event_bus_name=os.environ.get("EVENT_BUS_NAME", "").strip() or "default",
        chat_topic_arn=os.environ.get("CHAT_TOPIC_ARN", "").strip() or None,
    )
