"""The stack-file mistakes corpus: broken copies of a stack file, each refused by `batch-array-notify plan`
with exit code 2 and one line naming the file and line or the key, none with a traceback, none accepted.

Each row runs `batch-array-notify plan` in-process (its `main`, the code a shell runs) on a stack of its own
in one scratch copy of the program; two rows also run as a real subprocess, as printed in the issue. A few
rows are given to the program alone, without the tools' reading of the file, as `pulumi up` would hand them
over."""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from batch_array_notify.cli import plan
from batch_array_notify.stack_checks import StackConfigError
from batch_array_notify.testing.program import ROOT, load_project, run_under_mocks
from batch_array_notify.validation import InvalidArgumentError

P = "batch-array-notify:"
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/render"
TOPIC = "arn:aws:sns:us-east-1:123456789012:done"


def stack(*lines: str, region: str | None = "us-east-1") -> str:
    """A stack file: `aws:region` (unless None) and the given config lines, each `key: value`."""
    head = [f"  aws:region: {region}"] if region else []
    return "config:\n" + "".join(f"{line}\n" for line in head + [f"  {line}" for line in lines])


FARGATE = (f"{P}computeType: FARGATE", f"{P}maxVcpus: 4")

#: (row id, the stack file's text, expected exit code, words the one-line message must contain)
MISTAKES: list[tuple[str, str, int, tuple[str, ...]]] = [
    # The file itself: YAML syntax, shape, duplicate keys, top-level keys
    ("unclosed-bracket", f"config:\n  {P}maxVcpus: [4\n", 2, ("line 3", "starts on line 2", "flow sequence")),
    ("unclosed-brace", f"config:\n  {P}tags: {{a: b\n", 2, ("line 3", "starts on line 2")),
    ("unclosed-quote", f'config:\n  {P}jobImage: "busybox\n', 2, ("line 3", "quoted scalar")),
    ("tab-indent", f"config:\n\t{P}maxVcpus: 4\n", 2, ("line 2", "not tabs")),
    ("mapping-in-value", f"config:\n  {P}jobImage: a: b\n", 2, ("line 2", "mapping values are not allowed")),
    ("bad-indent", f"config:\n  aws:region: us-east-1\n {P}maxVcpus: 4\n", 2, ("line 3",)),
    ("two-documents", "config: {}\n---\nconfig: {}\n", 2, ("line 2", "single document")),
    ("config-as-list", "config:\n  - aws:region: us-east-1\n", 2, ("config: must be a map", "a list")),
    ("config-as-string", "config: us-east-1\n", 2, ("config: must be a map", "a string")),
    ("file-a-string", "just a string\n", 2, ("expected a map with a config: key", "a string")),
    ("file-a-list", "- config\n", 2, ("expected a map with a config: key", "a list")),
    ("file-a-number", "42\n", 2, ("expected a map with a config: key", "int")),
    ("duplicate-key", stack(f"{P}maxVcpus: 4", f"{P}maxVcpus: 8"), 2, ("line 4", "given twice", "line 3")),
    ("duplicate-region", stack("aws:region: eu-west-1"), 2, ("aws:region is given twice",)),
    ("duplicate-top-level", "config: {}\nconfig: {}\n", 2, ("config is given twice",)),
    ("configs-top-level", "configs:\n  aws:region: us-east-1\n", 2, ("configs:", "did you mean config?")),
    ("Config-capitalised", "Config:\n  aws:region: us-east-1\n", 2, ("Config:", "did you mean config?")),
    ("unknown-top-level", stack() + "stack: dev\n", 2, ("stack:", "not a stack file key")),
    ("numeric-config-key", "config:\n  123: x\n", 2, ("config key 123 is not a name",)),
    ("empty-config-key", 'config:\n  "": x\n', 2, ("config key '' is not a name",)),
    # Keys: namespaces, the aws provider's keys, the project's keys
    (
        "namespace-typo",
        stack("batch-array-notfy:maxVcpus: 4"),
        2,
        ("batch-array-notfy", "did you mean batch-array-notify?"),
    ),
    (
        "namespace-no-dashes",
        stack("batcharraynotify:maxVcpus: 4"),
        2,
        ("namespace batcharraynotify", "batch-array-notify"),
    ),
    ("namespace-other-provider", stack("gcp:project: x"), 2, ("gcp:project", "namespace gcp")),
    ("namespace-aws-native", stack("aws-native:region: us-east-1"), 2, ("aws-native:region", "namespace aws-native")),
    ("aws-key-typo", stack("aws:regoin: us-east-1"), 2, ("aws:regoin", "did you mean region?")),
    ("aws-key-case", stack("aws:Profile: dev"), 2, ("aws:Profile", "did you mean profile?")),
    ("aws-key-snake", stack("aws:skip_metadata_api_check: true"), 2, ("aws:skip_metadata_api_check",)),
    ("aws-key-access", stack("aws:acessKey: x"), 2, ("aws:acessKey", "did you mean accessKey?")),
    ("project-key-typo", stack(f"{P}maxVcpu: 4"), 2, (f"{P}maxVcpu", "did you mean maxVcpus?")),
    ("unqualified-key-typo", stack("maxVcpu: 4"), 2, (f"{P}maxVcpu", "did you mean maxVcpus?")),
    ("project-key-case", stack(f"{P}MaxVcpus: 4"), 2, (f"{P}MaxVcpus", "did you mean maxVcpus?")),
    ("project-key-mib", stack(f"{P}jobMemoryMiB: 512"), 2, ("jobMemoryMiB", "did you mean jobMemoryMib?")),
    ("project-key-singular", stack(f"{P}notificationEmail: [a@example.com]"), 2, ("did you mean notificationEmails?",)),
    ("project-key-snake", stack(f"{P}max_vcpus: 4"), 2, (f"{P}max_vcpus",)),
    # Regions
    ("region-mars", stack(region="mars-1"), 2, ("aws:region 'mars-1' is not an AWS region",)),
    ("region-no-such-number", stack(region="us-east-7"), 2, ("us-east-7", "not an AWS region")),
    ("region-no-dash", stack(region="us-east1"), 2, ("us-east1", "did you mean us-east-1?")),
    ("region-capitals", stack(region="US-EAST-1"), 2, ("US-EAST-1", "not an AWS region")),
    ("region-a-zone", stack(region="us-east-1a"), 2, ("us-east-1a", "did you mean us-east-1?")),
    ("region-a-list", stack(region="[us-east-1]"), 2, ("aws:region", "not an AWS region")),
    ("region-missing", stack(f"{P}maxVcpus: 4", region=None), 2, ("aws:region is not set", "AWS_REGION")),
    # ARNs: service, resource, partition, region
    ("topic-not-an-arn", stack(f"{P}existingTopicArn: not-an-arn"), 2, (f"{P}existingTopicArn", "SNS topic ARN")),
    ("topic-bogus", stack(f"{P}existingTopicArn: 'arn:aws:sns:bogus'"), 2, ("existingTopicArn", "SNS topic ARN")),
    (
        "topic-an-sqs-arn",
        stack(f"{P}existingTopicArn: arn:aws:sqs:us-east-1:123456789012:q"),
        2,
        ("existingTopicArn", "this ARN is of sqs"),
    ),
    (
        "topic-other-region",
        stack(f"{P}existingTopicArn: arn:aws:sns:eu-west-1:123456789012:done"),
        2,
        ("existingTopicArn", "expected one in us-east-1, the stack's aws:region"),
    ),
    (
        "topic-wrong-partition",
        stack(f"{P}existingTopicArn: arn:aws-cn:sns:us-east-1:123456789012:done"),
        2,
        ("existingTopicArn", "partition aws"),
    ),
    (
        "topic-no-such-region",
        stack(f"{P}existingTopicArn: arn:aws:sns:mars-1:123456789012:done"),
        2,
        ("existingTopicArn", "mars-1 is not an AWS region"),
    ),
    (
        "topic-short-account",
        stack(f"{P}existingTopicArn: arn:aws:sns:us-east-1:12345:done"),
        2,
        ("existingTopicArn", "SNS topic ARN"),
    ),
    (
        "topic-fifo",
        stack(f"{P}existingTopicArn: arn:aws:sns:us-east-1:123456789012:done.fifo"),
        2,
        ("existingTopicArn", "SNS topic ARN"),
    ),
    (
        "alerts-other-region",
        stack(f"{P}alertsTopicArn: arn:aws:sns:eu-west-1:123456789012:ops"),
        2,
        (f"{P}alertsTopicArn", "us-east-1, the stack's aws:region"),
    ),
    (
        "alerts-a-lambda-arn",
        stack(f"{P}alertsTopicArn: arn:aws:lambda:us-east-1:123456789012:function:f"),
        2,
        ("alertsTopicArn", "this ARN is of lambda"),
    ),
    (
        "queue-other-region",
        stack(f"{P}existingJobQueueArns: [{QUEUE.replace('us-east-1', 'eu-west-1')}]"),
        2,
        (f"{P}existingJobQueueArns[0]", "the stack's aws:region"),
    ),
    (
        "member-queue-of-another-account",
        stack(
            f"{P}memberAccounts: [{{accountId: '111111111111', readRoleArn: 'arn:aws:iam::111111111111:role/r', "
            f"jobQueueArns: [{QUEUE}]}}]"
        ),
        2,
        (f"{P}memberAccounts[0].jobQueueArns[0]", "a queue of account 111111111111", "the entry's accountId"),
    ),
    (
        "member-unknown-key",
        stack(
            f"{P}memberAccounts: [{{accountId: '111111111111', readRoleArn: 'arn:aws:iam::111111111111:role/r', "
            "region: us-east-1}]"
        ),
        2,
        (f"{P}memberAccounts[0].region", "known: accountId, readRoleArn, jobQueueArns, regions"),
    ),
    (
        "member-external-id-bad",
        stack(
            f"{P}memberAccounts: [{{accountId: '111111111111', readRoleArn: 'arn:aws:iam::111111111111:role/r'}}]",
            f"{P}memberExternalId: 'has space'",
        ),
        2,
        (f"{P}memberExternalId", "externalIdType"),
    ),
    (
        "queue-an-sns-arn",
        stack(f"{P}existingJobQueueArns: [{TOPIC}]"),
        2,
        (f"{P}existingJobQueueArns[0]", "Batch ARN"),
    ),
    (
        "definition-with-revision",
        stack(
            f"{P}existingJobQueueArns: [{QUEUE}]",
            f"{P}existingJobDefinitionArnPrefixes: [arn:aws:batch:us-east-1:123456789012:job-definition/d:3]",
        ),
        2,
        ("existingJobDefinitionArnPrefixes[0]", "without its revision"),
    ),
    (
        "definition-without-queues",
        stack(f"{P}existingJobDefinitionArnPrefixes: [arn:aws:batch:us-east-1:123456789012:job-definition/d]"),
        2,
        ("existingJobDefinitionArnPrefixes", "only with existingJobQueueArns"),
    ),
    # EC2 ids and instance types
    ("subnet-xyz", stack(f"{P}subnetIds: [subnet-xyz]"), 2, (f"{P}subnetIds[0]", "subnet- and 8 or 17 hex")),
    ("subnet-underscore", stack(f"{P}subnetIds: [vpc_123]"), 2, (f"{P}subnetIds[0]", "subnet-")),
    (
        "subnet-twice",
        stack(f"{P}subnetIds: [subnet-0123abcd, subnet-0123abcd]"),
        2,
        (f"{P}subnetIds[1]", "already given as batch-array-notify:subnetIds[0]"),
    ),
    ("subnet-not-a-list", stack(f"{P}subnetIds: subnet-0123abcd"), 2, (f"{P}subnetIds", "YAML list")),
    ("subnet-empty-list", stack(f"{P}subnetIds: []"), 2, (f"{P}subnetIds", "non-empty list")),
    ("security-group-xyz", stack(f"{P}securityGroupIds: [sg_1]"), 2, (f"{P}securityGroupIds[0]", "sg- and")),
    (
        "security-group-a-subnet",
        stack(f"{P}securityGroupIds: [subnet-0123abcd]"),
        2,
        (f"{P}securityGroupIds[0]", "sg-"),
    ),
    ("vpc-underscore", stack(f"{P}vpcId: vpc_123"), 2, (f"{P}vpcId", "vpc- and 8 or 17 hex")),
    ("vpc-too-short", stack(f"{P}vpcId: vpc-123"), 2, (f"{P}vpcId", "vpc-")),
    ("instance-banana", stack(f"{P}instanceTypes: [banana.huge]"), 2, (f"{P}instanceTypes[0]", "banana.huge")),
    ("instance-typo", stack(f"{P}instanceTypes: [c6i.larg]"), 2, ("instanceTypes[0]", "did you mean c6i.large?")),
    ("instance-second", stack(f"{P}instanceTypes: [m6i, x9z]"), 2, (f"{P}instanceTypes[1]", "x9z")),
    ("instance-twice", stack(f"{P}instanceTypes: [optimal, optimal]"), 2, (f"{P}instanceTypes", "at most once")),
    ("instance-not-a-list", stack(f"{P}instanceTypes: c6i.large"), 2, (f"{P}instanceTypes", "YAML list")),
    ("instance-on-fargate", stack(*FARGATE, f"{P}instanceTypes: [c6i]"), 2, ("instanceTypes", "only for EC2")),
    # E-mail addresses
    (
        "email-twice",
        stack(f"{P}notificationEmails: [a@example.com, a@example.com]"),
        2,
        (f"{P}notificationEmails[1]", "already given"),
    ),
    (
        "email-twice-other-case",
        stack(f"{P}notificationEmails: [a@example.com, A@Example.com]"),
        2,
        (f"{P}notificationEmails[1]", "already given"),
    ),
    (
        "email-in-both-lists",
        stack(f"{P}notificationEmails: [a@example.com]", f"{P}failureEmails: [a@example.com]"),
        2,
        (f"{P}failureEmails[0]", "already given as batch-array-notify:notificationEmails[0]"),
    ),
    ("email-not-an-address", stack(f"{P}failureEmails: [oncall]"), 2, (f"{P}failureEmails[0]", "e-mail address")),
    # Each job fits its compute
    ("job-above-max-vcpus", stack(f"{P}maxVcpus: 4", f"{P}jobVcpus: 16"), 2, (f"{P}jobVcpus", f"{P}maxVcpus (4)")),
    ("job-above-default-max", stack(f"{P}jobVcpus: 32"), 2, (f"{P}jobVcpus", f"{P}maxVcpus (16)")),
    (
        "fargate-job-above-max",
        stack(*FARGATE, f"{P}jobVcpus: 16", f"{P}jobMemoryMib: 32768"),
        2,
        (f"{P}jobVcpus", f"{P}maxVcpus (4)"),
    ),
    ("fargate-vcpus", stack(*FARGATE, f"{P}jobVcpus: 3"), 2, (f"{P}jobVcpus", "allowed: 0.25, 0.5")),
    (
        "fargate-memory",
        stack(*FARGATE, f"{P}jobVcpus: 0.25", f"{P}jobMemoryMib: 4096"),
        2,
        (f"{P}jobMemoryMib", "Fargate with 0.25 vCPU"),
    ),
    ("ec2-fraction", stack(f"{P}jobVcpus: 0.5"), 2, (f"{P}jobVcpus", "whole number of vCPUs")),
    ("vcpus-a-word", stack(f"{P}jobVcpus: banana"), 2, (f"{P}jobVcpus", "expected a number")),
    ("max-vcpus-a-word", stack(f"{P}maxVcpus: four"), 2, (f"{P}maxVcpus", "whole number")),
    ("max-vcpus-zero", stack(f"{P}maxVcpus: 0"), 2, (f"{P}maxVcpus", "expected 1 to 10000")),
    ("min-above-max", stack(f"{P}minVcpus: 8", f"{P}maxVcpus: 4"), 2, (f"{P}minVcpus", "must not exceed")),
    ("memory-tiny", stack(f"{P}jobMemoryMib: 2"), 2, (f"{P}jobMemoryMib", "expected >= 4")),
    # Other values, one per kind of rule
    ("compute-lambda", stack(f"{P}computeType: LAMBDA"), 2, (f"{P}computeType", "EC2, SPOT, FARGATE")),
    ("compute-lowercase", stack(f"{P}computeType: fargate"), 2, (f"{P}computeType", "FARGATE_SPOT")),
    ("spot-best-fit", stack(f"{P}computeType: SPOT", f"{P}allocationStrategy: BEST_FIT"), 2, ("allocationStrategy",)),
    ("public-ip-yes", stack(f"{P}assignPublicIp: maybe"), 2, (f"{P}assignPublicIp", "true or false")),
    ("status-running", stack(f"{P}notifyStatuses: [RUNNING]"), 2, (f"{P}notifyStatuses", "SUCCEEDED, FAILED")),
    ("retries-186", stack(f"{P}ruleRetryAttempts: 186"), 2, (f"{P}ruleRetryAttempts", "0 to 185")),
    ("job-retries-11", stack(f"{P}jobRetryAttempts: 11"), 2, (f"{P}jobRetryAttempts", "1 to 10")),
    ("tag-without-value", stack(f"{P}tags: [stage]"), 2, (f"{P}tags", "NAME=value")),
    ("tag-twice", stack(f"{P}tags: [a=1, a=2]"), 2, (f"{P}tags", "a is given twice")),
    ("env-reserved", stack(f"{P}jobEnvironment: [AWS_BATCH_X=1]"), 2, ("jobEnvironment", "AWS_BATCH")),
    ("retention-10", stack(f"{P}jobLogRetentionDays: 10"), 2, (f"{P}jobLogRetentionDays", "allowed: 1, 3, 5")),
    ("kms-window-3", stack(f"{P}kmsKeyDeletionWindowDays: 3"), 2, (f"{P}kmsKeyDeletionWindowDays", "7 to 30")),
    ("stuck-reasons-empty", stack(f"{P}stuckJobReasons: []"), 2, (f"{P}stuckJobReasons", "at least one item")),
    ("slack-alone", stack(f"{P}slackWorkspaceId: T07EA123LEP"), 2, ("slackWorkspaceId", "slackChannelId")),
    ("sweep-every-3", stack(f"{P}reconcileEveryMinutes: 3"), 2, (f"{P}reconcileEveryMinutes", "0 (off)")),
]


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the program: its Pulumi.yaml and __main__.py, and a stack file per row."""
    folder = tmp_path_factory.mktemp("program")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, folder / name)
    return folder


def plan_of(
    program: Path, stack_name: str, capsys: pytest.CaptureFixture[str], text: str | None = None
) -> tuple[int, str]:
    """`tools.plan --stack <stack_name> --program <program>` (with `text` as its stack file, if given):
    its exit code and stderr."""
    if text is not None:
        (program / f"Pulumi.{stack_name}.yaml").write_text(text)
    try:
        code = plan.main(["--stack", stack_name, "--program", str(program)])
    except SystemExit as exited:
        code = int(exited.code or 0)
    captured = capsys.readouterr()
    assert code != 0 or captured.err == "", captured.err
    return code, captured.err


def test_the_corpus_is_large_and_every_row_is_distinct():
    assert len(MISTAKES) >= 80
    assert len({row[0] for row in MISTAKES}) == len(MISTAKES)
    assert len({row[1] for row in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize(("name", "text", "code", "words"), MISTAKES, ids=[row[0] for row in MISTAKES])
def test_each_mistake_is_one_line_exit_2_naming_it(name, text, code, words, program, capsys, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    stack_name = "m" + str(MISTAKES.index((name, text, code, words)))

    exit_code, stderr = plan_of(program, stack_name, capsys, text)

    assert exit_code == code, f"accepted silently: {text!r}"
    assert stderr.startswith("error: "), stderr
    assert stderr.endswith("\n"), stderr
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr


def test_the_harness_accepts_a_good_stack(stage_plans, capsys):
    """`plan_of` does report success (so each refusal above is its row's mistake): the dev stack, whose
    plan the session has made already (`stage_plans`), so this costs no second plan."""
    assert "dev" in stage_plans
    exit_code, stderr = plan_of(ROOT, "dev", capsys)

    assert (exit_code, stderr) == (0, "")


def test_an_override_is_checked_like_the_file(capsys):
    """The issue's `tools.plan --stack dev --config batch-array-notify:existingTopicArn=not-an-arn`."""
    with pytest.raises(SystemExit) as exited:
        plan.main(["--stack", "dev", "--config", f"{P}existingTopicArn=not-an-arn"])

    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: {P}existingTopicArn: 'not-an-arn' is not allowed; "
        "expected an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>\n"
    )


#: Mistakes the Pulumi CLI would hand to the program as config (it reads the file itself under `pulumi up`):
#: the program must refuse them with the same words, without the tools' reading of the file.
PROGRAM_ROWS = {
    "namespace-typo": ({"batch-array-notfy:maxVcpus": "4"}, "did you mean batch-array-notify?"),
    "aws-key-typo": ({"aws:regoin": "us-east-1"}, "did you mean region?"),
    "region-mars": ({"aws:region": "mars-1"}, "not an AWS region"),
    "project-key-typo": ({f"{P}maxVcpu": "4"}, "did you mean maxVcpus?"),
    "topic-not-an-arn": ({f"{P}existingTopicArn": "not-an-arn"}, "SNS topic ARN"),
    "topic-other-region": ({f"{P}existingTopicArn": TOPIC.replace("us-east-1", "eu-west-1")}, "us-east-1"),
}


@pytest.mark.parametrize(("row", "expected"), PROGRAM_ROWS.items(), ids=list(PROGRAM_ROWS))
def test_the_program_refuses_what_the_cli_would_hand_it(row, expected):
    extra, words = expected
    config = {"aws:region": "us-east-1", **extra}
    errors: list[Exception] = []

    def program() -> None:
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        except (InvalidArgumentError, StackConfigError) as error:
            errors.append(error)

    run_under_mocks(program, str(load_project(ROOT)["name"]), "dev", config)

    assert errors, f"{row}: the program accepted {extra}"
    assert words in str(errors[0])
    assert "\n" not in str(errors[0])


def test_the_program_refuses_a_stack_file_key_the_cli_ignores(program):
    """`configs:` is ignored by the CLI, which hands the program nothing: the program reads its stack file."""
    (program / "Pulumi.ignored.yaml").write_text("configs:\n  aws:region: us-east-1\n")

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    with pytest.raises(StackConfigError, match=r"Pulumi\.ignored\.yaml: configs: .*did you mean config\?"):
        run_under_mocks(run, str(load_project(ROOT)["name"]), "ignored", {"aws:region": "us-east-1"})


def test_the_issues_reproduction_prints_the_file_and_line(tmp_path):
    """The malformed file of the issue, as a shell runs `batch-array-notify plan` on it (in a scratch program)."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.x.yaml").write_text(f"config:\n  {P}maxVcpus: [4\n")
    command = [sys.executable, "-m", "tools.plan", "--stack", "x", "--program", str(tmp_path)]

    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: Pulumi.x.yaml line 3, column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence that starts on line 2, column 32) (fix the YAML there)\n"
    )


#: Rows whose message docs/configuration.md shows, for a `Pulumi.dev.yaml` with that mistake.
DOCUMENTED = [
    "unclosed-bracket",
    "duplicate-key",
    "configs-top-level",
    "namespace-typo",
    "aws-key-typo",
    "region-mars",
    "region-missing",
    "topic-other-region",
    "subnet-xyz",
    "instance-typo",
    "email-in-both-lists",
    "job-above-max-vcpus",
]


def test_the_configuration_docs_show_the_messages_as_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    docs = (ROOT / "docs" / "configuration.md").read_text()
    block = docs.split("tests/unit/test_stack_file_mistakes.py has over 80):\n\n```text\n", 1)[1].split("```")[0]
    texts = {row[0]: row[1] for row in MISTAKES}

    printed = [plan_of(tmp_path, "dev", capsys, texts[name])[1] for name in DOCUMENTED]

    assert "".join(printed) == block


#: Mistakes in Pulumi.yaml's config declarations: (row id, the change to Pulumi.yaml, words of the message).
PROJECT_MISTAKES = [
    ("unknown-field", ("    default: 16\n", "    defualt: 16\n"), ("config maxVcpus has unknown field defualt",)),
    ("unknown-type", ("    type: integer\n", "    type: int\n"), ("has type int", "integer")),
    ("default-of-wrong-type", ("    default: 16\n", "    default: sixteen\n"), ("maxVcpus has a default of a string",)),
    ("duplicate-declaration", ("config:\n", "config:\n  maxVcpus:\n    type: integer\n"), ("maxVcpus is given twice",)),
    ("not-a-map", ("name: batch-array-notify\n", "- name: batch-array-notify\n"), ("Pulumi.yaml",)),
]


@pytest.mark.parametrize(("name", "change", "words"), PROJECT_MISTAKES, ids=[row[0] for row in PROJECT_MISTAKES])
def test_each_mistake_in_the_project_file_is_one_line_exit_2(name, change, words, tmp_path, capsys):
    project = (ROOT / "Pulumi.yaml").read_text()
    assert change[0] in project
    (tmp_path / "Pulumi.yaml").write_text(project.replace(change[0], change[1], 1))
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")

    exit_code, stderr = plan_of(tmp_path, "p", capsys, stack())

    assert exit_code == 2
    assert stderr.startswith("error: Pulumi.yaml"), stderr
    assert stderr.count("\n") == 1, stderr
    for word in words:
        assert word in stderr, stderr
