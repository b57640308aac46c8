"""examples/organization: the central notifier and two member accounts' forwarders, in one program.

Written as a user of the package writes the tests of their own program: only `batch_array_notify` and
its testing kit. The mocks plan each resource in the account and region of the provider it is declared
through (a provider that assumes a role works in that role's account). From the repository root:
`.venv/bin/python -m pytest examples/organization`.
"""

import json
from pathlib import Path

import pytest

from batch_array_notify.testing import MOCK_ACCOUNT, Plan, PlannedResource, run_program

HERE = Path(__file__).resolve().parent
NOTIFIER = "batcharray:index:ArrayCompletionNotifier"
FORWARDER = "batcharray:index:BatchEventForwarder"
PROVIDER = "pulumi:providers:aws"
ROLE = "aws:iam/role:Role"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
FUNCTION = "aws:lambda/function:Function"
#: Forwarder -> (account, region), as Pulumi.dev.yaml and __main__.py say.
MEMBERS = {"render": ("111111111111", "eu-west-1"), "encode": ("222222222222", "us-east-1")}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program(HERE, "dev")


def under(plan: Plan, component_type: str, name: str) -> list[PlannedResource]:
    """The AWS resources below the component `name`: its children, theirs, and so on."""
    return [
        r
        for r in plan.resources
        if r.type.startswith("aws:") and (component_type, name) in {(a.type, a.name) for a in plan.ancestors(r)}
    ]


def reference(provider: PlannedResource) -> str:
    return f"{provider.urn}::{provider.id}"


def test_two_forwarders_and_one_central_notifier(plan):
    assert sorted(r.name for r in plan.of_type(FORWARDER)) == ["encode", "render"]
    assert [r.name for r in plan.of_type(NOTIFIER)] == ["central"]
    assert sorted(r.name for r in plan.of_type(PROVIDER)) == ["encode-account", "render-account"]


@pytest.mark.parametrize("forwarder", sorted(MEMBERS))
def test_each_forwarder_deploys_through_its_accounts_provider_alone(plan, forwarder):
    account, region = MEMBERS[forwarder]
    provider = plan.named(PROVIDER, f"{forwarder}-account")
    resources = under(plan, FORWARDER, forwarder)
    assumed = json.loads(provider.inputs["assumeRoles"])

    assert [role["role_arn"] for role in assumed] == [f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"]
    assert provider.inputs["region"] == region
    assert json.loads(provider.inputs["allowedAccountIds"]) == [account]
    # Rule, target, dead-letter queue and its policy, two alarms, events role and read role with their policies.
    assert len(resources) == 10
    assert {r.provider for r in resources} == {reference(provider)}
    # So its lookups ran there too: ARNs in the member's account and region, IAM's without a region (a
    # target's `arn` is what it targets: the central bus).
    arns = [r.state["arn"] for r in resources if "arn" in r.state and r.type != TARGET]
    assert arns
    assert all(arn.split(":")[3:5] in ([region, account], ["", account]) for arn in arns), arns


def test_the_central_notifier_deploys_through_the_default_provider(plan):
    resources = under(plan, NOTIFIER, "central")

    assert len(resources) > 30
    assert {r.provider for r in resources} == {None}
    assert {r.state["arn"].split(":")[4] for r in resources if "arn" in r.state} == {MOCK_ACCOUNT}


def test_the_intake_bus_admits_exactly_the_two_member_accounts(plan):
    statements = json.loads(plan.one(BUS_POLICY).inputs["policy"])["Statement"]

    assert [s["Principal"] for s in statements] == [
        {"AWS": [f"arn:aws:iam::{account}:root" for account, _ in MEMBERS.values()]}
    ]
    assert [s["Action"] for s in statements] == ["events:PutEvents"]


@pytest.mark.parametrize("forwarder", sorted(MEMBERS))
def test_each_forwarder_sends_to_the_intake_bus_and_its_read_role_trusts_the_central_roles(plan, forwarder):
    central_roles = [plan.named(ROLE, name).state["arn"] for name in ("central-notifier", "central-sweep")]
    read_role = plan.named(ROLE, f"{forwarder}-read")
    trust = json.loads(read_role.inputs["assumeRolePolicy"])["Statement"]
    intake_bus = plan.outputs["intakeBusArn"]

    assert plan.named(TARGET, f"{forwarder}-central-bus").inputs["arn"] == intake_bus
    assert [s["Principal"] for s in trust] == [{"AWS": central_roles}]
    assert [s["Condition"] for s in trust] == [{"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}]


def test_the_central_notifier_assumes_the_forwarders_read_roles_in_their_regions(plan):
    variables = plan.named(FUNCTION, "central-notifier").inputs["environment"]["variables"]
    members = json.loads(variables["MEMBER_ACCOUNTS"])

    assert members == {
        account: {
            "roleArn": plan.named(ROLE, f"{forwarder}-read").state["arn"],
            "jobQueueArns": [],
            "regions": [region],
        }
        for forwarder, (account, region) in MEMBERS.items()
    }
