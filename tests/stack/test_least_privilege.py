"""Least privilege, proven from the plan: every IAM statement of both stages, of a member account's
forwarder, and of dev with chat channels (role trust and inline policies, queue, topic and key policies),
names its actions one by one;
`Resource: "*"` appears only where IAM allows nothing narrower, and the code says why next to it;
parliament finds nothing."""

import json
import re
from pathlib import Path

import parliament
import pytest

from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan
from tests.support import BUS_POLICY, IDENTITY_POLICIES, POLICY_INPUTS, ROLE, policy_documents

ROOT = Path(__file__).resolve().parents[2]
#: The stages, and dev with a Slack and a Teams channel (its chat role and the notifier's chat grant).
STAGES = ("dev", "prod", "attach", "dev-chat", "member", "org")
#: The kinds of policy document a member account's forwarder has: its two roles and the dead-letter queue's.
MEMBER_KINDS = {ROLE, "aws:iam/rolePolicy:RolePolicy", "aws:sqs/queuePolicy:QueuePolicy"}
#: Actions that support no resource-level permissions: IAM accepts only "*" for them.
NO_RESOURCE_LEVEL = {
    "batch:DescribeJobs",
    "batch:ListJobs",
    # The central notifier reads a member account's queues through its read role.
    "batch:DescribeJobQueues",
    # The chat channels' role draws alarm charts.
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricWidgetImage",
}


@pytest.fixture(scope="module")
def plans(stage_plans, chat_plan) -> dict[str, Plan]:
    return {**stage_plans, "dev-chat": chat_plan}


def listed(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


@pytest.mark.parametrize("stage", STAGES)
def test_every_kind_of_policy_is_checked(plans, stage):
    kinds = {kind for kind, _, _ in policy_documents(plans[stage])}
    if stage == "member":
        assert kinds == MEMBER_KINDS
        return
    assert kinds >= set(POLICY_INPUTS) - {"aws:iam/policy:Policy", BUS_POLICY}
    assert (BUS_POLICY in kinds) == (stage == "org"), "only the central notifier has an intake bus"


@pytest.mark.parametrize("stage", STAGES)
def test_no_statement_grants_all_actions_of_anything(plans, stage):
    for kind, name, document in policy_documents(plans[stage]):
        for statement in document["Statement"]:
            assert "NotAction" not in statement, f"{kind} {name}"
            assert "NotResource" not in statement, f"{kind} {name}"
            for action in listed(statement["Action"]):
                assert action != "*", f"{kind} {name}: Action *"
                assert not action.endswith(":*"), f"{kind} {name}: {action}"


@pytest.mark.parametrize("stage", STAGES)
def test_resource_star_only_where_nothing_narrower_exists(plans, stage):
    for kind, name, document in policy_documents(plans[stage]):
        for statement in document["Statement"]:
            if kind == "aws:iam/role:Role":
                assert "Resource" not in statement, "trust policies name no resource"
                continue
            if "*" not in listed(statement["Resource"]):
                continue
            if kind == "aws:kms/key:Key":
                # A key policy's "*" means "this key": it is attached to one key and KMS accepts nothing
                # else there. Allowed, as the only exception besides actions without resource-level permissions.
                continue
            assert set(listed(statement["Action"])) <= NO_RESOURCE_LEVEL, f"{kind} {name}: {statement}"


def test_every_resource_star_in_the_code_says_why():
    sources = sorted((ROOT / "components").glob("*.py"))
    found, unexplained = [], []
    for path in sources:
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if re.search(r'"Resource":\s*"\*"', line):
                found.append(f"{path.name}:{number + 1}")
                context = " ".join(lines[max(0, number - 3) : number + 1])
                if "#" not in context:
                    unexplained.append(f"{path.name}:{number + 1}")
    # The plans do grant batch reads on "*": a search that finds none of them is looking in the wrong place.
    assert found, 'no "Resource": "*" found in components/, though the plans grant batch reads on "*"'
    assert not unexplained, f'"Resource": "*" without a why-comment: {unexplained}'


@pytest.mark.parametrize("stage", STAGES)
def test_parliament_reports_nothing_on_any_identity_policy(plans, stage):
    checked = 0
    for kind, name, document in policy_documents(plans[stage], IDENTITY_POLICIES):
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert findings == [], f"{kind} {name}: {[(f.issue, f.detail) for f in findings]}"
        checked += 1
    assert checked >= 1


def test_the_actions_allowed_on_star_really_take_no_resource():
    """The exception list is IAM's, not ours: parliament's copy of the IAM reference lists no resource
    type for any of them (so nothing can be added to it that IAM could scope)."""
    services = {service["prefix"]: service for service in parliament.iam_definition}
    for action in sorted(NO_RESOURCE_LEVEL):
        prefix, name = action.split(":")
        (privilege,) = [p for p in services[prefix]["privileges"] if p["privilege"] == name]
        assert [r["resource_type"] for r in privilege["resource_types"]] == [""], action
    assert "cloudwatch:DescribeAlarms" not in NO_RESOURCE_LEVEL  # takes alarm ARNs: the chat role scopes it


def test_the_chat_plan_has_the_chat_role_in_the_checked_documents(plans):
    """The chat stage's documents include the chat role's trust and policy (so the checks above cover it)."""
    names = {(kind, name) for kind, name, _ in policy_documents(plans["dev-chat"])}
    assert ("aws:iam/role:Role", "batch-array-notify-chat") in names
    assert ("aws:iam/rolePolicy:RolePolicy", "batch-array-notify-chat") in names


@pytest.mark.parametrize("stage", ["dev", "prod", "attach", "org"])
def test_only_this_accounts_schedules_may_use_the_sweeps_schedule_role(plans, stage):
    """EventBridge Scheduler acts for whichever account names the role: the trust policy says which."""
    (role,) = [
        resource
        for resource in plans[stage].resources
        if resource.type == ROLE and resource.name.endswith("-sweep-schedule")
    ]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]

    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}}


# --------------------------------------------------------------------------------------------------
# The central notifier (org): what it admits and whom it may become


def _member_read_roles(plan: Plan) -> set[str]:
    function = plan.named("aws:lambda/function:Function", f"{plan.project}-notifier")
    members = json.loads(function.inputs["environment"]["variables"]["MEMBER_ACCOUNTS"])
    return {member["roleArn"] for member in members.values()}


def test_the_intake_bus_admits_only_batch_job_state_changes_put_by_the_members(plans):
    ((_, _, document),) = policy_documents(plans["org"], (BUS_POLICY,))
    (statement,) = document["Statement"]
    members = {role.split(":")[4] for role in _member_read_roles(plans["org"])}

    assert (statement["Effect"], statement["Action"]) == ("Allow", "events:PutEvents")
    assert statement["Principal"] == {"AWS": sorted(f"arn:aws:iam::{account}:root" for account in members)}
    assert statement["Condition"] == {
        "StringEquals": {"events:source": "aws.batch", "events:detail-type": "Batch Job State Change"}
    }


def test_only_the_notifier_and_the_sweep_may_assume_a_role_and_only_the_members_read_roles(plans):
    plan = plans["org"]
    lambdas = {plan.named(ROLE, f"{plan.project}-{part}").state["name"]: part for part in ("notifier", "sweep")}
    assuming: dict[str, set[str]] = {}
    for resource in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(resource.inputs["policy"])["Statement"]:
            if any(action.startswith("sts:") for action in listed(statement["Action"])):
                assert listed(statement["Action"]) == ["sts:AssumeRole"], resource.name
                assuming.setdefault(resource.inputs["role"], set()).update(listed(statement["Resource"]))

    assert set(assuming) == set(lambdas)
    assert all(resources == _member_read_roles(plan) for resources in assuming.values())


#: `client("<service>").<operation>(` in the handler's code: the AWS calls it makes, as IAM actions.
HANDLER_CALL = re.compile(r'client\("([a-z0-9-]+)"\)\s*\.\s*([a-z_]+)\(')


def handler_actions() -> set[str]:
    return {
        f"{service}:{''.join(word.title() for word in operation.split('_'))}"
        for path in (ROOT / "handler").glob("*.py")
        for service, operation in HANDLER_CALL.findall(path.read_text())
    }


def _lambda_grants(plan: Plan) -> set[str]:
    roles = {plan.named(ROLE, f"{plan.project}-{part}").state["name"] for part in ("notifier", "sweep")}
    return {
        action
        for resource in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if resource.inputs["role"] in roles
        for statement in json.loads(resource.inputs["policy"])["Statement"]
        for action in listed(statement["Action"])
    }


def test_every_grant_central_mode_adds_is_a_call_the_handler_makes(plans):
    """Grant versus call for what the org stack grants beyond an attach stack: the handler's code must make
    each such call (the recorded-call proof, tests/integration/test_handler_least_privilege.py, covers the
    single-account grants)."""
    added = _lambda_grants(plans["org"]) - _lambda_grants(plans["attach"])

    assert "sts:AssumeRole" in added
    assert added <= handler_actions(), sorted(added - handler_actions())
