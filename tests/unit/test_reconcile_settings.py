"""The reconciliation sweep's contract: its environment (validated, naming the variable), the limits the
component and the handler share, and the switch that turns it off."""

from __future__ import annotations

import pytest

from batch_array_notify import reconcile as component
from batch_array_notify import validation
from batch_array_notify.args import DEFAULTS
from batch_array_notify.handler import settings as handler_settings
from batch_array_notify.handler.settings import IDEMPOTENCY_EXPIRY_SECONDS, SettingsError, SweepSettings, sweep_settings
from tests.support import ALARM, FUNCTION, INVOKE_CONFIG, JOB_DEF, ROLE
from tests.unit.test_component_wiring import plan_pipelines

PREFIX = "arn:aws:batch:eu-west-1:123456789012:job-definition/render"


@pytest.fixture
def environment(monkeypatch):
    for name in (
        "JOB_DEFINITION_ARN_PREFIXES",
        "RECONCILE_LOOKBACK_HOURS",
        "NOTIFY_STATUSES",
        "RECONCILE_MAX_ARRAY_RUNTIME_HOURS",
    ):
        monkeypatch.delenv(name, raising=False)
    # Required: the component always sets it (its test is below).
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "8100")
    sweep_settings.cache_clear()
    yield monkeypatch
    sweep_settings.cache_clear()


def test_defaults_any_definition_a_day_back_both_statuses_no_runtime_allowance(environment):
    assert sweep_settings() == SweepSettings((), 24, ("SUCCEEDED", "FAILED"), 8100, 0)


def test_reads_the_component_s_variables(environment):
    environment.setenv("JOB_DEFINITION_ARN_PREFIXES", f"{PREFIX},{PREFIX}-2")
    environment.setenv("RECONCILE_LOOKBACK_HOURS", "168")
    environment.setenv("NOTIFY_STATUSES", "FAILED")
    environment.setenv("RECONCILE_GRACE_SECONDS", "0")
    environment.setenv("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "168")

    assert sweep_settings() == SweepSettings((PREFIX, f"{PREFIX}-2"), 168, ("FAILED",), 0, 168)


def test_the_grace_period_has_no_default_a_guess_could_race_the_event(environment):
    environment.delenv("RECONCILE_GRACE_SECONDS")

    with pytest.raises(SettingsError, match="RECONCILE_GRACE_SECONDS must be set"):
        sweep_settings()


@pytest.mark.parametrize("pace", [1, handler_settings.MAX_SWEEP_BATCH_CALLS_PER_SECOND])
def test_the_sweep_may_pace_its_batch_calls_from_one_a_second_to_the_most_allowed(environment, pace):
    environment.setenv("BATCH_CALLS_PER_SECOND", str(pace))

    assert sweep_settings().batch_calls_per_second == pace


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BATCH_CALLS_PER_SECOND", "0"),
        ("BATCH_CALLS_PER_SECOND", str(handler_settings.MAX_SWEEP_BATCH_CALLS_PER_SECOND + 1)),
        ("RECONCILE_LOOKBACK_HOURS", "169"),
        ("RECONCILE_LOOKBACK_HOURS", "0"),
        ("RECONCILE_LOOKBACK_HOURS", "a day"),
        ("JOB_DEFINITION_ARN_PREFIXES", f"{PREFIX}:3"),
        ("NOTIFY_STATUSES", "RUNNING"),
        ("RECONCILE_GRACE_SECONDS", "-1"),
        ("RECONCILE_GRACE_SECONDS", str(IDEMPOTENCY_EXPIRY_SECONDS + 1)),
        ("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "169"),
        ("RECONCILE_MAX_ARRAY_RUNTIME_HOURS", "-1"),
    ],
)
def test_a_bad_value_names_its_variable(environment, name, value):
    environment.setenv(name, value)

    with pytest.raises(SettingsError, match=name):
        sweep_settings()


def test_component_and_handler_share_the_lookback_limit_the_idempotency_window_sets():
    hours = IDEMPOTENCY_EXPIRY_SECONDS // 3600
    assert validation.MAX_RECONCILE_LOOKBACK_HOURS == handler_settings.MAX_RECONCILE_LOOKBACK_HOURS == hours
    assert DEFAULTS["reconcile_lookback_hours"] == handler_settings.DEFAULT_RECONCILE_LOOKBACK_HOURS
    assert component.SWEEP_ENTRY == "handler.reconcile.handler"


def test_zero_turns_the_sweep_off_and_declares_nothing_of_it():
    plan = plan_pipelines(("on", {}), ("off", {"reconcile_every_minutes": 0}))
    names = {(r.type, r.name) for r in plan.resources}

    assert (FUNCTION, "on-sweep") in names
    assert (ALARM, "on-reconciled-alarm") in names
    assert (INVOKE_CONFIG, "on-sweep") in names
    assert not [name for _, name in names if name.startswith("off-sweep") or name == "off-reconciled-alarm"]
    assert (ROLE, "off-notifier") in names


def test_the_schedule_and_the_lookback_follow_the_arguments():
    plan = plan_pipelines(("every", {"reconcile_every_minutes": 15, "reconcile_lookback_hours": 48}))

    schedule = plan.named("aws:scheduler/schedule:Schedule", "every-sweep")
    variables = plan.named(FUNCTION, "every-sweep").inputs["environment"]["variables"]
    notifier = plan.named(FUNCTION, "every-notifier").inputs["environment"]["variables"]
    assert schedule.inputs["scheduleExpression"] == "rate(15 minutes)"
    assert variables["RECONCILE_LOOKBACK_HOURS"] == "48"
    assert variables["NOTIFY_STATUSES"] == "SUCCEEDED,FAILED"
    # The pipeline's own job definition, every revision: the rule's scope.
    assert variables["JOB_DEFINITION_ARN_PREFIXES"] == plan.one(JOB_DEF).state["arnPrefix"]
    assert {key: value for key, value in variables.items() if key in notifier} == notifier


@pytest.mark.parametrize("hours", [1, 24, 168])
def test_the_lookback_may_be_anything_from_an_hour_to_the_idempotency_window(environment, hours):
    environment.setenv("RECONCILE_LOOKBACK_HOURS", str(hours))

    assert sweep_settings().lookback_hours == hours


def test_a_job_definition_with_a_revision_is_refused_showing_the_shape_wanted(environment):
    environment.setenv("JOB_DEFINITION_ARN_PREFIXES", f"{PREFIX}:3")

    with pytest.raises(SettingsError) as refused:
        sweep_settings()

    assert str(refused.value) == (
        "environment variable JOB_DEFINITION_ARN_PREFIXES must be comma-separated job-definition ARNs without "
        f"revision (arn:aws:batch:<region>:<account>:job-definition/<name>), got '{PREFIX}:3' in it"
    )


def test_the_sweep_is_not_retried_runs_one_at_a_time_and_its_window_follows_the_stacks_retries():
    """EventBridge Scheduler invokes asynchronously, so Lambda would retry a failed sweep twice: the plan sets
    0, an event age of the interval, and reserved concurrency 1. The grace period is the rule's event age +
    the notifier's + the margin; the runtime allowance is the argument."""
    plan = plan_pipelines(
        (
            "every",
            {
                "reconcile_every_minutes": 15,
                "rule_max_event_age_seconds": 3600,
                "notifier_max_event_age_seconds": 1800,
                "reconcile_max_array_runtime_hours": 6,
            },
        ),
        ("daily", {"reconcile_every_minutes": 1440, "reconcile_lookback_hours": 24}),
    )

    sweep = plan.named(FUNCTION, "every-sweep")
    config = plan.named(INVOKE_CONFIG, "every-sweep")
    assert sweep.inputs["reservedConcurrentExecutions"] == 1
    assert config.inputs["functionName"] == sweep.state["name"]
    assert (config.inputs["maximumRetryAttempts"], config.inputs["maximumEventAgeInSeconds"]) == (0, 900)
    # Lambda's limit on the event age: 21,600 s for a sweep once a day.
    assert plan.named(INVOKE_CONFIG, "daily-sweep").inputs["maximumEventAgeInSeconds"] == 21600
    variables = sweep.inputs["environment"]["variables"]
    assert variables["RECONCILE_GRACE_SECONDS"] == str(3600 + 1800 + component.GRACE_MARGIN_SECONDS) == "6300"
    assert variables["RECONCILE_MAX_ARRAY_RUNTIME_HOURS"] == "6"
    defaults = plan.named(FUNCTION, "daily-sweep").inputs["environment"]["variables"]
    assert defaults["RECONCILE_GRACE_SECONDS"] == str(86400 + 21600 + 900)
    assert defaults["RECONCILE_MAX_ARRAY_RUNTIME_HOURS"] == str(DEFAULTS["reconcile_max_array_runtime_hours"])


def test_an_alarm_watches_the_sweeps_errors_and_one_its_stopped_early_metric_where_silence_breaches():
    plan = plan_pipelines(("every", {"reconcile_every_minutes": 15}))
    sweep = plan.named(FUNCTION, "every-sweep")
    home = {"stage": "dev", "jobQueue": plan.named("aws:batch/jobQueue:JobQueue", "every-queue").state["name"]}

    errors = plan.named(ALARM, "every-sweep-errors-alarm").inputs
    assert (errors["namespace"], errors["metricName"], errors["statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert errors["dimensions"] == {"FunctionName": sweep.state["name"]}
    assert errors["treatMissingData"] == "notBreaching"  # no run, no error: the other alarm sees that

    stopped = plan.named(ALARM, "every-sweep-stopped-early-alarm").inputs
    assert (stopped["namespace"], stopped["metricName"]) == ("BatchArrayNotify", "ReconcileStoppedEarly")
    assert stopped["dimensions"] == home
    assert (stopped["statistic"], stopped["comparisonOperator"], stopped["threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    # Every finished sweep writes it: silence is a sweep failing every run, or never run.
    assert stopped["treatMissingData"] == "breaching"
    assert (stopped["period"], stopped["evaluationPeriods"], stopped["datapointsToAlarm"]) == (900, 2, 2)
    alarm_actions = {tuple(a.inputs["alarmActions"]) for a in plan.of_type(ALARM)}
    assert len(alarm_actions) == 1, "every alarm tells the same alerts topic"


@pytest.mark.parametrize("every", [component.MIN_EVERY_MINUTES, 59, 60, component.MAX_EVERY_MINUTES])
def test_the_stopped_early_alarm_stays_within_cloudwatchs_evaluation_limits(every):
    """PutMetricAlarm: Period a multiple of 60; Period x EvaluationPeriods at most 1 day under an hour's
    period, at most 7 days otherwise (CloudWatch API reference, PutMetricAlarm)."""
    period = every * 60
    total = period * component.STOPPED_EARLY_PERIODS

    assert period % 60 == 0
    assert total <= (86400 if period < 3600 else 604800)
