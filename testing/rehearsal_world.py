"""A moto account that answers the notifier the way the stack's AWS account would, for one rehearsal.

`rehearsal_account(target)` enters `moto.mock_aws` (Docker-free Batch), sets the notifier's environment
exactly as the plan's Lambda function would get it, and creates what the stack would have created, under
the plan's own names: the job queue, the job definition, the SNS topic (read through an SQS subscriber)
and the idempotency table.

Why the plan's names: the mock runtime mints ARNs in account 123456789012, which is also moto's default
account, so a queue or job definition created in moto under the plan's name in the plan's region gets
the very ARN the plan's rule pattern names. Events can then carry the plan's ARNs (so the real rule
matches them) and the handler's DescribeJobs/ListJobs calls hit the same jobs in moto: one set of ARNs,
no translation table. `RehearsalWorld` checks that moto really minted the plan's ARNs and refuses
otherwise (`WorldMismatchError`), so a change in either side cannot silently break the mapping.

`BatchLedger` reads a stream of Batch events (generated or a user's capture) and `RehearsalWorld.settle`
makes moto's Batch state agree with it: every array parent with a terminal event exists in moto with its
size, status and times, and its failed children are FAILED with the stream's reasons, so the handler's
"list the failed children" finds exactly the children the stream failed.

The building blocks that do not depend on a plan (`MOTO_CONFIG`, `FAKE_CREDENTIALS`, `LambdaContext`,
`reset_handler_caches`, `create_idempotency_table`, `subscribe_queue`) are also what the integration tests'
`tests/integration/moto_stack.py` builds its moto account from: tests may import tools, not the reverse.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Final

from moto import mock_aws
from moto.batch.models import batch_backends
from moto.batch.utils import make_arn_for_job
from moto.core.models import DEFAULT_ACCOUNT_ID

from batch_array_notify.handler import accounts as handler_accounts
from batch_array_notify.handler import app as handler_app
from batch_array_notify.handler import aws as handler_aws
from batch_array_notify.handler import delivery as handler_delivery
from batch_array_notify.handler import settings as handler_settings
from batch_array_notify.handler.aws import new_client
from batch_array_notify.testing.eventgen import FAILED_CHILD_LOG, JOB_STATE_CHANGE, Compute
from batch_array_notify.testing.program import Plan, PlannedResource
from batch_array_notify.testing.rule_harness import drain_queue

Event = dict[str, Any]

TERMINAL_STATUSES: Final = handler_settings.TERMINAL_STATUSES
MOTO_CONFIG: Final[Any] = {"batch": {"use_docker": False}}
#: Stack compute types (Pulumi.yaml `computeType`) and the event shapes their jobs produce.
COMPUTE_OF_STACK: Final[Mapping[str, Compute]] = {
    "EC2": Compute.EC2,
    "SPOT": Compute.SPOT,
    "FARGATE": Compute.FARGATE,
    "FARGATE_SPOT": Compute.FARGATE,
}
_NOTIFIER: Final = "batcharray:index:ArrayCompletionNotifier"
_FUNCTION: Final = "aws:lambda/function:Function"
_RULE: Final = "aws:cloudwatch/eventRule:EventRule"
_TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"
#: The reconciliation sweep's entry point (components/reconcile.py SWEEP_ENTRY).
_SWEEP_ENTRY: Final = "handler.reconcile.handler"
#: Credentials that can only ever reach moto.
FAKE_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
}


class WorldMismatchError(Exception):
    """moto would not answer for the plan's resources (different ARNs); the rehearsal would prove nothing."""


@dataclass(frozen=True)
class StackTarget:
    """What a rehearsal needs from a stack's plan: its rule, its handler's settings and its ARNs.

    Read from the plan's one `ArrayCompletionNotifier` (a pipeline's or a notifier-only stack's): the
    queues it serves and the job definitions it is scoped to are what `owns` judges by. The rehearsal's
    jobs run the plan's job definition, or one of the scoped ones, or (any definition counts) a made-up one.
    """

    stack: str
    region: str
    job_queue_arns: tuple[str, ...]
    job_definition_arn: str
    """The job definition the rehearsal's array jobs run (with a revision)."""
    job_definition_arn_prefixes: tuple[str, ...]
    """The notifier's scope: job-definition ARNs without revision; empty: any job definition."""
    compute_environment_name: str
    event_pattern: str
    handler_environment: Mapping[str, str]
    compute: Compute
    sweep_environment: Mapping[str, str] | None = None
    """The reconciliation sweep's environment, when the plan has the sweep (`reconcileEveryMinutes` > 0)."""

    @property
    def job_queue_arn(self) -> str:
        """The first queue: where the noise's neighbour queue is named after."""
        return self.job_queue_arns[0]

    @classmethod
    def from_plan(cls, plan: Plan) -> StackTarget:
        notifiers = plan.of_type(_NOTIFIER)
        if len(notifiers) != 1:
            raise WorldMismatchError(f"expected one ArrayCompletionNotifier in the plan, found {len(notifiers)}")
        outputs = notifiers[0].outputs
        queue_arns = tuple(str(arn) for arn in outputs["job_queue_arns"])
        prefixes = tuple(str(arn) for arn in outputs["job_definition_arn_prefixes"])
        rule, function = _notifier_rule(plan)
        definitions = plan.of_type("aws:batch/jobDefinition:JobDefinition")
        environments = plan.of_type("aws:batch/computeEnvironment:ComputeEnvironment")
        _, _, _, region, account, _ = queue_arns[0].split(":", 5)
        if len(definitions) == 1:
            definition_arn = str(definitions[0].state["arn"])
        elif prefixes:
            definition_arn = f"{prefixes[0]}:1"
        else:
            definition_arn = f"arn:aws:batch:{region}:{account}:job-definition/rehearsal:1"
        sweeps = [f for f in plan.of_type(_FUNCTION) if f.inputs.get("handler") == _SWEEP_ENTRY]
        compute_type = (
            str((environments[0].inputs.get("computeResources") or {}).get("type", "EC2")) if environments else "EC2"
        )
        return cls(
            stack=plan.stack,
            region=region,
            job_queue_arns=queue_arns,
            job_definition_arn=definition_arn,
            job_definition_arn_prefixes=prefixes,
            compute_environment_name=str(environments[0].state["name"]) if environments else "rehearsal",
            event_pattern=str(rule.inputs["eventPattern"]),
            handler_environment={str(k): str(v) for k, v in function.inputs["environment"]["variables"].items()},
            compute=COMPUTE_OF_STACK.get(compute_type, Compute.EC2),
            sweep_environment=(
                {str(k): str(v) for k, v in sweeps[0].inputs["environment"]["variables"].items()} if sweeps else None
            ),
        )

    def owns(self, detail: Mapping[str, Any]) -> bool:
        """Whether a job (an event's detail) runs on one of the stack's queues with a definition in scope."""
        definition = detail.get("jobDefinition")
        return (
            detail.get("jobQueue") in self.job_queue_arns
            and isinstance(definition, str)
            and (
                not self.job_definition_arn_prefixes
                or any(definition.startswith(f"{prefix}:") for prefix in self.job_definition_arn_prefixes)
            )
        )


def _notifier_rule(plan: Plan) -> tuple[PlannedResource, PlannedResource]:
    """The rule whose target is the notifier Lambda, and that Lambda: the pair the rehearsal replays.

    Found through the EventTarget, not by type alone, because the stack has other rules (e.g. the
    queue-blocked alert to SNS) and may grow more.
    """
    functions = {resource.state.get("arn"): resource for resource in plan.of_type(_FUNCTION)}
    rules = {resource.state.get("name"): resource for resource in plan.of_type(_RULE)}
    pairs = [
        (rules[target.inputs.get("rule")], functions[target.inputs.get("arn")])
        for target in plan.of_type(_TARGET)
        if target.inputs.get("rule") in rules and target.inputs.get("arn") in functions
    ]
    if len(pairs) != 1:
        raise WorldMismatchError(f"expected one EventBridge rule targeting a Lambda function, found {len(pairs)}")
    return pairs[0]


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of a Lambda context that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"

    @classmethod
    def of_function(cls, name: str, region: str) -> LambdaContext:
        """The context of function `name` in moto's account in `region`."""
        return cls(
            function_name=name, invoked_function_arn=f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


# --------------------------------------------------------------------------------------------------
# What the stream says about Batch jobs


@dataclass(frozen=True)
class ChildFailure:
    status_reason: str | None
    exit_code: int | None
    log_stream: str | None


@dataclass
class ParentRecord:
    """One array parent as the stream shows it; `status` is None until its terminal event."""

    job_id: str
    job_name: str
    job_queue_arn: str
    job_definition_arn: str
    size: int
    created_ms: int | None
    status: str | None = None
    stopped_ms: int | None = None
    summary_failed: int = 0
    failed_children: dict[int, ChildFailure] = field(default_factory=dict)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _event_ms(event: Mapping[str, Any]) -> int | None:
    time = event.get("time")
    if not isinstance(time, str):
        return None
    try:
        return int(datetime.fromisoformat(time).timestamp() * 1000)
    except ValueError:
        return None


def _child_failure(detail: Mapping[str, Any]) -> ChildFailure:
    container = detail.get("container")
    container = container if isinstance(container, dict) else {}
    return ChildFailure(
        status_reason=_str_or_none(detail.get("statusReason")),
        exit_code=_int_or_none(container.get("exitCode")),
        log_stream=_str_or_none(container.get("logStreamName")),
    )


class BatchLedger:
    """Array parents and failed children seen in a stream; tolerant of any JSON (users' captures)."""

    def __init__(self) -> None:
        self.parents: dict[str, ParentRecord] = {}
        self._child_failures: dict[str, dict[int, ChildFailure]] = {}

    def observe(self, event: Mapping[str, Any]) -> None:
        detail = event.get("detail")
        if event.get("detail-type") != JOB_STATE_CHANGE or not isinstance(detail, dict):
            return
        job_id, array = detail.get("jobId"), detail.get("arrayProperties")
        if not isinstance(job_id, str) or not isinstance(array, dict):
            return
        status = detail.get("status")
        parent_id, separator, index = job_id.rpartition(":")
        if separator and index.isdigit():
            failures = self._child_failures.setdefault(parent_id, {})
            if status == "FAILED":
                failures[int(index)] = _child_failure(detail)
            else:
                # A retried child (retryStrategy.attempts > 1) can run again after a failed attempt.
                failures.pop(int(index), None)
            return
        size = _int_or_none(array.get("size"))
        if size is None or size < 1:
            return
        record = self.parents.get(job_id)
        if record is None:
            record = self.parents[job_id] = ParentRecord(
                job_id=job_id,
                job_name=_str_or_none(detail.get("jobName")) or "rehearsal",
                job_queue_arn=_str_or_none(detail.get("jobQueue")) or "",
                job_definition_arn=_str_or_none(detail.get("jobDefinition")) or "",
                size=size,
                created_ms=_int_or_none(detail.get("createdAt")),
            )
        if status in TERMINAL_STATUSES:
            record.status = str(status)
            record.stopped_ms = _int_or_none(detail.get("stoppedAt")) or _event_ms(event)
            summary = array.get("statusSummary")
            record.summary_failed = _int_or_none(summary.get("FAILED") if isinstance(summary, dict) else None) or 0

    def finished_parents(self) -> list[ParentRecord]:
        """Parents with a terminal event, their failed children attached."""
        finished = [record for record in self.parents.values() if record.status in TERMINAL_STATUSES]
        for record in finished:
            record.failed_children = {
                index: failure
                for index, failure in self._child_failures.get(record.job_id, {}).items()
                if index < record.size
            }
        return finished


# --------------------------------------------------------------------------------------------------
# The mocked account


def _name_of(arn: str) -> str:
    """The resource name of a Batch ARN (`…:job-queue/<name>`, `…:job-definition/<name>:<rev>`)."""
    return arn.rpartition("/")[2].split(":")[0]


def _naive_local(epoch_ms: int) -> datetime:
    # moto keeps naive local datetimes and converts them with `.timestamp()`; this round-trips exactly.
    return datetime.fromtimestamp(epoch_ms / 1000)


@dataclass(frozen=True)
class Notification:
    """One SNS message as a subscriber received it, and the report document its body ends with."""

    subject: str
    body: str
    document: Mapping[str, Any]

    @property
    def job_id(self) -> str | None:
        return _str_or_none(self.document.get("jobId"))

    def summary(self) -> dict[str, Any]:
        counts = self.document.get("counts") or {}
        return {
            "subject": self.subject,
            "status": self.document.get("status"),
            "jobId": self.job_id,
            "size": self.document.get("arraySize"),
            "failed": counts.get("failed"),
        }


def _report_document(body: str) -> Mapping[str, Any]:
    # The handler ends every message with its JSON report (handler/report.py `sns_message`).
    start = body.find("\n{")
    if start < 0:
        return {}
    try:
        document = json.loads(body[start + 1 :])
    except json.JSONDecodeError:
        return {}
    return document if isinstance(document, dict) else {}


def received_notifications(sqs: Any, subscriber_url: str) -> list[Notification]:
    """Drain a topic's subscriber queue: the notifications it received since the last call."""
    received: list[Notification] = []
    for envelope in drain_queue(sqs, subscriber_url):
        body = str(envelope.get("Message", ""))
        received.append(Notification(str(envelope.get("Subject", "")), body, _report_document(body)))
    return received


class RehearsalWorld:
    """The stack's resources in moto. Create only through `rehearsal_account`."""

    def __init__(self, target: StackTarget) -> None:
        self.target = target
        region = target.region
        self._batch = new_client("batch", region=region)
        self._sqs = new_client("sqs", region=region)
        self._backend = batch_backends[DEFAULT_ACCOUNT_ID][region]
        role_arn = new_client("iam", region=region).create_role(
            RoleName="rehearsal-batch-service",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        # UNMANAGED: moto's Docker-free backend never places jobs, so no VPC or instances are needed.
        self._environment_arn = self._batch.create_compute_environment(
            computeEnvironmentName=target.compute_environment_name,
            type="UNMANAGED",
            state="ENABLED",
            serviceRole=role_arn,
        )["computeEnvironmentArn"]
        self._queues: dict[str, str] = {}
        self._definitions: dict[str, str] = {}
        # The job log group the plan's notifier may read (its first): the job definition logs there, and
        # every failed child that ran gets a stream of FAILED_CHILD_LOG in it.
        groups = target.handler_environment.get("FAILED_LOG_GROUPS", "")
        self._job_log_group = groups.split(",")[0] or None
        self._logs = new_client("logs", region=region)
        if self._job_log_group is not None:
            self._logs.create_log_group(logGroupName=self._job_log_group)
        for queue_arn in target.job_queue_arns:
            self._expect(queue_arn, self._queue(queue_arn), "job queue")
        self._expect(target.job_definition_arn, self._definition(target.job_definition_arn), "job definition")
        self._subscriber_url = self._topic_subscriber(target.handler_environment["TOPIC_ARN"], "rehearsal-subscriber")
        # The chat topic, when the plan has chat channels: the channels read it; here a queue does.
        chat_topic_arn = target.handler_environment.get("CHAT_TOPIC_ARN")
        self._chat_subscriber_url = (
            self._topic_subscriber(chat_topic_arn, "rehearsal-chat-subscriber") if chat_topic_arn else None
        )
        create_idempotency_table(target.handler_environment["IDEMPOTENCY_TABLE"], region)

    @staticmethod
    def _expect(planned: str, minted: str, what: str) -> None:
        if planned != minted:
            raise WorldMismatchError(f"the plan's {what} is {planned} but moto minted {minted}")

    def _queue(self, arn: str) -> str:
        name = _name_of(arn)
        if name not in self._queues:
            self._queues[name] = self._batch.create_job_queue(
                jobQueueName=name,
                state="ENABLED",
                priority=1,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": self._environment_arn}],
            )["jobQueueArn"]
        return self._queues[name]

    def _definition(self, arn: str) -> str:
        name = _name_of(arn)
        if name not in self._definitions:
            self._definitions[name] = self._batch.register_job_definition(
                jobDefinitionName=name,
                type="container",
                containerProperties={
                    "image": "public.ecr.aws/docker/library/busybox:stable",
                    "vcpus": 1,
                    "memory": 512,
                    **(
                        {"logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": group}}}
                        if (group := self._job_log_group)
                        else {}
                    ),
                },
            )["jobDefinitionArn"]
        return self._definitions[name]

    def _topic_subscriber(self, topic_arn: str, queue_name: str) -> str:
        sns = new_client("sns", region=self.target.region)
        minted = sns.create_topic(Name=topic_arn.rpartition(":")[2])["TopicArn"]
        self._expect(topic_arn, minted, "SNS topic")
        return subscribe_queue(topic_arn, queue_name, self.target.region)

    def lambda_context(self) -> LambdaContext:
        return LambdaContext.of_function("batch-array-notify-rehearsal", self.target.region)

    def submit_array_job(self, size: int, job_name: str, job_queue_arn: str | None = None) -> str:
        """Submit an array job on one of the stack's queues (default: the first); moto finishes all
        children at once (SUCCEEDED)."""
        return str(
            self._batch.submit_job(
                jobName=job_name,
                jobQueue=job_queue_arn or self.target.job_queue_arn,
                jobDefinition=self.target.job_definition_arn,
                arrayProperties={"size": size},
            )["jobId"]
        )

    def settle(self, ledger: BatchLedger) -> None:
        """Make moto's Batch agree with every finished array job of the stream."""
        for record in ledger.finished_parents():
            self._settle(record)

    def _settle(self, record: ParentRecord) -> None:
        jobs = self._backend._jobs
        parent = jobs.get(record.job_id) or self._adopt(record)
        failures = dict(record.failed_children)
        if record.status == "FAILED" and not failures:
            # A capture with the parent's event only: fail as many children as its summary counts.
            failures = dict.fromkeys(range(min(record.summary_failed, record.size)), ChildFailure(None, None, None))
        for index, failure in failures.items():
            child = jobs[f"{record.job_id}:{index}"]
            child.status = "FAILED"
            child.job_stopped_reason = failure.status_reason
            child.exit_code = failure.exit_code
            _report_container(child, failure.exit_code, self._job_log_group)
            child.log_stream_name = failure.log_stream
            if failure.log_stream is None:
                # Failed before placement: no task, so no attempt and no logs (as real Batch reports it).
                child.attempts = []
            else:
                self._write_log(failure.log_stream)
        # moto derives nothing for a parent with failed children and would keep it SUCCEEDED; real Batch
        # fails the parent when any child fails, and the stream says which status it reached.
        parent.status = record.status
        if record.created_ms is not None:
            parent.job_created_at = _naive_local(record.created_ms)
        if record.stopped_ms is not None:
            parent.job_stopped_at = _naive_local(record.stopped_ms)

    def _write_log(self, stream: str) -> None:
        """A failed child's log stream holding FAILED_CHILD_LOG, stamped now: CloudWatch Logs (and moto)
        refuse events older than 14 days, and the stream's synthetic times are older."""
        if self._job_log_group is None:
            return
        start = int(time.time() * 1000)
        self._logs.create_log_stream(logGroupName=self._job_log_group, logStreamName=stream)
        self._logs.put_log_events(
            logGroupName=self._job_log_group,
            logStreamName=stream,
            logEvents=[{"timestamp": start + n, "message": line} for n, line in enumerate(FAILED_CHILD_LOG)],
        )

    def _adopt(self, record: ParentRecord) -> Any:
        """Create a stream's array job in moto under the stream's job id (noise jobs, users' captures).

        moto mints its own job ids and has no API to choose one, so the job is submitted and then
        re-keyed: its id and ARN, and those of its children (`<id>:<index>`), everywhere moto looks
        them up (`_jobs`). Queue and definition are created by name if this account lacks them.
        """
        queue_arn = self._queue(record.job_queue_arn or self.target.job_queue_arn)
        definition_arn = self._definition(record.job_definition_arn or self.target.job_definition_arn)
        minted = self._batch.submit_job(
            jobName=record.job_name,
            jobQueue=queue_arn,
            jobDefinition=definition_arn,
            arrayProperties={"size": max(record.size, 2)},
        )["jobId"]
        jobs = self._backend._jobs
        parent = jobs.pop(minted)
        for job, new_id in [(parent, record.job_id)] + [
            (child, f"{record.job_id}:{index}") for index, child in enumerate(parent._child_jobs or [])
        ]:
            jobs.pop(job.job_id, None)
            job.job_id = new_id
            job.arn = make_arn_for_job(DEFAULT_ACCOUNT_ID, new_id, self.target.region)
            jobs[new_id] = job
        return parent

    def notifications(self) -> list[Notification]:
        """Drain the topic's subscriber queue."""
        return received_notifications(self._sqs, self._subscriber_url)

    def chat_messages(self) -> list[dict[str, Any]]:
        """Drain the chat topic's subscriber queue: the custom notifications the channels would get
        (none when the plan has no chat channel)."""
        if self._chat_subscriber_url is None:
            return []
        return [json.loads(str(envelope["Message"])) for envelope in drain_queue(self._sqs, self._chat_subscriber_url)]


def create_idempotency_table(name: str, region: str) -> None:
    """The handler's idempotency table as the component creates it: Powertools' defaults, partition key
    `id` and TTL attribute `expiration`. Inside an active moto mock."""
    dynamodb = new_client("dynamodb", region=region)
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )


def subscribe_queue(topic_arn: str, queue_name: str, region: str) -> str:
    """A new SQS queue subscribed to `topic_arn` (how the tools read what subscribers get); its URL."""
    sqs = new_client("sqs", region=region)
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    new_client("sns", region=region).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def reset_handler_caches() -> None:
    """Forget the handler's cached settings, clients and idempotency wrappers: the next invocation is a
    fresh execution environment (rehearsals and tests switch accounts, regions and settings)."""
    handler_settings.settings.cache_clear()
    handler_settings.sweep_settings.cache_clear()
    handler_aws.reset()
    handler_accounts.reset()
    handler_delivery.reset()


@contextmanager
def handler_logs_to(stream: IO[str]) -> Iterator[None]:
    """The handler's log lines go to `stream`: Powertools logs JSON to stdout, and stdout belongs to the
    rehearsal's report (and to --json's one document)."""
    log_handler = handler_app.logger.registered_handler
    if not isinstance(log_handler, logging.StreamHandler):
        raise TypeError(f"the handler's logger writes through {type(log_handler).__name__}, not a stream")
    previous = log_handler.setStream(stream)
    try:
        yield
    finally:
        log_handler.setStream(previous)


@contextmanager
def rehearsal_account(target: StackTarget) -> Iterator[RehearsalWorld]:
    """A fresh moto account holding the stack's resources, with the notifier's environment set.

    The process environment is restored afterwards, so rehearsals can run one after another (tests).
    """
    environment = {
        **FAKE_CREDENTIALS,
        "AWS_REGION": target.region,
        "AWS_DEFAULT_REGION": target.region,
        **target.handler_environment,
    }
    saved = {name: os.environ.get(name) for name in [*environment, "AWS_PROFILE"]}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(environment)
    reset_handler_caches()
    try:
        with mock_aws(config=MOTO_CONFIG):
            yield RehearsalWorld(target)
    finally:
        reset_handler_caches()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def sweep_environment(target: StackTarget) -> Iterator[None]:
    """Inside `rehearsal_account`: the process environment of the reconciliation sweep's function (the
    notifier's plus its own variables) and fresh handler caches, both put back afterwards."""
    if target.sweep_environment is None:
        raise WorldMismatchError(f"stack {target.stack} has no reconciliation sweep (reconcileEveryMinutes is 0)")
    saved = {name: os.environ.get(name) for name in target.sweep_environment}
    os.environ.update(target.sweep_environment)
    reset_handler_caches()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_handler_caches()


def _report_container(job: Any, exit_code: int | None, log_group: str | None) -> None:
    """Make moto's DescribeJobs carry the child's exit code and its job definition's log configuration,
    as Batch's `container.exitCode` and `container.logConfiguration` do.

    moto keeps `exit_code` but its `describe()` rebuilds `container` from a few fields of the job
    definition and drops both; without this the rehearsal's report would say "exit code none" for a
    child that exited 1, and look for its log in Batch's default group. Patched on this one job object
    only, never on moto's class.
    """
    reported: dict[str, Any] = {}
    if exit_code is not None:
        reported["exitCode"] = exit_code
    if log_group is not None:
        reported["logConfiguration"] = {"logDriver": "awslogs", "options": {"awslogs-group": log_group}}
    describe_container = job._container_details
    job._container_details = lambda: {**describe_container(), **reported}
