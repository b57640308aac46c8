"""testing/policy_evaluation.py on the organisation's documents, written the way docs/organization.md (and the
issue 23 contract) describes them: the member read role's trust, the central intake bus's policy, the
forwarder's events role trust and the read role's permissions."""

from __future__ import annotations

from typing import Any

import pytest

from batch_array_notify.iam import read_job_logs_statement
from batch_array_notify.testing.policy_evaluation import PolicyOutsideSubsetError, allows, evaluate

CENTRAL = "111111111111"
MEMBER = "222222222222"
STRANGER = "333333333333"
ORG = "o-abcdefghij"
EXTERNAL_ID = "batch-array-notify-7f3a"
REGION = "eu-west-1"
NOTIFIER_ROLE = f"arn:aws:iam::{CENTRAL}:role/batch-array-notify/notifier-role"
SWEEP_ROLE = f"arn:aws:iam::{CENTRAL}:role/sweep-role"
READ_ROLE = f"arn:aws:iam::{MEMBER}:role/batch-array-notify-read"
INTAKE_BUS = f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/batch-array-notify-intake"
FORWARDER_RULE = f"arn:aws:events:{REGION}:{MEMBER}:rule/batch-array-forwarder"
BATCH_EVENT = {"events:source": "aws.batch", "events:detail-type": "Batch Job State Change"}
Document = dict[str, Any]


def read_role_trust(*, external_id: str | None = EXTERNAL_ID, organization_id: str | None = None) -> Document:
    conditions = {"sts:ExternalId": external_id} if external_id else {}
    conditions |= {"aws:PrincipalOrgID": organization_id} if organization_id else {}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [NOTIFIER_ROLE, SWEEP_ROLE]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": conditions},
            }
        ],
    }


def intake_bus_policy(*, organization_id: str | None = None) -> Document:
    statement: Document = {
        "Sid": "MembersPutBatchEvents",
        "Effect": "Allow",
        "Principal": "*" if organization_id else {"AWS": [f"arn:aws:iam::{MEMBER}:root"]},
        "Action": "events:PutEvents",
        "Resource": INTAKE_BUS,
        "Condition": {
            "StringEquals": BATCH_EVENT | ({"aws:PrincipalOrgID": organization_id} if organization_id else {})
        },
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


EVENTS_ROLE_TRUST: Document = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": MEMBER}},
    },
}
DEAD_LETTER_QUEUE = f"arn:aws:sqs:{REGION}:{MEMBER}:batch-array-forwarder-dlq"
DEAD_LETTER_QUEUE_POLICY: Document = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": DEAD_LETTER_QUEUE,
        "Condition": {"ArnEquals": {"aws:SourceArn": FORWARDER_RULE}},
    },
}
READ_ROLE_POLICY: Document = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobQueues"],
            "Resource": "*",
        },
        read_job_logs_statement("aws", REGION, MEMBER, ["/aws/batch/job"]),
    ],
}


def assume(principal: str, context: dict[str, str], action: str = "sts:AssumeRole", **trust: Any) -> bool:
    return allows(read_role_trust(**trust), principal=principal, action=action, resource=READ_ROLE, context=context)


def put_events(principal: str, context: dict[str, str], resource: str = INTAKE_BUS, **bus: Any) -> bool:
    return allows(
        intake_bus_policy(**bus), principal=principal, action="events:PutEvents", resource=resource, context=context
    )


# --------------------------------------------------------------------------------------------------
# The read role's trust


def test_the_named_central_roles_with_the_external_id_may_assume_the_read_role():
    session = f"arn:aws:sts::{CENTRAL}:assumed-role/notifier-role/batch-array-notify"

    assert assume(NOTIFIER_ROLE, {"sts:ExternalId": EXTERNAL_ID})
    assert assume(session, {"sts:ExternalId": EXTERNAL_ID})  # the Lambda's session, path dropped
    assert assume(SWEEP_ROLE, {"sts:ExternalId": EXTERNAL_ID})


@pytest.mark.parametrize(
    ("principal", "context", "action"),
    [
        pytest.param(
            f"arn:aws:iam::{STRANGER}:role/batch-array-notify/notifier-role",
            {"sts:ExternalId": EXTERNAL_ID},
            "sts:AssumeRole",
            id="same role name, wrong account",
        ),
        pytest.param(
            f"arn:aws:sts::{STRANGER}:assumed-role/notifier-role/s",
            {"sts:ExternalId": EXTERNAL_ID},
            "sts:AssumeRole",
            id="wrong account's session",
        ),
        pytest.param(
            f"arn:aws:iam::{CENTRAL}:role/other-role",
            {"sts:ExternalId": EXTERNAL_ID},
            "sts:AssumeRole",
            id="another central role",
        ),
        pytest.param(
            f"arn:aws:sts::{CENTRAL}:assumed-role/other-role/notifier-role",
            {"sts:ExternalId": EXTERNAL_ID},
            "sts:AssumeRole",
            id="another central role's session",
        ),
        pytest.param(
            f"arn:aws:iam::{CENTRAL}:root",
            {"sts:ExternalId": EXTERNAL_ID},
            "sts:AssumeRole",
            id="the central account itself",
        ),
        pytest.param(NOTIFIER_ROLE, {}, "sts:AssumeRole", id="missing external id"),
        pytest.param(NOTIFIER_ROLE, {"sts:ExternalId": "guessed"}, "sts:AssumeRole", id="wrong external id"),
        pytest.param(NOTIFIER_ROLE, {"sts:ExternalId": EXTERNAL_ID}, "sts:TagSession", id="another action"),
    ],
)
def test_the_read_role_refuses(principal, context, action):
    assert not assume(principal, context, action)


def test_an_organization_trust_refuses_the_wrong_or_missing_org_id():
    org_only = {"external_id": None, "organization_id": ORG}

    assert assume(NOTIFIER_ROLE, {"aws:PrincipalOrgID": ORG}, **org_only)
    assert not assume(NOTIFIER_ROLE, {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}, **org_only)
    assert not assume(NOTIFIER_ROLE, {}, **org_only)


def test_with_both_the_external_id_and_the_org_id_both_are_required():
    both = {"external_id": EXTERNAL_ID, "organization_id": ORG}

    assert assume(NOTIFIER_ROLE, {"sts:ExternalId": EXTERNAL_ID, "aws:PrincipalOrgID": ORG}, **both)
    assert not assume(NOTIFIER_ROLE, {"sts:ExternalId": EXTERNAL_ID}, **both)
    assert not assume(NOTIFIER_ROLE, {"aws:PrincipalOrgID": ORG}, **both)


# --------------------------------------------------------------------------------------------------
# The central intake bus


def test_the_intake_bus_admits_a_member_accounts_batch_events():
    forwarder = f"arn:aws:sts::{MEMBER}:assumed-role/forwarder-events-role/rule-session"

    assert put_events(forwarder, BATCH_EVENT)
    assert put_events(forwarder, BATCH_EVENT | {"aws:PrincipalOrgID": ORG}, organization_id=ORG)


@pytest.mark.parametrize(
    ("principal", "context", "resource"),
    [
        pytest.param(f"arn:aws:iam::{STRANGER}:role/forwarder", BATCH_EVENT, INTAKE_BUS, id="wrong account"),
        pytest.param(
            f"arn:aws:iam::{MEMBER}:role/f", BATCH_EVENT | {"events:source": "my.app"}, INTAKE_BUS, id="another source"
        ),
        pytest.param(
            f"arn:aws:iam::{MEMBER}:role/f",
            BATCH_EVENT | {"events:detail-type": "Batch Job Queue Blocked"},
            INTAKE_BUS,
            id="another detail type",
        ),
        pytest.param(f"arn:aws:iam::{MEMBER}:role/f", {"events:source": "aws.batch"}, INTAKE_BUS, id="no detail type"),
        pytest.param(
            f"arn:aws:iam::{MEMBER}:role/f", BATCH_EVENT, INTAKE_BUS.replace("intake", "other"), id="another bus"
        ),
    ],
)
def test_the_intake_bus_refuses(principal, context, resource):
    assert not put_events(principal, context, resource)


def test_the_intake_bus_admits_only_put_events():
    member = f"arn:aws:iam::{MEMBER}:role/f"

    assert not allows(
        intake_bus_policy(), principal=member, action="events:PutRule", resource=INTAKE_BUS, context=BATCH_EVENT
    )


def test_an_organization_bus_refuses_another_organization_and_a_caller_outside_any():
    stranger = f"arn:aws:iam::{STRANGER}:role/forwarder"

    assert not put_events(stranger, BATCH_EVENT | {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}, organization_id=ORG)
    assert not put_events(stranger, BATCH_EVENT, organization_id=ORG)


# --------------------------------------------------------------------------------------------------
# The forwarder's events role and the read role's permissions


def test_only_eventbridge_for_the_member_may_assume_the_events_role():
    def events_role(principal: str, context: dict[str, str]) -> bool:
        return allows(EVENTS_ROLE_TRUST, principal=principal, action="sts:AssumeRole", context=context)

    assert events_role("events.amazonaws.com", {"aws:SourceAccount": MEMBER})
    assert not events_role("lambda.amazonaws.com", {"aws:SourceAccount": MEMBER})
    assert not events_role("events.amazonaws.com", {"aws:SourceAccount": STRANGER})
    assert not events_role("events.amazonaws.com", {})
    assert not events_role(NOTIFIER_ROLE, {"aws:SourceAccount": MEMBER})


def test_only_the_forwarder_rule_may_send_to_its_dead_letter_queue():
    def send(source_arn: str, queue: str = DEAD_LETTER_QUEUE) -> bool:
        context = {"aws:SourceArn": source_arn}
        return allows(
            DEAD_LETTER_QUEUE_POLICY,
            principal="events.amazonaws.com",
            action="sqs:SendMessage",
            resource=queue,
            context=context,
        )

    assert send(FORWARDER_RULE)
    assert not send(f"{FORWARDER_RULE}-2")
    assert not send(FORWARDER_RULE.replace(MEMBER, STRANGER))
    assert not send(FORWARDER_RULE, queue=f"{DEAD_LETTER_QUEUE}-2")


def test_the_read_role_grants_the_batch_reads_and_the_job_logs_only():
    def grants(action: str, resource: str) -> bool:
        return allows(READ_ROLE_POLICY, principal=None, action=action, resource=resource)

    stream = f"arn:aws:logs:{REGION}:{MEMBER}:log-group:/aws/batch/job:log-stream:render/default/abc"

    assert grants("batch:DescribeJobs", "*")
    assert grants("batch:listjobs", "*")  # actions match case-insensitively
    assert grants("logs:GetLogEvents", stream)
    assert not grants("logs:GetLogEvents", stream.replace("/aws/batch/job", "/secrets"))
    assert not grants("logs:GetLogEvents", stream.replace(MEMBER, STRANGER))
    assert not grants("batch:SubmitJob", "*")


# --------------------------------------------------------------------------------------------------
# The rules of matching


def test_arn_wildcards_stay_within_their_segment():
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:events:*:{MEMBER}:rule/*"}},
        },
    }

    def send(source_arn: str) -> bool:
        context = {"AWS:SOURCEARN": source_arn}  # key names are case-insensitive
        return allows(policy, principal="events.amazonaws.com", action="sqs:SendMessage", context=context)

    assert send(FORWARDER_RULE)
    assert not send(f"arn:aws:events:{REGION}:{STRANGER}:rule/x")
    assert not send(f"arn:aws:events:{REGION}:{MEMBER}:event-bus/rule/x")
    assert not send(f"arn:aws:events:{REGION}:{STRANGER}:x:{MEMBER}:rule/x")  # no `*` across a colon
    assert not send("rule/x")


def test_string_like_and_case_sensitive_values():
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": CENTRAL},
            "Action": "sts:*",
            "Condition": {"StringLike": {"sts:ExternalId": ["team-?-*", "ops"]}},
        },
    }

    def assume_with(external_id: str) -> bool:
        return allows(policy, principal=NOTIFIER_ROLE, action="sts:AssumeRole", context={"sts:ExternalId": external_id})

    assert assume_with("team-a-42")
    assert not assume_with("team-ab-42")
    assert not assume_with("TEAM-a-42")
    assert assume_with("ops")  # any one of a key's values


def test_why_names_the_statement_that_allowed_or_what_each_missed():
    allowed = evaluate(
        read_role_trust(), principal=NOTIFIER_ROLE, action="sts:AssumeRole", context={"sts:ExternalId": EXTERNAL_ID}
    )
    refused = evaluate(read_role_trust(), principal=NOTIFIER_ROLE, action="sts:AssumeRole", context={})
    stranger = evaluate(
        intake_bus_policy(),
        principal=f"arn:aws:iam::{STRANGER}:root",
        action="events:PutEvents",
        resource=INTAKE_BUS,
        context=BATCH_EVENT,
    )

    assert (bool(allowed), allowed.why) == (True, "statement 1 allows it")
    assert (bool(refused), refused.why) == (
        False,
        "statement 1: StringEquals sts:ExternalId: the request has no sts:ExternalId",
    )
    assert not stranger
    assert stranger.why.startswith(f"statement MembersPutBatchEvents: principal arn:aws:iam::{STRANGER}:root is not")


def _trust_with(**changes: Any) -> Document:
    statement = read_role_trust()["Statement"][0] | changes
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in statement.items() if v is not None}]}


@pytest.mark.parametrize(
    ("document", "principal"),
    [
        pytest.param(_trust_with(Effect="Deny"), NOTIFIER_ROLE, id="Deny"),
        pytest.param(_trust_with(Action=None, NotAction="sts:TagSession"), NOTIFIER_ROLE, id="NotAction"),
        pytest.param(
            _trust_with(Condition={"StringEqualsIfExists": {"sts:ExternalId": "x"}}), NOTIFIER_ROLE, id="IfExists"
        ),
        pytest.param(
            _trust_with(Condition={"ForAnyValue:StringEquals": {"sts:ExternalId": "x"}}),
            NOTIFIER_ROLE,
            id="ForAnyValue",
        ),
        pytest.param(_trust_with(Condition={"StringEquals": {"sts:ExternalId": 42}}), NOTIFIER_ROLE, id="a number"),
        pytest.param(_trust_with(Principal={"AWS": "*"}), NOTIFIER_ROLE, id="AWS *"),
        pytest.param(
            _trust_with(Principal={"AWS": f"arn:aws:iam::{CENTRAL}:role/*"}), NOTIFIER_ROLE, id="wildcard principal"
        ),
        pytest.param(
            _trust_with(Principal={"Federated": "cognito-identity.amazonaws.com"}), NOTIFIER_ROLE, id="Federated"
        ),
        pytest.param(
            _trust_with(Condition={"StringEquals": {"sts:ExternalId": "${aws:username}"}}),
            NOTIFIER_ROLE,
            id="policy variable",
        ),
        pytest.param({"Version": "2008-10-17", "Statement": []}, NOTIFIER_ROLE, id="old version"),
        pytest.param(read_role_trust(), "notifier-role", id="a principal that is no ARN"),
        pytest.param(read_role_trust(), None, id="no principal for a resource policy"),
        pytest.param(READ_ROLE_POLICY, NOTIFIER_ROLE, id="a principal for an identity policy"),
    ],
)
def test_anything_outside_the_subset_raises_instead_of_deciding(document, principal):
    with pytest.raises(PolicyOutsideSubsetError):
        evaluate(document, principal=principal, action="sts:AssumeRole", resource="*", context={"sts:ExternalId": "x"})
