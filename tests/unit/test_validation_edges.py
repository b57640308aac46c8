"""validation.resolve_args at the edges of every rule: the last value accepted and the first rejected,
each rejection naming its key and saying what is allowed, never a traceback.

The limits are written out here from the AWS documentation (Batch ResourceRequirement for Fargate
sizes, CreateComputeEnvironment for allocation strategies, the tagging rules, Lambda and EventBridge
quotas), not imported from `validation.py`, so a wrong table in the code fails these tests.
Pure calls: no mocks, no Pulumi engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch_array_notify import BatchArrayPipelineArgs, InvalidArgumentError
from batch_array_notify.args import DEFAULTS
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.notifier import POWERTOOLS_VERSION
from batch_array_notify.validation import ResolvedArgs, check_batch_arns_are_local, resolve_args, resolve_notifier_args


def rejected(args: dict[str, Any]) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as error:
        resolve_args(BatchArrayPipelineArgs(**args))  # type: ignore[typeddict-item]
    return error.value


def resolved(args: dict[str, Any]) -> ResolvedArgs:
    return resolve_args(BatchArrayPipelineArgs(**args))  # type: ignore[typeddict-item]


def refusal(args: dict[str, Any]) -> InvalidArgumentError | None:
    """The error, or None if `args` are valid; any other exception propagates (and fails the test)."""
    try:
        resolved(args)
    except InvalidArgumentError as error:
        return error
    return None


# --------------------------------------------------------------------------------------------------
# Fargate task sizes: every vCPU row at its lowest, highest and one-off memory

#: vCPU -> (lowest MiB, highest MiB, step MiB), from the Batch ResourceRequirement documentation.
FARGATE_ROWS = {
    0.5: (1024, 4096, 1024),
    1: (2048, 8192, 1024),
    2: (4096, 16384, 1024),
    4: (8192, 30720, 1024),
    8: (16384, 61440, 4096),
    16: (32768, 122880, 8192),
}


def _fargate(vcpus: float, memory: int, compute_type: str = "FARGATE") -> dict[str, Any]:
    return {"compute_type": compute_type, "job_vcpus": vcpus, "job_memory_mib": memory}


@pytest.mark.parametrize("compute_type", ["FARGATE", "FARGATE_SPOT"])
@pytest.mark.parametrize(("vcpus", "row"), FARGATE_ROWS.items())
def test_each_fargate_row_accepts_its_lowest_and_highest_memory(compute_type, vcpus, row):
    low, high, step = row
    for memory in (low, low + step, high):
        job = resolved(_fargate(vcpus, memory, compute_type)).job
        assert (job.vcpus, job.memory_mib) == (vcpus, memory)


@pytest.mark.parametrize(("vcpus", "row"), FARGATE_ROWS.items())
def test_each_fargate_row_rejects_one_step_outside_and_off_step_memory(vcpus, row):
    low, high, step = row
    for memory in (low - 1, high + 1, low + 1, high - 1, high + step):
        error = rejected(_fargate(vcpus, memory))
        assert (error.key, error.value) == ("job_memory_mib", memory)
        assert error.allowed == f"Fargate with {vcpus:g} vCPU accepts {low} to {high} in steps of {step} MiB"


def test_the_quarter_vcpu_row_takes_exactly_512_1024_and_2048():
    for memory in (512, 1024, 2048):
        assert resolved(_fargate(0.25, memory)).job.memory_mib == memory
    for memory in (256, 511, 513, 1536, 3072, 4096):
        error = rejected(_fargate(0.25, memory))
        assert error.key == "job_memory_mib"
        # Not a range with a step: 1536 lies between but is not a Fargate size.
        assert error.allowed == "Fargate with 0.25 vCPU accepts 512, 1024 or 2048 MiB"


@pytest.mark.parametrize("vcpus", [0.125, 0.3, 3, 32, 0])
def test_fargate_rejects_a_vcpu_count_it_has_no_row_for(vcpus):
    error = rejected(_fargate(vcpus, 2048))

    assert error.key == "job_vcpus"
    assert error.allowed == "allowed: 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0"


@pytest.mark.parametrize("vcpus", [1, 2.0, 96])
def test_ec2_takes_whole_vcpus(vcpus):
    assert resolved({"job_vcpus": vcpus, "max_vcpus": 96}).job.vcpus == vcpus


@pytest.mark.parametrize("vcpus", [0, 0.5, 1.5, -1, math.nan, math.inf, -math.inf])
def test_ec2_rejects_fractional_zero_and_non_finite_vcpus(vcpus):
    error = rejected({"job_vcpus": vcpus})

    assert error.key == "job_vcpus"
    assert error.allowed == "EC2 and Spot jobs take a whole number of vCPUs, at least 1"


@pytest.mark.parametrize("vcpus", ["1", True, [1], {}])
def test_vcpus_must_be_a_number(vcpus):
    error = rejected({"job_vcpus": vcpus})

    assert (error.key, error.allowed) == ("job_vcpus", "expected a number")


def test_memory_is_at_least_4_mib_whatever_the_compute():
    assert resolved({"job_memory_mib": 4}).job.memory_mib == 4
    error = rejected({"job_memory_mib": 3})
    assert (error.key, error.allowed) == ("job_memory_mib", "expected >= 4")


# --------------------------------------------------------------------------------------------------
# Allocation strategies, by name

#: compute type -> (accepted, rejected). BEST_FIT on Spot needs a Spot Fleet role the component does
#: not create; the SPOT_* strategies exist for Spot only (CreateComputeEnvironment).
STRATEGIES = {
    "EC2": (("BEST_FIT", "BEST_FIT_PROGRESSIVE"), ("SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED")),
    "SPOT": (("BEST_FIT_PROGRESSIVE", "SPOT_CAPACITY_OPTIMIZED", "SPOT_PRICE_CAPACITY_OPTIMIZED"), ("BEST_FIT",)),
}


@pytest.mark.parametrize("compute_type", STRATEGIES)
def test_each_allocation_strategy_by_name(compute_type):
    accepted, refused = STRATEGIES[compute_type]
    for strategy in accepted:
        (environment,) = resolved({"compute_type": compute_type, "allocation_strategy": strategy}).compute_environments
        assert environment.allocation_strategy == strategy
    for strategy in (*refused, "CHEAPEST", "best_fit"):
        error = rejected({"compute_type": compute_type, "allocation_strategy": strategy})
        assert (error.key, error.value) == ("allocation_strategy", strategy)
        assert error.allowed == f"allowed: {', '.join(accepted)}"


@pytest.mark.parametrize(
    ("compute_type", "strategy"),
    [("EC2", "BEST_FIT_PROGRESSIVE"), ("SPOT", "SPOT_PRICE_CAPACITY_OPTIMIZED"), ("FARGATE", None)],
)
def test_the_default_allocation_strategy_per_compute_type(compute_type, strategy):
    (environment,) = resolved({"compute_type": compute_type}).compute_environments

    assert environment.allocation_strategy == strategy


@pytest.mark.parametrize("compute_type", ["FARGATE", "FARGATE_SPOT"])
def test_fargate_takes_no_allocation_strategy(compute_type):
    error = rejected({"compute_type": compute_type, "allocation_strategy": "BEST_FIT_PROGRESSIVE"})

    assert (error.key, error.allowed) == ("allocation_strategy", "only for EC2 or SPOT compute")


# --------------------------------------------------------------------------------------------------
# The job's environment and image


def test_job_environment_takes_shell_names_and_string_values():
    environment = {"COLOR": "red", "_private": "", "AWS_REGION_HINT": "eu-west-1", "A1": "x=y"}

    assert resolved({"job_environment": environment}).job.environment == environment


@pytest.mark.parametrize(
    "name",
    [
        "AWS_BATCH_JOB_ARRAY_INDEX",  # set by Batch itself
        "AWS_BATCH",
        "AWS_BATCHED",
        "1ST",
        "A-B",
        "A B",
        "A=B",
        "",
        "ÄPFEL",
    ],
)
def test_job_environment_rejects_reserved_and_invalid_names(name):
    error = rejected({"job_environment": {name: "x"}})

    assert error.key == f"job_environment.{name}"
    assert (
        error.allowed == "expected NAME=value with a shell-style NAME not starting with AWS_BATCH (reserved by Batch)"
    )


@pytest.mark.parametrize("value", [1, 1.5, True, None, ["x"], {"a": "b"}])
def test_job_environment_rejects_values_that_are_not_strings(value):
    error = rejected({"job_environment": {"COLOR": value}})

    assert (error.key, error.value) == ("job_environment.COLOR", value)


@pytest.mark.parametrize("environment", [["COLOR=red"], "COLOR=red", 7])
def test_job_environment_must_be_a_map(environment):
    error = rejected({"job_environment": environment})

    assert (error.key, error.allowed) == ("job_environment", "expected a map of strings to strings")


@pytest.mark.parametrize("image", [42, ["busybox"], {"image": "busybox"}, True, "", "   "])
def test_a_job_image_that_is_not_a_reference_is_rejected(image):
    error = rejected({"job_image": image})

    assert (error.key, error.value, error.allowed) == ("job_image", image, "expected an image reference")


# --------------------------------------------------------------------------------------------------
# Tags

TAG_RULE = "expected tag keys of 1-128 characters not starting with aws: and string values"


def test_tags_at_their_limits_are_accepted():
    tags = {"k" * 128: "v" * 256, "k": "v", "awsome": "", "team:aws:x": "y"}
    tags.update({f"t{n}": "v" for n in range(45 - len(tags))})

    assert resolved({"tags": tags}).tags == tags


@pytest.mark.parametrize("key", ["aws:owner", "AWS:Owner", "Aws:cost", "aws:", "k" * 129, ""])
def test_reserved_too_long_and_empty_tag_keys_are_rejected(key):
    error = rejected({"tags": {key: "x"}})

    assert (error.key, error.allowed) == (f"tags.{key}", TAG_RULE)


@pytest.mark.parametrize("value", [1, None, ["x"], True])
def test_tag_values_must_be_strings(value):
    assert rejected({"tags": {"team": value}}).key == "tags.team"


def test_tag_values_are_at_most_256_characters():
    error = rejected({"tags": {"team": "v" * 257}})

    assert (error.key, error.allowed) == ("tags.team", "tag values are at most 256 characters")


def test_at_most_45_tags():
    error = rejected({"tags": {f"t{n}": "v" for n in range(46)}})

    assert (error.key, error.value, error.allowed) == ("tags", "46 tags", "at most 45")


# --------------------------------------------------------------------------------------------------
# Whole-number settings: the last accepted and the first rejected value on each side

#: argument -> (lowest, highest or None, where the resolved value is), from the AWS quotas.
WHOLE_NUMBERS: dict[str, tuple[int, int | None, Callable[[ResolvedArgs], int]]] = {
    "max_vcpus": (1, 10_000, lambda r: r.compute_environments[0].max_vcpus),
    "job_retry_attempts": (1, 10, lambda r: r.job.retry_attempts),
    "job_attempt_timeout_seconds": (60, None, lambda r: r.job.attempt_timeout_seconds),
    "powertools_layer_version": (1, 1000, lambda r: r.notifier.powertools_layer_version),
    "max_failed_details": (1, 100, lambda r: r.notifier.max_failed_details),
    "failed_log_children": (0, 10, lambda r: r.notifier.failed_log_children),
    "failed_log_lines": (0, 100, lambda r: r.notifier.failed_log_lines),
    "rule_retry_attempts": (0, 185, lambda r: r.reliability.rule_retry_attempts),
    "rule_max_event_age_seconds": (60, 86_400, lambda r: r.reliability.rule_max_event_age_seconds),
    "notifier_max_retries": (0, 2, lambda r: r.reliability.notifier_max_retries),
    "notifier_max_event_age_seconds": (60, 21_600, lambda r: r.reliability.notifier_max_event_age_seconds),
    "dead_letter_retention_seconds": (21_600, 1_209_600, lambda r: r.reliability.dead_letter_retention_seconds),
    "stuck_job_cancel_after_seconds": (600, 86_400, lambda r: r.reliability.stuck_job_cancel_after_seconds),
    "kms_key_deletion_window_days": (7, 30, lambda r: r.reliability.kms_key_deletion_window_days),
    "reconcile_batch_calls_per_second": (1, 50, lambda r: r.reconcile.batch_calls_per_second if r.reconcile else 0),
}


@pytest.mark.parametrize("key", WHOLE_NUMBERS)
def test_whole_number_settings_at_their_bounds(key):
    low, high, read = WHOLE_NUMBERS[key]
    for value in (low, high) if high is not None else (low, 10**9):
        assert read(resolved({key: value})) == value
    # dead_letter_retention_seconds' own floor is 60; with the default event age its floor is 21600.
    floor = 60 if key == "dead_letter_retention_seconds" else low
    stated = f"expected {floor} to {high}" if high is not None else f"expected >= {floor}"
    for value in (floor - 1, *(() if high is None else (high + 1,))):
        error = rejected({key: value})
        assert (error.key, error.value, error.allowed) == (key, value, stated)


@pytest.mark.parametrize("key", WHOLE_NUMBERS)
@pytest.mark.parametrize("value", ["5", 5.0, True])
def test_whole_number_settings_reject_other_types(key, value):
    error = rejected({key: value})

    assert (error.key, error.allowed) == (key, "expected a whole number")


def test_min_vcpus_from_zero_to_max_vcpus():
    assert resolved({"min_vcpus": 0}).compute_environments[0].min_vcpus == 0
    assert resolved({"min_vcpus": 16, "max_vcpus": 16}).compute_environments[0].min_vcpus == 16
    error = rejected({"min_vcpus": -1})
    assert (error.key, error.allowed) == ("min_vcpus", "expected 0 to 10000")
    error = rejected({"compute_environments": [{"compute_type": "EC2", "min_vcpus": -1}]})
    assert (error.key, error.allowed) == ("compute_environments[0].min_vcpus", "expected 0 to 10000")
    error = rejected({"min_vcpus": 17, "max_vcpus": 16})
    assert (error.key, error.allowed) == ("min_vcpus", "must not exceed max_vcpus (16)")


def test_the_failure_queues_outlive_the_notifiers_event_age():
    settings_ = resolved({"notifier_max_event_age_seconds": 600, "dead_letter_retention_seconds": 600}).reliability
    assert settings_.dead_letter_retention_seconds == 600
    error = rejected({"notifier_max_event_age_seconds": 600, "dead_letter_retention_seconds": 599})
    assert (error.key, error.allowed) == (
        "dead_letter_retention_seconds",
        "must be at least notifier_max_event_age_seconds (600)",
    )


# --------------------------------------------------------------------------------------------------
# Nothing but InvalidArgumentError, whatever a caller passes

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(BatchArrayPipelineArgs.__annotations__)), value=JSON_VALUES)
def test_any_value_of_any_argument_is_accepted_or_rejected_by_name(key, value):
    error = refusal({key: value})
    if error is not None:
        # The key named is the argument itself, one of its fields or entries, or a flat key it conflicts with.
        assert error.key.split(".")[0].split("[")[0] in BatchArrayPipelineArgs.__annotations__
        assert error.allowed


# --------------------------------------------------------------------------------------------------
# The same rules through the stack program and `batch-array-notify plan`: exit 2, one line, the config key

P = "batch-array-notify:"


@pytest.mark.parametrize(
    ("stack", "overrides", "key"),
    [
        ("prod", ['jobEnvironment=["AWS_BATCH_JOB_ID=7"]'], "jobEnvironment.AWS_BATCH_JOB_ID"),
        ("prod", ['jobEnvironment=["1ST=x"]'], "jobEnvironment.1ST"),
        ("prod", ["jobEnvironment=[1]"], "jobEnvironment"),
        ("prod", ['tags=["aws:owner=me"]'], "tags.aws:owner"),
        ("prod", [f'tags=["{"k" * 129}=v"]'], f"tags.{'k' * 129}"),
        ("prod", ["allocationStrategy=SPOT_CAPACITY_OPTIMIZED"], "allocationStrategy"),
        ("prod", ["jobVcpus=nan"], "jobVcpus"),
        ("prod", ["jobVcpus=inf"], "jobVcpus"),
        ("dev", ["jobVcpus=0.25", "jobMemoryMib=1536"], "jobMemoryMib"),
        ("dev", ["jobVcpus=16", "jobMemoryMib=122881"], "jobMemoryMib"),
        ("dev", ["jobImage="], "jobImage"),
    ],
)
def test_the_plan_tool_names_the_config_key_in_one_line_with_exit_2(capsys, stack, overrides, key):
    arguments = ["--stack", stack]
    for override in overrides:
        arguments += ["--config", P + override]

    with pytest.raises(SystemExit) as exit_:
        plan_main(arguments)

    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {P}{key}: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("code_path", "says"),
    [
        ("~nobody-here-at-all/app", "not a usable path (Could not determine home directory.)"),
        ("app\x00.py", "not a usable path (embedded null byte)"),
        ("/no/such/folder", "no such folder or file (looked at /no/such/folder)"),
        ("  ", "expected a folder or file path"),
    ],
)
def test_an_unusable_downstream_code_path_is_rejected_by_name(code_path, says):
    error = rejected({"downstream_function": {"code_path": code_path, "handler": "app.handler"}})

    assert (error.key, error.allowed) == ("downstream_function.code_path", says)


@settings(max_examples=200, deadline=None)
@given(
    function=st.fixed_dictionaries(
        {"code_path": st.text(max_size=20), "handler": st.text(max_size=20)},
        optional={
            "runtime": JSON_VALUES,
            "architecture": JSON_VALUES,
            "timeout_seconds": JSON_VALUES,
            "memory_mib": JSON_VALUES,
            "environment": JSON_VALUES,
        },
    )
)
def test_any_downstream_function_is_accepted_or_rejected_by_name(function):
    error = refusal({"downstream_function": function})
    if error is not None:
        assert error.key.startswith("downstream_function")


# --------------------------------------------------------------------------------------------------
# Every other rule: the key it names and exactly what it says is allowed

KNOWN = ", ".join(sorted(BatchArrayPipelineArgs.__annotations__))
CODE = str(Path(__file__).parent)

RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"colour": "red"}, "colour", f"unknown argument; known: {KNOWN}"),
    ({"stage": "a b"}, "stage", "expected 1-32 letters, digits, '-' or '_'"),
    ({"stage": "-dev"}, "stage", "expected 1-32 letters, digits, '-' or '_'"),
    ({"stage": "s" * 33}, "stage", "expected 1-32 letters, digits, '-' or '_'"),
    ({"stage": 7}, "stage", "expected 1-32 letters, digits, '-' or '_'"),
    ({"assign_public_ip": "yes"}, "assign_public_ip", "expected true or false"),
    ({"subnet_ids": []}, "subnet_ids", "expected a non-empty list (omit the key for the default)"),
    ({"security_group_ids": "sg-1"}, "security_group_ids", "expected a non-empty list (omit the key for the default)"),
    ({"job_command": []}, "job_command", "expected at least one item"),
    ({"job_command": ["echo", ""]}, "job_command", "expected a list of non-empty strings"),
    ({"job_command": "echo"}, "job_command", "expected a list of non-empty strings"),
    ({"instance_types": []}, "instance_types", "expected at least one item"),
    ({"notify_statuses": ["FAILED", "FAILED"]}, "notify_statuses", "each status at most once"),
    ({"notify_statuses": ["RUNNING"]}, "notify_statuses", "allowed: SUCCEEDED, FAILED"),
    ({"notifier_architecture": "sparc"}, "notifier_architecture", "allowed: arm64, x86_64"),
    ({"notifier_runtime": "python3.11"}, "notifier_runtime", "allowed: python3.12, python3.13"),
    (
        {"job_log_retention_days": 10},
        "job_log_retention_days",
        "allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
        "3288, 3653",
    ),
    (
        {"notifier_log_retention_days": 2},
        "notifier_log_retention_days",
        "allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, "
        "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ),
    ({"email_subscriptions": "ops@example.com"}, "email_subscriptions", "expected a list of {address, statuses}"),
    ({"email_subscriptions": [{"address": 7}]}, "email_subscriptions[0]", "expected {address, statuses}"),
    ({"email_subscriptions": ["ops@example.com"]}, "email_subscriptions[0]", "expected {address, statuses}"),
    (
        {"email_subscriptions": [{"address": "ops@example.com", "status": ["FAILED"]}]},
        "email_subscriptions[0]",
        "unknown keys ['status']; allowed: address, statuses",
    ),
    (
        {"email_subscriptions": [{"address": "ops@example.com"}, {"address": "ops@example"}]},
        "email_subscriptions[1].address",
        "expected an e-mail address",
    ),
    (
        {"notify_statuses": ["SUCCEEDED"], "email_subscriptions": [{"address": "a@b.io", "statuses": ["FAILED"]}]},
        "email_subscriptions[0].statuses",
        "allowed: SUCCEEDED",
    ),
    (
        {"email_subscriptions": [{"address": "a@b.io", "statuses": ["FAILED", "FAILED"]}]},
        "email_subscriptions[0].statuses",
        "each status at most once",
    ),
    (
        {"alerts_topic_arn": "arn:aws:sqs:us-east-1:123456789012:ops"},
        "alerts_topic_arn",
        "expected an SNS topic ARN, arn:aws:sns:<region>:<account>:<name> (this ARN is of sqs)",
    ),
    (
        {"stuck_job_reasons": ["MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT"] * 2},
        "stuck_job_reasons",
        "each reason at most once",
    ),
    (
        {"stuck_job_reasons": ["STUCK"]},
        "stuck_job_reasons",
        "allowed: CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY, MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE, "
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT, MISCONFIGURATION:EC2_INSTANCE_CONFIGURATION_UNSUPPORTED",
    ),
    ({"compute_environments": []}, "compute_environments", "expected 1 to 3 (a job queue's limit)"),
    # Not a list, though as long as one allowed: refused by name, not left to fail iterating it.
    (
        {"compute_environments": {"compute_type": "EC2"}},
        "compute_environments",
        "expected 1 to 3 (a job queue's limit)",
    ),
    (
        {"compute_environments": [{"compute_type": "EC2"}] * 4},
        "compute_environments",
        "expected 1 to 3 (a job queue's limit)",
    ),
    (
        {"compute_environments": [{"compute_type": "EC2"}], "max_vcpus": 8},
        "max_vcpus",
        "set it per entry of compute_environments, not both",
    ),
    (
        {"compute_environments": [{"compute_type": "SPOT"}, {"compute_type": "FARGATE"}]},
        "compute_environments[1].compute_type",
        "one queue takes EC2/SPOT environments or FARGATE/FARGATE_SPOT ones, not both (the first is SPOT)",
    ),
    (
        {"compute_environments": [{"compute_type": "FARGATE"}, {"compute_type": "EC2"}]},
        "compute_environments[1].compute_type",
        "one queue takes EC2/SPOT environments or FARGATE/FARGATE_SPOT ones, not both (the first is FARGATE)",
    ),
    (
        {"compute_environments": ["EC2"]},
        "compute_environments[0]",
        "expected {compute_type, min_vcpus, max_vcpus, ...}",
    ),
    (
        {"compute_environments": [{}]},
        "compute_environments[0].compute_type",
        "allowed: EC2, SPOT, FARGATE, FARGATE_SPOT",
    ),
    ({"compute_type": "LAMBDA"}, "compute_type", "allowed: EC2, SPOT, FARGATE, FARGATE_SPOT"),
    ({"compute_type": "FARGATE", "min_vcpus": 2}, "min_vcpus", "Fargate keeps no idle capacity; omit it or use 0"),
    ({"compute_type": "FARGATE_SPOT", "instance_types": ["c6i"]}, "instance_types", "only for EC2 or SPOT compute"),
    (
        {"compute_environments": [{"compute_type": "EC2", "min_vcpus": 20}]},
        "compute_environments[0].min_vcpus",
        "must not exceed max_vcpus (16)",
    ),
    ({"completion_event_bus": "bad bus!"}, "completion_event_bus", "expected an event bus name or event-bus ARN"),
    ({"completion_event_bus": 7}, "completion_event_bus", "expected an event bus name or ARN"),
    ({"downstream_function": "app.handler"}, "downstream_function", "expected {code_path, handler, runtime, ...}"),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app handler"}},
        "downstream_function.handler",
        "expected a handler such as app.handler",
    ),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app.handler", "runtime": "cobol"}},
        "downstream_function.runtime",
        "expected a Lambda runtime such as python3.13",
    ),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app.handler", "timeout_seconds": 901}},
        "downstream_function.timeout_seconds",
        "expected 1 to 900",
    ),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app.handler", "memory_mib": 127}},
        "downstream_function.memory_mib",
        "expected 128 to 10240",
    ),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app.handler", "environment": {"A-B": "x"}}},
        "downstream_function.environment.A-B",
        "expected NAME=value with a shell-style NAME",
    ),
    (
        {"downstream_function": {"code_path": CODE, "handler": "app.handler", "code": "."}},
        "downstream_function",
        "unknown keys ['code']; allowed: architecture, code_path, environment, handler, memory_mib, runtime, "
        "timeout_seconds",
    ),
    ({"name_prefix": "-etl"}, "name_prefix", "expected 1-64 letters, digits, '.', '-' or '_'"),
    ({"name_prefix": "e" * 65}, "name_prefix", "expected 1-64 letters, digits, '.', '-' or '_'"),
]


@pytest.mark.parametrize(("args", "key", "allowed"), RULES, ids=[f"{key}-{n}" for n, (_, key, _) in enumerate(RULES)])
def test_each_rule_names_its_key_and_says_what_is_allowed(args, key, allowed):
    error = rejected(args)

    assert (error.key, error.allowed) == (key, allowed)
    assert str(error).startswith(f"{key}: ")


def test_the_defaults_land_where_they_belong():
    args = resolved({})

    assert (args.stage, args.notify_statuses, args.tags, args.name_prefix) == ("dev", ["SUCCEEDED", "FAILED"], {}, None)
    assert (args.completion_event_bus, args.downstream_function, args.existing_topic_arn) == ("default", None, None)
    (environment,) = args.compute_environments
    assert (environment.compute_type, environment.min_vcpus, environment.max_vcpus) == ("EC2", 0, 16)
    assert (environment.instance_types, environment.allocation_strategy) == (["optimal"], "BEST_FIT_PROGRESSIVE")
    job = args.job
    assert (job.vcpus, job.memory_mib, job.retry_attempts, job.attempt_timeout_seconds) == (1.0, 2048, 1, 3600)
    assert (job.log_retention_days, job.environment, job.assign_public_ip) == (14, {}, True)
    assert job.image == "public.ecr.aws/docker/library/busybox:stable"
    notifier = args.notifier
    assert (notifier.architecture, notifier.runtime, notifier.log_retention_days) == ("arm64", "python3.13", 14)
    assert (notifier.powertools_layer_version, notifier.max_failed_details, notifier.stage) == (None, 20, "dev")
    assert notifier.powertools_version == POWERTOOLS_VERSION
    reliability = args.reliability
    assert (reliability.rule_retry_attempts, reliability.rule_max_event_age_seconds) == (185, 86_400)
    assert (reliability.notifier_max_retries, reliability.notifier_max_event_age_seconds) == (2, 21_600)
    assert (reliability.dead_letter_retention_seconds, reliability.kms_key_deletion_window_days) == (1_209_600, 30)
    assert (reliability.stuck_job_cancel_after_seconds, reliability.alerts_topic_arn) == (3600, None)
    assert len(reliability.stuck_job_reasons) == 3


def test_given_values_are_kept():
    args = resolved(
        {
            "stage": "s" * 32,
            "subnet_ids": ["subnet-11111111"],
            "security_group_ids": ["sg-11111111"],
            "vpc_id": "vpc-11111111",
            "existing_topic_arn": "arn:aws:sns:us-east-1:123456789012:done",
            "alerts_topic_arn": "arn:aws-cn:sns:cn-north-1:123456789012:ops-alerts",
            "completion_event_bus": "arn:aws:events:us-east-1:123456789012:event-bus/team",
            "job_log_retention_days": 3653,
            "notifier_log_retention_days": 1,
            "name_prefix": "e" * 64,
            "notifier_architecture": "x86_64",
            "notifier_runtime": "python3.12",
            "email_subscriptions": [{"address": "oncall@example.com", "statuses": ["FAILED"]}],
            "instance_types": ["c6i", "m6i"],
        }
    )

    assert args.stage == "s" * 32
    assert (args.subnet_ids, args.security_group_ids, args.vpc_id) == (
        ["subnet-11111111"],
        ["sg-11111111"],
        "vpc-11111111",
    )
    assert args.job.assign_public_ip is False
    assert args.existing_topic_arn == "arn:aws:sns:us-east-1:123456789012:done"
    assert args.reliability.alerts_topic_arn == "arn:aws-cn:sns:cn-north-1:123456789012:ops-alerts"
    assert args.completion_event_bus == "arn:aws:events:us-east-1:123456789012:event-bus/team"
    assert (args.job.log_retention_days, args.notifier.log_retention_days) == (3653, 1)
    assert args.name_prefix == "e" * 64
    assert (args.notifier.architecture, args.notifier.runtime) == ("x86_64", "python3.12")
    assert args.email_subscriptions == [{"address": "oncall@example.com", "statuses": ["FAILED"]}]
    assert args.compute_environments[0].instance_types == ["c6i", "m6i"]
    assert resolved({"assign_public_ip": False}).job.assign_public_ip is False
    assert resolved({"subnet_ids": ["subnet-11111111"], "assign_public_ip": True}).job.assign_public_ip is True


def test_a_downstream_function_is_resolved_with_its_defaults():
    function = resolved({"downstream_function": {"code_path": CODE, "handler": "app.handler"}}).downstream_function

    assert function is not None
    assert (function.handler, function.runtime, function.architecture) == ("app.handler", "python3.13", "x86_64")
    assert (function.timeout_seconds, function.memory_mib, function.environment) == (60, 256, {})
    assert str(function.code_path) == CODE


def test_several_compute_environments_keep_their_order_and_settings():
    environments = resolved(
        {
            "compute_environments": [
                {"compute_type": "SPOT", "max_vcpus": 64, "instance_types": ["c6i"]},
                {"compute_type": "EC2", "min_vcpus": 2, "max_vcpus": 8, "allocation_strategy": "BEST_FIT"},
            ]
        }
    ).compute_environments

    assert [(e.compute_type, e.min_vcpus, e.max_vcpus) for e in environments] == [("SPOT", 0, 64), ("EC2", 2, 8)]
    assert [e.allocation_strategy for e in environments] == ["SPOT_PRICE_CAPACITY_OPTIMIZED", "BEST_FIT"]
    assert [e.instance_types for e in environments] == [["c6i"], ["optimal"]]


# --------------------------------------------------------------------------------------------------
# The reconciliation sweep: off, or every 5 minutes to a day; a lookback of an hour to a week


@pytest.mark.parametrize(("every", "lookback"), [(5, 1), (60, 1), (60, 24), (1440, 24), (1440, 137)])
def test_the_sweep_runs_from_every_5_minutes_to_once_a_day_looking_back_its_interval_to_a_week(every, lookback):
    """With the default retries the grace period is 30 h 15 min: 137 hours of stops before it end within
    the idempotency records' week."""
    reconcile = resolved({"reconcile_every_minutes": every, "reconcile_lookback_hours": lookback}).reconcile

    assert reconcile is not None
    assert (reconcile.every_minutes, reconcile.lookback_hours) == (every, lookback)
    assert reconcile.grace_seconds == 86400 + 21600 + 900


@pytest.mark.parametrize(("lookback", "accepted"), [(167, True), (168, False)])
def test_even_the_shortest_grace_period_leaves_a_week_less_an_hour_of_lookback(lookback, accepted):
    """The shortest retries (60 s each) and the margin: 1,020 s of grace; 168 h on top pass the week."""
    args = {
        "rule_max_event_age_seconds": 60,
        "notifier_max_event_age_seconds": 60,
        "reconcile_lookback_hours": lookback,
    }
    if accepted:
        reconcile = resolved(args).reconcile
        assert reconcile is not None
        assert (reconcile.grace_seconds, reconcile.lookback_hours) == (1020, lookback)
    else:
        assert rejected(args).allowed.startswith("at most 167 with this grace period (1020 s:")


@pytest.mark.parametrize("hours", [0, 168])
def test_the_longest_array_runtime_is_from_none_to_a_week(hours):
    reconcile = resolved({"reconcile_max_array_runtime_hours": hours}).reconcile

    assert reconcile is not None
    assert reconcile.max_array_runtime_hours == hours


def test_a_sweep_every_0_minutes_is_no_sweep():
    assert resolved({"reconcile_every_minutes": 0}).reconcile is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("reconcile_every_minutes", 1),
        ("reconcile_every_minutes", 4),
        ("reconcile_every_minutes", 1441),
        ("reconcile_every_minutes", -5),
        ("reconcile_lookback_hours", 0),
        ("reconcile_lookback_hours", 169),
        ("reconcile_max_array_runtime_hours", -1),
        ("reconcile_max_array_runtime_hours", 169),
    ],
)
def test_other_sweep_timings_are_refused_naming_the_key(key, value):
    error = rejected({key: value})

    assert (error.key, error.value) == (key, value)


def test_what_is_not_a_batch_arn_is_refused_before_its_region_is_compared():
    with pytest.raises(InvalidArgumentError) as refused:
        check_batch_arns_are_local({"job_queue_arns[0]": "render"}, "eu-west-1", None)

    assert (refused.value.key, refused.value.allowed) == (
        "job_queue_arns[0]",
        "expected a Batch ARN, arn:aws:batch:<region>:<account>:...",
    )


@pytest.mark.parametrize(
    ("account", "wanted"),
    [
        (None, "expected a queue or job definition in eu-west-1, where this stack deploys"),
        ("111122223333", "expected a queue or job definition of account 111122223333 in eu-west-1, where this stack"),
    ],
)
def test_a_queue_of_another_account_or_region_is_refused_saying_which_one_is_wanted(account, wanted):
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/render"

    with pytest.raises(InvalidArgumentError) as refused:
        check_batch_arns_are_local({"job_queue_arns[0]": queue}, "eu-west-1", account)

    assert refused.value.key == "job_queue_arns[0]"
    assert refused.value.allowed.startswith(wanted)
    assert refused.value.allowed.endswith(
        "(Batch sends a job's events only to its own account's and region's default bus)"
    )


@pytest.mark.parametrize(
    ("args", "key", "value"),
    [
        (
            {
                "job_queue_arns": [
                    f"arn:aws:batch:eu-west-1:123456789012:job-queue/{n:03d}{'q' * 120}" for n in range(20)
                ]
            },
            "job_queue_arns",
            "20 queues",
        ),
        (
            {
                "job_queue_arns": ["arn:aws:batch:eu-west-1:123456789012:job-queue/render"],
                "job_definition_arn_prefixes": [
                    f"arn:aws:batch:eu-west-1:123456789012:job-definition/{n:02d}{'d' * 100}" for n in range(12)
                ],
            },
            "job_definition_arn_prefixes",
            "12 ARNs",
        ),
        (
            {
                "job_queue_arns": ["arn:aws:batch:eu-west-1:123456789012:job-queue/render"],
                "job_definition_arn_prefixes": ["arn:aws:batch:us-east-1:123456789012:job-definition/frames"],
            },
            "job_definition_arn_prefixes[0]",
            "arn:aws:batch:us-east-1:123456789012:job-definition/frames",
        ),
    ],
    ids=["queues too long for the environment", "definitions too long for a pattern", "definition elsewhere"],
)
def test_a_notifier_scope_that_cannot_work_is_refused_naming_the_key_and_the_value(args, key, value):
    with pytest.raises(InvalidArgumentError) as refused:
        resolve_notifier_args(args)  # type: ignore[arg-type]

    assert (refused.value.key, refused.value.value) == (key, value)


def test_a_queue_may_order_as_many_compute_environments_as_batch_allows():
    # Spot first, on-demand when Spot has no capacity, then on-demand of other instance types.
    environments = [
        {"compute_type": "SPOT"},
        {"compute_type": "EC2"},
        {"compute_type": "EC2", "instance_types": ["c7g"]},
    ]

    ordered = resolved({"compute_environments": environments}).compute_environments

    assert [(e.compute_type, e.instance_types) for e in ordered] == [
        ("SPOT", ["optimal"]),
        ("EC2", ["optimal"]),
        ("EC2", ["c7g"]),
    ]


@pytest.mark.parametrize(("given", "planned"), [(1, 1), (3, 3), (250, 250), (-1, None)])
def test_the_notifiers_reserved_concurrency_is_a_positive_count_or_none(given, planned):
    assert resolved({"notifier_reserved_concurrency": given}).notifier.reserved_concurrency == planned


def test_the_default_reserved_concurrency_bounds_the_notifier():
    assert resolved({}).notifier.reserved_concurrency == DEFAULTS["notifier_reserved_concurrency"] == 3


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (0, "0 switches the notifier off and Lambda drops its events; use 1 or more, or -1 for no reservation"),
        (-2, "expected >= -1"),
        (2.5, "expected a whole number"),
        (True, "expected a whole number"),
    ],
)
def test_a_reserved_concurrency_lambda_would_misuse_is_refused(given, says):
    error = rejected({"notifier_reserved_concurrency": given})

    assert error.key == "notifier_reserved_concurrency"
    assert says in str(error)


# --------------------------------------------------------------------------------------------------
# Log tails


@pytest.mark.parametrize("value", [0, 256, 8192])
def test_failed_log_bytes_is_0_or_256_to_8192(value):
    assert resolved({"failed_log_bytes": value}).notifier.failed_log_bytes == value


@pytest.mark.parametrize("value", [-1, 1, 255, 8193])
def test_other_failed_log_bytes_are_refused_naming_the_range(value):
    error = rejected({"failed_log_bytes": value})

    assert (error.key, error.value, error.allowed) == ("failed_log_bytes", value, "expected 0 (off) or 256 to 8192")


def test_log_tails_default_to_3_children_20_lines_2048_bytes_on_batchs_default_group():
    args = resolve_notifier_args({"job_queue_arns": ["arn:aws:batch:eu-west-1:123456789012:job-queue/render"]})

    notifier = args.notifier
    assert (notifier.failed_log_children, notifier.failed_log_lines, notifier.failed_log_bytes) == (3, 20, 2048)
    assert notifier.log_tails
    assert args.job_log_group_names == ["/aws/batch/job"]


@pytest.mark.parametrize(
    ("groups", "key"),
    [
        (["/aws/batch/job", "has space"], "job_log_group_names[1]"),
        (["g" * 513], "job_log_group_names[0]"),
        ([f"/jobs/{n}" for n in range(6)], "job_log_group_names"),
        ([], "job_log_group_names"),
    ],
    ids=["a character Logs refuses", "longer than 512", "more than 5", "none"],
)
def test_job_log_group_names_are_what_cloudwatch_logs_accepts(groups, key):
    with pytest.raises(InvalidArgumentError) as refused:
        resolve_notifier_args(
            {  # type: ignore[typeddict-item]
                "job_queue_arns": ["arn:aws:batch:eu-west-1:123456789012:job-queue/render"],
                "job_log_group_names": groups,
            }
        )

    assert refused.value.key == key
