"""Check the component's arguments and fill in defaults, before a single resource is declared.

Every rule raises `InvalidArgumentError` naming the key, the offending value and what is allowed. The
stack program (`__main__.py`) renames the key to the config key the user wrote; embedders see the
argument name. AWS would reject most of these at deploy time, minutes in and half-created; CDK checks
them at synth time, and so do we.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

import pulumi

from .args import (
    COMPUTE_TYPES,
    DEFAULT_ALLOCATION_STRATEGY,
    DEFAULTS,
    EC2_COMPUTE_TYPES,
    FARGATE_COMPUTE_TYPES,
    ArrayCompletionNotifierArgs,
    BatchArrayPipelineArgs,
    ComputeEnvironment,
    DownstreamFunction,
    EmailSubscription,
)
from .aws_formats import (
    BATCH_INSTANCE_CHOICES,
    EXTERNAL_ID,
    ec2_id_pattern,
    instance_families,
    instance_types,
    parse_arn,
    partition_of,
)
from .batch import ComputeSettings, JobSettings
from .chat import ChatSettings, SlackChannel, TeamsChannel, claim_channels
from .completion_bus import DEFAULT_EVENT_BUS
from .downstream import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_MEMORY_MIB,
    DEFAULT_RUNTIME,
    DEFAULT_TIMEOUT_SECONDS,
    DownstreamSettings,
)
from .event_pattern import TERMINAL_STATUSES, completion_rule_queue_groups
from .handler.settings import (
    IDEMPOTENCY_EXPIRY_SECONDS,
    MAX_FAILED_LOG_BYTES,
    MAX_FAILED_LOG_CHILDREN,
    MAX_FAILED_LOG_LINES,
    MAX_RECONCILE_ARRAY_RUNTIME_HOURS,
    MAX_RECONCILE_LOOKBACK_HOURS,
    MAX_SWEEP_BATCH_CALLS_PER_SECOND,
    MIN_FAILED_LOG_BYTES,
)
from .notifier import POWERTOOLS_VERSION, NotifierSettings, job_queue_arns_variable
from .reconcile import GRACE_MARGIN_SECONDS, MAX_EVERY_MINUTES, MIN_EVERY_MINUTES, ReconcileSettings, grace_seconds
from .reliability import STUCK_JOB_REASONS, ReliabilitySettings


class InvalidArgumentError(pulumi.RunError, ValueError):
    """A bad argument or config value. A RunError, so `pulumi up` prints the message without a traceback."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}: {value!r} is not allowed; {allowed}")

    def renamed(self, key: str, allowed: str | None = None) -> InvalidArgumentError:
        return InvalidArgumentError(key, self.value, self.allowed if allowed is None else allowed)


#: CloudWatch Logs accepts only these retentions (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
ALLOCATION_STRATEGIES = {
    # BEST_FIT on Spot needs a Spot Fleet role we do not create; the price-capacity strategies do not.
    "EC2": ("BEST_FIT", "BEST_FIT_PROGRESSIVE"),
    "SPOT": ("BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"),
}
ARCHITECTURES = ("arm64", "x86_64")
RUNTIMES = ("python3.12", "python3.13")
#: Fargate task sizes: vCPU -> allowed memory in MiB (Batch ResourceRequirement documentation).
FARGATE_MEMORY_MIB: dict[float, tuple[int, ...]] = {
    0.25: (512, 1024, 2048),
    0.5: tuple(range(1024, 4097, 1024)),
    1.0: tuple(range(2048, 8193, 1024)),
    2.0: tuple(range(4096, 16385, 1024)),
    4.0: tuple(range(8192, 30721, 1024)),
    8.0: tuple(range(16384, 61441, 4096)),
    16.0: tuple(range(32768, 122881, 8192)),
}
MAX_ARRAY_VCPUS = 10_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
STAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ResolvedOptions:
    """`NotifierOptions` after validation, with every default applied: what both components share."""

    stage: str
    notify_statuses: list[str]
    email_subscriptions: list[EmailSubscription]
    existing_topic_arn: pulumi.Input[str] | None
    notifier: NotifierSettings
    reliability: ReliabilitySettings
    tags: dict[str, str]
    completion_event_bus: pulumi.Input[str]
    downstream_function: DownstreamSettings | None
    name_prefix: str | None
    chat: ChatSettings | None
    reconcile: ReconcileSettings | None
    """The reconciliation sweep; None when `reconcile_every_minutes` is 0."""


@dataclass(frozen=True)
class ResolvedArgs(ResolvedOptions):
    """The pipeline's arguments after validation, with every default applied: what it builds from."""

    subnet_ids: list[pulumi.Input[str]] | None
    security_group_ids: list[pulumi.Input[str]] | None
    vpc_id: pulumi.Input[str] | None
    job: JobSettings
    compute_environments: list[ComputeSettings]


@dataclass(frozen=True)
class ResolvedNotifierArgs(ResolvedOptions):
    """The notifier's arguments after validation: its queues, their job definitions, and which queues
    share a rule (indices into `job_queue_arns`, see `completion_rule_queue_groups`)."""

    job_queue_arns: list[pulumi.Input[str]]
    job_definition_arn_prefixes: list[pulumi.Input[str]] | None
    rule_groups: list[list[int]]
    job_log_group_names: list[pulumi.Input[str]]
    """The log groups the notifier may read failed children's tails from."""


def _options_of(options: ResolvedOptions) -> dict[str, Any]:
    return {field.name: getattr(options, field.name) for field in fields(ResolvedOptions)}


def _one_of(key: str, value: object, allowed: Iterable[object]) -> None:
    options = list(allowed)
    if value not in options:
        raise InvalidArgumentError(key, value, f"allowed: {', '.join(map(str, options))}")


def _whole(key: str, value: object, low: int, high: int | None = None) -> int:
    # bool is an int in Python; `true` for a vCPU count is a typo, not a 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(key, value, "expected a whole number")
    if value < low or (high is not None and value > high):
        raise InvalidArgumentError(
            key, value, f"expected {low} to {high}" if high is not None else f"expected >= {low}"
        )
    return value


def _strings(key: str, value: object, *, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InvalidArgumentError(key, value, "expected a list of non-empty strings")
    if not value and not allow_empty:
        raise InvalidArgumentError(key, value, "expected at least one item")
    return cast(list[str], value)


def _string_map(key: str, value: object, valid_key: Callable[[str], bool], rule: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidArgumentError(key, value, "expected a map of strings to strings")
    for item_key, item_value in value.items():
        if not isinstance(item_key, str) or not valid_key(item_key) or not isinstance(item_value, str):
            raise InvalidArgumentError(f"{key}.{item_key}", item_value, rule)
    return cast(dict[str, str], value)


def _inputs(key: str, value: object, prefix: str | None) -> list[pulumi.Input[str]] | None:
    """Subnets, security groups and log groups may be Outputs of other resources; the literal ones are
    given once, and are EC2 ids of `prefix` where it is given."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidArgumentError(key, value, "expected a non-empty list (omit the key for the default)")
    seen: dict[object, int] = {}
    for index, item in enumerate(value):
        if prefix is not None:
            _ec2_id(f"{key}[{index}]", item, prefix)
        if isinstance(item, str) and item in seen:
            raise InvalidArgumentError(f"{key}[{index}]", item, f"already given as {key}[{seen[item]}]")
        seen[item] = index
    return cast(list[pulumi.Input[str]], value)


def _ec2_id(key: str, value: object, prefix: str) -> None:
    """A literal id must have EC2's shape (see aws_formats.ec2_id_pattern); an Output is checked by AWS."""
    if isinstance(value, pulumi.Output):
        return
    if not isinstance(value, str) or not ec2_id_pattern(prefix).match(value):
        raise InvalidArgumentError(
            key, value, f"expected an EC2 id, {prefix}- and 8 or 17 hex digits (e.g. {prefix}-0123456789abcdef0)"
        )


def check_arn(
    key: str,
    value: object,
    service: str,
    resource: re.Pattern[str],
    shape: str,
    region: str | None = None,
    where: str = "the stack's aws:region",
) -> None:
    """A literal ARN of `service` whose resource part matches, in a partition and region AWS has (botocore's
    endpoint data), and in `region` when it is given; an Output is left to AWS."""
    if isinstance(value, pulumi.Output):
        return
    arn = parse_arn(value) if isinstance(value, str) else None
    expected = f"expected {shape}"
    if arn is None:
        raise InvalidArgumentError(key, value, expected)
    if arn.service != service:
        raise InvalidArgumentError(key, value, f"{expected} (this ARN is of {arn.service})")
    if not ACCOUNT_ID.match(arn.account) or not resource.match(arn.resource):
        raise InvalidArgumentError(key, value, expected)
    partition = partition_of(arn.region)
    if partition is None:
        raise InvalidArgumentError(key, value, f"{arn.region} is not an AWS region (botocore's endpoint data)")
    if partition != arn.partition:
        raise InvalidArgumentError(
            key, value, f"region {arn.region} is in partition {partition}: arn:{partition}:{service}:..."
        )
    if region is not None and arn.region != region:
        raise InvalidArgumentError(key, value, f"expected one in {region}, {where}")


ACCOUNT_ID = re.compile(r"^\d{12}$")
SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SNS_TOPIC_SHAPE = "an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>"


def check_external_id(key: str, value: object) -> str:
    """An external id (STS AssumeRole's `ExternalId`, botocore's model), refused in one line that names the
    rule but never the value: it is a secret."""
    problem = EXTERNAL_ID.problem(value)
    if problem is not None:
        raise InvalidArgumentError(key, "(secret)", f"the external id {problem.replace(f', not {value!r}', '')}")
    return cast(str, value)


def check_topic_arn(key: str, value: object, region: str | None = None, where: str = "the stack's aws:region") -> None:
    """An SNS topic ARN (standard topics: a FIFO topic's `.fifo` would need a message group the
    notifier does not send)."""
    check_arn(key, value, "sns", SNS_TOPIC_NAME, SNS_TOPIC_SHAPE, region, where)


def _statuses(key: str, value: object) -> list[str]:
    statuses = _strings(key, value)
    for status in statuses:
        _one_of(key, status, TERMINAL_STATUSES)
    if len(set(statuses)) != len(statuses):
        raise InvalidArgumentError(key, value, "each status at most once")
    return statuses


def _retention(key: str, value: object) -> int:
    _one_of(key, value, LOG_RETENTION_DAYS)
    return cast(int, value)


def _job_size(compute_type: str, vcpus: object, memory: object) -> tuple[float, int]:
    if isinstance(vcpus, bool) or not isinstance(vcpus, (int, float)):
        raise InvalidArgumentError("job_vcpus", vcpus, "expected a number")
    memory_mib = _whole("job_memory_mib", memory, 4)
    if compute_type in FARGATE_COMPUTE_TYPES:
        _one_of("job_vcpus", float(vcpus), FARGATE_MEMORY_MIB)
        allowed = FARGATE_MEMORY_MIB[float(vcpus)]
        if memory_mib not in allowed:
            raise InvalidArgumentError(
                "job_memory_mib", memory_mib, f"Fargate with {vcpus:g} vCPU accepts {_sizes(allowed)}"
            )
    # is_integer() rather than int(): nan and inf are floats too, and int() of them raises.
    elif vcpus < 1 or not float(vcpus).is_integer():
        raise InvalidArgumentError("job_vcpus", vcpus, "EC2 and Spot jobs take a whole number of vCPUs, at least 1")
    return float(vcpus), memory_mib


def _job_fits(vcpus: float, environments: list[ComputeSettings], *, flat: bool) -> None:
    """Batch places a job only on an environment that can give it its vCPUs: a larger job stays RUNNABLE
    for ever (Batch user guide, "Jobs stuck in a RUNNABLE status"). Each environment must take one."""
    for index, environment in enumerate(environments):
        if vcpus > environment.max_vcpus:
            where = "max_vcpus" if flat else f"compute_environments[{index}].max_vcpus"
            raise InvalidArgumentError(
                "job_vcpus",
                vcpus,
                f"a job of {vcpus:g} vCPUs never fits {where} ({environment.max_vcpus}): "
                f"raise {where} or lower job_vcpus",
            )


def _instance_types(key: str, value: object) -> list[str]:
    """EC2 instance types or families as the EC2 model has them, or Batch's own choices; each once."""
    names = _strings(key, value)
    known = instance_types() | instance_families()
    for index, name in enumerate(names):
        if name in BATCH_INSTANCE_CHOICES or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise InvalidArgumentError(
            f"{key}[{index}]",
            name,
            f"expected an EC2 instance type (c6i.large), a family (c6i) or one of "
            f"{', '.join(BATCH_INSTANCE_CHOICES)}{hint}",
        )
    if len(set(names)) != len(names):
        raise InvalidArgumentError(key, names, "each instance type at most once")
    return names


def _sizes(allowed: tuple[int, ...]) -> str:
    """`1024 to 4096 in steps of 1024 MiB`, or the values themselves where the steps differ (0.25 vCPU)."""
    steps = {high - low for low, high in itertools.pairwise(allowed)}
    if len(steps) == 1:
        return f"{allowed[0]} to {allowed[-1]} in steps of {steps.pop()} MiB"
    return f"{', '.join(map(str, allowed[:-1]))} or {allowed[-1]} MiB"


def _email_subscriptions(value: object, notify_statuses: list[str]) -> list[EmailSubscription]:
    if not isinstance(value, list):
        raise InvalidArgumentError("email_subscriptions", value, "expected a list of {address, statuses}")
    seen: dict[str, int] = {}
    for index, subscription in enumerate(value):
        key = f"email_subscriptions[{index}]"
        if not isinstance(subscription, dict) or not isinstance(subscription.get("address"), str):
            raise InvalidArgumentError(key, subscription, "expected {address, statuses}")
        unknown = set(subscription) - {"address", "statuses"}
        if unknown:
            raise InvalidArgumentError(key, subscription, f"unknown keys {sorted(unknown)}; allowed: address, statuses")
        if not EMAIL.match(subscription["address"]):
            raise InvalidArgumentError(f"{key}.address", subscription["address"], "expected an e-mail address")
        # One address twice is two SNS subscriptions: two messages per completion. Mailboxes ignore case.
        address = subscription["address"].casefold()
        if address in seen:
            raise InvalidArgumentError(
                f"{key}.address", subscription["address"], f"already given as email_subscriptions[{seen[address]}]"
            )
        seen[address] = index
        if "statuses" in subscription:
            for status in _statuses(f"{key}.statuses", subscription["statuses"]):
                # A filter on a status the rule never matches would silently deliver nothing.
                _one_of(f"{key}.statuses", status, notify_statuses)
    return cast(list[EmailSubscription], value)


def _reliability(get: Callable[[str], Any]) -> ReliabilitySettings:
    """Failure handling: limits are those of EventBridge (retry policy), Lambda (async invoke config),
    SQS (retention), Batch (jobStateTimeLimitActions) and KMS (deletion window)."""
    alerts_topic_arn = get("alerts_topic_arn")
    if alerts_topic_arn is not None:
        check_topic_arn("alerts_topic_arn", alerts_topic_arn)
    reasons = _strings("stuck_job_reasons", get("stuck_job_reasons"))
    for reason in reasons:
        _one_of("stuck_job_reasons", reason, STUCK_JOB_REASONS)
    if len(set(reasons)) != len(reasons):
        raise InvalidArgumentError("stuck_job_reasons", reasons, "each reason at most once")
    max_retries = _whole("notifier_max_retries", get("notifier_max_retries"), 0, 2)
    max_age = _whole("notifier_max_event_age_seconds", get("notifier_max_event_age_seconds"), 60, 21600)
    retention = _whole("dead_letter_retention_seconds", get("dead_letter_retention_seconds"), 60, 1_209_600)
    if retention < max_age:
        # An event Lambda gives up on late must still be in the on-failure queue when someone looks.
        raise InvalidArgumentError(
            "dead_letter_retention_seconds",
            retention,
            f"must be at least notifier_max_event_age_seconds ({max_age})",
        )
    return ReliabilitySettings(
        rule_retry_attempts=_whole("rule_retry_attempts", get("rule_retry_attempts"), 0, 185),
        rule_max_event_age_seconds=_whole("rule_max_event_age_seconds", get("rule_max_event_age_seconds"), 60, 86400),
        notifier_max_retries=max_retries,
        notifier_max_event_age_seconds=max_age,
        dead_letter_retention_seconds=retention,
        alerts_topic_arn=alerts_topic_arn,
        stuck_job_cancel_after_seconds=_whole(
            "stuck_job_cancel_after_seconds", get("stuck_job_cancel_after_seconds"), 600, 86400
        ),
        stuck_job_reasons=reasons,
        kms_key_deletion_window_days=_whole("kms_key_deletion_window_days", get("kms_key_deletion_window_days"), 7, 30),
        runbook_url=_runbook_url(get("runbook_url")),
    )


#: The longest `runbook_url`: with the longest section anchor and alarm text, a description stays within
#: CloudWatch's 1,024 characters (a test builds that worst case).
MAX_RUNBOOK_URL_CHARS = 512
RUNBOOK_URL = re.compile(r"^https://[^\s#]+$")


def _runbook_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not RUNBOOK_URL.match(value) or len(value) > MAX_RUNBOOK_URL_CHARS:
        raise InvalidArgumentError(
            "runbook_url",
            value,
            f"expected an https:// URL of the runbook page, without #section (added per alarm), "
            f"at most {MAX_RUNBOOK_URL_CHARS} characters",
        )
    return value.rstrip("/")


def _given(args: Mapping[str, Any], known: Iterable[str]) -> tuple[dict[str, Any], Callable[[str], Any]]:
    """The arguments as a dict (unknown keys rejected), and a reader that applies the defaults."""
    known = set(known)
    for key in args:
        if key not in known:
            raise InvalidArgumentError(key, args[key], f"unknown argument; known: {', '.join(sorted(known))}")
    given = dict(args)

    def get(key: str) -> Any:
        value = given.get(key)
        return DEFAULTS.get(key) if value is None else value

    return given, get


def _options(given: dict[str, Any], get: Callable[[str], Any]) -> ResolvedOptions:
    """Validate the `NotifierOptions` both components take."""
    stage = get("stage")
    if not isinstance(stage, str) or not STAGE.match(stage):
        raise InvalidArgumentError("stage", stage, "expected 1-32 letters, digits, '-' or '_'")
    notify_statuses = _statuses("notify_statuses", get("notify_statuses"))
    architecture = get("notifier_architecture")
    _one_of("notifier_architecture", architecture, ARCHITECTURES)
    runtime = get("notifier_runtime")
    _one_of("notifier_runtime", runtime, RUNTIMES)

    reliability = _reliability(get)
    tags = _string_map(
        "tags",
        get("tags"),
        lambda key: 0 < len(key) <= 128 and not key.lower().startswith("aws:"),
        "expected tag keys of 1-128 characters not starting with aws: and string values",
    )
    if len(tags) > 45:
        # AWS allows 50 tags a resource; Pulumi and AWS services add a few of their own.
        raise InvalidArgumentError("tags", f"{len(tags)} tags", "at most 45")
    for key, value in tags.items():
        if len(value) > 256:
            raise InvalidArgumentError(f"tags.{key}", value, "tag values are at most 256 characters")

    existing_topic_arn = given.get("existing_topic_arn")
    if existing_topic_arn is not None:
        check_topic_arn("existing_topic_arn", existing_topic_arn)
    return ResolvedOptions(
        stage=stage,
        notify_statuses=notify_statuses,
        email_subscriptions=_email_subscriptions(get("email_subscriptions"), notify_statuses),
        existing_topic_arn=existing_topic_arn,
        notifier=NotifierSettings(
            stage=stage,
            architecture=architecture,
            runtime=runtime,
            log_retention_days=_retention("notifier_log_retention_days", get("notifier_log_retention_days")),
            powertools_layer_version=_layer_version(given),
            max_failed_details=_whole("max_failed_details", get("max_failed_details"), 1, 100),
            reserved_concurrency=_reserved_concurrency(get("notifier_reserved_concurrency")),
            powertools_version=_powertools_version(given),
            failed_log_children=_whole("failed_log_children", get("failed_log_children"), 0, MAX_FAILED_LOG_CHILDREN),
            failed_log_lines=_whole("failed_log_lines", get("failed_log_lines"), 0, MAX_FAILED_LOG_LINES),
            failed_log_bytes=_failed_log_bytes(get("failed_log_bytes")),
        ),
        reliability=reliability,
        tags=tags,
        completion_event_bus=_event_bus(given.get("completion_event_bus")),
        downstream_function=_downstream(given.get("downstream_function")),
        name_prefix=_name_prefix(given.get("name_prefix")),
        chat=_chat(given),
        reconcile=_reconcile(get, reliability),
    )


#: A Powertools V3 release (the layer is the V3 one) or `latest`: the last part of its SSM parameter.
POWERTOOLS_RELEASE = re.compile(r"^(3\.\d+\.\d+|latest)$")


def _layer_version(given: dict[str, Any]) -> int | None:
    if given.get("powertools_layer_version") is None:
        return None
    if given.get("powertools_version") is not None:
        raise InvalidArgumentError(
            "powertools_layer_version",
            given["powertools_layer_version"],
            "not with powertools_version: pin either a layer version number or a release (remove one)",
        )
    return _whole("powertools_layer_version", given["powertools_layer_version"], 1, 1000)


def _powertools_version(given: dict[str, Any]) -> str:
    version = given.get("powertools_version", POWERTOOLS_VERSION)
    if not isinstance(version, str) or not POWERTOOLS_RELEASE.match(version):
        raise InvalidArgumentError(
            "powertools_version", version, f"expected a Powertools V3 release such as {POWERTOOLS_VERSION}, or latest"
        )
    return version


#: Each group is one ARN of the notifier's log statement and a name in its 4 KB of environment.
MAX_JOB_LOG_GROUPS = 5


def _failed_log_bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError("failed_log_bytes", value, "expected a whole number")
    if value != 0 and not MIN_FAILED_LOG_BYTES <= value <= MAX_FAILED_LOG_BYTES:
        raise InvalidArgumentError(
            "failed_log_bytes", value, f"expected 0 (off) or {MIN_FAILED_LOG_BYTES} to {MAX_FAILED_LOG_BYTES}"
        )
    return value


def _log_group_names(value: object) -> list[pulumi.Input[str]]:
    """1-5 CloudWatch Logs group names, each as the Logs API's `LogGroupName` shape allows (botocore's model)."""
    names = _inputs("job_log_group_names", value, None) or []
    if len(names) > MAX_JOB_LOG_GROUPS:
        raise InvalidArgumentError("job_log_group_names", value, f"at most {MAX_JOB_LOG_GROUPS} groups")
    shape = _log_group_name_shape()
    for index, name in enumerate(names):
        if isinstance(name, str) and not (
            shape["min"] <= len(name) <= shape["max"] and re.fullmatch(shape["pattern"], name)
        ):
            raise InvalidArgumentError(
                f"job_log_group_names[{index}]",
                name,
                f"expected a log group name of {shape['min']}-{shape['max']} characters of {shape['pattern']}",
            )
    return names


@functools.cache
def _log_group_name_shape() -> dict[str, Any]:
    """`LogGroupName`'s bounds and pattern from botocore's CloudWatch Logs service model."""
    import botocore.session  # type: ignore[import-untyped]  # noqa: PLC0415  (seconds to load; only when needed)

    return dict(botocore.session.get_session().get_service_model("logs").shape_for("LogGroupName").metadata)


def _reconcile(get: Callable[[str], Any], reliability: ReliabilitySettings) -> ReconcileSettings | None:
    every = _whole("reconcile_every_minutes", get("reconcile_every_minutes"), 0, MAX_EVERY_MINUTES)
    if 0 < every < MIN_EVERY_MINUTES:
        raise InvalidArgumentError(
            "reconcile_every_minutes",
            every,
            f"expected 0 (off) or {MIN_EVERY_MINUTES} to {MAX_EVERY_MINUTES}: a sweep lists and checks up to "
            "1,000 jobs per queue, so running it more often repeats that work for completions still on their way",
        )
    lookback = _whole("reconcile_lookback_hours", get("reconcile_lookback_hours"), 1, MAX_RECONCILE_LOOKBACK_HOURS)
    rate = _whole(
        "reconcile_batch_calls_per_second",
        get("reconcile_batch_calls_per_second"),
        1,
        MAX_SWEEP_BATCH_CALLS_PER_SECOND,
    )
    runtime = _whole(
        "reconcile_max_array_runtime_hours",
        get("reconcile_max_array_runtime_hours"),
        0,
        MAX_RECONCILE_ARRAY_RUNTIME_HOURS,
    )
    if not every:
        return None
    if lookback * 60 < every:
        # Each sweep examines `lookback` hours of stop times, the next one `every` minutes later: shorter,
        # and the jobs that stopped in between are never examined.
        raise InvalidArgumentError(
            "reconcile_lookback_hours",
            lookback,
            f"must cover reconcile_every_minutes ({every} minutes, {-(-every // 60)} h at least): each sweep examines "
            "reconcile_lookback_hours of stop times and the next runs reconcile_every_minutes later, so a shorter "
            "lookback leaves jobs unexamined",
        )
    grace = grace_seconds(reliability.rule_max_event_age_seconds, reliability.notifier_max_event_age_seconds)
    if grace + lookback * 3600 > IDEMPOTENCY_EXPIRY_SECONDS:
        # The oldest job a sweep examines stopped grace + lookback ago; its record must still be there.
        raise InvalidArgumentError(
            "reconcile_lookback_hours",
            lookback,
            f"at most {(IDEMPOTENCY_EXPIRY_SECONDS - grace) // 3600} with this grace period ({grace} s: "
            f"rule_max_event_age_seconds + notifier_max_event_age_seconds + {GRACE_MARGIN_SECONDS} s), so that "
            "the oldest job a sweep examines stopped within the idempotency records' 7 days",
        )
    return ReconcileSettings(every, lookback, grace, runtime, rate)


#: `notifier_reserved_concurrency` meaning "no reservation" (pulumi_aws's own convention for the property).
UNRESERVED = -1


def _reserved_concurrency(value: Any) -> int | None:
    """Lambda's rules (PutFunctionConcurrency, API reference): `ReservedConcurrentExecutions` is 0 or more,
    and the account must keep at least 100 unreserved, which only the account knows (Lambda refuses the
    deploy otherwise). 0 is refused here: it stops every invocation, and Lambda drops throttled asynchronous
    events at zero reserved concurrency instead of retrying them ("Introducing new asynchronous invocation
    metrics for AWS Lambda", AWS Compute Blog)."""
    reserved = _whole("notifier_reserved_concurrency", value, UNRESERVED, None)
    if reserved == 0:
        raise InvalidArgumentError(
            "notifier_reserved_concurrency",
            reserved,
            "0 switches the notifier off and Lambda drops its events; use 1 or more, or -1 for no reservation",
        )
    return None if reserved == UNRESERVED else reserved


def resolve_args(args: BatchArrayPipelineArgs) -> ResolvedArgs:
    """Validate `args` and apply defaults. Raises InvalidArgumentError on the first violation."""
    given, get = _given(args, BatchArrayPipelineArgs.__annotations__)
    options = _options(given, get)
    # The flat keys describe the single environment of the common case; one validator serves both forms.
    compute_environments = _compute_environments(given) or [
        _compute_environment("", {key: given[key] for key in FLAT_COMPUTE_KEYS if given.get(key) is not None})
    ]
    compute_type = compute_environments[0].compute_type

    subnet_ids = _inputs("subnet_ids", given.get("subnet_ids"), "subnet")
    assign_public_ip = given.get("assign_public_ip")
    if assign_public_ip is None:
        # The default VPC has no NAT: without a public IP a Fargate task cannot pull its image.
        assign_public_ip = subnet_ids is None
    elif not isinstance(assign_public_ip, bool):
        raise InvalidArgumentError("assign_public_ip", assign_public_ip, "expected true or false")

    job_image = get("job_image")
    if not isinstance(job_image, str) or not job_image.strip():
        raise InvalidArgumentError("job_image", job_image, "expected an image reference")
    job_vcpus, job_memory_mib = _job_size(compute_type, get("job_vcpus"), get("job_memory_mib"))
    _job_fits(job_vcpus, compute_environments, flat=given.get("compute_environments") is None)
    vpc_id = given.get("vpc_id")
    if vpc_id is not None:
        _ec2_id("vpc_id", vpc_id, "vpc")
    job_environment = _string_map(
        "job_environment",
        get("job_environment"),
        lambda name: bool(ENV_NAME.match(name)) and not name.startswith("AWS_BATCH"),
        "expected NAME=value with a shell-style NAME not starting with AWS_BATCH (reserved by Batch)",
    )

    return ResolvedArgs(
        **_options_of(options),
        subnet_ids=subnet_ids,
        security_group_ids=_inputs("security_group_ids", given.get("security_group_ids"), "sg"),
        vpc_id=vpc_id,
        job=JobSettings(
            image=job_image,
            command=_strings("job_command", get("job_command")),
            vcpus=job_vcpus,
            memory_mib=job_memory_mib,
            environment=job_environment,
            retry_attempts=_whole("job_retry_attempts", get("job_retry_attempts"), 1, 10),
            attempt_timeout_seconds=_whole("job_attempt_timeout_seconds", get("job_attempt_timeout_seconds"), 60),
            log_retention_days=_retention("job_log_retention_days", get("job_log_retention_days")),
            assign_public_ip=assign_public_ip,
        ),
        compute_environments=compute_environments,
    )


# --------------------------------------------------------------------------------------------------
# Embedding: several compute environments, the completion bus, the downstream function, the Name tag

#: A Batch job queue takes at most 3 compute environments (CreateJobQueue).
MAX_QUEUE_COMPUTE_ENVIRONMENTS = 3
FLAT_COMPUTE_KEYS = ("compute_type", "min_vcpus", "max_vcpus", "instance_types", "allocation_strategy")
EVENT_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
EVENT_BUS_RESOURCE = re.compile(r"^event-bus/[/.\-_A-Za-z0-9]{1,256}$")
LAMBDA_RUNTIME = re.compile(r"^(python3\.\d+|nodejs\d+\.x|java\d+|dotnet\d+|ruby\d\.\d+|provided(\.al2|\.al2023)?)$")
LAMBDA_HANDLER = re.compile(r"^[^\s]{1,128}$")
NAME_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _unknown_keys(key: str, value: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(value) - set(allowed)
    if unknown:
        raise InvalidArgumentError(key, value, f"unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _compute_environment(key: str, entry: object) -> ComputeSettings:
    """One environment: an entry of `compute_environments` (`key` is its path) or the flat keys (`key` empty)."""
    if not isinstance(entry, dict):
        raise InvalidArgumentError(key, entry, "expected {compute_type, min_vcpus, max_vcpus, ...}")
    _unknown_keys(key, entry, ComputeEnvironment.__annotations__)

    def field(name: str) -> str:
        return f"{key}.{name}" if key else name

    compute_type = entry.get("compute_type", DEFAULTS["compute_type"] if not key else None)
    _one_of(field("compute_type"), compute_type, COMPUTE_TYPES)
    fargate = compute_type in FARGATE_COMPUTE_TYPES
    for ec2_only in ("instance_types", "allocation_strategy"):
        if fargate and entry.get(ec2_only) is not None:
            raise InvalidArgumentError(
                field(ec2_only), entry[ec2_only], f"only for {' or '.join(EC2_COMPUTE_TYPES)} compute"
            )
    if fargate and entry.get("min_vcpus"):
        raise InvalidArgumentError(
            field("min_vcpus"), entry["min_vcpus"], "Fargate keeps no idle capacity; omit it or use 0"
        )
    min_vcpus = _whole(field("min_vcpus"), entry.get("min_vcpus", DEFAULTS["min_vcpus"]), 0, MAX_ARRAY_VCPUS)
    max_vcpus = _whole(field("max_vcpus"), entry.get("max_vcpus", DEFAULTS["max_vcpus"]), 1, MAX_ARRAY_VCPUS)
    if min_vcpus > max_vcpus:
        raise InvalidArgumentError(field("min_vcpus"), min_vcpus, f"must not exceed max_vcpus ({max_vcpus})")
    allocation_strategy = entry.get("allocation_strategy")
    if allocation_strategy is not None:
        _one_of(field("allocation_strategy"), allocation_strategy, ALLOCATION_STRATEGIES[compute_type])
    elif not fargate:
        allocation_strategy = DEFAULT_ALLOCATION_STRATEGY[compute_type]
    instance_types = (
        []
        if fargate
        else _instance_types(field("instance_types"), entry.get("instance_types", DEFAULTS["instance_types"]))
    )
    return ComputeSettings(compute_type, min_vcpus, max_vcpus, instance_types, allocation_strategy)


def _compute_environments(given: dict[str, Any]) -> list[ComputeSettings] | None:
    """The ordered environments, or None for the single one described by the flat keys."""
    value = given.get("compute_environments")
    if value is None:
        return None
    for flat in FLAT_COMPUTE_KEYS:
        if given.get(flat) is not None:
            raise InvalidArgumentError(flat, given[flat], "set it per entry of compute_environments, not both")
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_QUEUE_COMPUTE_ENVIRONMENTS:
        raise InvalidArgumentError(
            "compute_environments", value, f"expected 1 to {MAX_QUEUE_COMPUTE_ENVIRONMENTS} (a job queue's limit)"
        )
    resolved = [_compute_environment(f"compute_environments[{index}]", entry) for index, entry in enumerate(value)]
    first_fargate = resolved[0].compute_type in FARGATE_COMPUTE_TYPES
    for index, environment in enumerate(resolved[1:], start=1):
        if (environment.compute_type in FARGATE_COMPUTE_TYPES) != first_fargate:
            raise InvalidArgumentError(
                f"compute_environments[{index}].compute_type",
                environment.compute_type,
                "one queue takes EC2/SPOT environments or FARGATE/FARGATE_SPOT ones, not both "
                f"(the first is {resolved[0].compute_type})",
            )
    return resolved


def _event_bus(value: object) -> pulumi.Input[str]:
    if value is None:
        return DEFAULT_EVENT_BUS
    if isinstance(value, str) and value.startswith("arn:"):
        check_arn("completion_event_bus", value, "events", EVENT_BUS_RESOURCE, "an event-bus ARN")
    elif isinstance(value, str) and not EVENT_BUS_NAME.match(value):
        raise InvalidArgumentError("completion_event_bus", value, "expected an event bus name or event-bus ARN")
    if not isinstance(value, str | pulumi.Output):
        raise InvalidArgumentError("completion_event_bus", value, "expected an event bus name or ARN")
    return cast(pulumi.Input[str], value)


def _downstream(value: object) -> DownstreamSettings | None:
    key = "downstream_function"
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidArgumentError(key, value, "expected {code_path, handler, runtime, ...}")
    _unknown_keys(key, value, DownstreamFunction.__annotations__)
    code_path = value.get("code_path")
    if not isinstance(code_path, str) or not code_path.strip():
        raise InvalidArgumentError(f"{key}.code_path", code_path, "expected a folder or file path")
    try:
        path = Path(code_path).expanduser().resolve()
        found = path.exists()
    except (RuntimeError, ValueError, OSError) as error:
        # `~nobody/x` (no such home), a NUL byte, a path too long for the OS: a bad path, not a crash.
        raise InvalidArgumentError(f"{key}.code_path", code_path, f"not a usable path ({error})") from None
    if not found:
        raise InvalidArgumentError(f"{key}.code_path", code_path, f"no such folder or file (looked at {path})")
    handler = value.get("handler")
    if not isinstance(handler, str) or not LAMBDA_HANDLER.match(handler):
        raise InvalidArgumentError(f"{key}.handler", handler, "expected a handler such as app.handler")
    runtime = value.get("runtime", DEFAULT_RUNTIME)
    if not isinstance(runtime, str) or not LAMBDA_RUNTIME.match(runtime):
        raise InvalidArgumentError(f"{key}.runtime", runtime, "expected a Lambda runtime such as python3.13")
    architecture = value.get("architecture", DEFAULT_ARCHITECTURE)
    _one_of(f"{key}.architecture", architecture, ARCHITECTURES)
    return DownstreamSettings(
        code_path=path,
        handler=handler,
        runtime=runtime,
        architecture=architecture,
        timeout_seconds=_whole(f"{key}.timeout_seconds", value.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS), 1, 900),
        memory_mib=_whole(f"{key}.memory_mib", value.get("memory_mib", DEFAULT_MEMORY_MIB), 128, 10240),
        environment=_string_map(
            f"{key}.environment",
            value.get("environment", {}),
            lambda name: bool(ENV_NAME.match(name)),
            "expected NAME=value with a shell-style NAME",
        ),
    )


def _name_prefix(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not NAME_PREFIX.match(value)):
        raise InvalidArgumentError("name_prefix", value, "expected 1-64 letters, digits, '.', '-' or '_'")
    return value


# --------------------------------------------------------------------------------------------------
# Bring your own queue: the notifier's queues and job definitions

JOB_QUEUE_ARN = re.compile(r"^arn:aws[a-z-]*:batch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):job-queue/[\w-]{1,128}$")
JOB_DEFINITION_ARN_PREFIX = re.compile(
    r"^arn:aws[a-z-]*:batch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):job-definition/[\w-]{1,128}$"
)
REVISION = re.compile(r":\d+$")
BATCH_RESOURCE = re.compile(r"^(job-queue|job-definition)/")
BATCH_ARN_LOCATION = re.compile(r"^arn:aws[a-z-]*:batch:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):")


def _batch_arns(key: str, value: object, arn: re.Pattern[str], shape: str) -> list[pulumi.Input[str]]:
    """A non-empty list of ARNs (or Outputs of them); literal ones are checked, each at most once."""
    if not isinstance(value, list) or not value:
        raise InvalidArgumentError(key, value, f"expected a non-empty list of {shape} ARNs")
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        if isinstance(item, pulumi.Output):
            continue
        if not isinstance(item, str) or not arn.match(item):
            allowed = f"expected an ARN like {shape}"
            if isinstance(item, str) and REVISION.search(item) and arn.match(REVISION.sub("", item)):
                allowed = (
                    "expected the ARN without its revision (drop the trailing :<number>), so every revision matches"
                )
            raise InvalidArgumentError(f"{key}[{index}]", item, allowed)
        # The pattern has the shape; this adds a region and partition AWS has.
        check_arn(f"{key}[{index}]", item, "batch", BATCH_RESOURCE, shape)
        if item in seen:
            raise InvalidArgumentError(f"{key}[{index}]", item, f"already given as {key}[{seen[item]}]")
        seen[item] = index
    return cast(list[pulumi.Input[str]], value)


def check_batch_arns_are_local(
    named_arns: Mapping[str, str], region: str, account: str | None, where: str = "where this stack deploys"
) -> None:
    """Batch sends a job's events only to the default bus of the queue's own account and region, which is
    where the notifier's rules live: a queue elsewhere would never report. Keys name the arguments; an
    account of None is not checked."""
    for key, arn in named_arns.items():
        location = BATCH_ARN_LOCATION.match(arn) if isinstance(arn, str) else None
        if location is None:
            raise InvalidArgumentError(key, arn, "expected a Batch ARN, arn:aws:batch:<region>:<account>:...")
        if location["region"] != region or account not in (None, location["account"]):
            of_account = f"of account {account} " if account is not None else ""
            raise InvalidArgumentError(
                key,
                arn,
                f"expected a queue or job definition {of_account}in {region}, {where} "
                "(Batch sends a job's events only to its own account's and region's default bus)",
            )


def resolve_notifier_args(args: ArrayCompletionNotifierArgs) -> ResolvedNotifierArgs:
    """Validate the notifier's `args` and apply defaults. Raises InvalidArgumentError on the first violation."""
    given, get = _given(args, ArrayCompletionNotifierArgs.__annotations__)
    options = _options(given, get)
    if given.get("job_queue_arns") == [] and given.get("member_accounts") is not None:
        return _central_only(given, get, options)
    queues = _batch_arns(
        "job_queue_arns",
        given.get("job_queue_arns"),
        JOB_QUEUE_ARN,
        "arn:aws:batch:<region>:<account>:job-queue/<name>",
    )
    definitions = given.get("job_definition_arn_prefixes")
    if definitions is not None:
        definitions = _batch_arns(
            "job_definition_arn_prefixes",
            definitions,
            JOB_DEFINITION_ARN_PREFIX,
            "arn:aws:batch:<region>:<account>:job-definition/<name> (no revision)",
        )
    literal = {
        f"{key}[{index}]": arn
        for key, arns in (("job_queue_arns", queues), ("job_definition_arn_prefixes", definitions or []))
        for index, arn in enumerate(arns)
        if isinstance(arn, str)
    }
    if literal:
        # One account and region for all; whether it is the stack's is checked once the provider answers.
        first_key, first = next(iter(literal.items()))
        _, _, _, region, account, _ = first.split(":", 5)
        check_batch_arns_are_local(literal, region, account, where=f"like {first_key}")
    if all(isinstance(arn, str) for arn in queues):
        try:
            job_queue_arns_variable(cast(list[str], queues))
        except ValueError as error:
            raise InvalidArgumentError("job_queue_arns", f"{len(queues)} queues", str(error)) from None
    try:
        groups = completion_rule_queue_groups(
            [arn if isinstance(arn, str) else None for arn in queues],
            None if definitions is None else [arn if isinstance(arn, str) else None for arn in definitions],
            options.notify_statuses,
        )
    except ValueError as error:
        raise InvalidArgumentError(
            "job_definition_arn_prefixes", f"{len(definitions or [])} ARNs", str(error)
        ) from None
    return ResolvedNotifierArgs(
        **_options_of(options),
        job_queue_arns=queues,
        job_definition_arn_prefixes=definitions,
        rule_groups=groups,
        job_log_group_names=_log_group_names(get("job_log_group_names")),
    )


def _central_only(given: dict[str, Any], get: Callable[[str], Any], options: ResolvedOptions) -> ResolvedNotifierArgs:
    """Central mode without queues of the notifier's own account: the members' are its only ones."""
    if given.get("job_definition_arn_prefixes") is not None:
        raise InvalidArgumentError(
            "job_definition_arn_prefixes",
            given["job_definition_arn_prefixes"],
            "only with job_queue_arns (they scope the notifier's own queues' rules; members' rules take any)",
        )
    return ResolvedNotifierArgs(
        **_options_of(options),
        job_queue_arns=[],
        job_definition_arn_prefixes=None,
        rule_groups=[],
        job_log_group_names=_log_group_names(get("job_log_group_names")),
    )


# --------------------------------------------------------------------------------------------------
# Chat channels (Amazon Q Developer in chat applications). Formats are the service's own (its API model,
# CreateSlackChannelConfiguration and CreateMicrosoftTeamsChannelConfiguration; a test keeps them equal).

SLACK_WORKSPACE_ID = re.compile(r"^[0-9A-Z]{1,255}$")
SLACK_CHANNEL_ID = re.compile(r"^[A-Za-z0-9]+$")
TEAMS_UUID = re.compile(r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$")
TEAMS_CHANNEL_ID = re.compile(r"^([a-zA-Z0-9-_=+\/.,])*%3[aA]([a-zA-Z0-9-_=+\/.,])*%40([a-zA-Z0-9-_=+\/.,])*$")
#: The API's longest ID, for every one of them.
CHAT_ID_MAX = 255
#: Each key: its format and how to say it.
CHAT_KEYS: dict[str, tuple[re.Pattern[str], str]] = {
    "slack_workspace_id": (SLACK_WORKSPACE_ID, "expected the workspace ID (capitals and digits, e.g. T07EA123LEP)"),
    "slack_channel_id": (SLACK_CHANNEL_ID, "expected the channel ID (letters and digits, e.g. C07EZ1ABC23)"),
    "teams_tenant_id": (TEAMS_UUID, "expected the tenant ID, a UUID"),
    "teams_team_id": (TEAMS_UUID, "expected the team ID, a UUID"),
    "teams_channel_id": (
        TEAMS_CHANNEL_ID,
        "expected the channel ID as the channel link has it, URL-encoded: 19%3A...%40thread.tacv2",
    ),
}
SLACK_KEYS = ("slack_workspace_id", "slack_channel_id")
TEAMS_KEYS = ("teams_tenant_id", "teams_team_id", "teams_channel_id")


def _chat_group(given: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str] | None:
    """All keys of one chat application, or none of them; each in the service's format."""
    values = {key: given.get(key) for key in keys}
    present = [key for key in keys if values[key] is not None]
    if not present:
        return None
    missing = [key for key in keys if values[key] is None]
    if missing:
        raise InvalidArgumentError(
            present[0],
            values[present[0]],
            f"needs {' and '.join(missing)} too ({'both or neither' if len(keys) == 2 else 'all three or none'})",
        )
    for key in keys:
        pattern, rule = CHAT_KEYS[key]
        value = values[key]
        if not isinstance(value, str) or not pattern.match(value) or len(value) > CHAT_ID_MAX:
            raise InvalidArgumentError(key, value, rule)
    return cast(dict[str, str], values)


#: CreateSlackChannelConfiguration / CreateMicrosoftTeamsChannelConfiguration `ConfigurationName`.
CHAT_CONFIGURATION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _chat_extra_topics(value: Any) -> list[pulumi.Input[Any]]:
    """Topics of other notifiers that the configuration this one creates also carries: ARNs (checked here),
    or another notifier's `chat_topic_arns` Output whole (topics that notifier created)."""
    if value is None:
        return []
    if isinstance(value, pulumi.Output):
        return [value]
    if not isinstance(value, list):
        raise InvalidArgumentError("chat_extra_topic_arns", value, "expected a list of SNS topic ARNs")
    for index, arn in enumerate(value):
        if isinstance(arn, str):
            # Any region: a chat configuration is account-wide and carries topics of every region.
            check_topic_arn(f"chat_extra_topic_arns[{index}]", arn)
    return list(value)


def _chat(given: dict[str, Any]) -> ChatSettings | None:
    slack = _chat_group(given, SLACK_KEYS)
    teams = _chat_group(given, TEAMS_KEYS)
    existing = given.get("existing_chat_configuration")
    extra = _chat_extra_topics(given.get("chat_extra_topic_arns"))
    if existing is not None:
        if not isinstance(existing, str) or not CHAT_CONFIGURATION_NAME.match(existing):
            raise InvalidArgumentError(
                "existing_chat_configuration",
                existing,
                "expected a channel configuration's name (1-128 of A-Za-z0-9-_)",
            )
        # AWS allows one configuration per channel per account: a notifier either owns its channel's
        # configuration or delivers through another's, never both.
        owned = [key for key in (*SLACK_KEYS, *TEAMS_KEYS) if given.get(key) is not None]
        if owned:
            raise InvalidArgumentError(
                "existing_chat_configuration",
                existing,
                f"not with {owned[0]}: the channel is configured by {existing}, so this notifier creates no "
                "configuration of its own (remove one of the two)",
            )
        if extra:
            raise InvalidArgumentError(
                "chat_extra_topic_arns",
                f"{len(extra)} ARNs",
                f"only with a channel this notifier configures; add them to {existing}'s owner instead",
            )
    elif slack is None and teams is None:
        if extra:
            raise InvalidArgumentError(
                "chat_extra_topic_arns",
                f"{len(extra)} ARNs",
                "only with slack_workspace_id and slack_channel_id or the teams keys (the configuration they create)",
            )
        return None
    return ChatSettings(
        slack=SlackChannel(slack["slack_workspace_id"], slack["slack_channel_id"]) if slack else None,
        teams=TeamsChannel(teams["teams_tenant_id"], teams["teams_team_id"], teams["teams_channel_id"])
        if teams
        else None,
        existing_configuration=existing,
        extra_topic_arns=extra,
    )


def claim_chat_channels(name: str, chat: ChatSettings | None) -> None:
    """Record that component `name` configures its chat channels; one another component of this program
    configures already is refused (one configuration per channel per account), naming how to share it."""
    shared_channel = claim_channels(name, chat)
    if shared_channel is not None:
        raise InvalidArgumentError(*shared_channel)
