"""testing/accounts_world.py: two member accounts and a central account in one moto mock, kept apart by the
credentials the central notifier's role gets from each member's read role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from batch_array_notify.testing.accounts_world import READ_ROLE, AccountsWorld, Member, accounts_world
from batch_array_notify.testing.policy_evaluation import allows

REGION = "eu-west-1"
CENTRAL = "111111111111"
MEMBERS = ("222222222222", "444444444444")
OUTSIDER = "333333333333"
ORG = "o-abcdefghij"
EXTERNAL_ID = "batch-array-notify-7f3a"
NOTIFIER_ROLE = f"arn:aws:iam::{CENTRAL}:role/notifier-role"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def read_role_trust(principal: str) -> dict[str, Any]:
    """The contract's read-role trust: the central notifier role, with the external id and the org id."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [principal]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORG}},
            }
        ],
    }


@dataclass
class Organisation:
    world: AccountsWorld
    members: dict[str, Member]
    notifier: Any


@pytest.fixture(scope="module")
def organisation() -> Iterator[Organisation]:
    with accounts_world(REGION, (CENTRAL, *MEMBERS), organization_id=ORG) as world:
        central = world.administer(CENTRAL)
        world.create_role(central, "notifier-role", LAMBDA_TRUST)
        members = {account: world.add_member(account, read_role_trust(NOTIFIER_ROLE)) for account in MEMBERS}
        yield Organisation(world, members, world.act_as(NOTIFIER_ROLE, "notifier"))


def read(organisation: Organisation, account: str) -> Any:
    """The member's Batch as the central notifier reads it: through the member's read role."""
    member = organisation.members[account]
    session = organisation.world.assume(organisation.notifier, member.read_role_arn, "read", EXTERNAL_ID)
    return session.client("batch")


def test_assumed_credentials_see_only_their_accounts_queues_and_jobs(organisation):
    first, second = (organisation.members[account] for account in MEMBERS)
    # The same job name in both accounts: two jobs, each visible only in its own account.
    first_job, second_job = first.submit_array_job("nightly", 3), second.submit_array_job("nightly", 3)

    for member, job, other_job in ((first, first_job, second_job), (second, second_job, first_job)):
        batch = read(organisation, member.account.account_id)
        queues = [queue["jobQueueArn"] for queue in batch.describe_job_queues()["jobQueues"]]
        listed = batch.list_jobs(jobQueue=member.job_queue_arn, filters=[{"name": "JOB_NAME", "values": ["nightly"]}])

        assert queues == [member.job_queue_arn]
        assert f":{member.account.account_id}:" in member.job_queue_arn
        # moto lists the children (`<id>:<index>`) beside their parent, under the same name.
        assert {summary["jobId"].split(":")[0] for summary in listed["jobSummaryList"]} == {job}
        assert [found["jobId"] for found in batch.describe_jobs(jobs=[job, other_job])["jobs"]] == [job]
    assert organisation.notifier.client("batch").describe_job_queues()["jobQueues"] == []


def test_the_read_role_session_acts_in_the_member_account_as_the_role(organisation):
    member = organisation.members[MEMBERS[0]]
    session = organisation.world.assume(organisation.notifier, member.read_role_arn, "read", EXTERNAL_ID)

    assert session.account_id == MEMBERS[0]
    assert session.caller_arn == f"arn:aws:sts::{MEMBERS[0]}:assumed-role/batch-array-notify-read/read"
    assert organisation.notifier.caller_arn == f"arn:aws:sts::{CENTRAL}:assumed-role/notifier-role/notifier"


def test_the_read_role_may_read_batch_and_nothing_else(organisation):
    member = organisation.members[MEMBERS[0]]
    iam = organisation.world.administer(MEMBERS[0]).client("iam")
    (name,) = iam.list_role_policies(RoleName=READ_ROLE)["PolicyNames"]
    policy = iam.get_role_policy(RoleName=READ_ROLE, PolicyName=name)["PolicyDocument"]

    def grants(action: str) -> bool:
        return allows(policy, principal=None, action=action, resource=member.job_queue_arn)

    assert [grants(action) for action in ("batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues")] == [
        True
    ] * 3
    assert not grants("batch:SubmitJob")
    assert not grants("batch:TerminateJob")


@pytest.mark.parametrize(
    ("caller_account", "caller_role", "external_id"),
    [
        pytest.param(CENTRAL, "notifier-role", None, id="missing external id"),
        pytest.param(CENTRAL, "notifier-role", "guessed", id="wrong external id"),
        pytest.param(CENTRAL, "other-role", EXTERNAL_ID, id="another central role"),
        pytest.param(OUTSIDER, "notifier-role", EXTERNAL_ID, id="the same role name outside the organisation"),
    ],
)
def test_the_read_role_refuses_as_sts_does(organisation, caller_account, caller_role, external_id):
    caller = organisation.world.act_as(f"arn:aws:iam::{caller_account}:role/{caller_role}", "caller")
    member = organisation.members[MEMBERS[0]]

    with pytest.raises(ClientError) as refused:
        organisation.world.assume(caller, member.read_role_arn, "read", external_id)

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert member.read_role_arn in refused.value.response["Error"]["Message"]


def test_outside_the_organisation_the_org_condition_alone_refuses(organisation):
    """A trust that names the outsider's role too: the org id (unset for the outsider's caller) still refuses."""
    world = organisation.world
    outsider_role = f"arn:aws:iam::{OUTSIDER}:role/notifier-role"
    member = world.administer(MEMBERS[1])
    role = world.create_role(member, "read-for-two", read_role_trust(outsider_role))

    with pytest.raises(ClientError):
        world.assume(world.act_as(outsider_role, "caller"), role, "read", EXTERNAL_ID)


def test_the_world_puts_the_environment_back(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", CENTRAL)

    with accounts_world(REGION, (CENTRAL,)) as world:
        inside = os.environ.get("MOTO_ACCOUNT_ID")
        assert world.administer(MEMBERS[0]).caller_arn.split(":")[4] == MEMBERS[0]

    assert inside is None
    assert os.environ["MOTO_ACCOUNT_ID"] == CENTRAL
