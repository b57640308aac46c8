"""The user's own downstream Lambda, invoked with each completion event of this pipeline.

Why a second rule on the completion bus rather than an SNS subscription or a second target on the
Batch rule: the Batch rule sees raw Batch events, duplicates included, and the SNS message is
rendered for people. The completion event is the normalized, deduplicated document (the notifier
puts it once per array job), so the user's code gets the same schema every other consumer gets, and
the rule filters on this pipeline's queue, so pipelines sharing a bus never trigger each other's
code. EventBridge delivers to Lambda at least once: the code should treat (jobId, status) as its key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from .completion_bus import CompletionBus, completion_event_pattern
from .completion_rule import lambda_target
from .iam import lambda_role, write_logs_statement
from .naming import numbered

DEFAULT_RUNTIME = "python3.13"
DEFAULT_ARCHITECTURE = "x86_64"
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_MEMORY_MIB = 256


@dataclass(frozen=True)
class DownstreamSettings:
    code_path: Path
    handler: str
    runtime: str
    architecture: str
    timeout_seconds: int
    memory_mib: int
    environment: dict[str, str]


@dataclass(frozen=True)
class Downstream:
    function: aws.lambda_.Function
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    rules: list[aws.cloudwatch.EventRule]
    """One per group of queues, like the completion rules (the first is `<name>-downstream`)."""

    @property
    def rule(self) -> aws.cloudwatch.EventRule:
        return self.rules[0]


def downstream_code(path: Path) -> pulumi.Archive:
    """A folder is packaged whole; a single file becomes the only file of the package."""
    if path.is_dir():
        return pulumi.FileArchive(str(path))
    return pulumi.AssetArchive({path.name: pulumi.FileAsset(str(path))})


def downstream_function(
    name: str,
    settings: DownstreamSettings,
    bus: CompletionBus,
    queue_groups: Sequence[pulumi.Output[list[str]]],
    log_retention_days: int,
    tags: dict[str, str],
    parent: pulumi.Resource,
    retry_policy: aws.cloudwatch.EventTargetRetryPolicyArgsDict | None = None,
    dead_letter_arn: pulumi.Input[str] | None = None,
) -> Downstream:
    child = pulumi.ResourceOptions(parent=parent)
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-downstream", retention_in_days=log_retention_days, tags=tags, opts=child
    )
    # Only its own logs: the user attaches whatever else the code needs to the exported role.
    role = lambda_role(f"{name}-downstream", tags, parent)
    policy = aws.iam.RolePolicy(
        f"{name}-downstream",
        role=role.id,
        policy=log_group.arn.apply(
            lambda arn: json.dumps({"Version": "2012-10-17", "Statement": [write_logs_statement(arn)]})
        ),
        opts=child,
    )
    function = aws.lambda_.Function(
        f"{name}-downstream",
        role=role.arn,
        runtime=settings.runtime,
        architectures=[settings.architecture],
        handler=settings.handler,
        code=downstream_code(settings.code_path),
        timeout=settings.timeout_seconds,
        memory_size=settings.memory_mib,
        environment={"variables": settings.environment} if settings.environment else None,
        logging_config={"log_format": "Text", "log_group": log_group.name},
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[log_group, policy]),
    )
    rules = []
    for index, job_queue_arns in enumerate(queue_groups):
        # The completion rules' queue groups fit this shorter pattern too (it has fewer clauses).
        rule = aws.cloudwatch.EventRule(
            numbered(f"{name}-downstream", index),
            description="A completion event of this pipeline, for the downstream function",
            event_bus_name=bus.reference,
            event_pattern=pulumi.Output.json_dumps(job_queue_arns.apply(completion_event_pattern)),
            tags=tags,
            opts=child,
        )
        lambda_target(
            rule,
            function,
            parent,
            permission_name=numbered(f"{name}-downstream", index),
            target_name=numbered(f"{name}-downstream", index),
            event_bus_name=bus.reference,
            retry_policy=retry_policy,
            dead_letter_arn=dead_letter_arn,
        )
        rules.append(rule)
    return Downstream(function, role, log_group, rules)
