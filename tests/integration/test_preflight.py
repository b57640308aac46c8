"""tools.preflight against moto: each check passing and failing, the table and exit codes, and that it
only ever reads (every API call it makes is recorded through a botocore hook on its session).

moto does not model two things preflight reads, so those go through botocore's Stubber on a client of
the same session: Lambda `GetLayerVersionByArn` for the AWS-owned Powertools layer (moto only knows
layers published in its own account) and Service Quotas `GetServiceQuota` values (moto answers few
quota codes, with made-up values).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from batch_array_notify.cli import preflight
from batch_array_notify.cli.preflight import Check, Settings, Status, exit_code, render, run_checks, session_client
from batch_array_notify.notifier import powertools_layer_arn
from batch_array_notify.testing.program import ROOT, stack_config

REGION = "us-east-1"  # the region of every stack file in the repository
PROJECT = "batch-array-notify"
MOTO_CALLER = "arn:aws:sts::123456789012:user/moto"


def settings(stack: str = "dev", **overrides: Any) -> Settings:
    config = stack_config(
        ROOT,
        stack,
        {
            f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in overrides.items()
        },
    )
    return Settings.from_config(stack, config, PROJECT)


class Account:
    """The moto account as preflight sees it: clients of one session (with a hook that records every
    call), real moto clients, and stubbed Lambda and Service Quotas clients."""

    def __init__(self, session: Any, calls: list[str]) -> None:
        self.region = session.region_name
        self.session = session
        self.calls = calls
        self.stubs: dict[str, Stubber] = {}
        self._real = session_client(self.session)

    def stub(self, service: str) -> Stubber:
        if service not in self.stubs:
            self.stubs[service] = Stubber(self.session.client(service))
            self.stubs[service].activate()
        return self.stubs[service]

    def client(self, service: str) -> Any:
        return self.stubs[service].client if service in self.stubs else self._real(service)

    def layer(self, checked: Settings, exists: bool = True) -> None:
        arn = powertools_layer_arn(self.region, checked.architecture, checked.runtime, checked.layer_version)
        if exists:
            self.stub("lambda").add_response(
                "get_layer_version_by_arn", {"LayerVersionArn": arn, "Version": checked.layer_version}, {"Arn": arn}
            )
        else:
            self.stub("lambda").add_client_error(
                "get_layer_version_by_arn",
                "ResourceNotFoundException",
                http_status_code=404,
                expected_params={"Arn": arn},
            )

    def quota(self, compute_type: str, value: float) -> None:
        service, code, title = preflight.VCPU_QUOTAS[compute_type]
        self.stub("service-quotas").add_response(
            "get_service_quota",
            {"Quota": {"ServiceCode": service, "QuotaCode": code, "QuotaName": title, "Value": value}},
            {"ServiceCode": service, "QuotaCode": code},
        )

    def run(self, checked: Settings, environment_region: str | None = None) -> dict[str, Check]:
        checks = run_checks(checked, self.client, environment_region or self.region)
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        return {check.name: check for check in checks}


def recording_session(region: str) -> tuple[Any, list[str]]:
    """A session whose clients record each call (service:Operation) they make. Shared by a module's
    tests: a session loads each service's model once, which a fresh one per test would redo."""
    session, calls = boto3.Session(region_name=region), []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}:{model.name}")

    # Not before-call: a Stubber answers there first and stops the chain, so stubbed calls would be missed.
    session.events.register("provide-client-params", record)
    return session, calls


@pytest.fixture(scope="module")
def recorded(mocked_aws: None) -> tuple[Any, list[str]]:
    return recording_session(REGION)


@pytest.fixture
def account(recorded: tuple[Any, list[str]]) -> Account:
    session, calls = recorded
    calls.clear()
    return Account(session, calls)


def create_service_linked_role() -> None:
    """Made with CreateRole: moto's CreateServiceLinkedRole names it `AWSServiceRoleForbatch`, AWS
    `AWSServiceRoleForBatch` (the name preflight reads)."""
    boto3.client("iam", region_name=REGION).create_role(
        RoleName=preflight.BATCH_SERVICE_LINKED_ROLE,
        Path="/aws-service-role/batch.amazonaws.com/",
        AssumeRolePolicyDocument="{}",
    )


@pytest.fixture(scope="module")
def service_linked_role(mocked_aws: None) -> None:
    create_service_linked_role()


@pytest.fixture(scope="module")
def attached_queues(mocked_aws: None) -> list[str]:
    """The two queues Pulumi.attach.yaml names (moto's account is 123456789012, as in the file)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    batch = boto3.client("batch", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="attach-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    environment = batch.create_compute_environment(
        computeEnvironmentName="attach-ce",
        type="MANAGED",
        computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": [subnet], "securityGroupIds": [group]},
        serviceRole=role,
    )["computeEnvironmentArn"]
    return [
        batch.create_job_queue(
            jobQueueName=name,
            priority=1,
            state="ENABLED",
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        for name in ("render", "encode")
    ]


def all_ok_dev(account: Account) -> dict[str, Check]:
    dev = settings("dev")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    return account.run(dev)


def test_a_ready_account_passes_every_check(account, service_linked_role):
    checks = all_ok_dev(account)

    assert {name: check.status for name, check in checks.items()} == dict.fromkeys(checks, Status.OK)
    assert list(checks) == ["credentials", "network", "batch role", "layer", "vcpu quota", "topics", "job queues"]
    assert checks["credentials"].detail == f"account 123456789012 as {MOTO_CALLER} in {REGION}"
    assert re.fullmatch(r"default VPC vpc-\w+, 6 default subnets", checks["network"].detail)
    assert checks["vcpu quota"].detail == "maxVcpus 4 within the Fargate Spot vCPU resource count quota of 64"


def test_every_call_is_a_read(account, service_linked_role, attached_queues):
    """All checks, on the default network, on configured subnets, and on the attach stack's queues."""
    all_ok_dev(account)
    subnet = boto3.client("ec2", region_name=REGION).describe_subnets()["Subnets"][0]
    prod = settings("prod", subnetIds=[subnet["SubnetId"]], existingTopicArn=f"arn:aws:sns:{REGION}:123456789012:x")
    account.layer(prod)
    account.quota("EC2", 512)
    account.run(prod)
    attach = settings("attach")
    account.layer(attach)
    account.run(attach)

    operations = {call.split(":")[1] for call in account.calls}
    assert len(account.calls) >= 14
    assert [operation for operation in operations if not re.match(r"(Get|Describe|List)[A-Z]", operation)] == []
    services = {call.split(":")[0] for call in account.calls}
    assert services == {"sts", "ec2", "iam", "lambda", "service-quotas", "sns", "batch"}
    assert {action.split(":")[0] for action in preflight.IAM_ACTIONS} == services - {"service-quotas"} | {
        "servicequotas"
    }


def test_a_region_other_than_the_environments_is_a_warn(account, service_linked_role):
    dev = settings("dev")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev, environment_region="eu-west-1")["credentials"]

    assert check.status is Status.WARN
    assert "stack region us-east-1, but the environment's default is eu-west-1" in check.detail


def test_a_missing_service_linked_role_is_a_warn_naming_the_permission(account):
    dev = settings("dev")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    iam = boto3.client("iam", region_name=REGION)
    existed = preflight.BATCH_SERVICE_LINKED_ROLE in [role["RoleName"] for role in iam.list_roles()["Roles"]]
    if existed:  # the module's other tests share the account
        iam.delete_role(RoleName=preflight.BATCH_SERVICE_LINKED_ROLE)
    try:
        check = account.run(dev)["batch role"]
    finally:
        if existed:
            create_service_linked_role()

    assert check.status is Status.WARN
    assert "iam:CreateServiceLinkedRole for batch.amazonaws.com" in check.fix


def test_a_layer_version_that_does_not_exist_fails(account):
    dev = settings("dev", powertoolsLayerVersion=999)
    account.layer(dev, exists=False)
    account.quota("FARGATE_SPOT", 64)

    checks = account.run(dev)

    assert checks["layer"].status is Status.FAIL
    assert checks["layer"].detail == (
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:999 does not exist"
    )
    assert exit_code(checks.values()) == 1


def test_max_vcpus_over_the_quota_is_a_warn_with_the_increase_command(account):
    prod = settings("prod")
    account.layer(prod)
    account.quota("EC2", 64)

    check = account.run(prod)["vcpu quota"]

    assert check.status is Status.WARN
    assert "maxVcpus 256 exceeds" in check.detail
    assert "--quota-code L-1216C47A --desired-value 256" in check.fix


def test_an_unreadable_quota_is_a_warn_not_a_failure(account):
    dev = settings("dev")
    account.layer(dev)
    account.stub("service-quotas").add_client_error("get_service_quota", "NoSuchResourceException")

    assert account.run(dev)["vcpu quota"].status is Status.WARN


def test_access_denied_to_one_check_is_a_warn_and_the_others_still_run(account):
    dev = settings("dev")
    account.layer(dev)
    account.stub("service-quotas").add_client_error("get_service_quota", "AccessDeniedException")

    checks = account.run(dev)

    assert checks["vcpu quota"].status is Status.WARN
    assert checks["vcpu quota"].detail == "cannot check: access denied to GetServiceQuota"
    assert checks["topics"].status is Status.OK


def test_configured_subnets_that_do_not_exist_fail(account):
    dev = settings("dev", subnetIds=["subnet-0123456789abcdef0"])
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["network"]

    assert check.status is Status.FAIL
    assert check.detail.startswith("subnetIds: ")
    assert "subnet-0123456789abcdef0" in check.detail


def test_subnets_and_security_groups_of_two_vpcs_fail(account):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    other_group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])
    foreign = next(group["GroupId"] for group in other_group["SecurityGroups"] if group["VpcId"] != vpc)
    dev = settings("dev", subnetIds=[subnet], securityGroupIds=[foreign])
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["network"]

    assert check.status is Status.FAIL
    assert check.detail.startswith("not one VPC: ")
    assert f"{subnet} in {vpc}" in check.detail


def test_configured_subnets_and_groups_of_one_vpc_pass(account):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
    dev = settings("dev", subnetIds=[subnet], securityGroupIds=[group], vpcId=vpc)
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["network"]

    assert (check.status, check.detail) == (Status.OK, f"1 subnets and 1 security groups in {vpc}")


def test_a_security_group_that_does_not_exist_fails(account):
    subnet = boto3.client("ec2", region_name=REGION).describe_subnets()["Subnets"][0]["SubnetId"]
    dev = settings("dev", subnetIds=[subnet], securityGroupIds=["sg-0123456789abcdef0"])
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["network"]

    assert check.status is Status.FAIL
    assert check.detail.startswith("securityGroupIds: ")


def test_a_region_without_a_default_vpc_fails_when_no_subnets_are_configured(mocked_aws):
    region = "ap-southeast-2"
    ec2 = boto3.client("ec2", region_name=region)
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=subnet["SubnetId"])
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    elsewhere = Account(*recording_session(region))
    dev = replace(settings("dev"), region=region)
    elsewhere.layer(dev)
    elsewhere.quota("FARGATE_SPOT", 64)

    check = elsewhere.run(dev)["network"]

    assert (check.status, check.detail) == (Status.FAIL, "no subnetIds configured and the region has no default VPC")
    assert "aws ec2 create-default-vpc" in check.fix


def test_topics_that_exist_pass_and_missing_ones_fail_by_key(account):
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    missing = f"arn:aws:sns:{REGION}:123456789012:nobody-made-this"
    good = settings("dev", existingTopicArn=topic, alertsTopicArn=topic)
    bad = settings("dev", existingTopicArn=topic, alertsTopicArn=missing)
    account.layer(good)
    account.quota("FARGATE_SPOT", 64)
    assert account.run(good)["topics"].status is Status.OK
    account.layer(bad)
    account.quota("FARGATE_SPOT", 64)

    failed = account.run(bad)["topics"]
    assert (failed.status, failed.detail) == (Status.FAIL, f"no such topic: alertsTopicArn {missing}")


def test_the_attach_stacks_queues_pass_when_they_exist(account, attached_queues):
    attach = settings("attach")
    account.layer(attach)

    checks = account.run(attach)

    assert checks["job queues"].status is Status.OK
    assert attach.job_queue_arns == tuple(sorted(attached_queues, reverse=True))
    assert checks["network"].detail.startswith("not needed")


def test_missing_attached_queues_fail_naming_them(account, attached_queues):
    gone = f"arn:aws:batch:{REGION}:123456789012:job-queue/gone"
    attach = settings("attach", existingJobQueueArns=[attached_queues[0], gone])
    account.layer(attach)

    check = account.run(attach)["job queues"]

    assert (check.status, check.detail) == (Status.FAIL, f"no such job queue: {gone}")


# --------------------------------------------------------------------------------------------------
# The command line


@pytest.fixture
def stubbed_main(account: Account, service_linked_role: None, monkeypatch: pytest.MonkeyPatch) -> Account:
    """`main` with the account's stubbed clients and the stack's region as the environment's."""
    monkeypatch.setattr(preflight, "session_client", lambda _session: account.client)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    return account


def test_main_prints_the_table_and_exits_0_when_all_is_ok(stubbed_main, capsys):
    stubbed_main.layer(settings("dev"))
    stubbed_main.quota("FARGATE_SPOT", 64)

    assert preflight.main(["--stack", "dev"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["check", "result", "details"]
    assert [line.split()[0:2] for line in lines[1:3]] == [["credentials", "ok"], ["network", "ok"]]


def test_main_json_exits_1_on_a_failed_check(stubbed_main, capsys):
    stubbed_main.layer(settings("dev"), exists=False)
    stubbed_main.quota("FARGATE_SPOT", 64)

    assert preflight.main(["--stack", "dev", "--json"]) == 1

    document = json.loads(capsys.readouterr().out)
    assert document["stack"] == "dev"
    assert [check["status"] for check in document["checks"] if check["name"] == "layer"] == ["fail"]


def test_main_refuses_an_unknown_config_key_with_exit_2(capsys):
    assert preflight.main(["--stack", "dev", "--config", f"{PROJECT}:maxVcpu=8"]) == 2
    assert "did you mean maxVcpus?" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The documented example

EXAMPLE = [
    Check("credentials", Status.OK, f"account 123456789012 as {MOTO_CALLER} in {REGION}"),
    Check("network", Status.OK, "default VPC vpc-0a1b2c3d, 6 default subnets"),
    Check(
        "batch role",
        Status.WARN,
        "AWSServiceRoleForBatch does not exist yet; the first `pulumi up` creates it",
        "the deploying identity needs iam:CreateServiceLinkedRole for batch.amazonaws.com",
    ),
    Check(
        "layer",
        Status.FAIL,
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:999 does not exist",
        "set powertoolsLayerVersion to a version listed in the Powertools for AWS Lambda (Python) docs",
    ),
    Check("vcpu quota", Status.OK, "maxVcpus 4 within the Fargate Spot vCPU resource count quota of 64"),
    Check("topics", Status.OK, "none configured: the stack creates its own"),
    Check("job queues", Status.OK, "not needed: the stack creates its own queue"),
]


def test_docs_show_the_table_as_preflight_renders_it():
    docs = (Path(ROOT) / "docs" / "tools.md").read_text()

    assert f"```\n{render(EXAMPLE)}\n```" in docs
