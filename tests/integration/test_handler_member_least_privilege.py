"""Least privilege across accounts, proven from the calls: the central notifier and its sweep run against
moto with two member accounts, and every call they make is recorded with a botocore hook, on the
notifier's own session (AssumeRole) and on each member's session (handler/accounts.py: the read role's
credentials). The read role's policy (components/iam.py) must allow each member call and nothing the code
does not call; the notifier's AssumeRole grant (components/intake_bus.py) must name exactly the roles
assumed. tests/integration/test_handler_least_privilege.py is the same proof for the notifier's own account.

Scenarios: a member completion with a failed child (DescribeJobs, ListJobs, GetLogEvents of its log tail),
and a sweep of members that list no queues (DescribeJobQueues, ListJobs, DescribeJobs).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import time
from typing import Any

import pytest

from batch_array_notify.forwarder_args import DEFAULT_JOB_LOG_GROUP
from batch_array_notify.handler import accounts, aws, reconcile
from batch_array_notify.handler.app import handler
from batch_array_notify.iam import member_read_policy
from batch_array_notify.intake_bus import assume_member_roles_policy
from batch_array_notify.testing.rehearsal_world import reset_handler_caches
from tests.integration.moto_stack import (
    REGION,
    BatchStack,
    MotoBatch,
    TopicSubscriber,
    account_session,
    central_environment,
    create_member_stacks,
    make_lambda_context,
    set_central_sweep,
)

CENTRAL = "central"
#: (whose session made it, IAM action, the resource it addressed)
Call = tuple[str, str, str]


def _resource(action: str, params: dict[str, Any], account: str) -> str:
    """The ARN a call addresses, as IAM authorises it (`*` for the Batch reads, which take no resource)."""
    if action.startswith("batch:"):
        return "*"
    if action == "logs:GetLogEvents":
        return (
            f"arn:aws:logs:{REGION}:{account}:log-group:{params['logGroupName']}:log-stream:{params['logStreamName']}"
        )
    if action == "sts:AssumeRole":
        return str(params["RoleArn"])
    return "?"


def _hook(session: Any, account: str, calls: set[Call]) -> None:
    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        action = f"{model.service_model.signing_name}:{model.name}"
        calls.add((account, action, _resource(action, params, account)))

    # Parameters as the code passed them (`before-call` sees the serialized request instead).
    session.events.register("before-parameter-build", record)


def _hook_every_session(members: list[MotoBatch], calls: set[Call]) -> None:
    """After a cache reset: the notifier's session, then each member's (its first AssumeRole recorded)."""
    reset_handler_caches()
    _hook(aws.session(), CENTRAL, calls)
    for member in members:
        _hook(accounts._member_session(member.account_id), member.account_id, calls)


def _failed_child_logs(member: MotoBatch, child_id: str) -> None:
    logs = account_session(member.account_id).client("logs", region_name=REGION)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=DEFAULT_JOB_LOG_GROUP)
    stream = member.describe_job(child_id)["container"]["logStreamName"]
    logs.create_log_stream(logGroupName=DEFAULT_JOB_LOG_GROUP, logStreamName=stream)
    events = [{"timestamp": int(time.time() * 1000) - 1_000, "message": "exit 1"}]
    logs.put_log_events(logGroupName=DEFAULT_JOB_LOG_GROUP, logStreamName=stream, logEvents=events)


@pytest.fixture(scope="module")
def member_batches(batch_stack: BatchStack) -> list[MotoBatch]:
    """Batch in the two member accounts (created once per module: ~1 s each)."""
    return create_member_stacks(batch_stack)


@pytest.fixture
def calls(
    handler_env: BatchStack,
    member_batches: list[MotoBatch],
    subscriber: TopicSubscriber,
    monkeypatch: pytest.MonkeyPatch,
) -> set[Call]:
    members = member_batches
    recorded: set[Call] = set()
    for name, value in central_environment(members).items():
        monkeypatch.setenv(name, value)
    _hook_every_session(members, recorded)
    for member in members:
        parent = member.submit_array_job(size=3)
        member.fail_children(parent, [1], "Essential container in task exited")
        _failed_child_logs(member, f"{parent}:1")
        assert handler(member.completion_event(parent), make_lambda_context())["outcome"] == "delivered"

    # The sweep, of members that list no queues (it asks DescribeJobQueues), with missed completions.
    set_central_sweep(members, monkeypatch)
    for member in members:
        member.submit_array_job(size=2)
    _hook_every_session(members, recorded)
    assert reconcile.handler({}, make_lambda_context())["reconciled"] >= len(members)
    reset_handler_caches()
    return recorded


def _read_roles() -> list[str]:
    return [member["roleArn"] for member in json.loads(os.environ["MEMBER_ACCOUNTS"]).values()]


def _grants(policy: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (action, resource)
        for statement in policy["Statement"]
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    }


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_each_member_call_is_a_grant_of_the_read_role_and_each_grant_a_call(calls):
    members = {account for account, _, _ in calls if account != CENTRAL}

    assert len(members) == 2
    for account in members:
        member_calls = {(action, resource) for who, action, resource in calls if who == account}
        # The forwarder's read role, with its default log group (the one moto's jobs log to).
        grants = _grants(member_read_policy("aws", account, [DEFAULT_JOB_LOG_GROUP]))
        denied = {
            call
            for call in member_calls
            if not any(fnmatch.fnmatchcase(call[0], a) and fnmatch.fnmatchcase(call[1], r) for a, r in grants)
        }
        unused = {
            grant
            for grant in grants
            if not any(fnmatch.fnmatchcase(a, grant[0]) and fnmatch.fnmatchcase(r, grant[1]) for a, r in member_calls)
        }
        assert not denied, f"{account}: the read role denies {sorted(denied)}"
        assert not unused, f"{account}: the read role grants what no call uses: {sorted(unused)}"


def test_the_notifier_assumes_exactly_the_roles_its_grant_names(calls):
    assumed = {(action, resource) for who, action, resource in calls if who == CENTRAL and action.startswith("sts:")}

    assert assumed == _grants(assume_member_roles_policy(_read_roles()))
    assert not {action for who, action, _ in calls if who == CENTRAL and action.split(":")[0] in {"batch", "logs"}}
