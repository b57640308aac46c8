"""Shared ARNs and a moto-backed rule for tests that push events through EventBridge patterns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from batch_array_notify.testing.rule_harness import Delivery, RuleHarness

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, so ARNs look like the ones moto would mint
QUEUE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/print-color-queue"
OTHER_QUEUE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/someone-elses-queue"
JOB_DEFINITION_ARN_PREFIX = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/print-color"
JOB_DEFINITION_ARN = f"{JOB_DEFINITION_ARN_PREFIX}:1"

#: The zenn.dev blog's discriminator, verbatim: "a SUCCEEDED job whose container has no instance".
BLOG_PATTERN: dict[str, Any] = {
    "source": ["aws.batch"],
    "detail-type": ["Batch Job State Change"],
    "detail": {"status": ["SUCCEEDED"], "container": {"containerInstanceArn": [{"exists": False}]}},
}


@contextmanager
def rule_under_test(pattern: dict[str, Any], delivery: Delivery = Delivery.BACKEND) -> Iterator[RuleHarness]:
    """A fresh moto account with one rule rendered exactly as the stack renders it (`json.dumps`)."""
    with mock_aws():
        yield RuleHarness(json.dumps(pattern), region=REGION, delivery=delivery)
