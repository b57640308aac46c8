"""`--pattern` of tools.rehearse and tools.compare_rules refuses what EventBridge refuses, before any
rehearsal: moto's PutRule accepts `{"source": [{"bogus": 1}]}` and its matcher then matches every event."""

from __future__ import annotations

import pytest

from batch_array_notify.cli.compare_rules import main as compare_rules_main
from batch_array_notify.cli.rehearse import main as rehearse_main

BOGUS = '{"source": [{"bogus": 1}]}'
EXISTS_ON_OBJECT = '{"source": ["aws.batch"], "detail": {"arrayProperties": [{"exists": true}]}}'


@pytest.mark.parametrize("main", [rehearse_main, compare_rules_main], ids=["rehearse", "compare_rules"])
def test_an_unknown_operator_is_refused_with_exit_2_and_the_reason(main, capsys):
    assert main(["--stack", "dev", "--size", "3", "--pattern", BOGUS]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: --pattern: source[0]: unknown operator 'bogus'; EventBridge knows anything-but, cidr, "
        "equals-ignore-case, exists, numeric, prefix, suffix, wildcard\n"
    )


def test_a_pattern_file_is_checked_and_named(tmp_path, capsys):
    path = tmp_path / "loose.json"
    path.write_text('{"detail": {"status": []}}')

    assert rehearse_main(["--stack", "dev", "--size", "3", "--pattern", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"error: --pattern: {path}: detail.status: an empty array matches nothing; EventBridge refuses it\n"
    )


@pytest.mark.parametrize("main", [rehearse_main, compare_rules_main], ids=["rehearse", "compare_rules"])
def test_exists_on_a_field_batch_sends_as_an_object_is_refused(main, capsys):
    assert main(["--stack", "dev", "--size", "3", "--pattern", EXISTS_ON_OBJECT]) == 2

    assert capsys.readouterr().err.startswith(
        "error: --pattern: detail.arrayProperties: exists applies to leaves only and the events carry an object"
    )


def test_an_inline_pattern_eventbridge_accepts_is_rehearsed(capsys):
    status_only = '{"source": ["aws.batch"], "detail": {"status": ["SUCCEEDED", "FAILED"]}}'

    code = rehearse_main(["--stack", "dev", "--size", "3", "--pattern", status_only, "--json"])

    assert code == 1  # a status-only rule also matches the children: not exact
    assert '"exact": false' in capsys.readouterr().out
