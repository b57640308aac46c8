"""iam: the trust policy every role of the component carries, as IAM receives it."""

from __future__ import annotations

import pytest

from batch_array_notify.iam import assume_role_policy


@pytest.mark.parametrize("service", ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "batch.amazonaws.com"])
def test_a_role_may_be_assumed_by_its_one_service_and_nothing_else(service):
    # Without "2012-10-17" IAM reads the document in the 2008 policy language; without "Effect" it rejects it.
    assert assume_role_policy(service) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
