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
from .iam import Statement, lambda_role, notifier_policy

HANDLER_ENTRY = "handler.app.handler"
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: Lambda allows 4 KB of environment in all; 3 KB for the queue list leaves 1 KB for the other variables.
MAX_JOB_QUEUE_ARNS_CHARS = 3072


@dataclass(frozen=True)
class NotifierSettings:
    stage: str
    architecture: str
    runtime: str
    log_retention_days: int
    powertools_layer_version: int
    max_failed_details: int
    reserved_concurrency: int | None = None
    """The notifier's reserved concurrency; None: unreserved (the account's pool)."""


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


def job_queue_arns_variable(job_queue_arns: Sequence[str]) -> str:
    """`JOB_QUEUE_ARNS`: the queues whose completions the handler reports (it ignores any other queue's)."""
    value = ",".join(job_queue_arns)
    if len(value) > MAX_JOB_QUEUE_ARNS_CHARS:
        raise ValueError(
            f"the notifier's JOB_QUEUE_ARNS would be {len(value)} characters; at most {MAX_JOB_QUEUE_ARNS_CHARS} fit "
            "Lambda's 4 KB of environment: split the queues over two notifiers"
        )
    return value


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
    policy = aws.iam.RolePolicy(
        f"{name}-notifier",
        role=role.id,
        policy=pulumi.Output.all(log_group.arn, topic_arn, table.arn, pulumi.Output.from_input(extra_statements)).apply(
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
        timeout=60,
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
    region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=parent)).region
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
        layers=[
            region.apply(
                lambda r: powertools_layer_arn(
                    r, settings.architecture, settings.runtime, settings.powertools_layer_version
                )
            )
        ],
        environment={"variables": dict(environment)},
        logging_config={"log_format": "Text", "log_group": log_group.name},
        tags=tags,
        # Log group and policy first: otherwise the first invocation could log to a group without retention.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, policy]),
    )
