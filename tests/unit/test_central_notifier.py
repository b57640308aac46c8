"""ArrayCompletionNotifier in central mode under the Pulumi mock runtime: the intake bus and its policy, the
rules scoped by account and queue, the right to assume exactly the members' read roles, the environment
the handler reads, and refusals that declare nothing."""

import json
from typing import Any

import pytest

from batch_array_notify import ArrayCompletionNotifier, InvalidArgumentError
from batch_array_notify.intake_bus import (
    LONGEST_BUS_ARN,
    LONGEST_PARTITION,
    MAX_BUS_POLICY_CHARS,
    accounts_fitting_policy,
    policy_chars,
)
from batch_array_notify.metric_names import ACCOUNT_DIMENSION, ORGANIZATION_HOME_QUEUE, QUEUE_DIMENSION
from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan, run_under_mocks
from tests.support import ALARM, BUS, DASHBOARD, FUNCTION, NOTIFIER, PERMISSION, ROLE_POLICY, RULE, TARGET

REGION = "eu-west-1"
ANY_QUEUE = "111111111111"
LISTS_QUEUES = "222222222222"
ANY_QUEUE_ROLE = f"arn:aws:iam::{ANY_QUEUE}:role/batch-array-notify-read"
LISTS_QUEUES_ROLE = f"arn:aws:iam::{LISTS_QUEUES}:role/teams/batch-read"
RENDER = f"arn:aws:batch:{REGION}:{LISTS_QUEUES}:job-queue/render"
ENCODE = f"arn:aws:batch:us-east-1:{LISTS_QUEUES}:job-queue/encode"
MEMBERS: list[dict[str, Any]] = [
    {"account_id": ANY_QUEUE, "read_role_arn": ANY_QUEUE_ROLE},
    {
        "account_id": LISTS_QUEUES,
        "read_role_arn": LISTS_QUEUES_ROLE,
        "job_queue_arns": [RENDER, ENCODE],
        "regions": [REGION, "us-east-1"],
    },
]
OWN_QUEUE = f"arn:aws:batch:{REGION}:{MOCK_ACCOUNT}:job-queue/own"
ORGANIZATION = "o-a1b2c3d4e5"
EXTERNAL_ID = "central-7f3a9c2e1b"


def plan_central(**args: Any) -> Plan:
    arguments = {"job_queue_arns": [], "member_accounts": MEMBERS, **args}
    return run_under_mocks(lambda: ArrayCompletionNotifier("org", arguments), "org", "test", {"aws:region": REGION})


@pytest.fixture(scope="module")
def central() -> Plan:
    return plan_central()


def bus_policy(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.one("aws:cloudwatch/eventBusPolicy:EventBusPolicy").inputs["policy"])


def intake_bus_arn(plan: Plan) -> str:
    return f"arn:aws:events:{REGION}:{MOCK_ACCOUNT}:event-bus/{bus_name(plan)}"


def bus_name(plan: Plan) -> str:
    (bus,) = plan.of_type(BUS)
    name: str = plan.one("aws:cloudwatch/eventBusPolicy:EventBusPolicy").inputs["eventBusName"]
    assert name.startswith(f"{bus.name}-")  # the bus's auto-name
    return name


def test_the_bus_policy_admits_only_batch_job_state_changes_put_by_the_named_accounts(central):
    assert bus_policy(central) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BatchJobStateChangesFromMembers",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{ANY_QUEUE}:root", f"arn:aws:iam::{LISTS_QUEUES}:root"]},
                "Action": "events:PutEvents",
                "Resource": intake_bus_arn(central),
                "Condition": {
                    "StringEquals": {"events:source": "aws.batch", "events:detail-type": "Batch Job State Change"}
                },
            }
        ],
    }


def test_with_an_organization_the_policy_admits_its_principals_by_the_org_condition():
    plan = plan_central(organization_id=ORGANIZATION)

    (statement,) = bus_policy(plan)["Statement"]
    assert statement["Principal"] == "*"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"] == {
        "StringEquals": {
            "events:source": "aws.batch",
            "events:detail-type": "Batch Job State Change",
            "aws:PrincipalOrgID": ORGANIZATION,
        }
    }


def test_the_rules_sit_on_the_intake_bus_scoped_by_account_and_by_the_queues_a_member_lists(central):
    rules = {rule.name: rule for rule in central.of_type(RULE) if rule.inputs.get("eventBusName")}
    patterns = {name: json.loads(rule.inputs["eventPattern"]) for name, rule in rules.items()}

    assert set(rules) == {"org-intake-completed", "org-intake-completed-2"}
    assert {rule.inputs["eventBusName"] for rule in rules.values()} == {bus_name(central)}
    any_queue, listed = patterns["org-intake-completed"], patterns["org-intake-completed-2"]
    assert any_queue["account"] == [ANY_QUEUE]
    assert "jobQueue" not in any_queue["detail"]
    assert listed["account"] == [LISTS_QUEUES]
    assert listed["detail"]["jobQueue"] == [RENDER, ENCODE]
    for pattern in patterns.values():
        assert pattern["source"] == ["aws.batch"]
        assert pattern["detail-type"] == ["Batch Job State Change"]
        assert pattern["detail"]["arrayProperties"] == {"size": [{"exists": True}], "index": [{"exists": False}]}
    # No queue of its own: no rule on the default bus.
    assert [rule.name for rule in central.of_type(RULE) if rule.name.startswith("org-completed")] == []
    targets = [t for t in central.of_type(TARGET) if t.name.startswith("org-intake-notify")]
    assert {t.inputs["eventBusName"] for t in targets} == {bus_name(central)}
    assert len([p for p in central.of_type(PERMISSION) if p.name.startswith("org-intake-invoke")]) == 2


def test_the_notifier_and_the_sweep_may_assume_exactly_the_members_read_roles(central):
    assuming = {
        policy.name: statement
        for policy in central.of_type(ROLE_POLICY)
        for statement in json.loads(policy.inputs["policy"])["Statement"]
        if "sts:AssumeRole" in json.dumps(statement["Action"])
    }

    assert set(assuming) == {"org-notifier-members", "org-sweep-members"}
    for statement in assuming.values():
        assert statement == {
            "Sid": "ReadMemberAccounts",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [ANY_QUEUE_ROLE, LISTS_QUEUES_ROLE],
        }
    roles = {central.named(ROLE_POLICY, name).inputs["role"] for name in assuming}
    assert roles == {
        central.named(ROLE_POLICY, "org-notifier").inputs["role"],
        central.named(ROLE_POLICY, "org-sweep").inputs["role"],
    }


def test_the_lambdas_learn_each_member_s_role_queues_and_regions_the_stack_s_by_default(central):
    for name in ("org-notifier", "org-sweep"):
        variables = central.named(FUNCTION, name).inputs["environment"]["variables"]
        assert json.loads(variables["MEMBER_ACCOUNTS"]) == {
            ANY_QUEUE: {"roleArn": ANY_QUEUE_ROLE, "jobQueueArns": [], "regions": [REGION]},
            LISTS_QUEUES: {
                "roleArn": LISTS_QUEUES_ROLE,
                "jobQueueArns": [RENDER, ENCODE],
                "regions": [REGION, "us-east-1"],
            },
        }
        assert variables["JOB_QUEUE_ARNS"] == ""
        assert "MEMBER_EXTERNAL_ID" not in variables


def test_the_external_id_is_a_secret_nowhere_in_the_plan_in_plain_text():
    plan = plan_central(member_external_id=EXTERNAL_ID)

    for name in ("org-notifier", "org-sweep"):
        assert plan.named(FUNCTION, name).inputs["environment"] == "[secret]"
    assert EXTERNAL_ID not in json.dumps(plan.to_json())
    assert EXTERNAL_ID not in json.dumps([resource.state for resource in plan.resources], default=str)


def test_outputs_name_the_bus_the_members_and_how_many_accounts_its_policy_holds(central):
    outputs = central.one(NOTIFIER).outputs

    assert outputs["intake_bus_arn"] == intake_bus_arn(central)
    assert outputs["intake_bus_name"] == bus_name(central)
    assert outputs["member_account_ids"] == [ANY_QUEUE, LISTS_QUEUES]
    capacity = int(outputs["intake_bus_account_capacity"])
    # What the stack accepts: the limit its own refusal applies, which this bus's policy holds.
    assert capacity == accounts_fitting_policy()
    accounts = [f"{n:012d}" for n in range(capacity)]
    assert policy_chars(intake_bus_arn(central), "aws", accounts, None) <= MAX_BUS_POLICY_CHARS


def test_the_worst_case_capacity_is_where_the_longest_bus_arn_s_policy_stops_fitting():
    most = accounts_fitting_policy()
    accounts = [f"{n:012d}" for n in range(most + 1)]

    assert policy_chars(LONGEST_BUS_ARN, LONGEST_PARTITION, accounts[:most], None) <= MAX_BUS_POLICY_CHARS
    assert policy_chars(LONGEST_BUS_ARN, LONGEST_PARTITION, accounts, None) > MAX_BUS_POLICY_CHARS


def test_the_intake_rules_alarms_and_dashboard_lines_carry_the_bus_and_the_account(central):
    alarms = central.of_type(ALARM)
    dimensions = [alarm.inputs["dimensions"] for alarm in alarms if "RuleName" in alarm.inputs["dimensions"]]
    body = json.loads(central.one(DASHBOARD).inputs["dashboardBody"])
    lines = [line for widget in body["widgets"] for line in widget["properties"].get("metrics", [])]

    assert dimensions
    assert all(d["EventBusName"] == bus_name(central) for d in dimensions)
    intake_rules = {rule.state["name"] for rule in central.of_type(RULE) if rule.inputs.get("eventBusName")}
    assert {d["RuleName"] for d in dimensions} == intake_rules
    rule_lines = [line for line in lines if "RuleName" in line]
    assert rule_lines
    assert all(line[line.index("EventBusName") + 1] == bus_name(central) for line in rule_lines)
    member_lines = [line for line in lines if ACCOUNT_DIMENSION in line]
    assert {line[line.index(QUEUE_DIMENSION) + 1] for line in member_lines} == {"render", "encode"}
    assert {line[line.index(ACCOUNT_DIMENSION) + 1] for line in member_lines} == {LISTS_QUEUES}
    home_lines = [line for line in lines if "IgnoredEvents" in line]
    assert home_lines
    assert all(line[line.index(QUEUE_DIMENSION) + 1] == ORGANIZATION_HOME_QUEUE for line in home_lines)
    assert ANY_QUEUE in body["widgets"][0]["properties"]["markdown"]
    home_alarms = [
        alarm for alarm in alarms if alarm.inputs["metricName"] in ("IgnoredEvents", "ReconciledCompletions")
    ]
    assert len(home_alarms) == 2
    assert all(alarm.inputs["dimensions"][QUEUE_DIMENSION] == ORGANIZATION_HOME_QUEUE for alarm in home_alarms)


def member(**changes: Any) -> dict[str, Any]:
    return {**MEMBERS[1], **changes}


@pytest.mark.parametrize(
    ("args", "key", "message"),
    [
        ({"member_accounts": [member(account_id="2222")]}, "member_accounts[0].account_id", "AccountId"),
        (
            {"member_accounts": [member(read_role_arn=ANY_QUEUE_ROLE)]},
            "member_accounts[0].read_role_arn",
            f"a role of account {LISTS_QUEUES}",
        ),
        (
            {"member_accounts": [member(read_role_arn=f"arn:aws:iam::{LISTS_QUEUES}:user/reader")]},
            "member_accounts[0].read_role_arn",
            "the member's read role",
        ),
        (
            {"member_accounts": [member(read_role_arn=f"arn:aws:iam::{LISTS_QUEUES}:role/{'r' * 65}")]},
            "member_accounts[0].read_role_arn",
            "roleNameType",
        ),
        (
            {"member_accounts": [member(job_queue_arns=[RENDER.replace(LISTS_QUEUES, ANY_QUEUE)])]},
            "member_accounts[0].job_queue_arns[0]",
            f"a queue of account {LISTS_QUEUES}",
        ),
        (
            {"member_accounts": [member(job_queue_arns=[RENDER.replace(REGION, "ap-south-1")])]},
            "member_accounts[0].job_queue_arns[0]",
            "one of the entry's regions",
        ),
        (
            {"member_accounts": [member(job_queue_arns=["render"])]},
            "member_accounts[0].job_queue_arns[0]",
            "expected arn:aws:batch:<region>:<account_id>:job-queue/<name>",
        ),
        ({"member_accounts": [member(regions=["eu-west-9"])]}, "member_accounts[0].regions[0]", "endpoint data"),
        ({"member_accounts": [member(regions=[REGION, REGION])]}, "member_accounts[0].regions[1]", "regions[0]"),
        (
            {"member_accounts": [member(job_queue_arns=[RENDER, RENDER])]},
            "member_accounts[0].job_queue_arns[1]",
            "job_queue_arns[0]",
        ),
        ({"member_accounts": [member(region=[REGION])]}, "member_accounts[0].region", "known: account_id"),
        ({"member_accounts": [MEMBERS[1], member()]}, "member_accounts[1].account_id", "member_accounts[0]"),
        ({"member_accounts": []}, "member_accounts", "non-empty"),
        ({"organization_id": "o-1"}, "organization_id", "OrganizationId"),
        ({"member_external_id": "has space"}, "member_external_id", "externalIdType"),
        (
            {"job_queue_arns": [OWN_QUEUE], "member_accounts": None, "organization_id": ORGANIZATION},
            "organization_id",
            "only with member_accounts",
        ),
        ({"member_accounts": None}, "job_queue_arns", "non-empty list"),
        ({"job_definition_arn_prefixes": [RENDER]}, "job_definition_arn_prefixes", "only with job_queue_arns"),
        (
            {
                "member_accounts": [
                    {"account_id": f"{n:012d}", "read_role_arn": f"arn:aws:iam::{n:012d}:role/r"}
                    for n in range(accounts_fitting_policy() + 1)
                ]
            },
            "member_accounts",
            "set organization_id",
        ),
    ],
    ids=[
        "short account id",
        "role of another account",
        "a user, not a role",
        "role name too long",
        "queue of another account",
        "queue outside the regions",
        "queue not an ARN",
        "unknown region",
        "region twice",
        "queue twice",
        "unknown member key",
        "account twice",
        "no member",
        "bad organization id",
        "bad external id",
        "organization without members",
        "no queue and no member",
        "definitions without own queues",
        "policy over 10 KB",
    ],
)
def test_bad_central_arguments_name_the_key_and_declare_nothing(args, key, message):
    errors: list[InvalidArgumentError] = []
    arguments = {"job_queue_arns": [], "member_accounts": MEMBERS, **args}
    arguments = {name: value for name, value in arguments.items() if value is not None}

    def program() -> None:
        with pytest.raises(InvalidArgumentError) as raised:
            ArrayCompletionNotifier("org", arguments)  # type: ignore[arg-type]
        errors.append(raised.value)

    plan = run_under_mocks(program, "org", "test", {"aws:region": REGION})

    (error,) = errors
    assert error.key == key
    assert message in str(error)
    assert "has space" not in str(error)
    assert plan.resources == []
