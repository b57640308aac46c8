"""iam: the trust policy every role of the component carries and the notifier's permissions, as IAM receives them."""

from __future__ import annotations

import json

import pulumi
import pytest

from batch_array_notify.iam import (
    alerts_topic_policy,
    assume_role_policy,
    chat_channel_policy,
    chat_publish_statement,
    dead_letter_queue_policy,
    key_policy,
    lambda_role,
    notifier_policy,
    notifier_reliability_statements,
    scheduler_policy,
    sweep_encrypt_statement,
)
from batch_array_notify.testing.program import run_under_mocks
from tests.policy_grammar import document_problems, key_administration_problems
from tests.support import KEY, ROLE, ROLE_POLICY

SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"


@pytest.mark.parametrize("service", ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "batch.amazonaws.com"])
def test_a_role_may_be_assumed_by_its_one_service_and_nothing_else(service):
    # Without "2012-10-17" IAM reads the document in the 2008 policy language; without "Effect" it rejects it.
    assert assume_role_policy(service) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def test_the_notifier_may_write_its_logs_read_batch_jobs_publish_and_record_completions_and_nothing_else():
    log_group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/notifier"
    topic = "arn:aws:sns:eu-west-1:123456789012:completions"
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/idempotency"
    extra = {"Sid": "Extra", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:q"}

    assert notifier_policy(log_group, topic, table, [extra]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group}:*",
            },
            # IAM accepts only "*" for DescribeJobs and ListJobs.
            {
                "Sid": "ReadBatchJobs",
                "Effect": "Allow",
                "Action": ["batch:DescribeJobs", "batch:ListJobs"],
                "Resource": "*",
            },
            {"Sid": "PublishCompletion", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic},
            {
                "Sid": "RecordCompletions",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Resource": table,
            },
            extra,
        ],
    }


# Every document builder, as the deploy would call it: valid as a document (tests/policy_grammar.py, the
# same rules the stack tests apply to every planned document) and granting exactly what it says.

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
NOTIFIER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/notifier"
SWEEP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/sweep"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
RULE_ARNS = [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/completed", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/blocked"]
ALARM_ARNS = [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:errors"]
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sweep"
PRODUCE = ["kms:Decrypt", "kms:GenerateDataKey*"]


def _by_sid(document: dict) -> dict[str, dict]:
    return {statement["Sid"]: statement for statement in document["Statement"]}


@pytest.mark.parametrize("sweep_role", [None, SWEEP_ROLE])
def test_the_key_policy_is_valid_and_keeps_the_accounts_administration(sweep_role):
    document = key_policy(ACCOUNT, "aws", NOTIFIER_ROLE, REGION, sweep_role)

    assert document_problems(KEY, document) == []
    assert key_administration_problems(document, ACCOUNT) == []


def test_the_key_policy_names_who_may_use_the_key_and_through_which_service():
    statements = _by_sid(key_policy(ACCOUNT, "aws-cn", NOTIFIER_ROLE, REGION, SWEEP_ROLE))
    root = f"arn:aws-cn:iam::{ACCOUNT}:root"

    assert list(statements) == [
        "AccountAdministersTheKey",
        "AlarmsPublishToEncryptedTopic",
        "RulesWriteToEncryptedTopicAndQueue",
        "NotifierWritesToEncryptedTopicAndQueue",
        "SweepWritesToEncryptedTopics",
        "AccountReadsEncryptedQueues",
    ]
    assert statements["AccountAdministersTheKey"]["Principal"] == {"AWS": root}
    # CloudWatch acts for any account: only alarms of this one may use the key (confused deputy).
    assert statements["AlarmsPublishToEncryptedTopic"] == {
        "Sid": "AlarmsPublishToEncryptedTopic",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": PRODUCE,
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }
    assert statements["RulesWriteToEncryptedTopicAndQueue"] == {
        "Sid": "RulesWriteToEncryptedTopicAndQueue",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": PRODUCE,
        "Resource": "*",
    }
    assert statements["NotifierWritesToEncryptedTopicAndQueue"] == {
        "Sid": "NotifierWritesToEncryptedTopicAndQueue",
        "Effect": "Allow",
        "Principal": {"AWS": NOTIFIER_ROLE},
        "Action": PRODUCE,
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": [f"sns.{REGION}.amazonaws.com", f"sqs.{REGION}.amazonaws.com"]}
        },
    }
    # The sweep publishes (SNS) and has no on-failure queue: no SQS.
    assert statements["SweepWritesToEncryptedTopics"] == {
        "Sid": "SweepWritesToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"AWS": SWEEP_ROLE},
        "Action": PRODUCE,
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"sns.{REGION}.amazonaws.com"}},
    }
    # People of the account read the failure queues through SQS of the region, never decrypt directly.
    assert statements["AccountReadsEncryptedQueues"] == {
        "Sid": "AccountReadsEncryptedQueues",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": ["kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"sqs.{REGION}.amazonaws.com"}},
    }
    assert "SweepWritesToEncryptedTopics" not in _by_sid(key_policy(ACCOUNT, "aws", NOTIFIER_ROLE, REGION))


def test_a_scheduler_role_trusts_only_this_accounts_schedules():
    document = assume_role_policy("scheduler.amazonaws.com", ACCOUNT)

    assert document_problems(ROLE, document) == []
    assert document["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


@pytest.mark.parametrize("topic_encrypted", [False, True])
def test_the_notifiers_extra_rights_are_its_destination_and_the_key_through_its_services(topic_encrypted):
    statements = notifier_reliability_statements(QUEUE_ARN, KEY_ARN, REGION, topic_encrypted)
    via = [f"sqs.{REGION}.amazonaws.com", *([f"sns.{REGION}.amazonaws.com"] if topic_encrypted else [])]

    assert document_problems(ROLE_POLICY, {"Version": "2012-10-17", "Statement": statements}) == []
    assert statements == [
        {"Sid": "SendFailedEventsToDestination", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN},
        {
            "Sid": "EncryptForTopicAndDestination",
            "Effect": "Allow",
            "Action": PRODUCE,
            "Resource": KEY_ARN,
            "Condition": {"StringEquals": {"kms:ViaService": via}},
        },
    ]


def test_the_sweep_and_its_schedule_may_do_one_thing_each():
    encrypt = sweep_encrypt_statement(KEY_ARN, REGION)
    schedule = scheduler_policy(FUNCTION_ARN)

    assert document_problems(ROLE_POLICY, {"Version": "2012-10-17", "Statement": [encrypt]}) == []
    assert document_problems(ROLE_POLICY, schedule) == []
    assert encrypt == {
        "Sid": "EncryptForTopics",
        "Effect": "Allow",
        "Action": PRODUCE,
        "Resource": KEY_ARN,
        "Condition": {"StringEquals": {"kms:ViaService": [f"sns.{REGION}.amazonaws.com"]}},
    }
    assert schedule["Statement"] == [
        {"Sid": "InvokeSweep", "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FUNCTION_ARN}
    ]


def test_only_the_pipelines_rules_may_dead_letter():
    document = dead_letter_queue_policy(QUEUE_ARN, RULE_ARNS)

    assert document_problems(SQS_QUEUE_POLICY, document) == []
    assert document["Statement"] == [
        {
            "Sid": "RulesDeadLetter",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": QUEUE_ARN,
            "Condition": {"ArnEquals": {"aws:SourceArn": RULE_ARNS}},
        }
    ]


@pytest.mark.parametrize(
    ("rules", "condition"),
    [
        # One rule stays a plain string, so a stack with one queue keeps the document it had.
        (RULE_ARNS[1], RULE_ARNS[1]),
        ([RULE_ARNS[1]], RULE_ARNS[1]),
        (RULE_ARNS, RULE_ARNS),
    ],
)
def test_only_the_pipelines_alarms_and_rules_may_publish_alerts(rules, condition):
    document = alerts_topic_policy(TOPIC_ARN, ACCOUNT, ALARM_ARNS, rules)

    assert document_problems(SNS_TOPIC_POLICY, document) == []
    assert document["Statement"] == [
        {
            "Sid": "PipelineAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {
                "ArnEquals": {"aws:SourceArn": ALARM_ARNS},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
        },
        {
            "Sid": "QueueBlockedRulePublishes",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC_ARN,
            "Condition": {"ArnEquals": {"aws:SourceArn": condition}},
        },
    ]


def test_chat_channels_read_this_accounts_alarms_and_draw_their_charts():
    document = chat_channel_policy("aws-us-gov", REGION, ACCOUNT)
    publish = chat_publish_statement(TOPIC_ARN)

    assert document_problems(ROLE_POLICY, document) == []
    assert document_problems(ROLE_POLICY, {"Version": "2012-10-17", "Statement": [publish]}) == []
    assert document["Statement"] == [
        {
            "Sid": "ReadAlarmsForNotifications",
            "Effect": "Allow",
            "Action": ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"],
            "Resource": f"arn:aws-us-gov:cloudwatch:{REGION}:{ACCOUNT}:alarm:*",
        },
        {
            "Sid": "DrawAlarmCharts",
            "Effect": "Allow",
            "Action": ["cloudwatch:GetMetricData", "cloudwatch:GetMetricWidgetImage"],
            "Resource": "*",
        },
    ]
    assert publish == {
        "Sid": "PublishChatNotification",
        "Effect": "Allow",
        "Action": "sns:Publish",
        "Resource": TOPIC_ARN,
    }


def test_the_notifier_policy_is_valid_as_a_document():
    document = notifier_policy(f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/n", TOPIC_ARN, QUEUE_ARN)

    assert document_problems(ROLE_POLICY, document) == []


def test_the_grammar_finds_what_iam_would_reject():
    """The checker the tests above rely on is live: each broken document is refused, naming the fault."""
    good = scheduler_policy(FUNCTION_ARN)
    statement = good["Statement"][0]
    broken = {
        "Version": {**good, "Version": "2008-10-17"},
        "Effect": {**good, "Statement": [{**statement, "Effect": ""}]},
        "action": {**good, "Statement": [{**statement, "Action": "lambda:"}]},
        "does not exist": {**good, "Statement": [{**statement, "Action": "lambda:InvokeFunctions"}]},
        "no Resource": {**good, "Statement": [{**statement, "Resource": []}]},
        "names no Principal": {**good, "Statement": [{**statement, "Principal": {"Service": "x.amazonaws.com"}}]},
        "condition operator": {
            **good,
            "Statement": [{**statement, "Condition": {"StringEqual": {"aws:SourceArn": "a"}}}],
        },
        "repeated Sid": {**good, "Statement": [statement, statement]},
    }

    for fault, document in broken.items():
        problems = document_problems(ROLE_POLICY, document)
        assert any(fault in problem for problem in problems), (fault, problems)
    trust = assume_role_policy("")
    assert any("service principal" in problem for problem in document_problems(ROLE, trust))


def test_a_lambda_role_is_assumed_by_lambda_alone():
    def program() -> None:
        lambda_role("fn", {"team": "render"}, pulumi.ComponentResource("test:index:Parent", "parent"))

    (role,) = run_under_mocks(program, "batch-array-notify", "test").of_type(ROLE)

    assert json.loads(role.inputs["assumeRolePolicy"]) == assume_role_policy("lambda.amazonaws.com")
    assert role.inputs["tags"] == {"team": "render"}
