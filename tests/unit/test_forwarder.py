"""BatchEventForwarder under the Pulumi mock runtime: what a member account declares (the forwarding rule,
its target role, dead-letter queue and alarms, the read role), each document exact, and every refusal
declaring nothing."""

import json
from typing import Any

import pulumi
import pytest

from batch_array_notify import BatchEventForwarder, BatchEventForwarderArgs, InvalidArgumentError
from batch_array_notify.cli.plan import invalid_argument_in
from batch_array_notify.event_pattern import completion_event_pattern
from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan, run_under_mocks
from tests.policy_grammar import document_problems
from tests.support import ALARM, ROLE, ROLE_POLICY, RULE, SQS_QUEUE, TARGET

REGION = "eu-west-1"
CENTRAL = "210987654321"
BUS = f"arn:aws:events:us-east-1:{CENTRAL}:event-bus/batch-array-notify-intake"
NOTIFIER_ROLE = f"arn:aws:iam::{CENTRAL}:role/batch-array-notify-notifier"
SWEEP_ROLE = f"arn:aws:iam::{CENTRAL}:role/batch-array-notify-sweep"
ORG = "o-a1b2c3d4e5"
EXTERNAL_ID = "batch-array-notify-7f3a"
RENDER = f"arn:aws:batch:{REGION}:{MOCK_ACCOUNT}:job-queue/render"
FORWARDER = "batcharray:index:BatchEventForwarder"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
#: A member with both guards, its queues unnamed (every queue of the account).
BASE: dict[str, Any] = {
    "central_bus_arn": BUS,
    "central_notifier_role_arns": [NOTIFIER_ROLE, SWEEP_ROLE],
    "external_id": EXTERNAL_ID,
    "organization_id": ORG,
}
BATCH_STACK = "org/central/prod"


def plan_forwarder(args: dict[str, Any], name: str = "member") -> Plan:
    def program() -> None:
        resolved = {key: _from_stack(value) for key, value in args.items()}
        BatchEventForwarder(name, BatchEventForwarderArgs(**resolved))  # type: ignore[typeddict-item]

    outputs = {"busArn": BUS, "externalId": EXTERNAL_ID}
    return run_under_mocks(program, "member", "test", {"aws:region": REGION}, {BATCH_STACK: outputs})


def _from_stack(value: Any) -> Any:
    """`"stack:<output>"` stands for another stack's output, as an Output (secret for the external id)."""
    if isinstance(value, str) and value.startswith("stack:"):
        output = pulumi.StackReference(BATCH_STACK).get_output(value.removeprefix("stack:"))
        return pulumi.Output.secret(output) if value.endswith("externalId") else output
    return value


@pytest.fixture(scope="module")
def member() -> Plan:
    return plan_forwarder(BASE)


def test_it_declares_exactly_the_contracts_resources(member):
    types = sorted(resource.type for resource in member.resources if resource.type != FORWARDER)

    assert types == sorted([RULE, TARGET, SQS_QUEUE, QUEUE_POLICY, ROLE, ROLE_POLICY, ROLE, ROLE_POLICY, ALARM, ALARM])
    assert all(resource.parent == (FORWARDER, "member") for resource in member.resources if resource.type != FORWARDER)


def test_the_rule_forwards_every_queues_finished_parents_on_the_default_bus(member):
    rule = member.one(RULE)
    pattern = json.loads(rule.inputs["eventPattern"])
    expected = completion_event_pattern(["any"], None)
    del expected["detail"]["jobQueue"]

    assert pattern == expected
    assert "eventBusName" not in rule.inputs
    # What the console lists beside the rule: where it sends and what.
    assert rule.inputs["description"] == (
        "An array job of this account reached a terminal status (parent only): to the central bus"
    )


def test_named_queues_scope_the_rule_to_them():
    plan = plan_forwarder({**BASE, "job_queue_arns": [RENDER]})

    assert json.loads(plan.one(RULE).inputs["eventPattern"]) == completion_event_pattern([RENDER], None)


def test_the_target_is_the_central_bus_through_a_role_that_may_only_put_events_there(member):
    target = member.one(TARGET)
    events_role = member.named(ROLE, "member-forward")

    assert target.inputs["arn"] == BUS
    assert target.inputs["roleArn"] == events_role.state["arn"]
    assert target.inputs["retryPolicy"] == {"maximumEventAgeInSeconds": 86400, "maximumRetryAttempts": 185}
    assert target.inputs["deadLetterConfig"] == {"arn": member.one(SQS_QUEUE).state["arn"]}
    assert json.loads(events_role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT}},
            }
        ],
    }
    assert json.loads(member.named(ROLE_POLICY, "member-forward").inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ForwardToCentralBus", "Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS}],
    }


def test_only_the_forwarding_rule_may_dead_letter_into_the_queue(member):
    queue = member.one(SQS_QUEUE)
    policy = json.loads(member.one(QUEUE_POLICY).inputs["policy"])

    assert queue.inputs["sqsManagedSseEnabled"] is True
    assert policy["Statement"] == [
        {
            "Sid": "RulesDeadLetter",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue.state["arn"],
            "Condition": {"ArnEquals": {"aws:SourceArn": [member.one(RULE).state["arn"]]}},
        }
    ]


def test_two_alarms_watch_the_queue_and_the_rule_and_act_only_when_given_a_topic(member):
    alarms = {alarm.name: alarm for alarm in member.of_type(ALARM)}
    topic = f"arn:aws:sns:{REGION}:{MOCK_ACCOUNT}:ops"
    with_topic = plan_forwarder({**BASE, "alarm_topic_arn": topic})

    assert set(alarms) == {"member-undelivered-alarm", "member-rule-failed-alarm"}
    queue_alarm, rule_alarm = alarms["member-undelivered-alarm"].inputs, alarms["member-rule-failed-alarm"].inputs
    assert (queue_alarm["metricName"], queue_alarm["dimensions"]) == (
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": member.one(SQS_QUEUE).state["name"]},
    )
    assert (rule_alarm["metricName"], rule_alarm["dimensions"]) == (
        "FailedInvocations",
        {"RuleName": member.one(RULE).state["name"]},
    )
    assert all(alarm.inputs.get("alarmActions", []) == [] for alarm in alarms.values())
    assert [alarm.inputs["alarmActions"] for alarm in with_topic.of_type(ALARM)] == [[topic], [topic]]


def read_trust(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.named(ROLE, "member-read").inputs["assumeRolePolicy"])


def trust_with(conditions: dict[str, str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CentralNotifierReads",
                "Effect": "Allow",
                "Principal": {"AWS": [NOTIFIER_ROLE, SWEEP_ROLE]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": conditions},
            }
        ],
    }


def test_the_read_role_trusts_only_the_central_roles_with_the_external_id_and_from_the_organisation(member):
    # Its name is fixed (one per account): the central stack's memberAccounts names it.
    assert member.named(ROLE, "member-read").inputs["name"] == "member-read"
    # A fixed name cannot exist twice: a replacement must delete the old role first.
    assert member.named(ROLE, "member-read").delete_before_replace
    assert not any(resource.delete_before_replace for resource in member.resources if resource.name != "member-read")
    assert read_trust(member) == trust_with({"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORG})
    # Both condition keys are ones IAM knows for a trust (sts's own, and the global one).
    assert document_problems(ROLE, read_trust(member)) == []


@pytest.mark.parametrize(
    ("guard", "conditions"),
    [
        ({"external_id": EXTERNAL_ID}, {"sts:ExternalId": EXTERNAL_ID}),
        ({"organization_id": ORG}, {"aws:PrincipalOrgID": ORG}),
    ],
    ids=["external-id-only", "organization-only"],
)
def test_either_guard_alone_is_the_trusts_one_condition(guard, conditions):
    args = {key: value for key, value in BASE.items() if key not in ("external_id", "organization_id")}

    assert read_trust(plan_forwarder({**args, **guard})) == trust_with(conditions)


def test_the_read_role_grants_exactly_the_batch_reads_and_the_job_log_tails():
    plan = plan_forwarder({**BASE, "job_log_group_names": ["/render/jobs"]})

    assert json.loads(plan.named(ROLE_POLICY, "member-read").inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadBatchJobs",
                "Effect": "Allow",
                "Action": ["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues"],
                "Resource": "*",
            },
            {
                "Sid": "ReadFailedJobLogs",
                "Effect": "Allow",
                "Action": "logs:GetLogEvents",
                "Resource": [
                    f"arn:aws:logs:*:{MOCK_ACCOUNT}:log-group:/aws/batch/job:log-stream:*",
                    f"arn:aws:logs:*:{MOCK_ACCOUNT}:log-group:/render/jobs:log-stream:*",
                ],
            },
        ],
    }


def test_without_the_read_role_nothing_of_it_is_declared_and_its_output_is_absent():
    plan = plan_forwarder({**BASE, "read_role": False})
    component = plan.one(FORWARDER)

    assert [role.name for role in plan.of_type(ROLE)] == ["member-forward"]
    assert "read_role_arn" not in component.outputs
    assert set(component.outputs) == {
        "rule_arn",
        "rule_name",
        "dead_letter_queue_arn",
        "dead_letter_queue_url",
        "events_role_arn",
        "alarm_arns",
    }


def test_the_outputs_name_what_was_declared(member):
    outputs = member.one(FORWARDER).outputs

    assert outputs["read_role_arn"] == member.named(ROLE, "member-read").state["arn"]
    assert outputs["events_role_arn"] == member.named(ROLE, "member-forward").state["arn"]
    assert outputs["rule_arn"] == member.one(RULE).state["arn"]
    assert sorted(outputs["alarm_arns"]) == sorted(alarm.state["arn"] for alarm in member.of_type(ALARM))


def test_outputs_of_another_stack_are_used_once_known_and_the_secret_stays_in_the_trust():
    plan = plan_forwarder({**BASE, "central_bus_arn": "stack:busArn", "external_id": "stack:externalId"})

    assert plan.one(TARGET).inputs["arn"] == BUS
    # The plan shows a secret as such: the trust (holding the id) is one, the rule and target are not.
    assert plan.named(ROLE, "member-read").inputs["assumeRolePolicy"] == "[secret]"
    assert json.loads(plan.one(RULE).inputs["eventPattern"])["source"] == ["aws.batch"]


#: (row id, the change to BASE, the argument the one-line error names, words of its fix).
REFUSALS = [
    ("no-guard", {"external_id": None, "organization_id": None}, "external_id", "organization_id or both"),
    ("bus-not-events", {"central_bus_arn": f"arn:aws:sns:us-east-1:{CENTRAL}:x"}, "central_bus_arn", "event-bus"),
    ("bus-rule-arn", {"central_bus_arn": f"arn:aws:events:us-east-1:{CENTRAL}:rule/x"}, "central_bus_arn", "event-bus"),
    (
        "bus-no-region",
        {"central_bus_arn": f"arn:aws:events:mars-1:{CENTRAL}:event-bus/x"},
        "central_bus_arn",
        "not an AWS region",
    ),
    (
        "bus-wrong-partition",
        {"central_bus_arn": f"arn:aws:events:cn-north-1:{CENTRAL}:event-bus/x"},
        "central_bus_arn",
        "partition aws-cn",
    ),
    ("no-roles", {"central_notifier_role_arns": []}, "central_notifier_role_arns", "role ARNs"),
    (
        "role-name-too-long",
        {"central_notifier_role_arns": [f"arn:aws:iam::{CENTRAL}:role/{'r' * 65}"]},
        "central_notifier_role_arns[0]",
        "IAM role ARN",
    ),
    (
        "role-not-iam",
        {"central_notifier_role_arns": [f"arn:aws:sts::{CENTRAL}:assumed-role/x/y"]},
        "central_notifier_role_arns[0]",
        "IAM role ARN",
    ),
    (
        "role-of-another-account",
        {"central_notifier_role_arns": [f"arn:aws:iam::{MOCK_ACCOUNT}:role/notifier"]},
        "central_notifier_role_arns[0]",
        f"account {CENTRAL}",
    ),
    (
        "role-twice",
        {"central_notifier_role_arns": [NOTIFIER_ROLE, NOTIFIER_ROLE]},
        "central_notifier_role_arns[1]",
        "already given",
    ),
    ("external-id-short", {"external_id": "x"}, "external_id", "2 to 1224 characters"),
    ("external-id-space", {"external_id": "has space"}, "external_id", "must match"),
    ("org-id-shape", {"organization_id": "o-ABC"}, "organization_id", "must match"),
    ("queues-empty", {"job_queue_arns": []}, "job_queue_arns", "omit it for every queue"),
    ("queue-not-an-arn", {"job_queue_arns": ["render"]}, "job_queue_arns[0]", "job-queue/<name>"),
    (
        "queue-other-region",
        {"job_queue_arns": [RENDER, RENDER.replace(REGION, "us-east-1").replace("render", "encode")]},
        "job_queue_arns[1]",
        "in eu-west-1",
    ),
    ("read-role-not-bool", {"read_role": "yes"}, "read_role", "true or false"),
    ("topic-not-sns", {"alarm_topic_arn": "ops"}, "alarm_topic_arn", "SNS topic ARN"),
    ("unknown-argument", {"centralBusArn": BUS}, "centralBusArn", "unknown argument"),
]


@pytest.mark.parametrize(("change", "key", "fix"), [row[1:] for row in REFUSALS], ids=[row[0] for row in REFUSALS])
def test_a_bad_argument_is_one_line_naming_it_and_nothing_is_declared(change, key, fix):
    args = {key: value for key, value in {**BASE, **change}.items() if value is not None}
    declared: list[str] = []

    with pytest.raises(InvalidArgumentError) as refused:
        run_under_mocks(lambda: _declare(args, declared), "member", "test", {"aws:region": REGION})

    message = str(refused.value)
    assert refused.value.key == key
    assert fix in message
    assert "\n" not in message
    assert declared == []


def _declare(args: dict[str, Any], declared: list[str]) -> None:
    forwarder = BatchEventForwarder("member", BatchEventForwarderArgs(**args))  # type: ignore[typeddict-item]
    declared.append(forwarder.urn)  # type: ignore[arg-type]  # reached only when nothing was refused


def test_the_external_id_never_appears_in_its_refusal():
    with pytest.raises(InvalidArgumentError) as refused:
        plan_forwarder({**BASE, "external_id": "a secret with spaces"})

    assert "a secret with spaces" not in str(refused.value)


@pytest.mark.parametrize(
    ("change", "key", "fix"),
    [
        ({"job_queue_arns": [f"arn:aws:batch:{REGION}:111122223333:job-queue/render"]}, "job_queue_arns[0]", "account"),
        ({"job_queue_arns": [RENDER.replace(REGION, "us-east-1")]}, "job_queue_arns[0]", f"in {REGION}"),
        (
            {"alarm_topic_arn": f"arn:aws:sns:us-east-1:{MOCK_ACCOUNT}:ops"},
            "alarm_topic_arn",
            f"in {REGION}, where this stack deploys",
        ),
        (
            {"central_bus_arn": f"arn:aws-us-gov:events:us-gov-west-1:{CENTRAL}:event-bus/x"},
            "central_bus_arn",
            "partition aws",
        ),
        (
            {"central_bus_arn": "stack:busArn", "central_notifier_role_arns": [f"arn:aws:iam::{MOCK_ACCOUNT}:role/x"]},
            "central_notifier_role_arns[0]",
            f"account {CENTRAL}",
        ),
    ],
    ids=[
        "queue-of-another-account",
        "queue-of-another-region",
        "topic-of-another-region",
        "bus-other-partition",
        "role-of-another-account-than-a-bus-output",
    ],
)
def test_what_only_the_provider_knows_is_checked_at_deploy_time(change, key, fix):
    with pytest.raises(ValueError, match="While processing") as raised:
        plan_forwarder({**BASE, **change})

    refused = invalid_argument_in(raised.value)
    assert refused is not None
    assert refused.key == key
    assert fix in str(refused)


def test_a_bus_of_another_region_is_allowed(member):
    """EventBridge delivers to a bus in another region (its user guide, "Sending and receiving events between
    AWS Regions"): the member is in eu-west-1, the bus in us-east-1."""
    assert member.one(TARGET).inputs["arn"].split(":")[3] != REGION
