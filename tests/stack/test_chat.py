"""Chat delivery in the whole program's plan: nothing without the chat keys; with them, each channel on the
chat topic and the alerts topic, with its own role and the CloudWatch read-only guardrail, and the handler
publishing to the chat topic only."""

import json

import pytest

from batch_array_notify.testing.program import ROOT, Plan, run_program
from tests.support import (
    CHAT_CONFIG,
    FUNCTION,
    KEY,
    ROLE,
    ROLE_POLICY,
    SLACK_CHANNEL,
    SUBSCRIPTION,
    TARGET,
    TEAMS_CHANNEL,
    TOPIC,
)

STAGES = ("dev", "prod")
CHANNELS = (SLACK_CHANNEL, TEAMS_CHANNEL)
GUARDRAIL = "arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"


def _chat_topic(plan: Plan):
    return plan.named(TOPIC, f"{plan.project}-chat")


def _alerts_topic_arn(plan: Plan) -> str:
    """Where the blocked-queue rule sends its alerts: the alerts topic, as the rest of the stack uses it."""
    return plan.named(TARGET, f"{plan.project}-blocked-alert").inputs["arn"]


def _notifier_statements(plan: Plan) -> list[dict]:
    role = plan.named(ROLE, f"{plan.project}-notifier").state["name"]
    return [
        statement
        for policy in plan.of_type(ROLE_POLICY)
        if policy.inputs["role"] == role
        for statement in json.loads(policy.inputs["policy"])["Statement"]
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_without_the_chat_keys_there_is_nothing_of_chat(stage_plans, stage):
    plan = stage_plans[stage]

    assert [resource.type for resource in plan.resources if resource.type in CHANNELS] == []
    assert [topic.name for topic in plan.of_type(TOPIC)] == [f"{plan.project}-completed"]
    trusted = {
        json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"]
        for role in plan.of_type(ROLE)
    }
    assert "chatbot.amazonaws.com" not in trusted
    functions = plan.of_type(FUNCTION)  # the notifier and the reconciliation sweep
    assert len(functions) == 2
    for function in functions:
        assert "CHAT_TOPIC_ARN" not in function.inputs["environment"]["variables"]
    assert "PublishChatNotification" not in {statement.get("Sid") for statement in _notifier_statements(plan)}


@pytest.mark.parametrize("channel", CHANNELS, ids=["slack", "teams"])
def test_each_channel_is_on_both_topics_with_its_role_and_the_guardrail(chat_plan, channel):
    configuration = chat_plan.one(channel).inputs
    role = chat_plan.named(ROLE, f"{chat_plan.project}-chat")

    assert configuration["snsTopicArns"] == [_chat_topic(chat_plan).state["arn"], _alerts_topic_arn(chat_plan)]
    assert configuration["iamRoleArn"] == role.state["arn"]
    assert configuration["guardrailPolicyArns"] == [GUARDRAIL]
    assert configuration["userAuthorizationRequired"] is True
    assert configuration["region"] == "us-east-2"
    assert configuration["loggingLevel"] == "ERROR"


def test_the_channels_take_their_ids_and_distinct_names(chat_plan):
    slack, teams = chat_plan.one(SLACK_CHANNEL).inputs, chat_plan.one(TEAMS_CHANNEL).inputs

    assert (slack["slackTeamId"], slack["slackChannelId"]) == ("T07EA123LEP", "C07EZ1ABC23")
    assert (teams["tenantId"], teams["teamId"], teams["channelId"]) == (
        "00000000-1111-2222-3333-444444444444",
        "55555555-6666-7777-8888-999999999999",
        "19%3Aabc123def456%40thread.tacv2",
    )
    # Account-wide and not auto-named: unique per project, stack, pipeline and chat application.
    assert slack["configurationName"] == "batch-array-notify-dev-batch-array-notify-slack"
    assert teams["configurationName"] == "batch-array-notify-dev-batch-array-notify-teams"


def test_the_chat_role_is_for_the_chat_service_only(chat_plan):
    role = chat_plan.named(ROLE, f"{chat_plan.project}-chat")
    (policy,) = [p for p in chat_plan.of_type(ROLE_POLICY) if p.inputs["role"] == role.state["name"]]

    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert {(action, statement["Resource"]) for statement in statements for action in statement["Action"]} == {
        ("cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"),
        ("cloudwatch:DescribeAlarmHistory", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"),
        ("cloudwatch:GetMetricData", "*"),
        ("cloudwatch:GetMetricWidgetImage", "*"),
    }


def test_the_chat_topic_is_under_the_pipeline_key_and_subscribed_only_by_the_channels(chat_plan):
    topic = _chat_topic(chat_plan)

    assert topic.inputs["kmsMasterKeyId"] == chat_plan.one(KEY).state["arn"]
    # The service subscribes its own endpoint for each configuration; no subscription of ours on the topic.
    assert [s for s in chat_plan.of_type(SUBSCRIPTION) if s.inputs["topic"] == topic.state["arn"]] == []


def test_the_handler_publishes_to_the_chat_topic_through_the_key(chat_plan):
    chat_topic_arn = _chat_topic(chat_plan).state["arn"]
    functions = chat_plan.of_type(FUNCTION)
    statements = {statement.get("Sid"): statement for statement in _notifier_statements(chat_plan)}

    # The notifier and the reconciliation sweep both deliver to chat (the sweep's grant: test_least_privilege).
    assert [f.inputs["environment"]["variables"]["CHAT_TOPIC_ARN"] for f in functions] == [chat_topic_arn] * 2
    assert statements["PublishChatNotification"] == {
        "Sid": "PublishChatNotification",
        "Effect": "Allow",
        "Action": "sns:Publish",
        "Resource": chat_topic_arn,
    }
    assert (
        "sns.us-east-1.amazonaws.com"
        in statements["EncryptForTopicAndDestination"]["Condition"]["StringEquals"]["kms:ViaService"]
    )


def test_the_key_policy_needs_nothing_new_for_chat(stage_plans, chat_plan):
    """The chat topic's one publisher, the notifier, is already admitted through SNS; the service reads
    nothing under the key (SNS hands it plain text)."""
    assert chat_plan.one(KEY).inputs["policy"] == stage_plans["dev"].one(KEY).inputs["policy"]


def test_chat_with_an_existing_topic_still_encrypts_through_sns():
    """With `existingTopicArn` the notifier writes no encrypted topic of ours, except the chat topic."""
    ops_topic = "arn:aws:sns:us-east-1:123456789012:ops"
    slack_only = {key: value for key, value in CHAT_CONFIG.items() if ":slack" in key}
    plan = run_program(ROOT, "dev", {"batch-array-notify:existingTopicArn": ops_topic, **slack_only})

    (kms,) = [s for s in _notifier_statements(plan) if s.get("Sid") == "EncryptForTopicAndDestination"]
    assert "sns.us-east-1.amazonaws.com" in kms["Condition"]["StringEquals"]["kms:ViaService"]
    # The alerts go to the existing topic too (it is the completion topic, and no alertsTopicArn is set).
    assert plan.one(SLACK_CHANNEL).inputs["snsTopicArns"] == [_chat_topic(plan).state["arn"], ops_topic]
    assert plan.of_type(TEAMS_CHANNEL) == []
