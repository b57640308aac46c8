"""What a real `pulumi up` needs beyond the mock's acceptance: AWS rules that the mock runtime cannot
enforce, checked on each stage's plan. Each test names the AWS documentation it encodes."""

import json

import pytest

from batch_array_notify.testing.program import Plan
from tests.support import KEY

STAGES = ("dev", "prod", "attach")
SOURCE_CONDITION_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}


def key_statements(plan: Plan) -> list[dict]:
    return json.loads(plan.one(KEY).inputs["policy"])["Statement"]


def condition_keys(statement: dict) -> set[str]:
    return {key.lower() for operator in statement.get("Condition", {}).values() for key in operator}


@pytest.mark.parametrize("stage", STAGES)
def test_eventbridge_may_use_the_key_without_source_conditions(stage_plans, stage):
    """SNS developer guide, "Key management" (compatibility with AWS services): adding aws:SourceAccount,
    aws:SourceArn or aws:SourceOrgID to a KMS key policy is not supported for EventBridge-to-encrypted-topic
    delivery. With one, every blocked-queue alert to the encrypted topic would fail."""
    events = [s for s in key_statements(stage_plans[stage]) if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert events, "EventBridge writes to the encrypted topic and dead-letter queue"
    for statement in events:
        assert statement["Effect"] == "Allow"
        assert set(statement["Action"]) >= {"kms:Decrypt", "kms:GenerateDataKey*"}
        assert not condition_keys(statement) & SOURCE_CONDITION_KEYS, statement


@pytest.mark.parametrize("stage", STAGES)
def test_the_account_can_read_the_encrypted_failure_queues_through_sqs_only(stage_plans, stage):
    """SQS decrypts a received message with the reader's KMS rights: without a key-policy statement the
    account's IAM policies can delegate, `aws sqs receive-message` on either failure queue is denied."""
    plan = stage_plans[stage]
    region = plan.outputs["kmsKeyArn"].split(":")[3]
    root = "arn:aws:iam::123456789012:root"
    readers = [
        s
        for s in key_statements(plan)
        if s["Principal"] == {"AWS": root}
        and "kms:Decrypt" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    ]
    assert len(readers) == 1
    (reader,) = readers
    assert reader["Action"] == ["kms:Decrypt"], "reading needs Decrypt only"
    assert reader["Condition"] == {"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}}


@pytest.mark.parametrize("stage", STAGES)
def test_the_notifier_reaches_the_key_only_through_sns_and_sqs(stage_plans, stage):
    """The key policy itself, not only the role's IAM policy, limits the notifier to the two services that
    use the key on its behalf (SNS publish to the encrypted topic, SQS for the on-failure destination)."""
    plan = stage_plans[stage]
    region = plan.outputs["kmsKeyArn"].split(":")[3]
    role = plan.outputs["notifierRoleArn"]
    (notifier,) = [s for s in key_statements(plan) if s["Principal"] == {"AWS": role}]

    assert notifier["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"sns.{region}.amazonaws.com", f"sqs.{region}.amazonaws.com"]}
    }
