"""One invalid config per rule, through the real program: each names the config key and the value,
and the program declares no resource at all (validation runs before the component registers)."""

import runpy
from pathlib import Path

import pytest

from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.testing.program import Plan, load_project, run_under_mocks, stack_config
from batch_array_notify.validation import InvalidArgumentError
from tests.support import run_tool

ROOT = Path(__file__).resolve().parents[2]
P = "batch-array-notify:"

#: (stage, overrides, the config key the error must name, a fragment of what it says is allowed)
INVALID = [
    ("dev", {"ruleRetryAttempts": "186"}, "ruleRetryAttempts", "expected 0 to 185"),
    ("dev", {"ruleRetryAttempts": "many"}, "ruleRetryAttempts", "expected a whole number"),
    ("dev", {"ruleMaxEventAgeSeconds": "59"}, "ruleMaxEventAgeSeconds", "expected 60 to 86400"),
    ("dev", {"notifierMaxRetries": "3"}, "notifierMaxRetries", "expected 0 to 2"),
    ("dev", {"notifierMaxEventAgeSeconds": "21601"}, "notifierMaxEventAgeSeconds", "expected 60 to 21600"),
    ("dev", {"deadLetterRetentionSeconds": "30"}, "deadLetterRetentionSeconds", "expected 60 to 1209600"),
    (
        "dev",
        {"deadLetterRetentionSeconds": "1800"},
        "deadLetterRetentionSeconds",
        f"at least {P}notifierMaxEventAgeSeconds",
    ),
    ("dev", {"alertsTopicArn": "arn:aws:sqs:us-east-1:123456789012:ops"}, "alertsTopicArn", "SNS topic ARN"),
    ("dev", {"stuckJobCancelAfterSeconds": "300"}, "stuckJobCancelAfterSeconds", "expected 600 to 86400"),
    ("dev", {"stuckJobReasons": '["ACTION_REQUIRED"]'}, "stuckJobReasons", "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY"),
    ("dev", {"stuckJobReasons": "[]"}, "stuckJobReasons", "at least one item"),
    ("prod", {"minVcpus": "300"}, "minVcpus", f"must not exceed {P}maxVcpus (256)"),
    ("dev", {"kmsKeyDeletionWindowDays": "3"}, "kmsKeyDeletionWindowDays", "expected 7 to 30"),
    ("prod", {"minVcpus": "8", "maxVcpus": "4"}, "minVcpus", f"must not exceed {P}maxVcpus (4)"),
    ("dev", {"instanceTypes": '["c6i"]'}, "instanceTypes", "only for EC2 or SPOT"),
    ("dev", {"notifyStatuses": '["RUNNING"]'}, "notifyStatuses", "SUCCEEDED, FAILED"),
    ("dev", {"jobLogRetentionDays": "10"}, "jobLogRetentionDays", "allowed: 1, 3, 5, 7, 14"),
    ("dev", {"notificationEmails": '["not-an-email"]'}, "notificationEmails[0]", "e-mail address"),
    ("dev", {"jobMemoryMib": "3000"}, "jobMemoryMib", "Fargate with 0.25 vCPU"),
    ("dev", {"notifierArchitecture": "sparc"}, "notifierArchitecture", "arm64, x86_64"),
    ("dev", {"notifierRuntime": "python3.9"}, "notifierRuntime", "python3.12, python3.13"),
    ("dev", {"powertoolsLayerVersion": "0"}, "powertoolsLayerVersion", "expected 1 to 1000"),
    ("dev", {"reconcileEveryMinutes": "3"}, "reconcileEveryMinutes", "expected 0 (off) or 5 to 1440"),
    ("dev", {"reconcileEveryMinutes": "1441"}, "reconcileEveryMinutes", "expected 0 to 1440"),
    ("dev", {"reconcileEveryMinutes": "-1"}, "reconcileEveryMinutes", "expected 0 to 1440"),
    ("attach", {"reconcileLookbackHours": "169"}, "reconcileLookbackHours", "expected 1 to 168"),
    ("dev", {"reconcileLookbackHours": "0"}, "reconcileLookbackHours", "expected 1 to 168"),
    # Consecutive sweeps must leave no gap: the lookback covers the interval.
    (
        "dev",
        {"reconcileEveryMinutes": "1440", "reconcileLookbackHours": "1"},
        "reconcileLookbackHours",
        f"must cover {P}reconcileEveryMinutes (1440 minutes, 24 h at least)",
    ),
    (
        "dev",
        {"reconcileEveryMinutes": "61", "reconcileLookbackHours": "1"},
        "reconcileLookbackHours",
        f"must cover {P}reconcileEveryMinutes (61 minutes, 2 h at least)",
    ),
    # prod's grace period is 86400 + 21600 + 900 s: the oldest stop examined must be within 7 days.
    ("prod", {"reconcileLookbackHours": "138"}, "reconcileLookbackHours", "at most 137 with this grace period"),
    ("dev", {"reconcileMaxArrayRuntimeHours": "169"}, "reconcileMaxArrayRuntimeHours", "expected 0 to 168"),
]


def attempt(stage: str, overrides: dict[str, str]) -> tuple[InvalidArgumentError | None, Plan]:
    """Run the program; keep its validation error so the plan (every registration made) is returned too."""
    errors: list[InvalidArgumentError] = []

    def program() -> None:
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__")
        except InvalidArgumentError as error:
            errors.append(error)

    config = stack_config(ROOT, stage, {P + key: value for key, value in overrides.items()})
    plan = run_under_mocks(program, str(load_project(ROOT)["name"]), stage, config)
    return (errors[0] if errors else None), plan


@pytest.mark.parametrize(("stage", "overrides", "key", "allowed"), INVALID, ids=[f"{c[2]}={c[1]}" for c in INVALID])
def test_invalid_config_names_its_key_and_declares_nothing(stage, overrides, key, allowed):
    error, plan = attempt(stage, overrides)
    assert error is not None, "the program accepted it"
    assert error.key == P + key
    message = str(error)
    assert message.startswith(f"{P}{key}")
    assert allowed in message
    assert plan.resources == [], [r.type for r in plan.resources]


def test_the_valid_stages_declare_resources():
    """The same harness does record resources when the config is valid (the emptiness above means something)."""
    error, plan = attempt("dev", {})
    assert error is None
    assert len(plan.resources) > 20


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("stuckJobCancelAfterSeconds=90000", "stuckJobCancelAfterSeconds"),
        ("notifierMaxRetries=-1", "notifierMaxRetries"),
    ],
)
def test_plan_cli_exits_2_with_the_key_on_stderr_and_nothing_on_stdout(override, key):
    result = run_tool(plan_main, "--stack", "prod", "--config", P + override)
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert f"{P}{key}" in result.stderr


@pytest.mark.parametrize(
    ("every", "lookback", "accepted"), [("60", "1", True), ("1440", "24", True), ("1440", "23", False)]
)
def test_a_window_leaving_a_gap_exits_2_in_one_line_naming_both_keys(every, lookback, accepted):
    result = run_tool(
        plan_main,
        "--stack",
        "dev",
        "--config",
        f"{P}reconcileEveryMinutes={every}",
        "--config",
        f"{P}reconcileLookbackHours={lookback}",
    )

    if accepted:
        assert (result.code, result.stderr) == (0, ""), result.stderr
        return
    assert result.code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {P}reconcileLookbackHours: {lookback} is not allowed; must cover ")
    assert f"{P}reconcileEveryMinutes ({every} minutes" in line


def test_the_longest_lookback_with_prods_grace_period_is_accepted():
    error, plan = attempt("prod", {"reconcileLookbackHours": "137"})

    assert error is None
    assert plan.resources


def test_the_error_the_configuration_docs_show_is_the_programs():
    """docs/configuration.md shows one refusal as `batch-array-notify plan` prints it (`error: ` and the message)."""
    error, _ = attempt("dev", {"jobMemoryMib": "3000"})

    assert error is not None
    assert f"```text\nerror: {error}\n```" in (ROOT / "docs" / "configuration.md").read_text()
