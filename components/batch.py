"""The Batch side: compute environment, job queue, job definition and the job log group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .args import DEFAULT_ALLOCATION_STRATEGY, FARGATE_COMPUTE_TYPES
from .iam import EC2_INSTANCE_POLICY, ECS_TASK_EXECUTION_POLICY, service_role
from .network import JobNetwork


@dataclass(frozen=True)
class ComputeSettings:
    compute_type: str
    min_vcpus: int
    max_vcpus: int
    instance_types: list[str]
    allocation_strategy: str | None


@dataclass(frozen=True)
class JobSettings:
    image: str
    command: list[str]
    vcpus: float
    memory_mib: int
    environment: dict[str, str]
    retry_attempts: int
    attempt_timeout_seconds: int
    log_retention_days: int
    assign_public_ip: bool


@dataclass(frozen=True)
class BatchResources:
    compute_environment: aws.batch.ComputeEnvironment
    job_queue: aws.batch.JobQueue
    job_definition: aws.batch.JobDefinition
    job_log_group: aws.cloudwatch.LogGroup
    compute_environments: tuple[aws.batch.ComputeEnvironment, ...] = ()
    """Every environment in queue order (the first is `compute_environment`)."""


def is_fargate(compute_type: str) -> bool:
    return compute_type in FARGATE_COMPUTE_TYPES


InstanceProfile = tuple[aws.iam.InstanceProfile, list[aws.iam.RolePolicyAttachment]]


def instance_profile(name: str, tags: dict[str, str], parent: pulumi.Resource) -> InstanceProfile:
    """The EC2 hosts' profile, with the policy attachments to depend on; shared by all EC2/SPOT environments."""
    role, attachments = service_role(f"{name}-instance", "ec2.amazonaws.com", [EC2_INSTANCE_POLICY], tags, parent)
    profile = aws.iam.InstanceProfile(
        f"{name}-instance", role=role.name, tags=tags, opts=pulumi.ResourceOptions(parent=parent)
    )
    return profile, attachments


def compute_environment(
    name: str,
    compute: ComputeSettings,
    network: JobNetwork,
    tags: dict[str, str],
    parent: pulumi.Resource,
    *,
    logical_name: str | None = None,
    instance: InstanceProfile | None = None,
) -> aws.batch.ComputeEnvironment:
    """A MANAGED compute environment using the Batch service-linked role.

    No `service_role` on purpose: with the service-linked role Batch can update the environment in
    place, while a custom service role forces replacement on infrastructure changes. Tags go on the
    environment only, not into `compute_resources.tags`, because changing those replaces it.
    """
    resources: aws.batch.ComputeEnvironmentComputeResourcesArgsDict = {
        "type": compute.compute_type,
        "max_vcpus": compute.max_vcpus,
        "subnets": network.subnet_ids,
        "security_group_ids": network.security_group_ids,
    }
    depends_on: list[pulumi.Resource] = []
    if not is_fargate(compute.compute_type):
        profile, attachments = instance or instance_profile(name, tags, parent)
        # Without the policy attached first, instances join no cluster and the environment goes INVALID.
        depends_on = [*attachments]
        # Pinned, not left to Batch's default: that default moved from Amazon Linux 2 (end of support) to
        # AL2023 in 2026, so environments created before and after would silently differ.
        resources["ec2_configurations"] = [{"image_type": "ECS_AL2023"}]
        resources["min_vcpus"] = compute.min_vcpus
        resources["instance_types"] = compute.instance_types
        resources["instance_role"] = profile.arn
        resources["allocation_strategy"] = (
            compute.allocation_strategy or DEFAULT_ALLOCATION_STRATEGY[compute.compute_type]
        )
    return aws.batch.ComputeEnvironment(
        logical_name or f"{name}-compute",
        type="MANAGED",
        compute_resources=resources,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on),
    )


def compute_environments(
    name: str,
    computes: Sequence[ComputeSettings],
    network: JobNetwork,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> list[aws.batch.ComputeEnvironment]:
    """The environments in queue order. The first keeps the single environment's logical name, so a
    stack that adds a second one later does not replace the first."""
    ec2 = [compute for compute in computes if not is_fargate(compute.compute_type)]
    instance = instance_profile(name, tags, parent) if ec2 else None
    return [
        compute_environment(
            name,
            compute,
            network,
            tags,
            parent,
            logical_name=f"{name}-compute" if index == 0 else f"{name}-compute-{index + 1}",
            instance=instance,
        )
        for index, compute in enumerate(computes)
    ]


def job_queue(
    name: str,
    environment: aws.batch.ComputeEnvironment | Sequence[aws.batch.ComputeEnvironment],
    tags: dict[str, str],
    parent: pulumi.Resource,
    time_limit_actions: Sequence[aws.batch.JobQueueJobStateTimeLimitActionArgsDict] = (),
) -> aws.batch.JobQueue:
    return aws.batch.JobQueue(
        f"{name}-queue",
        priority=1,
        state="ENABLED",
        # Cancels a job blocked in RUNNABLE for a while, so an array stuck on capacity still ends.
        job_state_time_limit_actions=list(time_limit_actions) or None,
        compute_environment_orders=[
            {"compute_environment": each.arn, "order": order}
            for order, each in enumerate(
                [environment] if isinstance(environment, aws.batch.ComputeEnvironment) else environment, start=1
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def job_log_group(
    name: str, retention_days: int, tags: dict[str, str], parent: pulumi.Resource
) -> aws.cloudwatch.LogGroup:
    """Job logs go to a group this component owns, with a retention, not to the shared `/aws/batch/job`."""
    return aws.cloudwatch.LogGroup(
        f"{name}-jobs",
        retention_in_days=retention_days,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def container_properties(
    job: JobSettings,
    compute_type: str,
    log_group_name: pulumi.Input[str],
    execution_role_arn: pulumi.Input[str] | None,
) -> dict[str, Any]:
    """The job definition's container properties (rendered to JSON by the caller)."""
    properties: dict[str, Any] = {
        "image": job.image,
        "command": job.command,
        "resourceRequirements": [
            # Batch wants strings; `g` keeps Fargate's fractional vCPUs (0.25) and whole ones ("1").
            {"type": "VCPU", "value": format(job.vcpus, "g")},
            {"type": "MEMORY", "value": str(job.memory_mib)},
        ],
        "environment": [{"name": key, "value": value} for key, value in sorted(job.environment.items())],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group_name, "awslogs-stream-prefix": "job"},
        },
    }
    if is_fargate(compute_type):
        properties |= {
            "executionRoleArn": execution_role_arn,
            "networkConfiguration": {"assignPublicIp": "ENABLED" if job.assign_public_ip else "DISABLED"},
            "fargatePlatformConfiguration": {"platformVersion": "LATEST"},
        }
    return properties


def job_definition(
    name: str,
    job: JobSettings,
    compute_type: str,
    log_group: aws.cloudwatch.LogGroup,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.batch.JobDefinition:
    execution_role_arn: pulumi.Output[str] | None = None
    if is_fargate(compute_type):
        # Fargate pulls the image and ships logs with the execution role; EC2 hosts use their instance role.
        role, _ = service_role(
            f"{name}-execution", "ecs-tasks.amazonaws.com", [ECS_TASK_EXECUTION_POLICY], tags, parent
        )
        execution_role_arn = role.arn
    return aws.batch.JobDefinition(
        f"{name}-job",
        type="container",
        platform_capabilities=["FARGATE" if is_fargate(compute_type) else "EC2"],
        container_properties=pulumi.Output.json_dumps(
            container_properties(job, compute_type, log_group.name, execution_role_arn)
        ),
        retry_strategy={"attempts": job.retry_attempts},
        timeout={"attempt_duration_seconds": job.attempt_timeout_seconds},
        propagate_tags=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def batch_resources(
    name: str,
    compute: ComputeSettings | Sequence[ComputeSettings],
    job: JobSettings,
    network: JobNetwork,
    tags: dict[str, str],
    parent: pulumi.Resource,
    time_limit_actions: Sequence[aws.batch.JobQueueJobStateTimeLimitActionArgsDict] = (),
) -> BatchResources:
    computes = [compute] if isinstance(compute, ComputeSettings) else list(compute)
    environments = compute_environments(name, computes, network, tags, parent)
    queue = job_queue(name, environments, tags, parent, time_limit_actions)
    log_group = job_log_group(name, job.log_retention_days, tags, parent)
    definition = job_definition(name, job, computes[0].compute_type, log_group, tags, parent)
    return BatchResources(environments[0], queue, definition, log_group, tuple(environments))
