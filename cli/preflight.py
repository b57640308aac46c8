"""Check the AWS account the credentials point at before `pulumi up`: `batch-array-notify preflight --stack dev`.

Read-only: every call is a Get, Describe or List (a test records them). The stack's config is read the
way `batch-array-notify plan` reads it (Pulumi.yaml defaults, Pulumi.<stack>.yaml, --config; unknown keys
refused). Checks, each ok / warn / fail with what to do:

  credentials   who the credentials are (STS) and that the region is the stack's aws:region
  network       the default VPC and its default subnets, or the configured subnets and security
                groups: they exist and share one VPC
  batch role    the Batch service-linked role (the first `pulumi up` creates it if missing)
  layer         the Powertools layer the notifier will use exists: the release's public SSM parameter
                (or powertoolsLayerVersion's number), then the layer it names
  vcpu quota    the account's vCPU quota for the compute type against maxVcpus (Service Quotas)
  topics        existingTopicArn and alertsTopicArn exist, when set
  job queues    (attach stacks) the existing job queues exist and are enabled
  chat          no other configuration of the account has the Slack or Teams channel the stack would
                configure (AWS allows one per channel); existingChatConfiguration exists

A member stack (`centralBusArn`: a forwarder, no compute) has credentials and its own two checks instead:
central bus (its policy admits this account, when readable) and read role (its trust); see
cli/preflight_member.py.

The config is checked first, as `batch-array-notify plan` checks it (exit 2), before any AWS call.
IAM actions it calls: sts:GetCallerIdentity, ec2:DescribeVpcs, ec2:DescribeSubnets,
ec2:DescribeSecurityGroups, iam:GetRole, ssm:GetParameter, lambda:GetLayerVersion,
servicequotas:GetServiceQuota, sns:GetTopicAttributes, batch:DescribeJobQueues,
chatbot:DescribeSlackChannelConfigurations, chatbot:ListMicrosoftTeamsChannelConfigurations, and for a member
stack events:DescribeEventBus, organizations:DescribeOrganization. A check the
policy does not allow is a warn, not a fail (but the public Powertools layer: see check_layer).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Final
from urllib.parse import unquote

import boto3  # type: ignore[import-untyped]  # boto3 ships no type information
from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information

from batch_array_notify.chat import CHATBOT_API_REGION
from batch_array_notify.cli.aws_errors import DENIED_CODES, UNREADABLE_ANSWER, exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import AWS_UNREACHABLE, BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.cli.plan import add_program_arguments, plan_or_exit
from batch_array_notify.cli.preflight_member import (
    Finding,
    MemberSettings,
    RegionalClient,
    check_central_bus,
    check_read_role,
)
from batch_array_notify.handler.aws import new_client
from batch_array_notify.notifier import POWERTOOLS_VERSION, powertools_layer_arn, powertools_parameter_name
from batch_array_notify.testing.program import Plan, ProgramError, load_project, stack_config

IAM_ACTIONS: Final = (
    "sts:GetCallerIdentity",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "iam:GetRole",
    "ssm:GetParameter",
    "lambda:GetLayerVersion",
    "servicequotas:GetServiceQuota",
    "sns:GetTopicAttributes",
    "batch:DescribeJobQueues",
    "chatbot:DescribeSlackChannelConfigurations",
    "chatbot:ListMicrosoftTeamsChannelConfigurations",
    "events:DescribeEventBus",
    "organizations:DescribeOrganization",
)
SLACK_CONFIGURATION: Final = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
TEAMS_CONFIGURATION: Final = "aws:chatbot/teamsChannelConfiguration:TeamsChannelConfiguration"
BATCH_SERVICE_LINKED_ROLE: Final = "AWSServiceRoleForBatch"
NOT_NEEDED_WHEN_ATTACHED: Final = "not needed: an attach stack creates no compute environment"
#: (service code, quota code, what it counts) per compute type: the vCPUs Batch may run at once.
VCPU_QUOTAS: Final = {
    "EC2": ("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
    "SPOT": ("ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
    "FARGATE": ("fargate", "L-3032A538", "Fargate On-Demand vCPU resource count"),
    "FARGATE_SPOT": ("fargate", "L-36FBB829", "Fargate Spot vCPU resource count"),
}

Client = Callable[[str], Any]


@dataclass(frozen=True)
class Channel:
    """A chat channel's configuration: planned by the stack, or found in the account."""

    application: str
    """`Slack` or `Microsoft Teams`."""
    team: str
    """The Slack workspace ID or the Teams team ID."""
    channel: str
    configuration_name: str
    arn: str = ""

    @property
    def identity(self) -> tuple[str, str, str]:
        # Teams channel IDs are URL-encoded, and AWS accepts %3a and %3A alike.
        return self.application, self.team, unquote(self.channel)


def planned_channels(plan: Plan) -> tuple[Channel, ...]:
    """The channel configurations the stack would create, as its plan declares them."""
    slack = [
        Channel("Slack", r.inputs["slackTeamId"], r.inputs["slackChannelId"], r.inputs["configurationName"])
        for r in plan.of_type(SLACK_CONFIGURATION)
    ]
    teams = [
        Channel("Microsoft Teams", r.inputs["teamId"], r.inputs["channelId"], r.inputs["configurationName"])
        for r in plan.of_type(TEAMS_CONFIGURATION)
    ]
    return (*slack, *teams)


class Status(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {**asdict(self), "status": self.status.value}


@dataclass(frozen=True)
class Settings:
    """The config values the checks need, from the stack's config (values are strings, lists JSON)."""

    stack: str
    region: str | None
    compute_type: str
    max_vcpus: int
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    vpc_id: str | None
    architecture: str
    runtime: str
    layer_version: int | None
    """powertoolsLayerVersion's number; None: the layer of `powertools_version`, from its SSM parameter."""
    powertools_version: str
    topic_arns: tuple[tuple[str, str], ...]
    job_queue_arns: tuple[str, ...]
    existing_chat_configuration: str | None = None
    channels: tuple[Channel, ...] = field(default=())
    """The channel configurations the stack would create (from its plan, `planned_channels`)."""
    member: MemberSettings | None = None
    """A member stack's forwarder settings (`MemberSettings.from_config`); None for any other stack."""

    @classmethod
    def from_config(cls, stack: str, config: dict[str, str], project: str) -> Settings:
        def get(key: str) -> str | None:
            return config.get(f"{project}:{key}")

        def listed(key: str) -> tuple[str, ...]:
            raw = get(key)
            if raw is None:
                return ()
            values = json.loads(raw)
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise ProgramError(f"{project}:{key} must be a list of strings, got {raw}")
            return tuple(values)

        def whole(key: str) -> int:
            raw = get(key)
            try:
                return int(str(raw))
            except ValueError:
                raise ProgramError(f"{project}:{key} must be a whole number, got {raw!r}") from None

        topics = tuple((key, arn) for key in ("existingTopicArn", "alertsTopicArn") if (arn := get(key)))
        layer = get("powertoolsLayerVersion")
        return cls(
            stack=stack,
            region=config.get("aws:region"),
            compute_type=str(get("computeType")),
            max_vcpus=whole("maxVcpus"),
            subnet_ids=listed("subnetIds"),
            security_group_ids=listed("securityGroupIds"),
            vpc_id=get("vpcId"),
            architecture=str(get("notifierArchitecture")),
            runtime=str(get("notifierRuntime")),
            layer_version=None if layer in (None, "latest") else whole("powertoolsLayerVersion"),
            powertools_version="latest" if layer == "latest" else POWERTOOLS_VERSION,
            topic_arns=topics,
            job_queue_arns=listed("existingJobQueueArns"),
            existing_chat_configuration=get("existingChatConfiguration"),
        )

    @property
    def attaches(self) -> bool:
        """An attach stack: the notifier alone on existing queues, no compute of its own."""
        return bool(self.job_queue_arns)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _denied(name: str, error: ClientError) -> Check:
    return Check(
        name,
        Status.WARN,
        f"cannot check: access denied to {error.operation_name}",
        "allow it to the caller (see --help for the actions) or check by hand",
    )


def guarded(name: str, check: Callable[[], Check]) -> Check:
    """Run one check; access denied to it is a warn (the rest still run). Other environmental errors
    (no credentials, unreachable, throttled) end the run with exit 3 through `exit_on_aws_environment_errors`."""
    try:
        return check()
    except ClientError as error:
        if _code(error) in DENIED_CODES:
            return _denied(name, error)
        raise


# --------------------------------------------------------------------------------------------------
# The checks


def check_credentials(settings: Settings, client: Client, environment_region: str | None) -> Check:
    identity = client("sts").get_caller_identity()
    who = f"account {identity['Account']} as {identity['Arn']}"
    if settings.region is None:
        if environment_region is None:
            return Check("credentials", Status.FAIL, f"{who}; no region", "set aws:region in the stack's config")
        return Check(
            "credentials",
            Status.WARN,
            f"{who}; the stack sets no aws:region, so it follows the environment's ({environment_region})",
            f"pulumi config set aws:region {environment_region} --stack {settings.stack}",
        )
    if environment_region not in (None, settings.region):
        return Check(
            "credentials",
            Status.WARN,
            f"{who}; stack region {settings.region}, but the environment's default is {environment_region}",
            "pulumi deploys to aws:region; set AWS_REGION to match so the AWS CLI looks where the stack is",
        )
    return Check("credentials", Status.OK, f"{who} in {settings.region}")


def check_network(settings: Settings, client: Client) -> Check:
    if settings.attaches:
        return Check("network", Status.OK, NOT_NEEDED_WHEN_ATTACHED)
    ec2 = client("ec2")
    if not settings.subnet_ids:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            return Check(
                "network",
                Status.FAIL,
                "no subnetIds configured and the region has no default VPC",
                "set subnetIds and securityGroupIds, or `aws ec2 create-default-vpc`",
            )
        vpc_id = vpcs[0]["VpcId"]
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default-for-az", "Values": ["true"]}]
        )["Subnets"]
        if not subnets:
            return Check(
                "network",
                Status.FAIL,
                f"default VPC {vpc_id} has no default subnets",
                "set subnetIds, or `aws ec2 create-default-subnet --availability-zone AZ`",
            )
        return Check("network", Status.OK, f"default VPC {vpc_id}, {len(subnets)} default subnets")
    return _configured_network(settings, ec2)


def _not_found(error: ClientError) -> bool:
    return _code(error).endswith(".NotFound") or _code(error).endswith(".Malformed")


def _configured_network(settings: Settings, ec2: Any) -> Check:
    try:
        subnets = ec2.describe_subnets(SubnetIds=list(settings.subnet_ids))["Subnets"]
    except ClientError as error:
        if not _not_found(error):
            raise
        return Check("network", Status.FAIL, f"subnetIds: {error.response['Error']['Message']}", "fix subnetIds")
    vpcs = {subnet["VpcId"] for subnet in subnets}
    groups: list[dict[str, Any]] = []
    if settings.security_group_ids:
        try:
            groups = ec2.describe_security_groups(GroupIds=list(settings.security_group_ids))["SecurityGroups"]
        except ClientError as error:
            if not _not_found(error):
                raise
            message = error.response["Error"]["Message"]
            return Check("network", Status.FAIL, f"securityGroupIds: {message}", "fix securityGroupIds")
    group_vpcs = {group["VpcId"] for group in groups}
    expected = {settings.vpc_id} if settings.vpc_id else set()
    if len(vpcs | group_vpcs | expected) > 1:
        by_id = {subnet["SubnetId"]: subnet["VpcId"] for subnet in subnets}
        by_id |= {group["GroupId"]: group["VpcId"] for group in groups}
        listed = ", ".join(f"{key} in {value}" for key, value in sorted(by_id.items()))
        configured = f"; vpcId is {settings.vpc_id}" if settings.vpc_id else ""
        return Check(
            "network",
            Status.FAIL,
            f"not one VPC: {listed}{configured}",
            "use subnets and security groups of one VPC (and that VPC as vpcId)",
        )
    (vpc_id,) = vpcs
    return Check("network", Status.OK, f"{len(subnets)} subnets and {len(groups)} security groups in {vpc_id}")


def check_batch_role(settings: Settings, client: Client) -> Check:
    if settings.attaches:
        return Check("batch role", Status.OK, NOT_NEEDED_WHEN_ATTACHED)
    try:
        client("iam").get_role(RoleName=BATCH_SERVICE_LINKED_ROLE)
    except ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        return Check(
            "batch role",
            Status.WARN,
            f"{BATCH_SERVICE_LINKED_ROLE} does not exist yet; the first `pulumi up` creates it",
            "the deploying identity needs iam:CreateServiceLinkedRole for batch.amazonaws.com",
        )
    return Check("batch role", Status.OK, f"{BATCH_SERVICE_LINKED_ROLE} exists")


def check_layer(settings: Settings, client: Client, region: str) -> Check:
    """The layer the notifier will run on: powertoolsLayerVersion's number, else the one Powertools'
    public SSM parameter names for the release (or `latest`), read the way `pulumi up` reads it."""
    if settings.layer_version is not None:
        arn = powertools_layer_arn(region, settings.architecture, settings.runtime, settings.layer_version)
        found = f"Powertools layer version {settings.layer_version} exists"
    else:
        parameter = powertools_parameter_name(settings.architecture, settings.runtime, settings.powertools_version)
        try:
            arn = client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as error:
            if _code(error) != "ParameterNotFound":
                raise
            return _missing_release(settings, client, parameter)
        found = f"{arn} exists (Powertools {settings.powertools_version}, from {parameter})"
    try:
        # Read, not only called: an answer without the layer's ARN is not the service's (exit 3).
        client("lambda").get_layer_version_by_arn(Arn=arn)["LayerVersionArn"]
    except ClientError as error:
        # On another account's public layer AWS answers AccessDeniedException, not ResourceNotFound, for a
        # version that does not exist (aws/aws-sdk-pandas#1357): `pulumi up` would fail the same way.
        if _code(error) not in ("ResourceNotFoundException", *DENIED_CODES):
            raise
        return Check(
            "layer",
            Status.FAIL,
            f"{arn} does not exist ({_code(error)})",
            "set powertoolsLayerVersion to latest, or to a version listed in the Powertools for AWS Lambda "
            "(Python) docs (AccessDeniedException also answers a caller denied lambda:GetLayerVersion)",
        )
    return Check("layer", Status.OK, found)


def _missing_release(settings: Settings, client: Client, parameter: str) -> Check:
    """The release's parameter is missing (it happened: powertools-lambda-python#7689): `pulumi up` would
    fail reading it. Say so, and what `latest` resolves to, to fall back on."""
    fix = "set powertoolsLayerVersion to latest or to a layer version number"
    if settings.powertools_version == "latest":
        return Check("layer", Status.FAIL, f"no SSM parameter {parameter}", fix)
    latest = powertools_parameter_name(settings.architecture, settings.runtime, "latest")
    try:
        latest_arn = client("ssm").get_parameter(Name=latest)["Parameter"]["Value"]
    except ClientError as error:
        if _code(error) != "ParameterNotFound":
            raise
        return Check("layer", Status.FAIL, f"no SSM parameter {parameter}, nor {latest}", fix)
    return Check(
        "layer",
        Status.FAIL,
        f"no SSM parameter {parameter} (Powertools {settings.powertools_version}); {latest} is {latest_arn}",
        f"{fix}: latest uses {latest_arn} (the release's parameter has gone missing before: "
        "powertools-lambda-python#7689)",
    )


def check_vcpu_quota(settings: Settings, client: Client) -> Check:
    if settings.attaches:
        return Check("vcpu quota", Status.OK, NOT_NEEDED_WHEN_ATTACHED)
    if settings.compute_type not in VCPU_QUOTAS:
        return Check("vcpu quota", Status.WARN, f"no known vCPU quota for computeType {settings.compute_type}")
    service, code, title = VCPU_QUOTAS[settings.compute_type]
    try:
        quota = client("service-quotas").get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]
    except ClientError as error:
        if _code(error) != "NoSuchResourceException":
            raise
        return Check("vcpu quota", Status.WARN, f"quota {code} ({title}) is not readable here", "check it by hand")
    value = int(quota["Value"])
    if settings.max_vcpus > value:
        return Check(
            "vcpu quota",
            Status.WARN,
            f"maxVcpus {settings.max_vcpus} exceeds the {title} quota of {value}: Batch stops at {value}",
            f"lower maxVcpus or request more: aws service-quotas request-service-quota-increase "
            f"--service-code {service} --quota-code {code} --desired-value {settings.max_vcpus}",
        )
    return Check("vcpu quota", Status.OK, f"maxVcpus {settings.max_vcpus} within the {title} quota of {value}")


def check_topics(settings: Settings, client: Client) -> Check:
    if not settings.topic_arns:
        return Check("topics", Status.OK, "none configured: the stack creates its own")
    sns = client("sns")
    missing = []
    for key, arn in settings.topic_arns:
        try:
            sns.get_topic_attributes(TopicArn=arn)
        except ClientError as error:
            if _code(error) not in ("NotFound", "InvalidParameter"):
                raise
            missing.append(f"{key} {arn}")
    if missing:
        return Check("topics", Status.FAIL, f"no such topic: {', '.join(missing)}", "fix the ARN or unset the key")
    return Check("topics", Status.OK, ", ".join(key for key, _ in settings.topic_arns) + " exist")


def check_job_queues(settings: Settings, client: Client) -> Check:
    if not settings.attaches:
        return Check("job queues", Status.OK, "not needed: the stack creates its own queue")
    found = client("batch").describe_job_queues(jobQueues=list(settings.job_queue_arns))["jobQueues"]
    by_arn = {queue["jobQueueArn"]: queue for queue in found}
    missing = [arn for arn in settings.job_queue_arns if arn not in by_arn]
    if missing:
        return Check(
            "job queues",
            Status.FAIL,
            f"no such job queue: {', '.join(missing)}",
            "fix existingJobQueueArns (same account and region as the stack)",
        )
    disabled = [arn for arn, queue in by_arn.items() if queue.get("state") != "ENABLED"]
    if disabled:
        return Check(
            "job queues", Status.WARN, f"disabled: {', '.join(disabled)}", "jobs wait there until it is enabled"
        )
    return Check("job queues", Status.OK, f"{len(found)} job queues exist and are enabled")


def account_channels(client: Client) -> list[Channel]:
    """Every Slack and Microsoft Teams channel configuration of the account (every page)."""
    chatbot = client("chatbot")
    found: list[Channel] = []
    pages = [
        (
            "describe_slack_channel_configurations",
            "SlackChannelConfigurations",
            "Slack",
            "SlackTeamId",
            "SlackChannelId",
        ),
        (
            "list_microsoft_teams_channel_configurations",
            "TeamChannelConfigurations",
            "Microsoft Teams",
            "TeamId",
            "ChannelId",
        ),
    ]
    for operation, key, application, team, channel in pages:
        token: dict[str, str] = {}
        while True:
            answer = getattr(chatbot, operation)(**token)
            found += [
                Channel(application, item[team], item[channel], item["ConfigurationName"], item["ChatConfigurationArn"])
                for item in answer.get(key, [])
            ]
            if not answer.get("NextToken"):
                break
            token = {"NextToken": answer["NextToken"]}
    return found


def check_chat(settings: Settings, client: Client) -> Check:
    """AWS refuses a second configuration of a channel in an account (CreateSlackChannelConfiguration's
    "Slack channel with ID ... has already been configured for AWS account ...": cloudcomponents/
    cdk-constructs#92, aws-cloudformation/cloudformation-coverage-roadmap#1155); Teams is held to the
    same rule (docs/chat.md says why)."""
    if not settings.channels and settings.existing_chat_configuration is None:
        return Check("chat", Status.OK, "no chat channel configured")
    existing = account_channels(client)
    for planned in settings.channels:
        for other in existing:
            if other.identity == planned.identity and other.configuration_name != planned.configuration_name:
                keys = "slackWorkspaceId and slackChannelId" if planned.application == "Slack" else "the teams keys"
                return Check(
                    "chat",
                    Status.FAIL,
                    f"{planned.application} channel {planned.channel} is already configured in this account by "
                    f"{other.configuration_name} ({other.arn}); AWS allows one configuration per channel",
                    f"share it: set existingChatConfiguration={other.configuration_name} instead of {keys}, and "
                    "add this stack's chatTopicArns output to that configuration (its stack's chatExtraTopicArns)",
                )
    name = settings.existing_chat_configuration
    if name is not None:
        if name not in {channel.configuration_name for channel in existing}:
            return Check(
                "chat",
                Status.WARN,
                f"existingChatConfiguration {name} does not exist (yet) in this account",
                "deploy the stack that owns it, with this stack's chatTopicArns output in its chatExtraTopicArns",
            )
        return Check(
            "chat", Status.OK, f"{name} exists: add this stack's chatTopicArns to it (its stack's chatExtraTopicArns)"
        )
    channels = ", ".join(f"{channel.application} {channel.channel}" for channel in settings.channels)
    return Check("chat", Status.OK, f"no other configuration has {channels}")


def _member_check(name: str, finding: Callable[[], Finding]) -> Check:
    def check() -> Check:
        found = finding()
        return Check(name, Status(found.status), found.detail, found.fix)

    return guarded(name, check)


def run_checks(
    settings: Settings, client: Client, environment_region: str | None, regional: RegionalClient | None = None
) -> list[Check]:
    """Every check, in table order. Environmental errors propagate (the caller turns them into exit 3).
    `regional`: clients of other regions (a member's central bus may be in another)."""
    region = settings.region or environment_region
    if region is None:
        # No region, no call: STS itself needs one. A failed check (exit 1), as docs/tools.md says.
        return [
            Check(
                "credentials",
                Status.FAIL,
                "no region: the stack sets no aws:region and the environment no default region",
                f"pulumi config set aws:region REGION --stack {settings.stack} (or export AWS_REGION=REGION)",
            )
        ]
    checks = [guarded("credentials", lambda: check_credentials(settings, client, environment_region))]
    member = settings.member
    if member is not None:
        in_region = regional or (lambda service, _region: client(service))
        return [
            *checks,
            _member_check("central bus", lambda: check_central_bus(member, client, in_region)),
            _member_check("read role", lambda: check_read_role(member, client)),
        ]
    checks += [
        guarded("network", lambda: check_network(settings, client)),
        guarded("batch role", lambda: check_batch_role(settings, client)),
        guarded("layer", lambda: check_layer(settings, client, region)),
        guarded("vcpu quota", lambda: check_vcpu_quota(settings, client)),
        guarded("topics", lambda: check_topics(settings, client)),
        guarded("job queues", lambda: check_job_queues(settings, client)),
        guarded("chat", lambda: check_chat(settings, client)),
    ]
    return checks


# --------------------------------------------------------------------------------------------------
# Output


def render(checks: Iterable[Check]) -> str:
    """The table: check, result, what was found; what to do on the line below, after `->`."""
    checks = list(checks)
    rows = [("check", "result", "details")] + [(check.name, check.status.value, check.detail) for check in checks]
    name_width, result_width = (max(len(row[column]) for row in rows) for column in range(2))
    lines = [f"{'check':<{name_width}}  {'result':<{result_width}}  details"]
    for check in checks:
        lines.append(f"{check.name:<{name_width}}  {check.status.value:<{result_width}}  {check.detail}")
        if check.fix:
            lines.append(f"{'':<{name_width}}  {'':<{result_width}}  -> {check.fix}")
    return "\n".join(lines)


def exit_code(checks: Iterable[Check]) -> int:
    return BAD_OUTCOME if any(check.status is Status.FAIL for check in checks) else DONE


def session_client(session: Any) -> Client:
    """One client per service from `session`, in the region the session was made for."""
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            # The chat service's API is not in every region; configurations are account-wide.
            region = CHATBOT_API_REGION if service == "chatbot" else session.region_name
            clients[service] = new_client(service, region=region, session=session)
        return clients[service]

    return client


def regional_client(session: Any) -> RegionalClient:
    """A client of a service in any region, with `session`'s credentials."""
    return lambda service, region: new_client(service, region=region, session=session)


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify preflight",
        __doc__,
        bad_outcome="a check failed (the table says which and what to do)",
        uses_aws=True,
    )
    add_program_arguments(arguments)
    arguments.add_argument("--json", action="store_true", help="print the checks as one JSON document")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    # The config first, as `pulumi up` checks it (exit 2), before any credential is looked at; the plan
    # also says which channel configurations the stack would create.
    try:
        plan = plan_or_exit(options)
    except SystemExit as refused:  # the config's one line is printed already
        return int(refused.code or USAGE_ERROR)
    try:
        project = str(load_project(options.program.resolve())["name"])
        config = stack_config(options.program.resolve(), options.stack, dict(options.config))
        settings = replace(
            Settings.from_config(options.stack, config, project),
            channels=planned_channels(plan),
            member=MemberSettings.from_config(config, project, plan),
        )
    except ProgramError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    with exit_on_aws_environment_errors(region_option=False):
        session = boto3.Session(region_name=settings.region)
        environment_region = boto3.Session().region_name
        try:
            checks = run_checks(settings, session_client(session), environment_region, regional_client(session))
        except (KeyError, TypeError) as missing:
            # botocore hands over an empty answer for a body that is not the service's JSON (a proxy's page).
            print(f"error: {UNREADABLE_ANSWER} (it lacked {missing})", file=sys.stderr)
            return AWS_UNREACHABLE
    if options.json:
        json.dump({"stack": settings.stack, "checks": [check.to_json() for check in checks]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(checks))
    return exit_code(checks)


if __name__ == "__main__":
    raise SystemExit(main())
