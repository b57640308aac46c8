"""The member stack (`Pulumi.member.yaml`), planned as `pulumi up` would run it: one forwarder and nothing
else, every policy document valid, each trust exactly the one the organisation contract gives (the events
role for this account's rules only; the read role for the central roles only, from the organisation), and
mistakes refused in config words with exit code 2."""

import json

import pytest
import yaml

from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.testing.program import MOCK_ACCOUNT, ROOT, Plan
from tests.policy_grammar import document_problems
from tests.support import ROLE, ROLE_POLICY, policy_documents, run_tool

FORWARDER = "batcharray:index:BatchEventForwarder"
STACK = yaml.safe_load((ROOT / "Pulumi.member.yaml").read_text())["config"]
CENTRAL_ROLES = STACK["batch-array-notify:centralNotifierRoleArns"]
BUS = STACK["batch-array-notify:centralBusArn"]


@pytest.fixture(scope="module")
def member(stage_plans) -> Plan:
    return stage_plans["member"]


def test_the_member_stack_is_one_forwarder_and_nothing_else(member):
    (component,) = [resource for resource in member.resources if resource.parent is None]

    assert (component.type, component.name) == (FORWARDER, "batch-array-notify")
    assert all(resource.parent == (FORWARDER, "batch-array-notify") for resource in member.resources[1:])
    assert not [resource for resource in member.resources if resource.type.startswith(("aws:batch/", "aws:lambda/"))]
    assert set(member.outputs) == {
        "ruleArn",
        "ruleName",
        "deadLetterQueueArn",
        "deadLetterQueueUrl",
        "eventsRoleArn",
        "readRoleArn",
        "alarmArns",
    }


def test_every_policy_document_of_the_member_stack_is_valid(member):
    documents = policy_documents(member)

    assert len(documents) == 5
    for kind, name, document in documents:
        assert document_problems(kind, document) == [], f"{kind} {name}"


def test_the_events_role_is_for_this_accounts_rules_and_may_only_put_on_the_central_bus(member):
    trust = json.loads(member.named(ROLE, "batch-array-notify-forward").inputs["assumeRolePolicy"])
    policy = json.loads(member.named(ROLE_POLICY, "batch-array-notify-forward").inputs["policy"])

    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}},
        }
    ]
    assert [(s["Action"], s["Resource"]) for s in policy["Statement"]] == [("events:PutEvents", BUS)]


def test_the_read_role_trusts_the_central_roles_only_from_the_organisation(member):
    trust = json.loads(member.named(ROLE, "batch-array-notify-read").inputs["assumeRolePolicy"])

    assert trust["Statement"] == [
        {
            "Sid": "CentralNotifierReads",
            "Effect": "Allow",
            "Principal": {"AWS": CENTRAL_ROLES},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": STACK["batch-array-notify:organizationId"]}},
        }
    ]


#: (row id, --config given with the member stack, the key the one line names, words of the fix).
MISTAKES = [
    ("pipeline-key", "batch-array-notify:maxVcpus=8", "batch-array-notify:maxVcpus", "not with centralBusArn"),
    ("short-external-id", "batch-array-notify:externalId=x", "batch-array-notify:externalId", "2 to 1224"),
    (
        "queue-of-another-region",
        'batch-array-notify:jobQueueArns=["arn:aws:batch:us-east-1:123456789012:job-queue/a"]',
        "batch-array-notify:jobQueueArns[0]",
        "in eu-west-1",
    ),
    (
        "role-of-another-account",
        'batch-array-notify:centralNotifierRoleArns=["arn:aws:iam::111122223333:role/x"]',
        "batch-array-notify:centralNotifierRoleArns[0]",
        "batch-array-notify:centralBusArn",
    ),
    ("bad-organization", "batch-array-notify:organizationId=o-X", "batch-array-notify:organizationId", "must match"),
]


@pytest.mark.parametrize(("config", "key", "fix"), [row[1:] for row in MISTAKES], ids=[row[0] for row in MISTAKES])
def test_a_member_stack_mistake_is_one_line_in_config_words(config, key, fix):
    result = run_tool(plan_main, "--stack", "member", "--config", config)

    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {key}: "), result.stderr
    assert fix in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_member_key_in_another_stack_is_refused():
    result = run_tool(plan_main, "--stack", "dev", "--config", "batch-array-notify:readRole=false")

    assert result.code == 2
    assert result.stderr.startswith("error: batch-array-notify:readRole: "), result.stderr
    assert "only in a member stack, with centralBusArn" in result.stderr
