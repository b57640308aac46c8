"""The idempotency key of a completion (handler.delivery), computed by Powertools itself: the notifier's
own completions keep the key they always had, a member account's holds its account and region."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig

from batch_array_notify.handler.delivery import IDEMPOTENCY_KEY_JMESPATH
from batch_array_notify.handler.report import CompletionReport, build_report
from batch_array_notify.handler.scope import Completion, Origin, decide
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events

QUEUE_ARN = "arn:aws:batch:eu-west-1:111111111111:job-queue/nightly"
DEFINITION_ARN = "arn:aws:batch:eu-west-1:111111111111:job-definition/print-color:3"


def report(origin: Origin | None) -> CompletionReport:
    spec = ArrayJobSpec(QUEUE_ARN, DEFINITION_ARN, size=3, failures=0, compute=Compute.EC2)
    completion = decide(list(array_job_events(spec))[-1])
    assert isinstance(completion, Completion)
    return build_report(
        dataclasses.replace(completion, origin=origin), None, [], stage="dev", default_region="eu-west-1"
    )


def hashed_key(jmespath: str, data: dict[str, object]) -> str:
    persistence = DynamoDBPersistenceLayer(
        table_name="idempotency", boto3_client=boto3.client("dynamodb", region_name="eu-west-1")
    )
    persistence.configure(IdempotencyConfig(event_key_jmespath=jmespath), key_prefix="batch-array-notify.sink")
    return str(persistence._get_hashed_idempotency_key(data))


@pytest.fixture(autouse=True)
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")


def test_an_own_account_completion_keeps_the_key_it_had_before_central_mode():
    own = dataclasses.asdict(report(None))

    assert hashed_key(IDEMPOTENCY_KEY_JMESPATH, own) == hashed_key("[job_id, status]", own)


def test_a_member_s_completion_is_keyed_by_account_region_and_job_id():
    member = report(Origin("111111111111", "eu-west-1"))
    expected = {"job_id": f"111111111111/eu-west-1/{member.job_id}", "status": member.status}

    assert member.completion_key == expected["job_id"]
    assert hashed_key(IDEMPOTENCY_KEY_JMESPATH, dataclasses.asdict(member)) == hashed_key("[job_id, status]", expected)


def test_the_same_job_id_in_two_accounts_or_regions_gives_two_keys():
    keys = {
        hashed_key(IDEMPOTENCY_KEY_JMESPATH, dataclasses.asdict(report(origin)))
        for origin in (
            None,
            Origin("111111111111", "eu-west-1"),
            Origin("222222222222", "eu-west-1"),
            Origin("111111111111", "us-east-1"),
        )
    }

    assert len(keys) == 4
