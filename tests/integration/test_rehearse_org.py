"""`batch-array-notify rehearse --stack org`: the members' array jobs through their forwarders, the intake
bus's policy and rules, and the notifier assuming each member's read role (testing/rehearsal_org.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from batch_array_notify.cli.rehearse import main
from batch_array_notify.testing.program import run_program
from batch_array_notify.testing.rehearsal_org import CentralTarget, plan_forwarders, rehearse_organisation

ROOT = Path(__file__).resolve().parents[2]
MEMBERS = {"111111111111", "222222222222"}
OUTSIDER = "333333333333"
EXTERNAL_ID = "batch-array-notify-7f3a"


def _rehearse(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = main(["--stack", "org", "--program", str(ROOT), "--size", "2", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_one_notification_per_member_array_job_naming_its_account_and_nothing_from_the_outsider(capsys):
    """With the same external id on both sides (the members' read roles require it and the organisation)."""
    code, out, err = _rehearse(
        capsys,
        "--json",
        "--config",
        f"batch-array-notify:memberExternalId={EXTERNAL_ID}",
        "--member-config",
        f"batch-array-notify:externalId={EXTERNAL_ID}",
    )

    document = json.loads(out)
    assert (code, err) == (0, "")
    assert document["exact"] is True
    notifications = document["notifications"]
    # The same job name in both members: two notifications, one per account, each of that account's job.
    assert sorted(n["account"] for n in notifications) == sorted(MEMBERS)
    assert {n["subject"].split()[1] for n in notifications} == {"nightly"}
    accounts = {tally["account"]: tally for tally in document["accounts"]}
    assert {n["jobId"] for n in notifications} == {accounts[account]["jobId"] for account in MEMBERS}
    for account in MEMBERS:
        # The parent's terminal event and its duplicate delivery: forwarded, admitted, one notification.
        assert accounts[account]["forwarded"] == accounts[account]["admitted"] == 2
        assert accounts[account]["handlerOutcomes"] == {"delivered": 1, "duplicate": 1}
    outsider = accounts[OUTSIDER]
    assert outsider["member"] is False
    assert outsider["forwarded"] == outsider["refused"] == 2
    assert outsider["admitted"] == outsider["centralMatches"] == 0


def test_a_wrong_external_id_fails_the_rehearsal_naming_the_trust_condition(capsys):
    code, out, err = _rehearse(
        capsys,
        "--config",
        "batch-array-notify:memberExternalId=guessed-id",
        "--member-config",
        f"batch-array-notify:externalId={EXTERNAL_ID}",
    )

    assert code == 1
    assert "exact: NO" in out
    assert f"StringEquals sts:ExternalId: 'guessed-id' is not '{EXTERNAL_ID}'" in out
    assert f"  refused at the intake bus, {OUTSIDER}: statement BatchJobStateChangesFromMembers: principal " in out
    assert "Traceback" not in out + err


def test_a_member_whose_trust_names_another_role_fails_the_rehearsal(capsys):
    other = "arn:aws:iam::123456789012:role/someone-else"
    code, out, _ = _rehearse(
        capsys, "--member-config", f"batch-array-notify:centralNotifierRoleArns=[{other!r}]".replace("'", '"')
    )

    assert code == 1
    lines = [line for line in out.splitlines() if "handler invocations raised" in line]
    assert len(lines) == 1
    assert "MemberAccessError: cannot assume arn:aws:iam::" in lines[0]
    assert f'is not {{"AWS": ["{other}"]}}' in lines[0]


def test_a_bus_policy_that_admits_an_outsider_is_not_exact():
    """The judge, not the policy: a bus that lets the outsider in is reported even though no rule matches."""
    central = CentralTarget.from_plan(run_program(ROOT, "org"))
    forwarders = plan_forwarders(central, lambda account, config: run_program(ROOT, "member", config, account), {})
    open_bus = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": central.intake_bus_arn}
        ],
    }

    rehearsal = rehearse_organisation(
        dataclasses.replace(central, bus_policy=open_bus), forwarders, size=2, duplicates=0
    )

    assert not rehearsal.exact
    assert f"account {OUTSIDER} is not a member, yet the intake bus admitted 1 of its events" in rehearsal.problems
    assert sorted(n.document.get("account") for n in rehearsal.notifications) == sorted(MEMBERS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--failures", "1"], "--failures does not apply"),
        (["--pattern", "{}"], "--pattern does not apply"),
    ],
)
def test_options_of_the_single_account_rehearsal_are_usage_errors(capsys, options, message):
    with pytest.raises(SystemExit) as exit_:
        _rehearse(capsys, *options)

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
