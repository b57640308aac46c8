"""iam: the trust policy every role of the component carries and the notifier's permissions, as IAM receives them."""

from __future__ import annotations

import pytest

from batch_array_notify.iam import assume_role_policy, notifier_policy


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
