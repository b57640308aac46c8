"""Helpers shared by test modules (plain functions; fixtures live in conftest files)."""

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from batch_array_notify.handler.lineage import INDEX_MAP_VARIABLE, ORIGINAL_INDEX_PY, ORIGINAL_INDEX_SH
from batch_array_notify.testing.program import Plan, PlannedResource

#: Pulumi type tokens of the resources the tests look up.
COMPUTE_ENV = "aws:batch/computeEnvironment:ComputeEnvironment"
QUEUE = "aws:batch/jobQueue:JobQueue"
JOB_DEF = "aws:batch/jobDefinition:JobDefinition"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SCHEDULE = "aws:scheduler/schedule:Schedule"
BUS = "aws:cloudwatch/eventBus:EventBus"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
SQS_QUEUE = "aws:sqs/queue:Queue"
ROLE = "aws:iam/role:Role"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
TABLE = "aws:dynamodb/table:Table"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
KEY = "aws:kms/key:Key"
PROVIDER = "pulumi:providers:aws"
NOTIFIER = "batcharray:index:ArrayCompletionNotifier"


def descendants(plan: Plan, type_token: str, name: str) -> list[PlannedResource]:
    """Every resource below the component `type_token` `name`: its children, theirs, and so on."""
    return [
        resource
        for resource in plan.resources
        if any((ancestor.type, ancestor.name) == (type_token, name) for ancestor in plan.ancestors(resource))
    ]


SLACK_CHANNEL = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
TEAMS_CHANNEL = "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration"

#: Both chat applications configured (the IDs in the services' formats); `chat_plan` plans dev with them.
CHAT_CONFIG = {
    "batch-array-notify:slackWorkspaceId": "T07EA123LEP",
    "batch-array-notify:slackChannelId": "C07EZ1ABC23",
    "batch-array-notify:teamsTenantId": "00000000-1111-2222-3333-444444444444",
    "batch-array-notify:teamsTeamId": "55555555-6666-7777-8888-999999999999",
    "batch-array-notify:teamsChannelId": "19%3Aabc123def456%40thread.tacv2",
}


def queued_compute_types(plan: Plan, queue_name: str) -> list[str]:
    """Compute types in the order the queue tries them.

    Registration order under the mock runtime is not deterministic (inputs resolve concurrently), so
    order is read from the queue's `computeEnvironmentOrders`, which is what Batch uses anyway.
    """
    types_by_arn = {env.state["arn"]: env.inputs["computeResources"]["type"] for env in plan.of_type(COMPUTE_ENV)}
    orders = plan.named(QUEUE, queue_name).inputs["computeEnvironmentOrders"]
    return [types_by_arn[order["computeEnvironment"]] for order in sorted(orders, key=lambda o: o["order"])]


#: Where a resource takes a policy document, and which input holds it.
POLICY_INPUTS = {
    ROLE: "assumeRolePolicy",
    ROLE_POLICY: "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    KEY: "policy",
    BUS_POLICY: "policy",
}
IDENTITY_POLICIES = (ROLE_POLICY, "aws:iam/policy:Policy")


def policy_documents(
    plan: Plan, types: tuple[str, ...] = tuple(POLICY_INPUTS)
) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, logical name, parsed document) of every policy document of `types` in the plan."""
    found = []
    for resource in plan.resources:
        if resource.type in types and resource.inputs.get(POLICY_INPUTS[resource.type]):
            found.append((resource.type, resource.name, json.loads(resource.inputs[POLICY_INPUTS[resource.type]])))
    return found


@dataclass(frozen=True)
class ToolRun:
    code: int
    stdout: str
    stderr: str


def run_tool(main: Callable[[Sequence[str]], int], *argv: str) -> ToolRun:
    """A tool's `main` run in this process, as `python -m tools.X ARGV` would run it: exit code and output.

    Why not a subprocess: each new interpreter imports pulumi_aws again (seconds of CPU per test); the
    README command test still runs the tools as real processes.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(list(argv))
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 1
    return ToolRun(code, stdout.getvalue(), stderr.getvalue())


def notifier_environment(
    job_queue_arn: str,
    *,
    topic_arn: str = "arn:aws:sns:eu-west-1:123456789012:completions",
    stage: str = "qa",
    idempotency_table: str = "completions",
    **more: str,
) -> dict[str, str]:
    """The environment the component gives the notifier function, plus `more`; the defaults stand in for
    a unit test, the moto stack passes its own resources."""
    return {
        "TOPIC_ARN": topic_arn,
        "STAGE": stage,
        "IDEMPOTENCY_TABLE": idempotency_table,
        "POWERTOOLS_SERVICE_NAME": "batch-array-notify",
        "JOB_QUEUE_ARNS": job_queue_arn,
        **more,
    }


class SimulatedTime:
    """A clock that moves only when something sleeps on it: a pacer's waits cost a test no time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def original_indices_by_shell(index_map: str, size: int, *, array: bool = True) -> list[int]:
    """The documented shell snippet (handler/lineage.py) run in one `sh` for each of `size` children of a
    resubmission (`array=False`: a plain job, without AWS_BATCH_JOB_ARRAY_INDEX): what each computes."""
    body = f"{ORIGINAL_INDEX_SH}\necho $ORIGINAL_INDEX"
    script = f"for n in $(seq 0 {size - 1}); do AWS_BATCH_JOB_ARRAY_INDEX=$n\n{body}\ndone" if array else body
    environment = {"PATH": os.environ["PATH"], INDEX_MAP_VARIABLE: index_map}
    output = subprocess.run(["sh", "-c", script], env=environment, capture_output=True, text=True, check=True)
    return [int(line) for line in output.stdout.split()]


def original_indices_by_python(index_map: str, size: int, *, array: bool = True) -> list[int]:
    """The documented Python snippet run for each of `size` children, each with its own environment."""
    found: list[int] = []
    saved = dict(os.environ)
    try:
        os.environ[INDEX_MAP_VARIABLE] = index_map
        for index in range(size):
            if array:
                os.environ["AWS_BATCH_JOB_ARRAY_INDEX"] = str(index)
            else:
                os.environ.pop("AWS_BATCH_JOB_ARRAY_INDEX", None)
            namespace: dict[str, Any] = {}
            exec(ORIGINAL_INDEX_PY, namespace)  # the documented snippet, as a job runs it
            found.append(namespace["original_index"])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return found
