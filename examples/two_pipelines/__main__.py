"""Two pipelines in one program: renders on EC2 (Spot first, then on-demand), encodes on Fargate
(Fargate Spot first), both announcing completions on one custom EventBridge bus. A consumer rule on
that bus collects every FAILED array job of either pipeline in an SQS queue, knowing nothing of
Batch's own events; the encode pipeline also runs a downstream Lambda on each of its completions.
With `slackWorkspaceId` and `slackChannelId`, both pipelines post to that one Slack channel through one
channel configuration (AWS allows one per channel per account): render's, which carries encode's topics.
"""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws

from batch_array_notify import (
    COMPLETION_EVENT_DETAIL_TYPE,
    COMPLETION_EVENT_SOURCE,
    BatchArrayPipeline,
    chat_configuration_name,
)

HERE = Path(__file__).resolve().parent
stage = pulumi.get_stack()
config = pulumi.Config()

bus = aws.cloudwatch.EventBus("completions")

slack_workspace, slack_channel = config.get("slackWorkspaceId"), config.get("slackChannelId")
# One channel, one configuration: render owns it; encode delivers through it (created first, so render's
# configuration can carry encode's chat and alerts topics).
encode_chat = {"existing_chat_configuration": chat_configuration_name("render", "slack")} if slack_channel else {}

encode = BatchArrayPipeline(
    "encode",
    {
        "stage": stage,
        "compute_environments": [
            {"compute_type": "FARGATE_SPOT", "max_vcpus": 8},
            {"compute_type": "FARGATE", "max_vcpus": 4},
        ],
        "job_vcpus": 0.5,
        "job_memory_mib": 1024,
        "notify_statuses": ["FAILED"],
        "completion_event_bus": bus.name,
        "downstream_function": {
            # Absolute, so it does not depend on the directory the program is started from.
            "code_path": str(HERE / "downstream"),
            "handler": "app.handler",
            "runtime": "python3.13",
        },
        "name_prefix": f"encode-{stage}",
        "tags": {"app": "encode"},
        **encode_chat,
    },
)

render_chat = {}
if slack_channel:
    render_chat = {
        "slack_workspace_id": slack_workspace,
        "slack_channel_id": slack_channel,
        "chat_extra_topic_arns": encode.chat_topic_arns,
    }
render = BatchArrayPipeline(
    "render",
    {
        "stage": stage,
        "compute_environments": [
            {"compute_type": "SPOT", "max_vcpus": 64, "instance_types": ["c6i", "c7i"]},
            {"compute_type": "EC2", "max_vcpus": 16, "instance_types": ["c6i"]},
        ],
        "job_vcpus": 2,
        "job_memory_mib": 4096,
        "job_retry_attempts": 3,
        "completion_event_bus": bus.name,
        "name_prefix": f"render-{stage}",
        "tags": {"app": "render"},
        **render_chat,
    },
)

# A consumer that knows only the completion event: every FAILED array job of either pipeline.
failures = aws.sqs.Queue("failed-array-jobs", message_retention_seconds=14 * 24 * 3600)
failed_rule = aws.cloudwatch.EventRule(
    "failed-array-jobs",
    event_bus_name=bus.name,
    event_pattern=json.dumps(
        {
            "source": [COMPLETION_EVENT_SOURCE],
            "detail-type": [COMPLETION_EVENT_DETAIL_TYPE],
            "detail": {"status": ["FAILED"]},
        }
    ),
)
aws.sqs.QueuePolicy(
    "failed-array-jobs",
    queue_url=failures.url,
    policy=pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": failures.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": failed_rule.arn}},
                }
            ],
        }
    ),
)
aws.cloudwatch.EventTarget("failed-array-jobs", rule=failed_rule.name, event_bus_name=bus.name, arn=failures.arn)

alert_email = config.get("alertEmail")
if alert_email:
    alerts = aws.sns.Topic("failed-array-jobs-mail")
    aws.sns.TopicSubscription("failed-array-jobs-mail", topic=alerts.arn, protocol="email", endpoint=alert_email)

pulumi.export("completionEventBus", bus.name)
pulumi.export("failedArrayJobsQueueUrl", failures.url)
for prefix, pipeline in (("render", render), ("encode", encode)):
    pulumi.export(f"{prefix}JobQueue", pipeline.job_queue_name)
    pulumi.export(f"{prefix}JobDefinition", pipeline.job_definition_name)
    pulumi.export(f"{prefix}TopicArn", pipeline.topic_arn)
pulumi.export("encodeDownstreamFunction", encode.downstream_function_name)
