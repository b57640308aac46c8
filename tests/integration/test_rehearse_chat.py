"""The rehearsal of a stack with chat channels: the real handler also publishes the custom notification,
once per array job despite duplicate deliveries, and the rehearsal prints it."""

from __future__ import annotations

import jsonschema
import pytest

from batch_array_notify.cli.chat_preview import channel_view
from batch_array_notify.cli.rehearse import Scenario, rehearse, render
from batch_array_notify.testing.eventgen import Compute
from batch_array_notify.testing.rehearsal_world import StackTarget
from tests.chat_schema import CUSTOM_NOTIFICATION_SCHEMA


@pytest.fixture(scope="module")
def chat_target(chat_plan) -> StackTarget:
    return StackTarget.from_plan(chat_plan)


def test_one_chat_message_per_array_job_despite_duplicates(chat_target):
    result = rehearse(chat_target, Scenario(size=7, failures=2, compute=Compute.FARGATE, duplicates=2))

    assert result.exact, result.problems
    (notification,) = result.notifications
    (message,) = result.chat_messages
    jsonschema.validate(message, CUSTOM_NOTIFICATION_SCHEMA)
    assert message["metadata"]["threadId"] == notification.job_id
    assert message["content"]["title"] == "\u274c " + notification.subject
    assert result.to_json()["chatMessages"] == [message]


def test_the_rehearsal_prints_the_chat_message(chat_target):
    result = rehearse(chat_target, Scenario(size=3, compute=Compute.EC2))

    printed = render(result, chat_target, "the stack's rule")

    (message,) = result.chat_messages
    assert f"Chat message 1, as the channel shows it\n\n{channel_view(message)}" in printed
    assert "Chat message 1, as published to the chat topic\n{" in printed


def test_without_chat_channels_nothing_of_chat_is_printed(stage_plans):
    target = StackTarget.from_plan(stage_plans["dev"])

    result = rehearse(target, Scenario(size=2, compute=Compute.EC2))

    assert result.chat_messages == []
    assert "chatMessages" not in result.to_json()
    assert "Chat message" not in render(result, target, "the stack's rule")
