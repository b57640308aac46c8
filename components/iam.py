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


def assume_role_policy(service: str, source_account: str | None = None) -> PolicyDocument:
    """Trust policy letting one AWS service principal assume the role; with `source_account`, only on
    behalf of that account (the confused-deputy guard of services that act for other accounts' resources,
    such as EventBridge Scheduler)."""
    statement: Statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def write_logs_statement(log_group_arn: str) -> Statement:
    """Write to one log group's streams; the group itself is ours, so no logs:CreateLogGroup."""
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    }


def read_job_logs_statement(partition: str, region: str, account_id: str, group_names: Sequence[str]) -> Statement:
    """Read failed children's log tails: GetLogEvents on the streams of these groups and no other. Its
    resource type is `log-stream` (Service Authorization Reference, CloudWatch Logs: GetLogEvents)."""
    return {
        "Sid": "ReadFailedJobLogs",
        "Effect": "Allow",
        "Action": "logs:GetLogEvents",
        "Resource": [
            f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}:log-stream:*"
            for name in dict.fromkeys(group_names)
        ],
    }


def lambda_role(name: str, tags: dict[str, str], parent: pulumi.Resource) -> aws.iam.Role:
    """A role only Lambda can assume; its permissions are attached by the caller."""
    return aws.iam.Role(
        name,
        assume_role_policy=pulumi.Output.json_dumps(assume_role_policy("lambda.amazonaws.com")),
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


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
            write_logs_statement(log_group_arn),
            {
                # DescribeJobs and ListJobs support no resource-level permissions: IAM only accepts "*".
                "Sid": "ReadBatchJobs",
                "Effect": "Allow",
                "Action": ["batch:DescribeJobs", "batch:ListJobs"],
                "Resource": "*",  # IAM accepts only "*" for these two actions
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


# --------------------------------------------------------------------------------------------------
# Failure handling (issue 4): the key, the queues and the topic that catch what the pipeline drops.

#: What the account root may do with the pipeline's key: administer it, never use it. Listed one by
#: one (no `kms:*`, no `kms:Create*`) so IAM policies in the account can delegate administration but
#: never encryption or decryption; users of the key are named in the key policy itself.
KMS_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
#: What SNS and SQS need from a caller (or a service) that writes to a topic or queue under this key.
KMS_PRODUCER_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey*")


def key_policy(
    account_id: str, partition: str, notifier_role_arn: str, region: str, sweep_role_arn: str | None = None
) -> PolicyDocument:
    """The pipeline key's policy.

    `Resource: "*"` in a key policy means "this key" (a key policy is attached to exactly one key and
    accepts nothing else); it is the only form KMS allows there, so it is not a wildcard grant.
    CloudWatch alarms and EventBridge rules publish to the encrypted topic and queues as their service
    principals, which the AWS-managed `aws/sns` key would refuse. CloudWatch is limited to this account;
    EventBridge cannot be (see its statement). People of the account read the failure queues through
    SQS only, with whatever IAM policy the account gives them: root itself never decrypts directly.
    """
    this_account = {"StringEquals": {"aws:SourceAccount": account_id}}
    root = f"arn:{partition}:iam::{account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": list(KMS_ADMIN_ACTIONS),
                "Resource": "*",  # key policy: "*" is this key and nothing else
            },
            {
                "Sid": "AlarmsPublishToEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": list(KMS_PRODUCER_ACTIONS),
                "Resource": "*",  # key policy: "*" is this key and nothing else
                "Condition": this_account,
            },
            {
                # No aws:SourceAccount/SourceArn here: the SNS guide says KMS does not support them for
                # EventBridge-to-encrypted-topic delivery, so a condition would drop every blocked-queue
                # alert. KMS is only reached once the topic policy and the dead-letter queue policy
                # (both aws:SourceArn = our rules) have accepted the request.
                "Sid": "RulesWriteToEncryptedTopicAndQueue",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": list(KMS_PRODUCER_ACTIONS),
                "Resource": "*",  # key policy: "*" is this key and nothing else
            },
            {
                # The notifier only ever reaches the key through SNS (publish) and SQS (on-failure queue):
                # the key enforces that itself, not only the role's IAM policy.
                "Sid": "NotifierWritesToEncryptedTopicAndQueue",
                "Effect": "Allow",
                "Principal": {"AWS": notifier_role_arn},
                "Action": list(KMS_PRODUCER_ACTIONS),
                "Resource": "*",  # key policy: "*" is this key and nothing else
                "Condition": {
                    "StringEquals": {"kms:ViaService": [f"sns.{region}.amazonaws.com", f"sqs.{region}.amazonaws.com"]}
                },
            },
            *([sweep_key_statement(sweep_role_arn, region)] if sweep_role_arn else []),
            {
                # Without it nobody can `aws sqs receive-message` the failure queues (SQS decrypts with
                # the reader's rights). Root delegates to IAM policies, and only through SQS of the region.
                "Sid": "AccountReadsEncryptedQueues",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ["kms:Decrypt"],
                "Resource": "*",  # key policy: "*" is this key and nothing else
                "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
            },
        ],
    }


def sweep_key_statement(sweep_role_arn: str, region: str) -> Statement:
    """The key policy's statement for the reconciliation sweep: it reaches the key only through SNS (it
    publishes the completions it reports), never through SQS (it has no on-failure queue)."""
    return {
        "Sid": "SweepWritesToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"AWS": sweep_role_arn},
        "Action": list(KMS_PRODUCER_ACTIONS),
        "Resource": "*",  # key policy: "*" is this key and nothing else
        "Condition": {"StringEquals": {"kms:ViaService": f"sns.{region}.amazonaws.com"}},
    }


def sweep_encrypt_statement(key_arn: str, region: str) -> Statement:
    """The sweep role's right to the key: SNS encrypts what it publishes with the caller's rights."""
    return {
        "Sid": "EncryptForTopics",
        "Effect": "Allow",
        "Action": list(KMS_PRODUCER_ACTIONS),
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": [f"sns.{region}.amazonaws.com"]}},
    }


def one_grant_policy(sid: str, action: str, resource: str) -> PolicyDocument:
    """A policy of one statement: one action on one resource."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}],
    }


def scheduler_policy(function_arn: str) -> PolicyDocument:
    """What EventBridge Scheduler may do with the sweep's schedule role: invoke the sweep, nothing else."""
    return one_grant_policy("InvokeSweep", "lambda:InvokeFunction", function_arn)


def notifier_reliability_statements(
    failure_queue_arn: str, key_arn: str, region: str, topic_encrypted: bool
) -> list[Statement]:
    """The notifier role's extra rights: its on-failure destination, and the key of what it writes to."""
    via = [f"sqs.{region}.amazonaws.com", *([f"sns.{region}.amazonaws.com"] if topic_encrypted else [])]
    return [
        {
            # Lambda sends a failed asynchronous event to the destination with the function's role.
            "Sid": "SendFailedEventsToDestination",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": failure_queue_arn,
        },
        {
            # SNS and SQS encrypt with the caller's rights; only through those two services.
            "Sid": "EncryptForTopicAndDestination",
            "Effect": "Allow",
            "Action": list(KMS_PRODUCER_ACTIONS),
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": via}},
        },
    ]


def dead_letter_queue_policy(queue_arn: str, rule_arns: Sequence[str]) -> PolicyDocument:
    """Only EventBridge may send to the dead-letter queue, and only for the pipeline's own rules."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RulesDeadLetter",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": list(rule_arns)}},
            }
        ],
    }


def alerts_topic_policy(
    topic_arn: str, account_id: str, alarm_arns: Sequence[str], blocked_rule_arns: str | Sequence[str]
) -> PolicyDocument:
    """Who may publish to the alerts topic besides IAM principals of the account: our alarms and our rules."""
    rules = [blocked_rule_arns] if isinstance(blocked_rule_arns, str) else list(blocked_rule_arns)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PipelineAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": list(alarm_arns)},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
            # A central notifier without queues of its own has no blocked-queue rule: no statement (an empty
            # aws:SourceArn list would admit nothing and is no valid condition).
            *(
                [
                    {
                        "Sid": "QueueBlockedRulePublishes",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": topic_arn,
                        # One rule as a plain string: the document of a stack with one queue stays as it was.
                        "Condition": {"ArnEquals": {"aws:SourceArn": rules[0] if len(rules) == 1 else rules}},
                    }
                ]
                if rules
                else []
            ),
        ],
    }


# --------------------------------------------------------------------------------------------------
# Chat delivery (issue 13): the chat channels' role, and the notifier's right to publish to the chat topic.

#: What a channel needs to render an alarm notification: the alarm (state, reason, history) and its
#: metric chart. The service's "notification permissions" template grants `cloudwatch:Describe*`, `Get*`
#: and `List*`; these are the reads of that template an alarm notification shows, named one by one.
CHAT_ALARM_READ_ACTIONS: tuple[str, ...] = ("cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory")
CHAT_METRIC_READ_ACTIONS: tuple[str, ...] = ("cloudwatch:GetMetricData", "cloudwatch:GetMetricWidgetImage")


def chat_channel_policy(partition: str, region: str, account_id: str) -> PolicyDocument:
    """The chat channels' role: read the alarms of this account and region, and draw their metrics."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # The alerts topic may be one the user shares with other alarms of the region: any alarm
                # of this account and region, not only the pipeline's six.
                "Sid": "ReadAlarmsForNotifications",
                "Effect": "Allow",
                "Action": list(CHAT_ALARM_READ_ACTIONS),
                "Resource": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*",
            },
            {
                # GetMetricData and GetMetricWidgetImage support no resource-level permissions.
                "Sid": "DrawAlarmCharts",
                "Effect": "Allow",
                "Action": list(CHAT_METRIC_READ_ACTIONS),
                "Resource": "*",  # IAM accepts only "*" for these two actions
            },
        ],
    }


def chat_publish_statement(chat_topic_arn: str) -> Statement:
    """The notifier publishes custom notifications to the chat topic (the key: notifier_reliability_statements)."""
    return {"Sid": "PublishChatNotification", "Effect": "Allow", "Action": "sns:Publish", "Resource": chat_topic_arn}


# --------------------------------------------------------------------------------------------------
# Member accounts (issue 23): the forwarder's target role, and the read role the central notifier assumes.

#: What the central notifier reads of a member's Batch jobs. None of the three supports resource-level
#: permissions (Service Authorization Reference, AWS Batch): IAM accepts only "*" for them.
MEMBER_BATCH_READ_ACTIONS: tuple[str, ...] = ("batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues")


def forward_events_policy(central_bus_arn: str) -> PolicyDocument:
    """What EventBridge may do with the forwarder's target role: put events on the central bus, no other."""
    return one_grant_policy("ForwardToCentralBus", "events:PutEvents", central_bus_arn)


def member_read_trust_policy(
    central_role_arns: Sequence[str], external_id: str | None, organization_id: str | None
) -> PolicyDocument:
    """Only the central notifier's roles may assume the read role, and only with the external id and/or
    from the organisation: a role ARN alone would let any service the central account runs under that
    role act here (the confused deputy), so at least one condition is required."""
    conditions = {
        key: value
        for key, value in (("sts:ExternalId", external_id), ("aws:PrincipalOrgID", organization_id))
        if value is not None
    }
    if not conditions:
        raise ValueError("the read role's trust needs an external id, an organization id or both")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CentralNotifierReads",
                "Effect": "Allow",
                "Principal": {"AWS": list(central_role_arns)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": conditions},
            }
        ],
    }


def member_read_policy(partition: str, account_id: str, group_names: Sequence[str]) -> PolicyDocument:
    """What the central notifier may do in a member account: read its Batch jobs and queues, and the log
    tails of its job log groups. The role is global (one per account) and serves the forwarders of every
    region, so the log groups are named in any region of this account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadBatchJobs",
                "Effect": "Allow",
                "Action": list(MEMBER_BATCH_READ_ACTIONS),
                "Resource": "*",  # IAM accepts only "*" for these three actions
            },
            read_job_logs_statement(partition, "*", account_id, group_names),
        ],
    }
