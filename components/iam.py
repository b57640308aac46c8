"""Roles, and the policy documents they carry, as pure functions over ARNs.

Nothing here attaches AdministratorAccess or a `*FullAccess` policy. The two AWS-managed policies used
are the ones AWS documents for the job: the ECS instance role on EC2 hosts, the ECS task execution
role on Fargate. The notifier's permissions are inline and scoped to the resources it owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

PolicyDocument = dict[str, Any]
Statement = dict[str, Any]

EC2_INSTANCE_POLICY = "policy/service-role/AmazonEC2ContainerServiceforEC2Role"
ECS_TASK_EXECUTION_POLICY = "policy/service-role/AmazonECSTaskExecutionRolePolicy"


def assume_role_policy(service: str) -> PolicyDocument:
    """Trust policy letting one AWS service principal assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"},
        ],
    }


def notifier_policy(
    log_group_arn: str,
    topic_arn: str,
    table_arn: str,
    extra_statements: Sequence[Statement] = (),
) -> PolicyDocument:
    """What the completion handler may do, and nothing more."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
            {
                # DescribeJobs and ListJobs support no resource-level permissions: IAM only accepts "*".
                "Sid": "ReadBatchJobs",
                "Effect": "Allow",
                "Action": ["batch:DescribeJobs", "batch:ListJobs"],
                "Resource": "*",
            },
            {"Sid": "PublishCompletion", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
            {
                # Powertools idempotency: read, claim, complete and release one record per completion.
                "Sid": "RecordCompletions",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                ],
                "Resource": table_arn,
            },
            *extra_statements,
        ],
    }


def managed_policy_arn(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """ARN of an AWS-managed policy in the partition the provider deploys to (aws, aws-cn, aws-us-gov)."""
    partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=parent)).partition
    return pulumi.Output.concat("arn:", partition, ":iam::aws:", name)


def service_role(
    name: str,
    service: str,
    managed_policies: Sequence[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
    """A role for one AWS service with AWS-managed policies attached (returned so callers can depend on them)."""
    role = aws.iam.Role(
        name,
        assume_role_policy=pulumi.Output.json_dumps(assume_role_policy(service)),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy.rsplit('/', 1)[-1]}",
            role=role.name,
            policy_arn=managed_policy_arn(policy, parent),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for policy in managed_policies
    ]
    return role, attachments
