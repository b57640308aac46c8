"""settings(): the handler's environment contract, validated with errors that name the variable."""

from __future__ import annotations

import json

import pytest

from batch_array_notify.args import DEFAULTS
from batch_array_notify.handler.settings import MemberAccount, Settings, SettingsError, TailSettings, settings

CONTRACT = {
    "TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:done",
    "STAGE": "dev",
    "IDEMPOTENCY_TABLE": "idempotency",
    "AWS_REGION": "eu-west-1",
    "JOB_QUEUE_ARNS": "arn:aws:batch:eu-west-1:123456789012:job-queue/render",
}


@pytest.fixture
def environment(monkeypatch):
    for name, value in CONTRACT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAX_FAILED_DETAILS", raising=False)
    settings.cache_clear()
    yield monkeypatch
    settings.cache_clear()


def test_reads_the_contract_with_the_default_detail_count(environment):
    assert settings() == Settings(
        topic_arn=CONTRACT["TOPIC_ARN"],
        stage="dev",
        idempotency_table="idempotency",
        max_failed_details=20,
        region="eu-west-1",
        job_queue_arns=("arn:aws:batch:eu-west-1:123456789012:job-queue/render",),
    )


def test_without_the_log_tail_variables_the_handler_reads_tails_as_the_component_would_have_it(environment):
    """The component's defaults, so a notifier deployed another way behaves as a default stack does."""
    for name in ("FAILED_LOG_CHILDREN", "FAILED_LOG_LINES", "FAILED_LOG_BYTES"):
        environment.delenv(name, raising=False)

    tails = settings().log_tails

    assert (tails.children, tails.lines, tails.bytes_per_child) == (
        DEFAULTS["failed_log_children"],
        DEFAULTS["failed_log_lines"],
        DEFAULTS["failed_log_bytes"],
    )


@pytest.mark.parametrize("value", ["1", "100", " 35 "])
def test_accepts_detail_counts_from_1_to_100(environment, value):
    environment.setenv("MAX_FAILED_DETAILS", value)

    assert settings().max_failed_details == int(value)


@pytest.mark.parametrize("value", ["0", "101", "-5", "twenty", "2.5"])
def test_rejects_other_detail_counts_naming_the_variable(environment, value):
    environment.setenv("MAX_FAILED_DETAILS", value)

    with pytest.raises(SettingsError, match=rf"MAX_FAILED_DETAILS must be an integer from 1 to 100, got '{value}'"):
        settings()


@pytest.mark.parametrize("name", ["TOPIC_ARN", "STAGE", "IDEMPOTENCY_TABLE", "AWS_REGION", "JOB_QUEUE_ARNS"])
def test_missing_or_blank_required_variables_are_named(environment, name):
    environment.setenv(name, "  ")

    with pytest.raises(SettingsError, match=f"environment variable {name} must be set"):
        settings()


def test_is_read_once(environment):
    first = settings()
    environment.setenv("STAGE", "prod")

    assert settings() is first


def test_job_queue_arns_is_a_comma_separated_list(environment):
    environment.setenv(
        "JOB_QUEUE_ARNS",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/render, arn:aws:batch:eu-west-1:123456789012:job-queue/enc_2",
    )

    assert settings().job_queue_arns == (
        "arn:aws:batch:eu-west-1:123456789012:job-queue/render",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/enc_2",
    )


def test_the_first_queue_is_the_home_queue_and_repeats_are_dropped(environment):
    # The home queue is where IgnoredEvents is counted (handler/metrics.py): order must survive parsing.
    environment.setenv(
        "JOB_QUEUE_ARNS",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/zeta,arn:aws:batch:eu-west-1:123456789012:job-queue/alpha,"
        "arn:aws:batch:eu-west-1:123456789012:job-queue/zeta",
    )

    assert settings().home_job_queue_arn == "arn:aws:batch:eu-west-1:123456789012:job-queue/zeta"
    assert settings().job_queue_arns == (
        "arn:aws:batch:eu-west-1:123456789012:job-queue/zeta",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/alpha",
    )


@pytest.mark.parametrize(
    "value",
    [
        "render",
        "arn:aws:batch:eu-west-1:123456789012:job-queue/render,",
        "arn:aws:batch:eu-west-1:123456789012:job-definition/render:1",
        "arn:aws:sqs:eu-west-1:123456789012:render",
    ],
)
def test_job_queue_arns_other_than_queue_arns_are_rejected_naming_the_variable(environment, value):
    environment.setenv("JOB_QUEUE_ARNS", value)

    with pytest.raises(SettingsError, match="JOB_QUEUE_ARNS must be comma-separated job-queue ARNs"):
        settings()


@pytest.mark.parametrize(("value", "bus"), [(None, "default"), ("  ", "default"), (" team-bus ", "team-bus")])
def test_the_completion_bus_defaults_to_the_accounts_default_bus(environment, value, bus):
    if value is None:
        environment.delenv("EVENT_BUS_NAME", raising=False)
    else:
        environment.setenv("EVENT_BUS_NAME", value)

    assert settings().event_bus_name == bus


def test_values_are_read_without_surrounding_blanks(environment):
    environment.setenv("STAGE", " prod \n")
    environment.setenv("MAX_FAILED_DETAILS", "")

    assert (settings().stage, settings().max_failed_details) == ("prod", 20)


@pytest.mark.parametrize("name", ["TOPIC_ARN", "STAGE", "IDEMPOTENCY_TABLE", "AWS_REGION"])
def test_unset_required_variables_are_named(environment, name):
    environment.delenv(name)

    with pytest.raises(SettingsError, match=f"environment variable {name} must be set to a non-empty value"):
        settings()


def test_a_queue_arn_that_is_not_one_is_refused_showing_the_shape_wanted(environment):
    environment.setenv("JOB_QUEUE_ARNS", "render")

    with pytest.raises(SettingsError) as refused:
        settings()

    assert str(refused.value) == (
        "environment variable JOB_QUEUE_ARNS must be comma-separated job-queue ARNs "
        "(arn:aws:batch:<region>:<account>:job-queue/<name>), got 'render' in it"
    )


def test_reads_the_log_tail_settings_and_the_groups_it_may_read(environment):
    for name, value in {
        "FAILED_LOG_CHILDREN": "10",
        "FAILED_LOG_LINES": "0",
        "FAILED_LOG_BYTES": "256",
        "FAILED_LOG_GROUPS": "/aws/batch/job, jobs-1,/aws/batch/job",
    }.items():
        environment.setenv(name, value)

    tails = settings().log_tails

    assert tails == TailSettings(
        children=10, lines=0, bytes_per_child=256, readable_groups=("/aws/batch/job", "jobs-1")
    )
    assert not tails.enabled


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("FAILED_LOG_CHILDREN", "11", "0 to 10"),
        ("FAILED_LOG_LINES", "101", "0 to 100"),
        ("FAILED_LOG_LINES", "-1", "0 to 100"),
        ("FAILED_LOG_BYTES", "255", "0 or 256 to 8192"),
        ("FAILED_LOG_BYTES", "8193", "0 or 256 to 8192"),
    ],
)
def test_rejects_log_tail_settings_out_of_bounds_naming_the_variable(environment, name, value, allowed):
    environment.setenv(name, value)

    with pytest.raises(SettingsError, match=rf"{name} must be a whole number, {allowed}, got '{value}'"):
        settings()


# --------------------------------------------------------------------------------------------------
# Central mode: MEMBER_ACCOUNTS and MEMBER_EXTERNAL_ID

MEMBER = "111111111111"
MEMBER_QUEUE = f"arn:aws:batch:eu-west-1:{MEMBER}:job-queue/nightly"
MEMBER_ROLE = f"arn:aws:iam::{MEMBER}:role/batch-array-notify-read"


def _members(**entry: object) -> str:
    return json.dumps({MEMBER: {"roleArn": MEMBER_ROLE, **entry}})


def test_member_accounts_are_read_with_their_queues_and_regions_the_stack_s_region_by_default(environment):
    environment.setenv("MEMBER_ACCOUNTS", _members(jobQueueArns=[MEMBER_QUEUE, MEMBER_QUEUE]))
    environment.setenv("MEMBER_EXTERNAL_ID", "org-notifier-7")
    environment.setenv("JOB_QUEUE_ARNS", "")

    read = settings()

    assert read.member_accounts == {MEMBER: MemberAccount(MEMBER, MEMBER_ROLE, (MEMBER_QUEUE,), ("eu-west-1",))}
    assert read.member_external_id == "org-notifier-7"
    assert read.job_queue_arns == ()
    assert read.home_job_queue_arn is None


def test_without_member_accounts_the_notifier_is_its_own_account_s_and_needs_its_queues(environment):
    environment.setenv("MEMBER_EXTERNAL_ID", "ignored-without-members")

    assert (settings().member_accounts, settings().member_external_id) == (None, None)
    settings.cache_clear()
    environment.setenv("JOB_QUEUE_ARNS", "")
    with pytest.raises(SettingsError, match="environment variable JOB_QUEUE_ARNS must be set"):
        settings()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not json", "must be a JSON object"),
        ("[]", "must be a JSON object"),
        ("{}", "must be a JSON object"),
        (json.dumps({"11111111111": {"roleArn": MEMBER_ROLE}}), "the key must be a 12-digit AWS account id"),
        (json.dumps({MEMBER: MEMBER_ROLE}), "the value must be"),
        (_members(queues=[]), "with no other keys"),
        (json.dumps({MEMBER: {}}), "roleArn must be a role ARN of that account"),
        (json.dumps({MEMBER: {"roleArn": "arn:aws:iam::222222222222:role/read"}}), "roleArn must be a role ARN"),
        (_members(jobQueueArns=MEMBER_QUEUE), "jobQueueArns must be a list"),
        (_members(jobQueueArns=["render"]), "must be comma-separated ARNs"),
        (_members(jobQueueArns=[MEMBER_QUEUE.replace(MEMBER, "222222222222")]), "must be queues of that account"),
        (_members(regions=[]), "regions must be a non-empty list of AWS regions"),
        (_members(regions=["eu-westeros-1"]), "regions must be a non-empty list of AWS regions"),
    ],
)
def test_member_accounts_mistakes_are_one_line_naming_the_variable(environment, value, problem):
    environment.setenv("MEMBER_ACCOUNTS", value)

    with pytest.raises(SettingsError, match=r"^environment variable MEMBER_ACCOUNTS") as raised:
        settings()
    assert problem in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("value", ["x", "has space", "a" * 1225])
def test_member_external_ids_sts_refuses_are_refused_naming_the_variable(environment, value):
    environment.setenv("MEMBER_ACCOUNTS", _members())
    environment.setenv("MEMBER_EXTERNAL_ID", value)

    with pytest.raises(SettingsError, match=r"^environment variable MEMBER_EXTERNAL_ID must be 2 to 1224 characters"):
        settings()


@pytest.mark.parametrize("length", [2, 1224], ids=["shortest", "longest"])
def test_an_external_id_at_sts_s_length_bounds_is_accepted(environment, length):
    environment.setenv("MEMBER_ACCOUNTS", _members())
    environment.setenv("MEMBER_EXTERNAL_ID", "x" * length)

    assert settings().member_external_id == "x" * length
