"""Check the AWS account the credentials point at before `pulumi up`: `batch-array-notify preflight --stack dev`.

Read-only: every call is a Get, Describe or List (a test records them). The stack's config is read the
way `batch-array-notify plan` reads it (Pulumi.yaml defaults, Pulumi.<stack>.yaml, --config; unknown keys
refused). Checks, each ok / warn / fail with what to do:

  credentials   who the credentials are (STS) and that the region is the stack's aws:region
  network       the default VPC and its default subnets, or the configured subnets and security
                groups: they exist and share one VPC
  batch role    the Batch service-linked role (the first `pulumi up` creates it if missing)
  layer         the pinned Powertools layer version exists for the runtime and architecture
  vcpu quota    the account's vCPU quota for the compute type against maxVcpus (Service Quotas)
  topics        existingTopicArn and alertsTopicArn exist, when set
  job queues    (attach stacks) the existing job queues exist and are enabled

IAM actions it calls: sts:GetCallerIdentity, ec2:DescribeVpcs, ec2:DescribeSubnets,
ec2:DescribeSecurityGroups, iam:GetRole, lambda:GetLayerVersion, servicequotas:GetServiceQuota,
sns:GetTopicAttributes, batch:DescribeJobQueues. A check the policy does not allow is a warn, not a fail.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Final

import boto3  # type: ignore[import-untyped]  # boto3 ships no type information
from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information

from batch_array_notify.cli.aws_errors import DENIED_CODES, exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.cli.plan import add_program_arguments
from batch_array_notify.handler.aws import new_client
from batch_array_notify.notifier import powertools_layer_arn
from batch_array_notify.testing.program import ProgramError, load_project, stack_config

IAM_ACTIONS: Final = (
    "sts:GetCallerIdentity",
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "iam:GetRole",
    "lambda:GetLayerVersion",
    "servicequotas:GetServiceQuota",
    "sns:GetTopicAttributes",
    "batch:DescribeJobQueues",
)
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
    layer_version: int
    topic_arns: tuple[tuple[str, str], ...]
    job_queue_arns: tuple[str, ...]

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
            layer_version=whole("powertoolsLayerVersion"),
            topic_arns=topics,
            job_queue_arns=listed("existingJobQueueArns"),
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
    arn = powertools_layer_arn(region, settings.architecture, settings.runtime, settings.layer_version)
    try:
        client("lambda").get_layer_version_by_arn(Arn=arn)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        return Check(
            "layer",
            Status.FAIL,
            f"{arn} does not exist",
            "set powertoolsLayerVersion to a version listed in the Powertools for AWS Lambda (Python) docs",
        )
    return Check("layer", Status.OK, f"Powertools layer version {settings.layer_version} exists")


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


def run_checks(settings: Settings, client: Client, environment_region: str | None) -> list[Check]:
    """Every check, in table order. Environmental errors propagate (the caller turns them into exit 3)."""
    region = settings.region or environment_region
    checks = [guarded("credentials", lambda: check_credentials(settings, client, environment_region))]
    if region is None:
        return checks
    checks += [
        guarded("network", lambda: check_network(settings, client)),
        guarded("batch role", lambda: check_batch_role(settings, client)),
        guarded("layer", lambda: check_layer(settings, client, region)),
        guarded("vcpu quota", lambda: check_vcpu_quota(settings, client)),
        guarded("topics", lambda: check_topics(settings, client)),
        guarded("job queues", lambda: check_job_queues(settings, client)),
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
            clients[service] = new_client(service, region=session.region_name, session=session)
        return clients[service]

    return client


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
    try:
        project = str(load_project(options.program.resolve())["name"])
        config = stack_config(options.program.resolve(), options.stack, dict(options.config))
        settings = Settings.from_config(options.stack, config, project)
    except ProgramError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    with exit_on_aws_environment_errors():
        session = boto3.Session(region_name=settings.region)
        environment_region = boto3.Session().region_name
        checks = run_checks(settings, session_client(session), environment_region)
    if options.json:
        json.dump({"stack": settings.stack, "checks": [check.to_json() for check in checks]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(checks))
    return exit_code(checks)


if __name__ == "__main__":
    raise SystemExit(main())
