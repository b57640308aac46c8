"""The moto account the handler's integration tests and its benchmark run against: a Batch queue and job
definition, an SNS topic read through an SQS subscription, the idempotency table; plus helpers that
drive moto's Batch and count the handler's AWS calls. Plain code, no fixtures: `conftest.py` wraps it
in fixtures, `benchmarks/handler_bench.py` uses it directly.
"""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.batch.models import batch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from batch_array_notify.cli.redrive import Invocation, Invoker
from batch_array_notify.handler import aws, reconcile
from batch_array_notify.handler.app import handler
from batch_array_notify.handler.report import DEFAULT_LOG_GROUP
from batch_array_notify.testing.rehearsal_world import (
    FAKE_CREDENTIALS,
    LambdaContext,
    create_idempotency_table,
    subscribe_queue,
)
from batch_array_notify.testing.rule_harness import drain_queue
from tests.support import SimulatedTime, notifier_environment

REGION = "eu-west-1"
STAGE = "test"


@dataclass(frozen=True)
class BatchStack:
    """What the component would have created, as names and ARNs."""

    region: str
    stage: str
    job_queue_arn: str
    job_definition_arn: str
    topic_arn: str
    subscriber_queue_url: str
    idempotency_table: str


def make_lambda_context() -> LambdaContext:
    """The context the handler gets in these tests (and in benchmarks/handler_bench.py)."""
    return LambdaContext.of_function("batch-array-notify-test", REGION)


#: Fake credentials and region: nothing may ever reach a real account.
FAKE_AWS_ENVIRONMENT = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}


def create_batch_stack() -> BatchStack:
    """Inside an active moto mock: Batch compute environment, queue and job definition; a topic with an
    SQS subscriber; the idempotency table (Powertools defaults: partition key `id`, TTL attribute
    `expiration`). Also used by benchmarks/handler_bench.py."""
    job_queue_arn, job_definition_arn = create_batch_queue(boto3.session.Session(region_name=REGION))
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="batch-array-notify")["TopicArn"]
    queue_url = subscribe_queue(topic_arn, "subscriber", REGION)
    table = "batch-array-notify-idempotency"
    create_idempotency_table(table, REGION)

    return BatchStack(REGION, STAGE, job_queue_arn, job_definition_arn, topic_arn, queue_url, table)


def account_session(account_id: str) -> boto3.session.Session:
    """A session of `account_id` in moto: the default account's, or a role's assumed there (moto keeps the
    accounts of assumed-role credentials apart)."""
    if account_id == DEFAULT_ACCOUNT_ID:
        return boto3.session.Session(region_name=REGION)
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/test-setup", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def create_batch_queue(session: boto3.session.Session) -> tuple[str, str]:
    """Batch compute environment, job queue `test-queue` and job definition `print-color` in the session's
    account: the queue's and the definition's ARNs."""
    iam = session.client("iam", region_name=REGION)
    ec2 = session.client("ec2", region_name=REGION)
    batch = session.client("batch", region_name=REGION)
    role_arn = iam.create_role(
        RoleName="batch-service",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group_id = ec2.create_security_group(GroupName="batch", Description="batch", VpcId=vpc_id)["GroupId"]
    compute_environment_arn = batch.create_compute_environment(
        computeEnvironmentName="test-ce",
        type="MANAGED",
        state="ENABLED",
        computeResources={
            "type": "FARGATE",
            "maxvCpus": 4,
            "subnets": [subnet_id],
            "securityGroupIds": [group_id],
        },
        serviceRole=role_arn,
    )["computeEnvironmentArn"]
    job_queue_arn = batch.create_job_queue(
        jobQueueName="test-queue",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": compute_environment_arn}],
    )["jobQueueArn"]
    job_definition_arn = batch.register_job_definition(
        jobDefinitionName="print-color",
        type="container",
        platformCapabilities=["FARGATE"],
        containerProperties={
            "image": "public.ecr.aws/docker/library/busybox:latest",
            "command": ["echo", "hello"],
            "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": "512"}],
            "executionRoleArn": role_arn,
        },
    )["jobDefinitionArn"]
    return str(job_queue_arn), str(job_definition_arn)


def create_queue_beside(stack: BatchStack, name: str) -> str:
    """Another job queue of the same account, on the stack's compute environment: not the notifier's."""
    batch = boto3.client("batch", region_name=REGION)
    (ours,) = batch.describe_job_queues(jobQueues=[stack.job_queue_arn])["jobQueues"]
    return str(
        batch.create_job_queue(
            jobQueueName=name, state="ENABLED", priority=1, computeEnvironmentOrder=ours["computeEnvironmentOrder"]
        )["jobQueueArn"]
    )


def handler_environment(stack: BatchStack) -> dict[str, str]:
    """The environment variables the component sets on the Lambda, pointing at `stack`."""
    return notifier_environment(
        stack.job_queue_arn,
        topic_arn=stack.topic_arn,
        stage=stack.stage,
        idempotency_table=stack.idempotency_table,
        MAX_FAILED_DETAILS="20",
        # moto's job definition names no awslogs group: its children log to Batch's default group.
        FAILED_LOG_GROUPS=DEFAULT_LOG_GROUP,
    )


def record_aws_calls() -> Counter[str]:
    """Count the handler's AWS calls as IAM actions (`batch:DescribeJobs`), through a botocore hook on
    the handler's session. Call before the handler makes its first client (after a cache reset)."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.signing_name}:{model.name}"] += 1

    aws.session().events.register("before-call", count)
    return calls


def state_change_event(
    detail: dict[str, Any],
    event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> dict[str, Any]:
    """Wrap a job detail in the EventBridge envelope Batch sends (in `account_id`)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": account_id,
        "time": "2026-01-05T10:00:00Z",
        "region": REGION,
        "resources": [detail.get("jobArn", "")],
        "detail": detail,
    }


@dataclass(frozen=True)
class MotoBatch:
    """Drives moto's Docker-free Batch backend, which finishes every job the moment it is submitted, in
    `account_id` (the stack's queue and job definition are that account's)."""

    stack: BatchStack
    account_id: str = DEFAULT_ACCOUNT_ID

    def _batch(self) -> Any:
        return account_session(self.account_id).client("batch", region_name=REGION)

    def submit_array_job(self, size: int, name: str = "print-color") -> str:
        """Submit an array job; all children end SUCCEEDED, or FAILED when the environment has
        MOTO_SIMPLE_BATCH_FAIL_AFTER=0."""
        return str(
            self._batch().submit_job(
                jobName=name,
                jobQueue=self.stack.job_queue_arn,
                jobDefinition=self.stack.job_definition_arn,
                arrayProperties={"size": size},
            )["jobId"]
        )

    def fail_children(self, parent_job_id: str, indexes: list[int], reason: str) -> None:
        """Turn some finished children FAILED, and the parent with them (moto has no API for a mixed
        outcome and would leave the parent SUCCEEDED, unlike real Batch)."""
        jobs = batch_backends[self.account_id][REGION]._jobs
        for index in indexes:
            child = jobs[f"{parent_job_id}:{index}"]
            child.status = "FAILED"
            child.job_stopped_reason = reason
        jobs[parent_job_id].status = "FAILED"

    def describe_job(self, job_id: str) -> dict[str, Any]:
        jobs = self._batch().describe_jobs(jobs=[job_id])["jobs"]
        assert len(jobs) == 1, f"moto does not know job {job_id}"
        return dict(jobs[0])

    def completion_event(
        self, parent_job_id: str, event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    ) -> dict[str, Any]:
        """The parent's terminal `Batch Job State Change` event, its detail as DescribeJobs shows it."""
        return state_change_event(self.describe_job(parent_job_id), event_id, self.account_id)


@dataclass(frozen=True)
class TopicSubscriber:
    """Reads the topic as an SQS subscriber does."""

    stack: BatchStack

    def notifications(self) -> list[dict[str, Any]]:
        """Drain the subscriber queue; each item is the SNS envelope (`Subject`, `Message`,
        `MessageAttributes`)."""
        return drain_queue(boto3.client("sqs", region_name=REGION), self.stack.subscriber_queue_url)


# --------------------------------------------------------------------------------------------------
# What Lambda and EventBridge do with failures, which moto does not run (no Lambda without Docker)


def invoke_in_process(context: LambdaContext) -> Invoker:
    """The notifier invoked synchronously, run in this process against moto: the handler's return value,
    or, when it raises, the error object and `FunctionError: Unhandled` a Lambda invoke would answer. The
    handler's stdout (its EMF metrics) is kept out of the caller's output, as Lambda keeps it in its logs."""

    def invoke(event: Mapping[str, Any]) -> Invocation:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                payload = handler(json.loads(json.dumps(event)), context)
        except Exception as error:  # what Lambda reports as an unhandled function error
            return Invocation({"errorType": type(error).__name__, "errorMessage": str(error)}, "Unhandled")
        return Invocation(json.loads(json.dumps(payload)))

    return invoke


def invoke_asynchronously(
    event: Mapping[str, Any], invoke: Invoker, on_failure_queue_url: str, function_arn: str, attempts: int = 3
) -> bool:
    """An asynchronous invocation as Lambda runs it: the first attempt and its retries (3 attempts by
    default); when every one fails, the invocation record goes to the on-failure destination, in the format
    of "Capturing records of Lambda asynchronous invocations" (docs.aws.amazon.com/lambda/latest/dg/
    invocation-async-retain-records.html). Whether the event was handled."""
    for _ in range(attempts):
        answer = invoke(event)
        if answer.function_error is None:
            return True
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": answer.function_error},
        "responsePayload": answer.payload,
    }
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=on_failure_queue_url, MessageBody=json.dumps(record))
    return False


def keep_undelivered(event: Mapping[str, Any], dead_letter_queue_url: str, rule_arn: str, target_arn: str) -> None:
    """An event EventBridge could not deliver, as its dead-letter queue keeps it: the event as the body, the
    rule, target and error as message attributes."""
    attributes = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target_arn,
        "ERROR_CODE": "NO_PERMISSIONS",
        "ERROR_MESSAGE": "Lambda function does not allow events.amazonaws.com to invoke it",
    }
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=dead_letter_queue_url,
        MessageBody=json.dumps(event),
        MessageAttributes={name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()},
    )


#: The member accounts of a central notifier's tests (central mode, handler/accounts.py), and its external id.
MEMBER_ACCOUNT_IDS = ("111111111111", "222222222222")
MEMBER_EXTERNAL_ID = "batch-array-notify-test"


def read_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/batch-array-notify-read"


def create_member_stacks(central: BatchStack, account_ids: tuple[str, ...] = MEMBER_ACCOUNT_IDS) -> list[MotoBatch]:
    """Inside an active moto mock: a Batch queue and job definition in each member account, driven through
    that account's credentials; the topic and table stay the central stack's."""
    members = []
    for account_id in account_ids:
        queue, definition = create_batch_queue(account_session(account_id))
        members.append(MotoBatch(replace(central, job_queue_arn=queue, job_definition_arn=definition), account_id))
    return members


def central_environment(members: list[MotoBatch], *, list_queues: bool = True) -> dict[str, str]:
    """`MEMBER_ACCOUNTS` and `MEMBER_EXTERNAL_ID` as the component sets them for `members` (each listing its
    queue, or none when not `list_queues`)."""
    accounts = {
        member.account_id: {
            "roleArn": read_role_arn(member.account_id),
            "jobQueueArns": [member.stack.job_queue_arn] if list_queues else [],
            "regions": [REGION],
        }
        for member in members
    }
    return {"MEMBER_ACCOUNTS": json.dumps(accounts), "MEMBER_EXTERNAL_ID": MEMBER_EXTERNAL_ID}


def set_central_sweep(members: list[MotoBatch], monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep of a central notifier without queues of its own, whose members list none (so it asks
    DescribeJobQueues in each), no grace period, its pacer in simulated time."""
    for name, value in central_environment(members, list_queues=False).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("JOB_QUEUE_ARNS", "")
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")
    time = SimulatedTime()
    monkeypatch.setattr(reconcile, "pacer_clock", time.clock)
    monkeypatch.setattr(reconcile, "pacer_sleep", time.sleep)
