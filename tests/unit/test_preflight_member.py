"""`preflight --stack member` with botocore's Stubber: the central bus's policy admits this account (by its
id, or through its organisation) or the check fails naming the fix; an unreadable policy is a warn; the read
role's trust is the one the stack plans, and a trust naming another account's role or lacking the external
id fails. moto's EventBridge and IAM keep no cross-account policy semantics, so the answers are AWS's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from batch_array_notify import iam
from batch_array_notify.cli.preflight import Settings, Status, exit_code, run_checks
from batch_array_notify.cli.preflight_member import ENCRYPTED, MemberSettings, check_central_bus, check_read_role
from batch_array_notify.testing.program import ROOT, Plan, run_program, stack_config

PROJECT = "batch-array-notify"
MEMBER = "123456789012"
CENTRAL = "210987654321"
BUS = f"arn:aws:events:us-east-1:{CENTRAL}:event-bus/batch-array-notify-intake"
ROLES = (
    f"arn:aws:iam::{CENTRAL}:role/batch-array-notify-notifier",
    f"arn:aws:iam::{CENTRAL}:role/batch-array-notify-sweep",
)
ORG = "o-a1b2c3d4e5"
EXTERNAL_ID = "batch-array-notify-7f3a"


@pytest.fixture(scope="module")
def member_plan() -> Plan:
    return run_program(ROOT, "member", {f"{PROJECT}:externalId": EXTERNAL_ID})


@pytest.fixture(scope="module")
def member(member_plan: Plan) -> MemberSettings:
    config = stack_config(ROOT, "member", {f"{PROJECT}:externalId": EXTERNAL_ID})
    settings = MemberSettings.from_config(config, PROJECT, member_plan)
    assert settings is not None
    return settings


class Clients:
    """Stubbed clients by service and region; every stub must have been used up."""

    def __init__(self) -> None:
        self.stubs: dict[tuple[str, str], Stubber] = {}

    def stub(self, service: str, region: str = "eu-west-1") -> Stubber:
        if (service, region) not in self.stubs:
            client = boto3.client(
                service, region_name=region, aws_access_key_id="x", aws_secret_access_key="y", aws_session_token="z"
            )
            self.stubs[service, region] = Stubber(client)
            self.stubs[service, region].activate()
        return self.stubs[service, region]

    def client(self, service: str) -> Any:
        return self.stub(service).client

    def regional(self, service: str, region: str) -> Any:
        return self.stub(service, region).client


@pytest.fixture
def clients() -> Iterator[Clients]:
    stubbed = Clients()
    yield stubbed
    for stub in stubbed.stubs.values():
        stub.assert_no_pending_responses()


def caller(clients: Clients) -> None:
    clients.stub("sts").add_response(
        "get_caller_identity", {"Account": MEMBER, "Arn": f"arn:aws:iam::{MEMBER}:user/ops", "UserId": "AIDAEXAMPLE"}
    )


def bus_policy(principal: Any, condition: dict[str, Any]) -> str:
    """The shape the central notifier's intake bus policy has (org-contract: PutEvents only, Batch only)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "MembersPutBatchEvents",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "events:PutEvents",
                    "Resource": BUS,
                    "Condition": {
                        "StringEquals": {
                            "events:source": "aws.batch",
                            "events:detail-type": "Batch Job State Change",
                            **condition,
                        }
                    },
                }
            ],
        }
    )


def describe_bus(clients: Clients, policy: str | None) -> None:
    answer = {"Name": "batch-array-notify-intake", "Arn": BUS, **({"Policy": policy} if policy else {})}
    clients.stub("events", "us-east-1").add_response("describe_event_bus", answer, {"Name": BUS})


def organization(clients: Clients, org_id: str) -> None:
    clients.stub("organizations").add_response(
        "describe_organization",
        {"Organization": {"Id": org_id, "Arn": f"arn:aws:organizations::{CENTRAL}:organization/{org_id}"}},
    )


def test_a_bus_naming_this_account_admits_it(member, clients):
    caller(clients)
    describe_bus(clients, bus_policy({"AWS": f"arn:aws:iam::{MEMBER}:root"}, {}))
    organization(clients, ORG)

    found = check_central_bus(member, clients.client, clients.regional)

    assert (found.status, found.detail) == (
        "ok",
        f"{BUS} admits this account's Batch events: account {MEMBER} is named",
    )


def test_a_bus_admitting_this_accounts_organisation_admits_it(member, clients):
    caller(clients)
    describe_bus(clients, bus_policy("*", {"aws:PrincipalOrgID": ORG}))
    organization(clients, ORG)

    found = check_central_bus(member, clients.client, clients.regional)

    assert found.status == "ok"
    assert f"organisation {ORG}" in found.detail


@pytest.mark.parametrize(
    ("principal", "condition", "org"),
    [
        ({"AWS": "arn:aws:iam::111122223333:root"}, {}, ORG),
        ("*", {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}, ORG),
        ({"AWS": f"arn:aws:iam::{MEMBER}:root"}, {"events:source": "aws.s3"}, ORG),
    ],
    ids=["another-account", "another-organisation", "not-batch-events"],
)
def test_a_bus_that_does_not_admit_this_account_fails_naming_the_fix(member, clients, principal, condition, org):
    caller(clients)
    describe_bus(clients, bus_policy(principal, condition))
    organization(clients, org)

    found = check_central_bus(member, clients.client, clients.regional)

    assert found.status == "fail"
    assert f"from account {MEMBER}" in found.detail
    assert f"add account {MEMBER} to the central stack's memberAccounts" in found.fix


def test_an_unreadable_organisation_cannot_admit_through_it(member, clients):
    caller(clients)
    describe_bus(clients, bus_policy("*", {"aws:PrincipalOrgID": ORG}))
    clients.stub("organizations").add_client_error("describe_organization", "AccessDeniedException")

    found = check_central_bus(member, clients.client, clients.regional)

    assert found.status == "fail"
    assert "could not be read" in found.detail


def test_a_bus_policy_this_account_may_not_read_is_a_warn_not_a_failure(member, clients):
    caller(clients)
    clients.stub("events", "us-east-1").add_client_error("describe_event_bus", "AccessDeniedException")

    found = check_central_bus(member, clients.client, clients.regional)

    assert found.status == "warn"
    assert "cannot read the central bus's policy" in found.detail


def role_answer(trust: dict[str, Any]) -> dict[str, Any]:
    """GetRole's answer as the wire has it: the trust document URL-encoded."""
    return {
        "Role": {
            "Path": "/",
            "RoleName": "batch-array-notify-read",
            "RoleId": "AROAEXAMPLEEXAMPLE1",
            "Arn": f"arn:aws:iam::{MEMBER}:role/batch-array-notify-read",
            "CreateDate": "2026-12-07T00:00:00Z",
            "AssumeRolePolicyDocument": quote(json.dumps(trust)),
        }
    }


def test_the_planned_trust_passes(member, member_plan, clients):
    (planned,) = [
        r for r in member_plan.resources if r.name == "batch-array-notify-read" and r.type.endswith("/role:Role")
    ]
    # The plan hides the secret: the same document, from the function that built it.
    trust = iam.member_read_trust_policy(ROLES, EXTERNAL_ID, ORG)
    assert planned.inputs["assumeRolePolicy"] == "[secret]"
    clients.stub("iam").add_response("get_role", role_answer(trust), {"RoleName": "batch-array-notify-read"})

    assert check_read_role(member, clients.client).status == "ok"


@pytest.mark.parametrize(
    ("trust", "problem"),
    [
        (iam.member_read_trust_policy([ROLES[0], "arn:aws:iam::111122223333:role/x"], EXTERNAL_ID, ORG), "also trusts"),
        (iam.member_read_trust_policy(ROLES, None, ORG), "requires no external id"),
        (iam.member_read_trust_policy(ROLES, "another-id", ORG), "requires another external id"),
        (iam.member_read_trust_policy(ROLES, EXTERNAL_ID, "o-zzzzzzzzzz"), f"does not require organisation {ORG}"),
        (iam.member_read_trust_policy(ROLES[:1], EXTERNAL_ID, ORG), f"does not name {ROLES[1]}"),
    ],
    ids=["another-accounts-role", "no-external-id", "wrong-external-id", "wrong-organisation", "sweep-role-missing"],
)
def test_a_trust_other_than_the_configured_one_fails(member, clients, trust, problem):
    clients.stub("iam").add_response("get_role", role_answer(trust), {"RoleName": "batch-array-notify-read"})

    found = check_read_role(member, clients.client)

    assert found.status == "fail"
    assert problem in found.detail


def test_a_trust_without_any_guard_fails_even_with_an_encrypted_external_id(member, clients):
    encrypted = replace(member, external_id=ENCRYPTED, organization_id=None)
    unguarded = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": list(ROLES)}, "Action": "sts:AssumeRole"}],
    }
    clients.stub("iam").add_response("get_role", role_answer(unguarded), {"RoleName": "batch-array-notify-read"})

    found = check_read_role(encrypted, clients.client)

    assert found.status == "fail"
    assert "requires no external id" in found.detail
    assert "confused deputy" in found.detail


def test_a_read_role_not_deployed_yet_is_a_warn(member, clients):
    clients.stub("iam").add_client_error("get_role", "NoSuchEntity", http_status_code=404)

    found = check_read_role(member, clients.client)

    assert found.status == "warn"
    assert "deploy the central stack first" in found.fix


def test_a_member_stack_runs_credentials_and_its_two_checks_and_fails_on_a_bad_trust(member, clients):
    config = stack_config(ROOT, "member")
    settings = replace(Settings.from_config("member", config, PROJECT), member=member)
    caller(clients)
    caller(clients)
    describe_bus(clients, bus_policy({"AWS": MEMBER}, {}))
    organization(clients, ORG)
    bad = iam.member_read_trust_policy(ROLES, None, ORG)
    clients.stub("iam").add_response("get_role", role_answer(bad), {"RoleName": "batch-array-notify-read"})

    checks = run_checks(settings, clients.client, "eu-west-1", clients.regional)

    assert [(check.name, check.status) for check in checks] == [
        ("credentials", Status.OK),
        ("central bus", Status.OK),
        ("read role", Status.FAIL),
    ]
    assert exit_code(checks) == 1
