"""The handler's configuration, read from the environment the component sets.

Read on first use, not at import, so tests can set the environment after importing the package and a
bad value fails the invocation with a message naming the variable instead of breaking the import.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_FAILED_DETAILS = 20
_JOB_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-queue/[\w-]{1,128}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
#: IAM role ARNs (IAM User Guide, "IAM identifiers": path and name of [\w+=,.@-], name at most 64).
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$")
_JOB_DEFINITION_ARN_PREFIX = re.compile(r"^arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-definition/[\w-]{1,128}$")
#: How long a completion's idempotency record lives. Batch retries event delivery for 24 h and Lambda
#: keeps async events for up to 6 h; a week leaves a wide margin (one small item per array job) before a
#: late duplicate could notify again. Here, not in delivery.py, so that tools (redrive) and the component
#: read it without importing the handler's dependencies.
IDEMPOTENCY_EXPIRY_SECONDS = 7 * 24 * 3600
#: The sweep looks back at most as far as an idempotency record lives: older completions could have lost
#: their record and would be reported twice.
MAX_RECONCILE_LOOKBACK_HOURS = IDEMPOTENCY_EXPIRY_SECONDS // 3600
DEFAULT_RECONCILE_LOOKBACK_HOURS = 24
#: The sweep's pace: Batch allows an account about 50 calls a second across its APIs (AWS Knowledge Center,
#: "Why does my AWS Batch job fail with a Too Many Requests error?"); the sweep takes a tenth of it by
#: default, and never all of it.
DEFAULT_SWEEP_BATCH_CALLS_PER_SECOND = 5
MAX_SWEEP_BATCH_CALLS_PER_SECOND = 50
#: The longest array runtime the sweep allows for (`RECONCILE_MAX_ARRAY_RUNTIME_HOURS`): ListJobs filters on
#: creation only, so a job is listed only when created at most this long before the window it stopped in.
#: At most a week, like the lookback: each hour costs ListJobs pages on every sweep (docs/operations.md).
MAX_RECONCILE_ARRAY_RUNTIME_HOURS = 168
#: The statuses that end a job; the only ones the rule and the sweep ever report.
TERMINAL_STATUSES: tuple[str, ...] = ("SUCCEEDED", "FAILED")
#: DescribeJobs accepts at most 100 job ids per call; the detail budget is one such call.
MAX_FAILED_DETAILS_LIMIT = 100


#: Log tails (handler/log_tails.py): the defaults and the largest values each setting accepts. 0 turns
#: them off. 10 children of 8 KB, written twice (text and JSON), stay far below SNS's 256 KB.
DEFAULT_FAILED_LOG_CHILDREN = 3
DEFAULT_FAILED_LOG_LINES = 20
DEFAULT_FAILED_LOG_BYTES = 2048
MAX_FAILED_LOG_CHILDREN = 10
MAX_FAILED_LOG_LINES = 100
MAX_FAILED_LOG_BYTES = 8192
#: Below this a tail cannot hold one useful line; 0 (off) is allowed.
MIN_FAILED_LOG_BYTES = 256


class SettingsError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class MemberAccount:
    """One member account of a central notifier (`MEMBER_ACCOUNTS`): the read role it assumes there, the
    queues it reports (empty: every queue of the account) and the regions the sweep looks in."""

    account_id: str
    role_arn: str
    job_queue_arns: tuple[str, ...]
    regions: tuple[str, ...]


@dataclass(frozen=True)
class TailSettings:
    """How many failed children get a log tail, how many lines and bytes each, and the log groups the
    notifier may read (`FAILED_LOG_GROUPS`, the groups its role grants `logs:GetLogEvents` on)."""

    children: int = DEFAULT_FAILED_LOG_CHILDREN
    lines: int = DEFAULT_FAILED_LOG_LINES
    bytes_per_child: int = DEFAULT_FAILED_LOG_BYTES
    readable_groups: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return min(self.children, self.lines, self.bytes_per_child) > 0 and bool(self.readable_groups)


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
    log_tails: TailSettings = TailSettings()
    """The failed children's log tails; off (`enabled` False) when any count is 0 or no group is readable."""
    member_accounts: Mapping[str, MemberAccount] | None = None
    """Central mode (`MEMBER_ACCOUNTS`): the member accounts by id, whose completions this notifier reports
    through their read roles (accounts.py); None for a notifier of its own account only."""
    member_external_id: str | None = None
    """`MEMBER_EXTERNAL_ID`: the external id AssumeRole passes to every member's read role, if any."""

    @property
    def home_job_queue_arn(self) -> str | None:
        """The first of `JOB_QUEUE_ARNS`: the queue whose `IgnoredEvents` metric counts every event this
        notifier ignores, so the notifier's one alarm on it sees them all (metrics.py). None for a central
        notifier without queues of its own (metrics.py counts those under `ORGANIZATION_HOME_QUEUE`)."""
        return self.job_queue_arns[0] if self.job_queue_arns else None


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


def _bounded(name: str, default: int, low: int, high: int, also: int | None = None) -> int:
    """A whole number from `low` to `high` (or `also`), `default` when unset; an error names the variable."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw) if raw.isdigit() else -1
    if value == also or low <= value <= high:
        return value
    allowed = f"{also} or {low} to {high}" if also is not None else f"{low} to {high}"
    raise SettingsError(f"environment variable {name} must be a whole number, {allowed}, got {raw!r}")


def _tail_settings() -> TailSettings:
    groups = os.environ.get("FAILED_LOG_GROUPS", "").strip()
    return TailSettings(
        children=_bounded("FAILED_LOG_CHILDREN", DEFAULT_FAILED_LOG_CHILDREN, 0, MAX_FAILED_LOG_CHILDREN),
        lines=_bounded("FAILED_LOG_LINES", DEFAULT_FAILED_LOG_LINES, 0, MAX_FAILED_LOG_LINES),
        bytes_per_child=_bounded(
            "FAILED_LOG_BYTES", DEFAULT_FAILED_LOG_BYTES, MIN_FAILED_LOG_BYTES, MAX_FAILED_LOG_BYTES, also=0
        ),
        readable_groups=tuple(dict.fromkeys(group.strip() for group in groups.split(",") if group.strip())),
    )


def _job_queue_arns(central: bool) -> tuple[str, ...]:
    # Ordered: the first is the home queue (home_job_queue_arn). A central notifier may have none of its own.
    name = "JOB_QUEUE_ARNS"
    raw = os.environ.get(name, "").strip() if central else _required(name)
    return _arns(name, raw, _JOB_QUEUE_ARN, "job-queue ARNs", "job-queue/<name>")


_MEMBER_SHAPE = (
    'a JSON object {"<12-digit account id>": {"roleArn": "arn:aws:iam::<account>:role/<name>", '
    '"jobQueueArns": [...], "regions": ["<region>", ...]}}'
)


def _member_accounts(default_region: str) -> dict[str, MemberAccount] | None:
    """`MEMBER_ACCOUNTS` (central mode), each value checked; None when unset. An error names the variable,
    the account and the fix in one line."""
    name = "MEMBER_ACCOUNTS"
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not document:
        raise SettingsError(f"environment variable {name} must be {_MEMBER_SHAPE}, got {raw[:80]!r}")
    return {account: _member(name, account, entry, default_region) for account, entry in document.items()}


def _member(name: str, account: str, entry: Any, default_region: str) -> MemberAccount:
    def refuse(problem: str) -> SettingsError:
        return SettingsError(f"environment variable {name}: account {account!r}: {problem}")

    if not _ACCOUNT_ID.match(account):
        raise refuse("the key must be a 12-digit AWS account id")
    if not isinstance(entry, dict) or set(entry) - {"roleArn", "jobQueueArns", "regions"}:
        raise refuse(f"the value must be {_MEMBER_SHAPE.partition(': ')[2][:-1]} with no other keys")
    role = _ROLE_ARN.match(str(entry.get("roleArn", "")))
    if not isinstance(entry.get("roleArn"), str) or role is None or role.group(1) != account:
        raise refuse(f"roleArn must be a role ARN of that account (arn:aws:iam::{account}:role/<name>)")
    queues, regions = entry.get("jobQueueArns", []), entry.get("regions", [default_region])
    if not isinstance(queues, list) or not all(isinstance(queue, str) for queue in queues):
        raise refuse("jobQueueArns must be a list of job-queue ARNs (empty: every queue of the account)")
    arns = _arns(f"{name} ({account} jobQueueArns)", ",".join(queues), _JOB_QUEUE_ARN, "ARNs", "job-queue/<name>")
    if any(arn.split(":")[4] != account for arn in arns):
        raise refuse(f"jobQueueArns must be queues of that account (arn:aws:batch:<region>:{account}:job-queue/...)")
    if not isinstance(regions, list) or not regions or not all(region in _known_regions() for region in regions):
        raise refuse(f"regions must be a non-empty list of AWS regions (botocore's endpoint data), got {regions!r}")
    return MemberAccount(account, role.group(0), arns, tuple(dict.fromkeys(regions)))


@functools.cache
def _loader() -> Any:
    """botocore's data loader: it comes with boto3 in the Lambda runtime; only a central notifier imports it."""
    return importlib.import_module("botocore.loaders").create_loader()


@functools.cache
def _known_regions() -> frozenset[str]:
    """Every region of every partition, from botocore's endpoint data (never a hand-typed list)."""
    partitions = _loader().load_data("endpoints")["partitions"]
    return frozenset(region for partition in partitions for region in partition["regions"])


def _arns(name: str, raw: str, pattern: re.Pattern[str], what: str, shape: str) -> tuple[str, ...]:
    """A comma-separated list of ARNs, each once, in order; an error names the variable and the bad one."""
    arns = [arn.strip() for arn in raw.split(",")] if raw else []
    for arn in arns:
        if not pattern.match(arn):
            raise SettingsError(
                f"environment variable {name} must be comma-separated {what} "
                f"(arn:aws:batch:<region>:<account>:{shape}), got {arn!r} in it"
            )
    return tuple(dict.fromkeys(arns))


@functools.cache
def settings() -> Settings:
    """The validated settings, read once per execution environment."""
    region = _required("AWS_REGION")
    members = _member_accounts(region)
    return Settings(
        topic_arn=_required("TOPIC_ARN"),
        stage=_required("STAGE"),
        idempotency_table=_required("IDEMPOTENCY_TABLE"),
        max_failed_details=_max_failed_details(),
        region=region,
        job_queue_arns=_job_queue_arns(central=members is not None),
        event_bus_name=os.environ.get("EVENT_BUS_NAME", "").strip() or "default",
        chat_topic_arn=os.environ.get("CHAT_TOPIC_ARN", "").strip() or None,
        log_tails=_tail_settings(),
        member_accounts=members,
        member_external_id=_member_external_id() if members is not None else None,
    )


def _member_external_id() -> str | None:
    """`MEMBER_EXTERNAL_ID`, checked against STS's own definition (botocore's `externalIdType`)."""
    raw = os.environ.get("MEMBER_EXTERNAL_ID", "").strip()
    if not raw:
        return None
    shape = _loader().load_service_model("sts", "service-2")["shapes"]["externalIdType"]
    if not shape["min"] <= len(raw) <= shape["max"] or not re.fullmatch(shape["pattern"], raw):
        raise SettingsError(
            f"environment variable MEMBER_EXTERNAL_ID must be {shape['min']} to {shape['max']} characters "
            f"matching {shape['pattern']} (STS AssumeRole ExternalId)"
        )
    return raw


@dataclass(frozen=True)
class SweepSettings:
    """What the reconciliation sweep reads besides the notifier's settings (its function only)."""

    job_definition_arn_prefixes: tuple[str, ...]
    """`JOB_DEFINITION_ARN_PREFIXES`: ARNs without revision whose array jobs count; empty: any definition."""
    lookback_hours: int
    """`RECONCILE_LOOKBACK_HOURS`: how many hours of stop times a sweep examines, before the grace period."""
    notify_statuses: tuple[str, ...]
    """`NOTIFY_STATUSES`: the statuses the completion rule matches; the sweep reports no other."""
    grace_seconds: int
    """`RECONCILE_GRACE_SECONDS`: a job that stopped less than this long ago may still have its event on the
    way (EventBridge's and Lambda's retries); the sweep leaves it to the next sweeps. The component derives it."""
    max_array_runtime_hours: int
    """`RECONCILE_MAX_ARRAY_RUNTIME_HOURS`: how long before its window a job may have been created and still be
    listed (ListJobs filters on creation time, the window is on stop time)."""
    batch_calls_per_second: int = DEFAULT_SWEEP_BATCH_CALLS_PER_SECOND
    """`BATCH_CALLS_PER_SECOND`: the pace of the sweep's Batch calls (retries included)."""


def _job_definition_arn_prefixes() -> tuple[str, ...]:
    name = "JOB_DEFINITION_ARN_PREFIXES"
    raw = os.environ.get(name, "").strip()
    return _arns(name, raw, _JOB_DEFINITION_ARN_PREFIX, "job-definition ARNs without revision", "job-definition/<name>")


def _lookback_hours() -> int:
    return _whole_number(
        "RECONCILE_LOOKBACK_HOURS",
        DEFAULT_RECONCILE_LOOKBACK_HOURS,
        1,
        MAX_RECONCILE_LOOKBACK_HOURS,
        " (the idempotency records' lifetime)",
    )


def _whole_number(name: str, default: int, lowest: int, highest: int, why: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw) if raw.isdigit() else -1
    if not lowest <= value <= highest:
        raise SettingsError(
            f"environment variable {name} must be a whole number from {lowest} to {highest}{why}, got {raw!r}"
        )
    return value


def _batch_calls_per_second() -> int:
    return _whole_number(
        "BATCH_CALLS_PER_SECOND",
        DEFAULT_SWEEP_BATCH_CALLS_PER_SECOND,
        1,
        MAX_SWEEP_BATCH_CALLS_PER_SECOND,
        " (the account's Batch calls a second)",
    )


def _grace_seconds() -> int:
    """Required: a default here could only guess the stack's retry settings, and a guess too short races
    the real event (the sweep would report completions whose event is still on its way)."""
    name = "RECONCILE_GRACE_SECONDS"
    raw = _required(name)
    if not raw.isdigit() or int(raw) > IDEMPOTENCY_EXPIRY_SECONDS:
        raise SettingsError(
            f"environment variable {name} must be a whole number of seconds from 0 to {IDEMPOTENCY_EXPIRY_SECONDS}, "
            f"got {raw!r}"
        )
    return int(raw)


def _notify_statuses() -> tuple[str, ...]:
    raw = os.environ.get("NOTIFY_STATUSES", "").strip()
    statuses = tuple(dict.fromkeys(status.strip() for status in raw.split(","))) if raw else TERMINAL_STATUSES
    for status in statuses:
        if status not in TERMINAL_STATUSES:
            raise SettingsError(
                f"environment variable NOTIFY_STATUSES must be a comma-separated subset of "
                f"{','.join(TERMINAL_STATUSES)}, got {status!r} in it"
            )
    return statuses


@functools.cache
def sweep_settings() -> SweepSettings:
    """The sweep's validated settings, read once per execution environment."""
    return SweepSettings(
        job_definition_arn_prefixes=_job_definition_arn_prefixes(),
        lookback_hours=_lookback_hours(),
        notify_statuses=_notify_statuses(),
        batch_calls_per_second=_batch_calls_per_second(),
        grace_seconds=_grace_seconds(),
        max_array_runtime_hours=_whole_number(
            "RECONCILE_MAX_ARRAY_RUNTIME_HOURS", 0, 0, MAX_RECONCILE_ARRAY_RUNTIME_HOURS, ""
        ),
    )
