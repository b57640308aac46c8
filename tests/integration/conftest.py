"""Shared moto fixtures for integration tests: fake credentials, one mocked AWS account per test
module with a Batch queue and job definition, an SNS topic read through an SQS subscription, and the
handler's idempotency table.

The AWS resources are module-scoped because creating them costs ~1 s; tests stay independent by
submitting their own jobs (fresh job ids, hence fresh idempotency keys) and by starting from an
empty subscriber queue and fresh handler caches (`handler_env`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from moto import mock_aws

from batch_array_notify.testing.rehearsal_world import MOTO_CONFIG, LambdaContext, reset_handler_caches
from tests.integration.moto_stack import (
    FAKE_AWS_ENVIRONMENT,
    BatchStack,
    MotoBatch,
    TopicSubscriber,
    create_batch_stack,
    handler_environment,
    make_lambda_context,
    record_aws_calls,
)


@pytest.fixture(scope="module")
def mocked_aws() -> Iterator[None]:
    """Fake credentials and region, and moto with the Docker-free Batch backend, for one test module."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAKE_AWS_ENVIRONMENT.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        with mock_aws(config=MOTO_CONFIG):
            yield


@pytest.fixture(scope="module")
def batch_stack(mocked_aws: None) -> Iterator[BatchStack]:
    """`create_batch_stack()` for one test module, with the handler's environment set to match."""
    stack = create_batch_stack()
    with pytest.MonkeyPatch.context() as env:
        for name, value in handler_environment(stack).items():
            env.setenv(name, value)
        yield stack


@pytest.fixture
def handler_env(batch_stack: BatchStack) -> Iterator[BatchStack]:
    """`batch_stack` with an empty subscriber queue and fresh handler caches before and after the test."""
    # Draining, not PurgeQueue: moto, like SQS, allows one purge per queue per 60 s.
    TopicSubscriber(batch_stack).notifications()
    reset_handler_caches()
    yield batch_stack
    reset_handler_caches()


@pytest.fixture
def lambda_context() -> LambdaContext:
    return make_lambda_context()


@pytest.fixture
def aws_calls(handler_env: BatchStack) -> Counter[str]:
    """The handler's AWS calls during this test, by IAM action."""
    return record_aws_calls()


@pytest.fixture
def moto_batch(handler_env: BatchStack) -> MotoBatch:
    return MotoBatch(handler_env)


@pytest.fixture
def subscriber(handler_env: BatchStack) -> TopicSubscriber:
    return TopicSubscriber(handler_env)
