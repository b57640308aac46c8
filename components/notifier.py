"""The completion handler: SNS topic and subscriptions, idempotency table, log group, role and Lambda."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pulumi
import pulumi_aws as aws

from . import handler as handler_package
from .args import EmailSubscription
from .iam import Statement, lambda_role, notifier_policy, read_job_logs_statement

HANDLER_ENTRY = "handler.app.handler"
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: The aws-lambda-powertools release the handler is tested with: requirements-dev.txt pins exactly this
#: one (a test keeps the two equal), and by default the notifier runs on this release's layer.
POWERTOOLS_VERSION = "3.37.0"
#: Powertools' public SSM parameter whose value is a release's (or `latest`'s) layer ARN, readable with
#: plain ssm:GetParameter (powertools-lambda-python#3586 and PR #5754; the runtime keeps its period,
#: `python3.13`: #6213). A release's parameter has gone missing once (#7689): preflight says so.
POWERTOOLS_PARAMETER = "/aws/service/powertools/python/{architecture}/{runtime}/{version}"
#: The notifier's run time: log tails (handler/log_tails.py) budget their share of it and leave the rest to delivery.
NOTIFIER_TIMEOUT_SECONDS = 60
#: Lambda allows 4 KB of environment in all; 3 KB for the queue list leaves 1 KB for the other variables.
MAX_JOB_QUEUE_ARNS_CHARS = 3072
#: Of that last KB, what the log groups the notifier may read can take (`FAILED_LOG_GROUPS`).
MAX_FAILED_LOG_GROUPS_CHARS = 400


@dataclass(frozen=True)
class NotifierSettings:
    stage: str
    architecture: str
    runtime: str
    log_retention_days: int
    powertools_layer_version: int | None
    """A pinned layer version number; None: the layer of `powertools_version`, from its SSM parameter."""
    max_failed_details: int
    reserved_concurrency: int | None = None
    """The notifier's reserved concurrency; None: unreserved (the account's pool)."""
    powertools_version: str = POWERTOOLS_VERSION
    failed_log_children: int = 0
    failed_log_lines: int = 0
    failed_log_bytes: int = 0

    @property
    def log_tails(self) -> bool:
        """Whether the notifier reads failed children's log tails (each count above 0)."""
        return min(self.failed_log_children, self.failed_log_lines, self.failed_log_bytes) > 0


@dataclass(frozen=True)
class Notifier:
    topic_arn: pulumi.Output[str]
    function: aws.lambda_.Function
    log_group: aws.cloudwatch.LogGroup
    idempotency_table: aws.dynamodb.Table
    role: aws.iam.Role
    environment: dict[str, pulumi.Input[str]]
    """The handler's environment variables (the reconciliation sweep starts from the same)."""


def handler_sources() -> dict[str, Path]:
    """Archive path -> file for each module of the handler package, read from wherever the package is
    installed (the checkout, an editable install or a wheel), under the same `handler/` paths."""
    package = resources.files(handler_package)
    if not isinstance(package, Path):
        # A zipped install has no files to hand to Pulumi's FileAsset.
        raise FileNotFoundError(f"the handler package must be installed as files, not inside {package}")
    sources = sorted(path for path in package.iterdir() if path.suffix == ".py")
    if not sources:
        raise FileNotFoundError(f"no handler sources in {package}")
    return {f"handler/{path.name}": path for path in sources}


def handler_code() -> pulumi.AssetArchive:
    """The handler package and nothing else: no tests, no `__pycache__`, so its hash only moves with the code."""
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in handler_sources().items()})


def powertools_layer_arn(region: str, architecture: str, runtime: str, version: int) -> str:
    """AWS-managed Powertools V3 layer: keeps the code asset tiny and pins the library per stack."""
    python = runtime.replace(".", "")
    return (
        f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-{architecture}:{version}"
    )


def powertools_parameter_name(architecture: str, runtime: str, version: str) -> str:
    """The SSM parameter holding the layer ARN of Powertools release `version` (or `latest`)."""
    return POWERTOOLS_PARAMETER.format(architecture=architecture, runtime=runtime, version=version)


def powertools_layer(settings: NotifierSettings, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The layer ARN: the pinned version number, or the release's SSM parameter read at deploy time."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    if settings.powertools_layer_version is not None:
        version = settings.powertools_layer_version
        return aws.get_region_output(opts=invoke).region.apply(
            lambda region: powertools_layer_arn(region, settings.architecture, settings.runtime, version)
        )
    name = powertools_parameter_name(settings.architecture, settings.runtime, settings.powertools_version)
    parameter: pulumi.Output[str] = aws.ssm.get_parameter_output(name=name, opts=invoke).value
    return parameter


def job_queue_arns_variable(job_queue_arns: Sequence[str]) -> str:
    """`JOB_QUEUE_ARNS`: the queues whose completions the handler reports (it ignores any other queue's)."""
    value = ",".join(job_queue_arns)
    if len(value) > MAX_JOB_QUEUE_ARNS_CHARS:
        raise ValueError(
            f"the notifier's JOB_QUEUE_ARNS would be {len(value)} characters; at most {MAX_JOB_QUEUE_ARNS_CHARS} fit "
            "Lambda's 4 KB of environment: split the queues over two notifiers"
        )
    return value


def failed_log_groups_variable(names: Sequence[str]) -> str:
    """`FAILED_LOG_GROUPS`: the log groups the notifier may read failed children's tails from."""
    value = ",".join(dict.fromkeys(names))
    if len(value) > MAX_FAILED_LOG_GROUPS_CHARS:
        raise ValueError(
            f"the notifier's FAILED_LOG_GROUPS would be {len(value)} characters; at most "
            f"{MAX_FAILED_LOG_GROUPS_CHARS} fit beside its other variables in Lambda's 4 KB: name fewer job log groups"
        )
    return value


def log_tail_environment(
    settings: NotifierSettings, log_group_names: pulumi.Input[Sequence[str]]
) -> dict[str, pulumi.Input[str]]:
    """The handler's log-tail variables; none when log tails are off (the handler's defaults never apply)."""
    if not settings.log_tails:
        return {"FAILED_LOG_CHILDREN": "0"}
    return {
        "FAILED_LOG_CHILDREN": str(settings.failed_log_children),
        "FAILED_LOG_LINES": str(settings.failed_log_lines),
        "FAILED_LOG_BYTES": str(settings.failed_log_bytes),
        "FAILED_LOG_GROUPS": pulumi.Output.from_input(log_group_names).apply(failed_log_groups_variable),
    }


def log_tail_statements(
    settings: NotifierSettings, log_group_names: pulumi.Input[Sequence[str]], parent: pulumi.Resource
) -> pulumi.Output[list[Statement]]:
    """`logs:GetLogEvents` on the streams of exactly those groups, in the stack's account and region."""
    if not settings.log_tails:
        return pulumi.Output.from_input([])
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    place = pulumi.Output.all(
        aws.get_partition_output(opts=invoke).partition,
        aws.get_region_output(opts=invoke).region,
        aws.get_caller_identity_output(opts=invoke).account_id,
        pulumi.Output.from_input(log_group_names),
    )
    return place.apply(lambda values: [read_job_logs_statement(*values)])


def email_filter_policy(subscription: EmailSubscription) -> str | None:
    statuses = subscription.get("statuses")
    return json.dumps({"status": statuses}) if statuses else None


def completion_topic(
    name: str,
    existing_topic_arn: pulumi.Input[str] | None,
    subscriptions: list[EmailSubscription],
    tags: dict[str, str],
    parent: pulumi.Resource,
    kms_master_key_id: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    if existing_topic_arn is not None:
        topic_arn = pulumi.Output.from_input(existing_topic_arn)
    else:
        topic_arn = aws.sns.Topic(
            f"{name}-completed",
            # A customer-managed key: CloudWatch alarms publishing here cannot use the aws/sns key.
            kms_master_key_id=kms_master_key_id,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=parent),
        ).arn
    for index, subscription in enumerate(subscriptions):
        aws.sns.TopicSubscription(
            f"{name}-email-{index}",
            topic=topic_arn,
            protocol="email",
            endpoint=subscription["address"],
            filter_policy=email_filter_policy(subscription),
            # The handler sets `status` as a message attribute; filter on attributes, not the body.
            filter_policy_scope="MessageAttributes" if subscription.get("statuses") else None,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return topic_arn


def notifier_role(name: str, tags: dict[str, str], parent: pulumi.Resource) -> aws.iam.Role:
    """The notifier's role, on its own so the key policy can name it before the topic exists."""
    return lambda_role(f"{name}-notifier", tags, parent)


def notifier(
    name: str,
    settings: NotifierSettings,
    topic_arn: pulumi.Output[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
    event_bus: pulumi.Input[str] = "default",
    role: aws.iam.Role | None = None,
    extra_statements: pulumi.Input[Sequence[Statement]] = (),
    extra_environment: Mapping[str, pulumi.Input[str]] | None = None,
    *,
    job_queue_arns: pulumi.Input[Sequence[str]],
    job_log_group_names: pulumi.Input[Sequence[str]] = (),
) -> Notifier:
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-notifier", retention_in_days=settings.log_retention_days, tags=tags, opts=child
    )
    # One record per (parent jobId, status) turns at-least-once delivery into exactly one message.
    table = aws.dynamodb.Table(
        f"{name}-completions",
        billing_mode="PAY_PER_REQUEST",
        hash_key="id",
        attributes=[{"name": "id", "type": "S"}],
        ttl={"attribute_name": "expiration", "enabled": True},
        tags=tags,
        opts=child,
    )
    role = role or notifier_role(name, tags, parent)
    statements = pulumi.Output.all(
        pulumi.Output.from_input(extra_statements), log_tail_statements(settings, job_log_group_names, parent)
    ).apply(lambda lists: [*lists[0], *lists[1]])
    policy = aws.iam.RolePolicy(
        f"{name}-notifier",
        role=role.id,
        policy=pulumi.Output.all(log_group.arn, topic_arn, table.arn, statements).apply(
            lambda arns: json.dumps(notifier_policy(arns[0], arns[1], arns[2], arns[3]))
        ),
        opts=child,
    )
    environment: dict[str, pulumi.Input[str]] = {
        "TOPIC_ARN": topic_arn,
        "STAGE": settings.stage,
        "IDEMPOTENCY_TABLE": table.name,
        "MAX_FAILED_DETAILS": str(settings.max_failed_details),
        "POWERTOOLS_SERVICE_NAME": "batch-array-notify",
        # Where the handler puts the normalized completion event (name, or ARN for another account).
        "EVENT_BUS_NAME": event_bus,
        # The queues it serves, in order: the first also counts every event it ignores (handler/metrics.py).
        "JOB_QUEUE_ARNS": pulumi.Output.from_input(job_queue_arns).apply(job_queue_arns_variable),
        # The failed children's log tails (handler/log_tails.py) and the groups the role may read them from.
        **log_tail_environment(settings, job_log_group_names),
        **(extra_environment or {}),
    }
    function = handler_function(
        f"{name}-notifier",
        settings,
        HANDLER_ENTRY,
        role,
        log_group,
        policy,
        environment,
        tags,
        parent,
        timeout=NOTIFIER_TIMEOUT_SECONDS,
        reserved_concurrency=settings.reserved_concurrency,
    )
    return Notifier(topic_arn, function, log_group, table, role, environment)


def handler_function(
    name: str,
    settings: NotifierSettings,
    entry: str,
    role: aws.iam.Role,
    log_group: aws.cloudwatch.LogGroup,
    policy: aws.iam.RolePolicy,
    environment: Mapping[str, pulumi.Input[str]],
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    timeout: int,
    reserved_concurrency: int | None = None,
) -> aws.lambda_.Function:
    """A Lambda of the handler package (the one code asset) with its entry point `entry`: the notifier,
    or the reconciliation sweep. `reserved_concurrency`: at most this many run at once (None: no limit)."""
    return aws.lambda_.Function(
        name,
        role=role.arn,
        runtime=settings.runtime,
        architectures=[settings.architecture],
        handler=entry,
        code=handler_code(),
        memory_size=256,
        timeout=timeout,
        reserved_concurrent_executions=reserved_concurrency,
        layers=[powertools_layer(settings, parent)],
        environment={"variables": dict(environment)},
        logging_config={"log_format": "Text", "log_group": log_group.name},
        tags=tags,
        # Log group and policy first: otherwise the first invocation could log to a group without retention.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, policy]),
    )
