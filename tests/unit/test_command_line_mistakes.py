"""A corpus of command-line mistakes: each is refused with its exit code and ONE line on stderr that names
the option (or key) and says what is allowed, never a traceback, never silently accepted.

Each row calls the tool's `main(argv)` in this process (no interpreter per row). Offline: no credentials,
no instance metadata, no Pulumi CLI (the tools that read stack outputs are told it is missing).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.cli.exit_codes import AWS_UNREACHABLE, USAGE_ERROR

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/kept"
SWEEP_OFF = "batch-array-notify:reconcileEveryMinutes=0"
#: (tool, argv, exit code, words the one line must contain). `{tmp}` is a folder of files the rows read:
#: `not-events.json` (a JSON list per line), `no-detail.jsonl` (an event without detail).
MISTAKES: list[tuple[str, list[str], int, list[str]]] = [
    # plan: the stack, --config and --program
    ("plan", [], USAGE_ERROR, ["--stack", "required"]),
    ("plan", ["--stack", ""], USAGE_ERROR, ["--stack", "not a stack name"]),
    ("plan", ["--stack", "../dev"], USAGE_ERROR, ["--stack", "not a stack name"]),
    ("plan", ["--stack", "nope"], USAGE_ERROR, ["Pulumi.nope.yaml"]),
    ("plan", ["--stack", "dev", "--config", "maxVcpus"], USAGE_ERROR, ["--config", "KEY=VALUE"]),
    ("plan", ["--stack", "dev", "--config", "=8"], USAGE_ERROR, ["--config", "KEY=VALUE"]),
    ("plan", ["--stack", "dev", "--config", "batch-array-notify:maxVcpu=8"], USAGE_ERROR, ["did you mean maxVcpus"]),
    ("plan", ["--stack", "dev", "--config", "batch-array-notify:maxVcpus=lots"], USAGE_ERROR, ["maxVcpus", "lots"]),
    ("plan", ["--stack", "dev", "--config", "batch-array-notify:jobMemoryMib=3000"], USAGE_ERROR, ["jobMemoryMib"]),
    ("plan", ["--stack", "dev", "--program", "/nonexistent"], USAGE_ERROR, ["Pulumi.yaml", "/nonexistent"]),
    ("plan", ["--stack", "dev", "--stak"], USAGE_ERROR, ["--stak", "did you mean --stack?"]),
    ("plan", ["--stack", "dev", "extra"], USAGE_ERROR, ["unrecognized arguments: extra"]),
    ("plan", ["--stack"], USAGE_ERROR, ["--stack", "expected one argument"]),
    # rehearse: the scenario's numbers, each bounded
    ("rehearse", ["--stack", "dev"], USAGE_ERROR, ["--size is required", "--events"]),
    ("rehearse", ["--stack", "dev", "--size", "1"], USAGE_ERROR, ["--size", "2 to 10000"]),
    ("rehearse", ["--stack", "dev", "--size", "10001"], USAGE_ERROR, ["--size", "2 to 10000"]),
    ("rehearse", ["--stack", "dev", "--size", "seven"], USAGE_ERROR, ["--size", "whole number", "'seven'"]),
    ("rehearse", ["--stack", "dev", "--size", "7", "--failures", "9"], USAGE_ERROR, ["--failures", "--size (7)"]),
    ("rehearse", ["--stack", "dev", "--size", "7", "--failures", "-1"], USAGE_ERROR, ["--failures", "0 to 10000"]),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--failures", "2", "--failures-before-placement", "3"],
        USAGE_ERROR,
        ["--failures-before-placement", "--failures (2)"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--duplicates", "100000"],
        USAGE_ERROR,
        ["--duplicates", "0 to 1000", "cost"],
    ),
    ("rehearse", ["--stack", "dev", "--size", "7", "--duplicates", "-1"], USAGE_ERROR, ["--duplicates", "0 to 1000"]),
    ("rehearse", ["--stack", "dev", "--size", "7", "--compute", "gpu"], USAGE_ERROR, ["--compute", "'gpu'", "fargate"]),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--lose-parent-events", "2"],
        USAGE_ERROR,
        ["--lose-parent-events", "at most 1"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--lose-parent-events", "1", "--config", SWEEP_OFF],
        USAGE_ERROR,
        ["--lose-parent-events", "batch-array-notify:reconcileEveryMinutes"],
    ),
    ("rehearse", ["--stack", "dev", "--size", "7", "--pattern", "[]"], USAGE_ERROR, ["--pattern", "JSON object"]),
    ("rehearse", ["--stack", "dev", "--size", "7", "--pattern", "{"], USAGE_ERROR, ["--pattern", "not valid JSON"]),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--pattern", "nofile.json"],
        USAGE_ERROR,
        ["--pattern", "nofile.json", "No such file", "the JSON pattern itself"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--pattern", '{"source": [{"bogus": 1}]}'],
        USAGE_ERROR,
        ["--pattern", "unknown operator 'bogus'"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--pattern", '{"source": "aws.batch"}'],
        USAGE_ERROR,
        ["--pattern", "source"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--pattern", '{"detail": {"arrayProperties": [{"exists": true}]}}'],
        USAGE_ERROR,
        ["--pattern", "detail.arrayProperties"],
    ),
    ("rehearse", ["--stack", "dev", "--events", "/nonexistent.jsonl"], USAGE_ERROR, ["--events", "No such file"]),
    ("rehearse", ["--stack", "dev", "--events", "{tmp}"], USAGE_ERROR, ["--events", "Is a directory"]),
    (
        "rehearse",
        ["--stack", "dev", "--events", "{tmp}/not-events.json"],
        USAGE_ERROR,
        ["--events", "not-events.json:1", "a JSON object"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--events", "{tmp}/no-detail.jsonl"],
        USAGE_ERROR,
        ["--events", "no-detail.jsonl:1", "no detail"],
    ),
    (
        "rehearse",
        ["--stack", "dev", "--size", "7", "--events", "x.jsonl"],
        USAGE_ERROR,
        ["--events", "--size does not apply"],
    ),
    ("rehearse", ["--stack", "dev", "--size", "7", "--dupes", "1"], USAGE_ERROR, ["--dupes", "did you mean"]),
    # compare_rules
    ("compare_rules", [], USAGE_ERROR, ["--stack", "required"]),
    ("compare_rules", ["--stack", "dev", "--failures", "0"], USAGE_ERROR, ["--failures", "1 to 10000"]),
    ("compare_rules", ["--stack", "dev", "--failures", "9"], USAGE_ERROR, ["--failures", "--size (7)"]),
    ("compare_rules", ["--stack", "dev", "--size", "1"], USAGE_ERROR, ["--size", "2 to 10000"]),
    ("compare_rules", ["--stack", "dev", "--pattern", "[]"], USAGE_ERROR, ["--pattern", "JSON object"]),
    ("compare_rules", ["--stack", "attach"], USAGE_ERROR, ["--stack", "one queue", "attach has 2"]),
    # submit: bounds on what reaches AWS
    ("submit", ["--stack", "dev"], USAGE_ERROR, ["--size", "required"]),
    ("submit", ["--size", "7"], USAGE_ERROR, ["--stack", "required"]),
    ("submit", ["--stack", "dev", "--size", "7", "--poll-seconds", "0"], USAGE_ERROR, ["--poll-seconds", "1 to 300"]),
    (
        "submit",
        ["--stack", "dev", "--size", "7", "--poll-seconds", "86400"],
        USAGE_ERROR,
        ["--poll-seconds", "1 to 300", "DescribeJobs"],
    ),
    ("submit", ["--stack", "dev", "--size", "7", "--poll-seconds", "nan"], USAGE_ERROR, ["--poll-seconds", "nan"]),
    ("submit", ["--stack", "dev", "--size", "7", "--poll-seconds", "soon"], USAGE_ERROR, ["--poll-seconds", "'soon'"]),
    (
        "submit",
        ["--stack", "dev", "--size", "7", "--job-name", "my job"],
        USAGE_ERROR,
        ["--job-name", "Batch job name"],
    ),
    ("submit", ["--stack", "dev", "--size", "7", "--job-name", "j" * 129], USAGE_ERROR, ["--job-name", "128"]),
    ("submit", ["--stack", "dev", "--size", "7"], USAGE_ERROR, ["Pulumi CLI", "--queue and --job-definition"]),
    ("submit", ["--stack", "dev", "--size", "7", "--wiat"], USAGE_ERROR, ["--wiat", "did you mean --wait?"]),
    (
        "submit",
        ["--stack", "dev", "--size", "7", "--queue", "q", "--job-definition", "d", "--region", "us-east-1"],
        AWS_UNREACHABLE,
        ["no AWS credentials", "AWS_PROFILE"],
    ),
    # redrive
    ("redrive", [], USAGE_ERROR, ["--stack", "--queue-url and --function"]),
    ("redrive", ["--queue-url", "http://x", "--function", "f"], USAGE_ERROR, ["--queue-url", "not a queue URL"]),
    ("redrive", ["--queue-url", QUEUE_URL], USAGE_ERROR, ["--function"]),
    ("redrive", ["--stack", "dev", "--max", "0"], USAGE_ERROR, ["--max", "1 to 120000"]),
    ("redrive", ["--stack", "dev", "--max", "200000"], USAGE_ERROR, ["--max", "1 to 120000", "in flight"]),
    ("redrive", ["--stack", "dev", "--max", "all"], USAGE_ERROR, ["--max", "whole number"]),
    ("redrive", ["--stack", "dev"], USAGE_ERROR, ["Pulumi CLI", "--queue-url and --function"]),
    ("redrive", ["--stack", "dev", "--dry-rn"], USAGE_ERROR, ["--dry-rn", "did you mean --dry-run?"]),
    ("redrive", ["--stack", "d/e/v/x"], USAGE_ERROR, ["--stack", "not a stack name"]),
    (
        "redrive",
        ["--queue-url", QUEUE_URL, "--function", "notifier"],
        AWS_UNREACHABLE,
        ["no AWS credentials", "AWS_PROFILE"],
    ),
    # preflight
    ("preflight", [], USAGE_ERROR, ["--stack", "required"]),
    ("preflight", ["--stack", "nope"], USAGE_ERROR, ["Pulumi.nope.yaml"]),
    ("preflight", ["--stack", "dev", "--config", "region"], USAGE_ERROR, ["--config", "KEY=VALUE"]),
    ("preflight", ["--stack", "dev", "--config", "batch-array-notify:maxVcpu=8"], USAGE_ERROR, ["maxVcpus"]),
    ("preflight", ["--stack", "dev", "--jsn"], USAGE_ERROR, ["--jsn", "did you mean --json?"]),
    # dashboard_picture: never a tracked file by mistake, never an unreadable one
    ("dashboard_picture", [], USAGE_ERROR, ["--stack", "required"]),
    ("dashboard_picture", ["--stack", "dev", "--output", "dashboard.jpg"], USAGE_ERROR, ["--output", ".png"]),
    ("dashboard_picture", ["--stack", "dev", "--output", "{tmp}/shown.png/"], USAGE_ERROR, ["--output", "folder"]),
    ("dashboard_picture", ["--stack", "dev", "--dashboard", "nope"], USAGE_ERROR, ["--dashboard", "'nope'"]),
    # the tools that take no options refuse what they are given
    ("chat_preview", ["--stack", "dev"], USAGE_ERROR, ["unrecognized arguments: --stack dev"]),
    ("config_table", ["--write"], USAGE_ERROR, ["unrecognized arguments: --write"]),
    ("api_schema", ["--write=yes"], USAGE_ERROR, ["--write", "ignored explicit argument 'yes'"]),
    ("api_schema", ["--wrte"], USAGE_ERROR, ["--wrte", "did you mean --write?"]),
    ("warm_bytecode", ["--jobs", "2"], USAGE_ERROR, ["unrecognized arguments: --jobs 2"]),
]


@pytest.fixture(scope="module")
def mistake_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mistakes")
    (folder / "not-events.json").write_text(json.dumps([{"source": "aws.batch"}]) + "\n")
    (folder / "no-detail.jsonl").write_text(json.dumps({"source": "aws.batch", "detail-type": "x"}) + "\n")
    (folder / "shown.png").mkdir()
    return folder


def test_the_corpus_has_sixty_mistakes_or_more_and_covers_every_tool_a_user_runs():
    tools = {tool for tool, *_ in MISTAKES}

    assert len(MISTAKES) >= 60
    assert tools >= {"plan", "rehearse", "compare_rules", "submit", "redrive", "preflight", "dashboard_picture"}
    assert len({(tool, tuple(argv)) for tool, argv, *_ in MISTAKES}) == len(MISTAKES)


@pytest.mark.usefixtures("offline_tools")
@pytest.mark.parametrize(
    ("tool", "argv", "code", "words"), MISTAKES, ids=[f"{tool} {' '.join(argv)}"[:80] for tool, argv, *_ in MISTAKES]
)
def test_a_mistake_is_one_line_naming_the_option_with_its_exit_code(tool, argv, code, words, mistake_files, capsys):
    arguments = [argument.replace("{tmp}", str(mistake_files)) for argument in argv]
    package = "batch_array_notify.cli" if tool in {command.module for command in COMMANDS.values()} else "tools"
    main = importlib.import_module(f"{package}.{tool}").main
    try:
        exited = main(arguments)
    except SystemExit as exit_:
        exited = exit_.code
    out, err = capsys.readouterr()

    assert (exited, out) == (code, "")
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    assert "Traceback" not in err
    assert [word for word in words if word not in err] == []
