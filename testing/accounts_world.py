"""Several AWS accounts in one moto mock: a central account and member accounts that run Batch.

moto keeps accounts apart by the caller's credentials: the credentials an `AssumeRole` returns act in the
role's account (moto's STS: "The ARN can point to another account, providing an opportunity to switch
accounts"). Every account here is therefore reached through assumed credentials, the way AWS Organizations
reaches a member (`OrganizationAccountAccessRole`), and the world's clients are built from those sessions:
a member's clients see that member's Batch, and no one else's.

`MOTO_ACCOUNT_ID` must be unset inside the world: moto answers every request in that account whatever
the credentials (moto/core/responses.py `get_current_account`: the variable comes first), which would put
all accounts into one. `accounts_world` takes it (and `AWS_PROFILE`) out of the environment and puts them
back afterwards.

moto's `AssumeRole` checks no trust policy ("the role does not need to exist"). `AccountsWorld.assume`
therefore judges the role's trust policy, as IAM would, with `policy_evaluation` before it asks moto for
the credentials, and refuses as STS does (`AccessDenied`): a wrong account, a missing or wrong external id
and a wrong organisation are refused here as they would be in AWS.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final
from unittest import mock

import boto3  # type: ignore[import-untyped]  # no type information
from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information
from moto import mock_aws

from batch_array_notify.cli.submit import Target, submit
from batch_array_notify.handler.aws import new_client
from batch_array_notify.testing.policy_evaluation import evaluate
from batch_array_notify.testing.rehearsal_world import FAKE_CREDENTIALS, MOTO_CONFIG

#: The role AWS Organizations creates in an account it creates, for the management account to administer it.
ADMIN_ROLE: Final = "OrganizationAccountAccessRole"
#: The member's role the central notifier and sweep assume (docs/organization.md).
READ_ROLE: Final = "batch-array-notify-read"
#: What the read role may do (the issue 23 contract; Resource "*": Batch's read actions have no resource type).
READ_ACTIONS: Final = ("batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues")
JOB_DEFINITION: Final = "array-work"


@dataclass(frozen=True)
class Account:
    """Credentials that act in one account, and clients made from them."""

    account_id: str
    session: Any
    region: str

    def client(self, service: str) -> Any:
        return new_client(service, region=self.region, session=self.session)

    @property
    def caller_arn(self) -> str:
        return str(self.client("sts").get_caller_identity()["Arn"])


@dataclass(frozen=True)
class Member:
    """A member account's Batch world: its queue, its job definition and its read role."""

    account: Account
    job_queue_arn: str
    job_definition_arn: str
    read_role_arn: str

    def submit_array_job(self, job_name: str, size: int) -> str:
        """An array job on the member's queue; moto's Docker-free Batch finishes its children at once."""
        return submit(self.account.client("batch"), Target(self.job_queue_arn, self.job_definition_arn), size, job_name)


class AccountsWorld:
    """The central account and the members, inside `accounts_world`'s mock."""

    def __init__(self, region: str, organization_id: str | None, accounts: Sequence[str]) -> None:
        self.region = region
        self.organization_id = organization_id
        #: The accounts of the organisation (`aws:PrincipalOrgID` is set for their callers only).
        self.organization_accounts = frozenset(accounts)

    def administer(self, account_id: str) -> Account:
        """Credentials that act in `account_id` (any account, in the organisation or not)."""
        return self.act_as(f"arn:aws:iam::{account_id}:role/{ADMIN_ROLE}", "administrator")

    def create_role(self, owner: Account, name: str, trust: Mapping[str, Any], actions: Sequence[str] = ()) -> str:
        """A role in `owner`'s account with this trust policy and, if any, an inline policy of `actions` on "*"."""
        iam = owner.client("iam")
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
        if actions:
            policy = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
            }
            iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
        return arn

    def assume(self, caller: Account, role_arn: str, session_name: str, external_id: str | None = None) -> Account:
        """`caller` assumes `role_arn`, refused as STS refuses when the role's trust does not allow it."""
        self.check_trust(caller, role_arn, external_id)
        return self.act_as(role_arn, session_name, external_id=external_id)

    def check_trust(self, caller: Account, role_arn: str, external_id: str | None = None) -> None:
        """Raise STS's `AccessDenied` unless `role_arn` exists and its trust lets `caller` assume it with
        `external_id` (STS answers AccessDenied for a role that does not exist, too)."""
        role_account = role_arn.split(":")[4]
        role_name = role_arn.rpartition("/")[2]
        message = f"User: {caller.caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        try:
            trust = self.administer(role_account).client("iam").get_role(RoleName=role_name)["Role"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchEntity":
                raise
            raise _access_denied(f"{message} (no role {role_name} in account {role_account})") from None
        context = {"sts:ExternalId": external_id} if external_id is not None else {}
        if self.organization_id is not None and caller.account_id in self.organization_accounts:
            context["aws:PrincipalOrgID"] = self.organization_id
        decision = evaluate(
            trust["AssumeRolePolicyDocument"],
            principal=caller.caller_arn,
            action="sts:AssumeRole",
            resource=role_arn,
            context=context,
        )
        if not decision.allowed:
            raise _access_denied(f"{message} ({decision.why})")

    def act_as(self, role_arn: str, session_name: str, *, external_id: str | None = None) -> Account:
        """Credentials of a session of `role_arn`, its trust unchecked: what Lambda gives a function that runs
        as the role (the central notifier's own role). Another role's caller goes through `assume`."""
        # moto mints the credentials whoever asks: the caller matters only to the trust `assume` checked.
        sts = new_client("sts", region=self.region)
        options = {"ExternalId": external_id} if external_id is not None else {}
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name, **options)["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )
        return Account(account_id=role_arn.split(":")[4], session=session, region=self.region)

    def add_member(
        self, account_id: str, trust: Mapping[str, Any], *, queue_name: str | None = None, read_role: str = READ_ROLE
    ) -> Member:
        """A member account with one Batch queue (default name `work-<account>`) and job definition, and its
        read role named `read_role` with `trust`."""
        account = self.administer(account_id)
        batch = account.client("batch")
        service_role = self.create_role(account, "batch-service", {"Version": "2012-10-17", "Statement": []})
        # UNMANAGED: moto's Docker-free backend never places jobs, so no VPC or instances are needed.
        environment = batch.create_compute_environment(
            computeEnvironmentName="member", type="UNMANAGED", state="ENABLED", serviceRole=service_role
        )["computeEnvironmentArn"]
        queue = batch.create_job_queue(
            jobQueueName=queue_name or f"work-{account_id}",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        definition = batch.register_job_definition(
            jobDefinitionName=JOB_DEFINITION,
            type="container",
            containerProperties={"image": "public.ecr.aws/docker/library/busybox:stable", "vcpus": 1, "memory": 512},
        )["jobDefinitionArn"]
        read_role_arn = self.create_role(account, read_role, trust, READ_ACTIONS)
        return Member(account=account, job_queue_arn=queue, job_definition_arn=definition, read_role_arn=read_role_arn)


def _access_denied(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, "AssumeRole")


@contextmanager
def accounts_world(region: str, accounts: Sequence[str], organization_id: str | None = None) -> Iterator[AccountsWorld]:
    """A fresh moto mock in which `accounts` (central and members) are one organisation, if `organization_id`;
    the process environment (fake credentials, region, no `MOTO_ACCOUNT_ID`) is put back afterwards."""
    environment = {**FAKE_CREDENTIALS, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}
    with mock.patch.dict(os.environ, environment):
        for name in ("MOTO_ACCOUNT_ID", "AWS_PROFILE"):
            os.environ.pop(name, None)
        with mock_aws(config=MOTO_CONFIG):
            yield AccountsWorld(region, organization_id, accounts)
