"""Inputs of the BatchArrayPipeline and ArrayCompletionNotifier components, with the defaults they apply.

TypedDicts (not dataclasses) because Pulumi's component provider host passes a plain dict to
`__init__` when another language consumes the component; attribute docstrings become the schema's
descriptions. Values the component branches on (compute type, sizes, statuses) are plain; values a
larger program typically wires from other resources (subnets, security groups, topic ARN) are Inputs.
"""

# No `from __future__ import annotations` here or in pipeline.py: the component provider's schema
# inference reads these annotations as live types, and string annotations break it.
from typing import Final, NotRequired, Required, TypedDict

import pulumi

from .handler.lineage import ORIGINAL_INDEX_SH


class EmailSubscription(TypedDict):
    """One e-mail address subscribed to the completion topic."""

    address: str
    """The e-mail address. AWS sends it a confirmation link before anything is delivered."""

    statuses: NotRequired[list[str]]
    """Only deliver completions with these statuses (an SNS filter policy on the `status` message
    attribute), e.g. `["FAILED"]` for an on-call address. Default: every status the rule matches."""


class ComputeEnvironment(TypedDict):
    """One compute environment behind the job queue. The queue places jobs in the first environment
    of the list that has capacity, then the next (e.g. Spot first, then on-demand)."""

    compute_type: str
    """`EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`. One queue takes either EC2/SPOT environments only
    or FARGATE/FARGATE_SPOT ones only."""

    min_vcpus: NotRequired[int]
    """Minimum vCPUs kept running (EC2/SPOT only). Default: 0."""

    max_vcpus: NotRequired[int]
    """Maximum vCPUs of this environment. Default: 16."""

    instance_types: NotRequired[list[str]]
    """EC2 instance types or families (EC2/SPOT only). Default: `["optimal"]`."""

    allocation_strategy: NotRequired[str]
    """EC2/SPOT only. Default: `BEST_FIT_PROGRESSIVE` for EC2, `SPOT_PRICE_CAPACITY_OPTIMIZED` for SPOT."""


class DownstreamFunction(TypedDict):
    """Your own Lambda code, invoked once per finished array job with the completion event."""

    code_path: str
    """A folder (packaged whole) or a single file with the function's code; relative paths are
    resolved against the program's working directory (the Pulumi project folder)."""

    handler: str
    """The handler, e.g. `app.handler` for `def handler(event, context)` in `app.py`."""

    runtime: NotRequired[str]
    """A Lambda runtime identifier such as `python3.13` or `nodejs22.x`. Default: `python3.13`."""

    architecture: NotRequired[str]
    """`arm64` or `x86_64`. Default: `x86_64` (safe for code with native dependencies)."""

    timeout_seconds: NotRequired[int]
    """Function timeout, 1-900 seconds. Default: 60."""

    memory_mib: NotRequired[int]
    """Function memory, 128-10240 MiB. Default: 256."""

    environment: NotRequired[dict[str, str]]
    """Environment variables of the function. Default: none."""


class MemberAccount(TypedDict):
    """One member account whose array jobs a central notifier reports (docs/organization.md): its Batch
    events reach the notifier's intake bus through the account's `BatchEventForwarder`."""

    account_id: str
    """The member's 12-digit AWS account id."""

    read_role_arn: str
    """The read role its forwarder declared (`arn:aws:iam::<account_id>:role/...`): the notifier and the
    sweep assume it to read Batch and the job logs there, and may assume no other role."""

    job_queue_arns: NotRequired[list[str]]
    """Only array jobs of these queues of the account count. Default: any of its queues."""

    regions: NotRequired[list[str]]
    """The regions whose forwarders send here, where the sweep looks. Default: the notifier's region."""


class NotifierOptions(TypedDict, total=False):
    """What both components take for everything after the job queue: notification, reliability and the
    completion event. Declared once here; `BatchArrayPipelineArgs` and `ArrayCompletionNotifierArgs` extend it."""

    stage: str
    """Stage name shown in every notification (e.g. `dev`, `prod`). Default: `dev`."""

    notify_statuses: list[str]
    """Parent statuses that notify: `SUCCEEDED`, `FAILED` or both. Default: both."""

    email_subscriptions: list[EmailSubscription]
    """E-mail subscriptions to the completion topic. Default: none."""

    existing_topic_arn: pulumi.Input[str]
    """Publish to this SNS topic instead of creating one. Default: a topic the component owns."""

    notifier_architecture: str
    """Lambda architecture, `arm64` or `x86_64`. Default: `arm64`."""

    notifier_runtime: str
    """Lambda runtime, `python3.12` or `python3.13`. Default: `python3.13`."""

    notifier_log_retention_days: int
    """Retention of the notifier's log group (a CloudWatch allowed value). Default: 14."""

    powertools_layer_version: int
    """Pin this version number of the AWS-managed Powertools for AWS Lambda (Python) V3 layer (not with
    `powertools_version`). Default: the layer of `powertools_version`, read at deploy time."""

    powertools_version: str
    """The Powertools release (e.g. `3.37.0`) or `latest` whose layer the notifier uses, read at deploy
    time from Powertools' public SSM parameter `/aws/service/powertools/python/{arch}/{runtime}/{version}`.
    Default: the release the handler is tested with (`POWERTOOLS_VERSION`)."""

    max_failed_details: int
    """How many failed children a notification describes in detail (1-100). Default: 20."""

    notifier_reserved_concurrency: int
    """The notifier's reserved concurrency: at most this many run at once, and a burst of completions waits
    in Lambda's asynchronous queue (up to `notifier_max_event_age_seconds`) instead of taking the account's
    Batch API quota from your own orchestrator. 1 or more, or -1 for none (unbounded). Default: 3, the
    largest that left half of Batch's calls to others in the burst rehearsal (docs/reliability.md)."""

    failed_log_children: int
    """How many failed children a notification shows the last lines of their log for (0-10; 0 turns log
    tails off). Default: 3."""

    failed_log_lines: int
    """How many of the last lines of each such child's log (0-100; 0 turns log tails off). Default: 20."""

    failed_log_bytes: int
    """At most this many bytes of those lines per child (0, or 256-8192; 0 turns log tails off). Default: 2048."""

    rule_retry_attempts: int
    """How often EventBridge retries delivering a completion to the notifier (0-185) before the event
    goes to the rules' dead-letter queue. Default: 185 (EventBridge's own default, made explicit)."""

    rule_max_event_age_seconds: int
    """How long EventBridge keeps retrying one event (60-86400 s). Default: 86400 (24 h)."""

    notifier_max_retries: int
    """How often Lambda retries a failed notifier invocation (0-2) before the event goes to the
    notifier's on-failure queue. Default: 2."""

    notifier_max_event_age_seconds: int
    """How long Lambda keeps an event queued for the notifier (60-21600 s). Default: 21600 (6 h)."""

    dead_letter_retention_seconds: int
    """How long the two failure queues keep an undelivered event (60-1209600 s). Default: 1209600 (14 days)."""

    alerts_topic_arn: pulumi.Input[str]
    """SNS topic (same region) for alarms and blocked-queue alerts, e.g. an ops topic you own: its
    policy and key must let CloudWatch and EventBridge publish. Default: the completion topic."""

    kms_key_deletion_window_days: int
    """Waiting period (7-30 days) before the pipeline's KMS key is deleted after `pulumi destroy`. Default: 30."""

    tags: dict[str, str]
    """Tags for every taggable resource. Default: none."""

    reconcile_every_minutes: int
    """How often the reconciliation sweep runs (0, or 5-1440 minutes): it reports finished array jobs whose
    completion event never reached the notifier (a rule disabled during a deploy, a target edited by hand,
    a kept event expired). 0 turns the sweep off. Default: 60."""

    reconcile_lookback_hours: int
    """How many hours of stop times each sweep examines, before its grace period (1-168, and at most the 7 days
    an idempotency record lives counting the grace period; at least `reconcile_every_minutes`, so that
    consecutive sweeps leave no gap). The grace period is `rule_max_event_age_seconds` +
    `notifier_max_event_age_seconds` + 15 minutes: a job that stopped more recently may still have its event
    on the way, and the sweep leaves it to later sweeps. Default: 24."""

    reconcile_max_array_runtime_hours: int
    """The longest an array job of these queues runs, in hours (0-168). ListJobs filters on creation time
    only, so each sweep also lists the jobs created this long before its window; a job that ran longer is
    not examined. Each hour costs ListJobs calls on every sweep (docs/operations.md). Default: 24."""

    reconcile_batch_calls_per_second: int
    """The pace of the sweep's Batch calls (1-50 a second; Batch allows an account about 50 in all), so a
    sweep over a large window never takes the quota from your own orchestrator. Default: 5."""

    completion_event_bus: pulumi.Input[str]
    """Name or ARN of an existing EventBridge bus that receives one `Batch Array Job Completed` event
    per finished array job. Default: the account's `default` bus."""

    downstream_function: DownstreamFunction
    """Your own Lambda function, invoked with each completion event of this pipeline. Default: none."""

    name_prefix: str
    """Adds a `Name` tag `<name_prefix>-<part>` (e.g. `etl-queue`) to every taggable resource, so a
    larger account's console lists them together. Default: no `Name` tag."""

    slack_workspace_id: str
    """Slack workspace (team) ID, e.g. `T07EA123LEP`, as the Amazon Q Developer in chat applications
    console shows it once the workspace is authorised there. With `slack_channel_id` (both or neither):
    completions, alarms and blocked-queue alerts go to that channel. Default: no Slack channel."""

    slack_channel_id: str
    """Slack channel ID, e.g. `C07EZ1ABC23` (the end of the channel's link). With `slack_workspace_id`."""

    teams_tenant_id: str
    """Microsoft Teams tenant ID (a UUID). With `teams_team_id` and `teams_channel_id` (all three or none):
    completions, alarms and blocked-queue alerts go to that channel. Default: no Teams channel."""

    teams_team_id: str
    """Microsoft Teams team ID (a UUID), as the console shows it once the team is authorised there."""

    teams_channel_id: str
    """Microsoft Teams channel ID as the channel's link has it, URL-encoded: `19%3A...%40thread.tacv2`."""

    existing_chat_configuration: str
    """Name of a channel configuration that exists already (another stack's or pipeline's), instead of the
    Slack and Teams arguments: this notifier creates the chat topic but no configuration, and outputs
    `chat_topic_arns` to add to that one (AWS allows one configuration per channel per account).
    Default: none."""

    chat_extra_topic_arns: pulumi.Input[list[str]]
    """Other notifiers' `chat_topic_arns` (an Output whole, e.g. `other.chat_topic_arns`, or the ARNs) that
    the configuration this notifier creates carries too, so pipelines and stacks of one account share a
    channel. With the Slack or Teams arguments. Default: none."""

    runbook_url: str
    """Where your team hosts docs/operations.md (an `https://` URL): alarm descriptions, the blocked-queue
    rule and the dashboard link its sections. Default: they name the runbook section, with no link."""


class BatchArrayPipelineArgs(NotifierOptions, total=False):
    """Everything is optional: the defaults reproduce the original article's print-color demo on EC2."""

    compute_type: str
    """`EC2`, `SPOT`, `FARGATE` or `FARGATE_SPOT`. Default: `EC2`."""

    min_vcpus: int
    """Minimum vCPUs the compute environment keeps (EC2/SPOT only; Fargate has no idle capacity). Default: 0."""

    max_vcpus: int
    """Maximum vCPUs the compute environment may scale to. Default: 16."""

    instance_types: list[str]
    """EC2 instance types or families (EC2/SPOT only). Default: `["optimal"]`."""

    allocation_strategy: str
    """EC2/SPOT only. Default: `BEST_FIT_PROGRESSIVE` for EC2, `SPOT_PRICE_CAPACITY_OPTIMIZED` for SPOT."""

    subnet_ids: list[pulumi.Input[str]]
    """Subnets for the compute environment. Default: the default VPC's default subnets."""

    security_group_ids: list[pulumi.Input[str]]
    """Security groups for the jobs. Default: one egress-only group created in the subnets' VPC."""

    vpc_id: pulumi.Input[str]
    """VPC of `subnet_ids`, used only to place the default security group. Default: looked up."""

    assign_public_ip: bool
    """Fargate only: give tasks a public IP, needed to pull images in a default VPC without NAT.
    Default: true when no subnets are given, false otherwise."""

    job_image: str
    """Container image of the job. Default: a public busybox image (no image build needed)."""

    job_command: list[str]
    """Container command. Default: print the colour chosen by the child's original index (`ORIGINAL_INDEX`,
    from `AWS_BATCH_JOB_ARRAY_INDEX` and, in a resubmission, the index map: handler/lineage.py)."""

    job_vcpus: float
    """vCPUs per child job. Default: 1. Fargate accepts 0.25, 0.5, 1, 2, 4, 8 or 16."""

    job_memory_mib: int
    """Memory per child job in MiB. Default: 2048 (a combination Fargate accepts for 1 vCPU)."""

    job_environment: dict[str, str]
    """Extra environment variables for the job container. Default: none."""

    job_retry_attempts: int
    """Attempts per child (1-10); a child that fails and has attempts left goes back to RUNNABLE. Default: 1."""

    job_attempt_timeout_seconds: int
    """Timeout of each child's attempt, at least 60 (the parent itself has none). Default: 3600."""

    job_log_retention_days: int
    """Retention of the job log group (a CloudWatch allowed value). Default: 14."""

    stuck_job_cancel_after_seconds: int
    """Batch cancels a job that has waited this long (600-86400 s) at the head of the queue in RUNNABLE
    for one of `stuck_job_reasons`, so a blocked array still ends and still reports. Default: 3600."""

    stuck_job_reasons: list[str]
    """RUNNABLE reasons that cancel after `stuck_job_cancel_after_seconds` (the Batch values that support
    `jobStateTimeLimitActions`). Default: capacity, max-vCPU and resource-requirement blockages."""

    compute_environments: list[ComputeEnvironment]
    """1-3 compute environments in the order the queue uses them, instead of the single one described
    by `compute_type`, `min_vcpus`, `max_vcpus`, `instance_types` and `allocation_strategy` (omit those
    then). Default: one environment from those keys."""


class ArrayCompletionNotifierArgs(NotifierOptions, total=False):
    """The job queues you already have (the only required argument) and, optionally, the job definitions
    whose array jobs count; every other argument is the pipeline's, with the same defaults."""

    job_queue_arns: Required[list[pulumi.Input[str]]]
    """ARNs of existing job queues (same account and region as the stack) whose array jobs this notifier
    reports; Outputs of other resources or stacks work. One rule lists them while EventBridge's
    2048-character pattern limit allows, then another (see docs/embedding.md)."""

    job_definition_arn_prefixes: list[pulumi.Input[str]]
    """Only array jobs of these job definitions count: ARNs without the revision (`...:job-definition/name`),
    so every revision matches. Default: any job definition."""

    job_log_group_names: list[pulumi.Input[str]]
    """The CloudWatch Logs groups your job definitions log to (their `awslogs-group`, same account and
    region): the notifier may read failed children's log tails there and nowhere else (1-5 groups).
    Default: `["/aws/batch/job"]`, where Batch logs when a job definition names no group."""

    member_accounts: list[MemberAccount]
    """Central mode: also report the array jobs of these accounts, whose forwarders send their Batch events
    to an intake bus this notifier declares (then `job_queue_arns` may be empty). Default: none."""

    organization_id: str
    """Central mode: the AWS Organizations id (`o-...`): the intake bus admits the organisation's accounts
    instead of naming each member, which keeps its policy within EventBridge's 10 KB."""

    member_external_id: pulumi.Input[str]
    """Central mode: the external id the members' read roles require of the notifier (pass a secret)."""


COMPUTE_TYPES: Final = ("EC2", "SPOT", "FARGATE", "FARGATE_SPOT")
EC2_COMPUTE_TYPES: Final = ("EC2", "SPOT")
FARGATE_COMPUTE_TYPES: Final = ("FARGATE", "FARGATE_SPOT")

#: Defaults applied by the component. `Pulumi.yaml` declares the same values; a test keeps them equal.
DEFAULTS: Final[dict[str, object]] = {
    "stage": "dev",
    "compute_type": "EC2",
    "min_vcpus": 0,
    "max_vcpus": 16,
    "instance_types": ["optimal"],
    "job_image": "public.ecr.aws/docker/library/busybox:stable",
    "job_command": [
        "sh",
        "-c",
        # Array children differ only by their index: the article's demo maps it to a colour. The index is
        # the original job's, also in a resubmission of failed children (handler/lineage.py).
        ORIGINAL_INDEX_SH
        + '\nset -- red orange yellow green blue indigo violet; shift $((ORIGINAL_INDEX % 7)); echo "$1"',
    ],
    "job_vcpus": 1.0,
    "job_memory_mib": 2048,
    "job_environment": {},
    "job_retry_attempts": 1,
    "job_attempt_timeout_seconds": 3600,
    "job_log_retention_days": 14,
    "notify_statuses": ["SUCCEEDED", "FAILED"],
    "email_subscriptions": [],
    "notifier_architecture": "arm64",
    "notifier_runtime": "python3.13",
    "notifier_log_retention_days": 14,
    "max_failed_details": 20,
    "notifier_reserved_concurrency": 3,
    "failed_log_children": 3,
    "failed_log_lines": 20,
    "failed_log_bytes": 2048,
    "job_log_group_names": ["/aws/batch/job"],
    "rule_retry_attempts": 185,
    "rule_max_event_age_seconds": 86400,
    "notifier_max_retries": 2,
    "notifier_max_event_age_seconds": 21600,
    "dead_letter_retention_seconds": 1_209_600,
    "stuck_job_cancel_after_seconds": 3600,
    "stuck_job_reasons": [
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
    ],
    "kms_key_deletion_window_days": 30,
    "tags": {},
    "reconcile_every_minutes": 60,
    "reconcile_lookback_hours": 24,
    "reconcile_batch_calls_per_second": 5,
    "reconcile_max_array_runtime_hours": 24,
}

DEFAULT_ALLOCATION_STRATEGY: Final = {
    "EC2": "BEST_FIT_PROGRESSIVE",
    "SPOT": "SPOT_PRICE_CAPACITY_OPTIMIZED",
}
