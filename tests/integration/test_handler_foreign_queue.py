"""The handler against moto, with a second team's queue in the same account: a completion the rule should
never have delivered (another queue's) is ignored before any AWS call, and nothing is published."""

from __future__ import annotations

import boto3

from batch_array_notify.handler.app import handler
from tests.integration.moto_stack import REGION, create_queue_beside, state_change_event


def another_teams_array_job(batch_stack) -> str:
    """An array job on a queue of the same account that is not in the notifier's JOB_QUEUE_ARNS."""
    batch = boto3.client("batch", region_name=REGION)
    theirs = create_queue_beside(batch_stack, "another-teams-queue")
    return str(
        batch.submit_job(
            jobName="their-array",
            jobQueue=theirs,
            jobDefinition=batch_stack.job_definition_arn,
            arrayProperties={"size": 3},
        )["jobId"]
    )


def test_another_queues_completion_is_ignored_without_a_call_or_a_message(
    batch_stack, moto_batch, subscriber, aws_calls, lambda_context
):
    their_job = another_teams_array_job(batch_stack)
    event = state_change_event(moto_batch.describe_job(their_job))

    result = handler(event, lambda_context)

    assert result["outcome"] == "ignored"
    assert "another-teams-queue is not one of this notifier's 1 queue(s)" in result["reason"]
    assert subscriber.notifications() == []
    assert sum(aws_calls.values()) == 0


def test_the_notifiers_own_queue_still_reports(moto_batch, subscriber, lambda_context):
    parent_id = moto_batch.submit_array_job(size=3)

    result = handler(moto_batch.completion_event(parent_id), lambda_context)

    assert result["outcome"] == "delivered"
    assert len(subscriber.notifications()) == 1
