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
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from batch_array_notify.cli import preflight
from batch_array_notify.cli.preflight import (
    Channel,
    Check,
    Client,
    Settings,
    Status,
    exit_code,
    planned_channels,
    render,
    run_checks,
    session_client,
)
from batch_array_notify.notifier import POWERTOOLS_VERSION, powertools_layer_arn, powertools_parameter_name
from batch_array_notify.testing.program import ROOT, powertools_parameter_answer, stack_config

REGION = "us-east-1"  # the region of every stack file in the repository
PROJECT = "batch-array-notify"
MOTO_CALLER = "arn:aws:sts::123456789012:user/moto"


#: The Slack channel configuration the dev stack plans with tests/support.py's Slack keys.
SLACK_PLANNED = Channel("Slack", "T07EA123LEP", "C07EZ1ABC23", "batch-array-notify-dev-batch-array-notify-slack")
TEAMS_PLANNED = Channel(
    "Microsoft Teams",
    "55555555-6666-7777-8888-999999999999",
    "19%3Aabc123def456%40thread.tacv2",
    "batch-array-notify-dev-batch-array-notify-teams",
)


def slack_configuration(name: str, team: str = "T07EA123LEP", channel: str = "C07EZ1ABC23") -> dict[str, Any]:
    """One item of DescribeSlackChannelConfigurations, every required member set."""
    return {
        "SlackTeamName": "acme",
        "SlackTeamId": team,
        "SlackChannelId": channel,
        "SlackChannelName": "batch",
        "ChatConfigurationArn": f"arn:aws:chatbot::123456789012:chat-configuration/slack-channel/{name}",
        "ConfigurationName": name,
        "IamRoleArn": "arn:aws:iam::123456789012:role/chat",
        "SnsTopicArns": [f"arn:aws:sns:{REGION}:123456789012:ops"],
    }


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
        """The layer the stack would use: its pinned number, or the one Powertools' SSM parameter names
        (answered as the plan mocks answer it)."""
        if checked.layer_version is None:
            name = powertools_parameter_name(checked.architecture, checked.runtime, checked.powertools_version)
            arn = powertools_parameter_answer(name, self.region)["value"]
            self.stub("ssm").add_response(
                "get_parameter",
                {"Parameter": {"Name": name, "Type": "String", "Value": arn, "Version": 1}},
                {"Name": name},
            )
        else:
            arn = powertools_layer_arn(self.region, checked.architecture, checked.runtime, checked.layer_version)
        if exists:
            self.stub("lambda").add_response(
                "get_layer_version_by_arn",
                {"LayerVersionArn": arn, "Version": int(arn.rsplit(":", 1)[1])},
                {"Arn": arn},
            )
        else:
            self.stub("lambda").add_client_error(
                "get_layer_version_by_arn",
                "ResourceNotFoundException",
                http_status_code=404,
                expected_params={"Arn": arn},
            )

    def chat(self, slack: list[dict[str, Any]], teams: list[dict[str, Any]]) -> None:
        """The account's channel configurations, as DescribeSlackChannelConfigurations and
        ListMicrosoftTeamsChannelConfigurations answer (the Slack ones over two pages)."""
        chatbot = self.stub("chatbot")
        chatbot.add_response(
            "describe_slack_channel_configurations", {"SlackChannelConfigurations": slack[:1], "NextToken": "2"}, {}
        )
        chatbot.add_response(
            "describe_slack_channel_configurations", {"SlackChannelConfigurations": slack[1:]}, {"NextToken": "2"}
        )
        chatbot.add_response("list_microsoft_teams_channel_configurations", {"TeamChannelConfigurations": teams}, {})

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
    assert list(checks) == [
        "credentials",
        "network",
        "batch role",
        "layer",
        "vcpu quota",
        "topics",
        "job queues",
        "chat",
    ]
    assert checks["credentials"].detail == f"account 123456789012 as {MOTO_CALLER} in {REGION}"
    assert re.fullmatch(r"default VPC vpc-\w+, 6 default subnets", checks["network"].detail)
    assert checks["vcpu quota"].detail == "maxVcpus 4 within the Fargate Spot vCPU resource count quota of 64"


def test_every_call_is_a_read(account, service_linked_role, attached_queues):
    """All checks, on the default network, on configured subnets, and on the attach stack's queues."""
    all_ok_dev(account)
    subnet = boto3.client("ec2", region_name=REGION).describe_subnets()["Subnets"][0]
    prod = settings("prod", subnetIds=[subnet["SubnetId"]], existingTopicArn=f"arn:aws:sns:{REGION}:123456789012:x")
    prod = replace(prod, channels=(SLACK_PLANNED,))
    account.layer(prod)
    account.quota("EC2", 512)
    account.chat([], [])
    account.run(prod)
    attach = settings("attach")
    account.layer(attach)
    account.run(attach)

    operations = {call.split(":")[1] for call in account.calls}
    assert len(account.calls) >= 14
    assert [operation for operation in operations if not re.match(r"(Get|Describe|List)[A-Z]", operation)] == []
    services = {call.split(":")[0] for call in account.calls}
    assert services == {"sts", "ec2", "iam", "ssm", "lambda", "service-quotas", "sns", "batch", "chatbot"}
    # A member stack's two checks read EventBridge and Organizations (tests/unit/test_preflight_member.py).
    assert {action.split(":")[0] for action in preflight.IAM_ACTIONS} == services - {"service-quotas"} | {
        "servicequotas",
        "events",
        "organizations",
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
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:999 does not exist "
        "(ResourceNotFoundException)"
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
# Chat: one configuration per channel per account


def test_a_channel_another_configuration_has_fails_naming_it(account):
    dev = replace(settings("dev"), channels=(SLACK_PLANNED,))
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    other = slack_configuration("team-alerts")
    account.chat([slack_configuration("elsewhere", channel="C0OTHER"), other], [])

    checks = account.run(dev)

    assert checks["chat"].status is Status.FAIL
    assert checks["chat"].detail == (
        f"Slack channel C07EZ1ABC23 is already configured in this account by team-alerts "
        f"({other['ChatConfigurationArn']}); AWS allows one configuration per channel"
    )
    assert checks["chat"].fix.startswith("share it: set existingChatConfiguration=team-alerts instead of slack")
    assert exit_code(checks.values()) == 1


def test_the_stacks_own_configuration_of_the_channel_is_no_clash(account):
    dev = replace(settings("dev"), channels=(SLACK_PLANNED,))
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    account.chat([slack_configuration(SLACK_PLANNED.configuration_name)], [])

    check = account.run(dev)["chat"]

    assert (check.status, check.detail) == (Status.OK, "no other configuration has Slack C07EZ1ABC23")


def test_a_teams_channel_is_held_to_the_same_rule_whatever_the_case_of_its_encoding(account):
    dev = replace(settings("dev"), channels=(TEAMS_PLANNED,))
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    teams = {
        "ChannelId": "19%3aabc123def456%40thread.tacv2",
        "TeamId": TEAMS_PLANNED.team,
        "TenantId": "00000000-1111-2222-3333-444444444444",
        "ChatConfigurationArn": "arn:aws:chatbot::123456789012:chat-configuration/microsoft-teams-channel/ops",
        "ConfigurationName": "ops",
        "IamRoleArn": "arn:aws:iam::123456789012:role/chat",
        "SnsTopicArns": [],
    }
    account.chat([], [teams])

    check = account.run(dev)["chat"]

    assert check.status is Status.FAIL
    assert "Microsoft Teams channel 19%3Aabc123def456%40thread.tacv2 is already configured" in check.detail
    assert "by ops (arn:aws:chatbot::123456789012:chat-configuration/microsoft-teams-channel/ops)" in check.detail


@pytest.mark.parametrize(("exists", "status"), [(True, Status.OK), (False, Status.WARN)])
def test_an_existing_configuration_to_deliver_through_is_looked_up(account, exists, status):
    dev = settings("dev", existingChatConfiguration="team-alerts")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)
    account.chat([slack_configuration("team-alerts" if exists else "other", channel="C0OTHER")], [])

    check = account.run(dev)["chat"]

    assert check.status is status
    assert "team-alerts" in check.detail
    assert "chatTopicArns" in check.fix + check.detail


def test_without_chat_no_chat_call_is_made(account):
    all_ok_dev(account)

    assert [call for call in account.calls if call.startswith("chatbot:")] == []


def test_the_planned_channels_are_read_from_the_plan(chat_plan):
    assert planned_channels(chat_plan) == (SLACK_PLANNED, TEAMS_PLANNED)


# --------------------------------------------------------------------------------------------------
# The layer: Powertools' own parameter, and AccessDenied on the public layer


def test_the_layer_is_the_one_the_releases_parameter_names(account):
    dev = settings("dev")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["layer"]

    name = powertools_parameter_name("arm64", "python3.13", POWERTOOLS_VERSION)
    assert check.status is Status.OK
    assert (
        check.detail
        == f"{powertools_parameter_answer(name, REGION)['value']} exists (Powertools {POWERTOOLS_VERSION}, from {name})"
    )


def test_access_denied_on_the_public_layer_is_a_failed_check_naming_the_arn(account):
    dev = settings("dev", powertoolsLayerVersion="999")
    arn = powertools_layer_arn(REGION, "arm64", "python3.13", 999)
    account.stub("lambda").add_client_error(
        "get_layer_version_by_arn", "AccessDeniedException", http_status_code=403, expected_params={"Arn": arn}
    )
    account.quota("FARGATE_SPOT", 64)

    checks = account.run(dev)

    assert (checks["layer"].status, checks["layer"].detail) == (
        Status.FAIL,
        f"{arn} does not exist (AccessDeniedException)",
    )
    assert exit_code(checks.values()) == 1


def test_latest_reads_the_latest_parameter(account):
    dev = settings("dev", powertoolsLayerVersion="latest")
    account.layer(dev)
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["layer"]

    assert check.status is Status.OK
    assert "/aws/service/powertools/python/arm64/python3.13/latest" in check.detail


def test_a_missing_release_parameter_fails_and_offers_latest(account):
    """powertools-lambda-python#7689: a release's parameter went missing while `latest` was fine."""
    dev = settings("dev")
    release = powertools_parameter_name("arm64", "python3.13", POWERTOOLS_VERSION)
    latest = powertools_parameter_name("arm64", "python3.13", "latest")
    latest_arn = powertools_parameter_answer(latest, REGION)["value"]
    ssm = account.stub("ssm")
    ssm.add_client_error("get_parameter", "ParameterNotFound", http_status_code=400, expected_params={"Name": release})
    ssm.add_response(
        "get_parameter", {"Parameter": {"Name": latest, "Type": "String", "Value": latest_arn}}, {"Name": latest}
    )
    account.quota("FARGATE_SPOT", 64)

    check = account.run(dev)["layer"]

    assert check.status is Status.FAIL
    assert check.detail == f"no SSM parameter {release} (Powertools {POWERTOOLS_VERSION}); {latest} is {latest_arn}"
    assert check.fix.startswith(
        f"set powertoolsLayerVersion to latest or to a layer version number: latest uses {latest_arn}"
    )


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


def _no_aws(_session: Any) -> Client:
    def refuse(service: str) -> Any:
        raise AssertionError(f"preflight called {service} before checking the config")

    return refuse


def test_a_config_error_exits_2_before_any_aws_call(monkeypatch, capsys):
    """maxVcpus=0 is the component's error (as `pulumi up` says it), not a credentials problem (exit 3)."""
    monkeypatch.setattr(preflight, "session_client", _no_aws)

    assert preflight.main(["--stack", "dev", "--config", f"{PROJECT}:maxVcpus=0"]) == 2

    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"error: {PROJECT}:maxVcpus: 0 is not allowed")


def test_no_region_anywhere_is_a_failed_check_that_offers_only_what_exists():
    """No call is made (STS needs a region too); the fix names the stack's config and the environment."""
    checks = run_checks(replace(settings("dev"), region=None), _no_aws(None), None)

    assert [(check.name, check.status) for check in checks] == [("credentials", Status.FAIL)]
    assert "--region" not in checks[0].fix
    assert checks[0].fix == "pulumi config set aws:region REGION --stack dev (or export AWS_REGION=REGION)"
    assert exit_code(checks) == 1


class LambdaEndpoint:
    """A local HTTP endpoint answering every Lambda request with one status and body, as AWS would (or a
    proxy in front of it, with an HTML page)."""

    def __init__(self) -> None:
        self.status, self.body, self.headers = 200, b"{}", {"Content-Type": "application/json"}
        self.paths: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.paths.append(self.path)
                self.send_response(endpoint.status)
                for name, value in {**endpoint.headers, "Content-Length": str(len(endpoint.body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(endpoint.body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status: int, body: bytes, **headers: str) -> None:
        self.status, self.body, self.headers = status, body, headers


@pytest.fixture(scope="module")
def lambda_endpoint() -> Iterator[LambdaEndpoint]:
    endpoint = LambdaEndpoint()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture
def main_on_local_lambda(stubbed_main: Account, lambda_endpoint: LambdaEndpoint, monkeypatch) -> LambdaEndpoint:
    """`main` with the account's clients, but Lambda's requests sent over HTTP to the local endpoint (with
    botocore's retries of a 5xx: two, at once)."""
    local = stubbed_main.session.client(
        "lambda", endpoint_url=lambda_endpoint.url, config=Config(retries={"max_attempts": 1, "mode": "standard"})
    )
    monkeypatch.setattr(
        preflight, "session_client", lambda _session: lambda s: local if s == "lambda" else stubbed_main.client(s)
    )
    stubbed_main.quota("FARGATE_SPOT", 64)
    return lambda_endpoint


PINNED = ["--stack", "dev", "--config", f"{PROJECT}:powertoolsLayerVersion=999"]
PINNED_ARN = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:999"


def test_a_403_access_denied_from_the_layer_endpoint_exits_1_naming_the_arn(main_on_local_lambda, capsys):
    main_on_local_lambda.answer(
        403,
        json.dumps({"Message": "User is not authorized to perform: lambda:GetLayerVersion"}).encode(),
        **{"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"},
    )

    assert preflight.main(PINNED) == 1

    out = capsys.readouterr().out
    assert f"layer        fail    {PINNED_ARN} does not exist (AccessDeniedException)" in out
    assert main_on_local_lambda.paths[-1].startswith("/2018-10-31/layers?find=LayerVersion")


def test_a_500_with_an_html_page_is_one_line_and_exit_3(main_on_local_lambda, capsys):
    main_on_local_lambda.answer(
        500, b"<html><body><h1>502 Bad Gateway</h1><p>upstream</p></body></html>", **{"Content-Type": "text/html"}
    )

    with pytest.raises(SystemExit) as exited:
        preflight.main(PINNED)

    assert exited.value.code == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: AWS answered GetLayerVersionByArn with HTTP 500, a fault on its side or a proxy's: try again later\n"
    )


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
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:999 does not exist "
        "(AccessDeniedException)",
        "set powertoolsLayerVersion to latest, or to a version listed in the Powertools for AWS Lambda (Python) docs "
        "(AccessDeniedException also answers a caller denied lambda:GetLayerVersion)",
    ),
    Check("vcpu quota", Status.OK, "maxVcpus 4 within the Fargate Spot vCPU resource count quota of 64"),
    Check("topics", Status.OK, "none configured: the stack creates its own"),
    Check("job queues", Status.OK, "not needed: the stack creates its own queue"),
    Check(
        "chat",
        Status.FAIL,
        "Slack channel C07EZ1ABC23 is already configured in this account by team-alerts "
        "(arn:aws:chatbot::123456789012:chat-configuration/slack-channel/team-alerts); AWS allows one "
        "configuration per channel",
        "share it: set existingChatConfiguration=team-alerts instead of slackWorkspaceId and slackChannelId, and "
        "add this stack's chatTopicArns output to that configuration (its stack's chatExtraTopicArns)",
    ),
]


def test_docs_show_the_table_as_preflight_renders_it():
    docs = (Path(ROOT) / "docs" / "tools.md").read_text()

    assert f"```\n{render(EXAMPLE)}\n```" in docs


class ProxyPageLambda:
    """A Lambda client as botocore hands over a 200 whose body is not the service's JSON (a proxy's sign-in
    page): an answer without any of the operation's members."""

    def get_layer_version_by_arn(self, **_: Any) -> dict[str, Any]:
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}


def test_an_answer_that_is_not_the_services_is_one_line_and_exit_3(stubbed_main, monkeypatch, capsys):
    monkeypatch.setattr(
        preflight,
        "session_client",
        lambda _session: lambda s: ProxyPageLambda() if s == "lambda" else stubbed_main.client(s),
    )
    stubbed_main.quota("FARGATE_SPOT", 64)

    assert preflight.main(PINNED) == 3

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: AWS's answer could not be read (not the service's format): check AWS_ENDPOINT_URL and any proxy "
        "(HTTPS_PROXY) between here and AWS (it lacked 'LayerVersionArn')\n"
    )
