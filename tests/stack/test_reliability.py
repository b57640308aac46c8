"""docs/reliability.md in each stage's plan: nothing lost (retries, dead-letter queues, on-failure destination), nothing
open (blocked queues alert, stuck jobs are cancelled), someone told (alarms), everything encrypted."""

import json
import re
from pathlib import Path

import pytest
import yaml

from batch_array_notify.args import DEFAULTS
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.event_pattern import queue_blocked_event_pattern
from batch_array_notify.testing.program import Plan, PlannedResource, run_program
from batch_array_notify.validation import LOG_RETENTION_DAYS
from tests.support import ALARM, INVOKE_CONFIG, KEY, RULE, TARGET, TOPIC

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")
QUEUE = "aws:sqs/queue:Queue"
OPS_TOPIC = "arn:aws:sns:us-east-1:123456789012:ops-alerts"


def stage_value(stage: str, key: str) -> object:
    """The stage file's value for a config key, or the project default."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"]
    arg = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
    return config.get(f"batch-array-notify:{key}", DEFAULTS[arg])


def named(plan: Plan, type_token: str, suffix: str) -> PlannedResource:
    """The pipeline's one resource of `type_token` named `<project>-<suffix>`."""
    return plan.named(type_token, f"{plan.project}-{suffix}")


@pytest.mark.parametrize("stage", STAGES)
def test_both_rule_targets_retry_then_dead_letter_to_the_encrypted_queue(stage_plans, stage):
    plan = stage_plans[stage]
    dlq = named(plan, QUEUE, "undelivered")
    targets = {target.name: target.inputs for target in plan.of_type(TARGET)}
    for name in (f"{plan.project}-notify", f"{plan.project}-blocked-alert"):
        assert targets[name]["retryPolicy"] == {
            "maximumEventAgeInSeconds": stage_value(stage, "ruleMaxEventAgeSeconds"),
            "maximumRetryAttempts": stage_value(stage, "ruleRetryAttempts"),
        }
        assert targets[name]["deadLetterConfig"] == {"arn": dlq.state["arn"]}


@pytest.mark.parametrize("stage", STAGES)
def test_only_eventbridge_for_our_rules_may_send_to_the_dead_letter_queue(stage_plans, stage):
    plan = stage_plans[stage]
    dlq = named(plan, QUEUE, "undelivered")
    (policy,) = plan.of_type("aws:sqs/queuePolicy:QueuePolicy")
    assert policy.inputs["queueUrl"] == dlq.state["url"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    rule_arns = sorted(rule.state["arn"] for rule in plan.of_type(RULE))
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == dlq.state["arn"]
    assert sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns


@pytest.mark.parametrize("stage", STAGES)
def test_the_notifier_retries_then_sends_failures_to_its_destination(stage_plans, stage):
    plan = stage_plans[stage]
    config = named(plan, INVOKE_CONFIG, "notifier").inputs
    function = named(plan, "aws:lambda/function:Function", "notifier")
    assert config["functionName"] == function.state["name"]
    assert config["maximumRetryAttempts"] == stage_value(stage, "notifierMaxRetries")
    assert config["maximumEventAgeInSeconds"] == stage_value(stage, "notifierMaxEventAgeSeconds")
    destination = config["destinationConfig"]["onFailure"]["destination"]
    assert destination == named(plan, QUEUE, "notifier-failed").state["arn"]


@pytest.mark.parametrize("stage", STAGES)
def test_alarms_watch_both_queues_the_function_and_the_rule(stage_plans, stage):
    plan = stage_plans[stage]
    alarms = plan.of_type(ALARM)
    alerts_topic = plan.outputs["alertsTopicArn"]
    assert len(alarms) >= 4
    watched = {
        (a.inputs["namespace"], a.inputs["metricName"], *sorted(a.inputs["dimensions"].values())) for a in alarms
    }
    function_name = named(plan, "aws:lambda/function:Function", "notifier").state["name"]
    sweep_name = named(plan, "aws:lambda/function:Function", "sweep").state["name"]
    home = sorted([plan.one("aws:batch/jobQueue:JobQueue").state["name"], stage])
    assert watched == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", named(plan, QUEUE, "undelivered").state["name"]),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", named(plan, QUEUE, "notifier-failed").state["name"]),
        ("AWS/Lambda", "Errors", function_name),
        # Not Throttles: a burst is throttled by design under reserved concurrency (issue 25).
        ("AWS/Lambda", "AsyncEventsDropped", function_name),
        ("AWS/Lambda", "AsyncEventAge", function_name),
        ("AWS/Events", "FailedInvocations", named(plan, RULE, "completed").state["name"]),
        ("AWS/Events", "InvocationsFailedToBeSentToDlq", named(plan, RULE, "completed").state["name"]),
        # The notifier's own metric: a wrongly wired rule (docs/operations.md#ignored-events).
        ("BatchArrayNotify", "IgnoredEvents", *sorted([plan.one("aws:batch/jobQueue:JobQueue").state["name"], stage])),
        # The sweep's: completions the event path missed (docs/operations.md#completions-the-sweep-reported).
        ("BatchArrayNotify", "ReconciledCompletions", *home),
        # The sweep's failures (docs/operations.md#sweep-errors) and whether it covers its window at all.
        ("AWS/Lambda", "Errors", sweep_name),
        ("BatchArrayNotify", "ReconcileStoppedEarly", *home),
    }
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [alerts_topic]
        # AsyncEventAge is in milliseconds; its alarm fires at half the notifier's maximum event age.
        age_alarm = alarm.inputs["metricName"] == "AsyncEventAge"
        max_age_ms = int(str(stage_value(stage, "notifierMaxEventAgeSeconds"))) * 1000
        assert alarm.inputs["threshold"] == (max_age_ms // 2 if age_alarm else 0)
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
        # Only a metric every finished sweep writes breaches when absent: no sweep finished.
        silent_breaches = alarm.inputs["metricName"] == "ReconcileStoppedEarly"
        assert alarm.inputs["treatMissingData"] == ("breaching" if silent_breaches else "notBreaching")


@pytest.mark.parametrize("stage", STAGES)
def test_every_log_group_has_an_allowed_retention(stage_plans, stage):
    groups = stage_plans[stage].of_type("aws:cloudwatch/logGroup:LogGroup")
    assert len(groups) >= 2
    for group in groups:
        assert group.inputs.get("retentionInDays") in LOG_RETENTION_DAYS, group.name


@pytest.mark.parametrize("stage", STAGES)
def test_every_queue_and_topic_is_encrypted_with_the_rotating_customer_key(stage_plans, stage):
    plan = stage_plans[stage]
    key = plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert 7 <= key.inputs["deletionWindowInDays"] <= 30
    encrypted = plan.of_type(QUEUE) + plan.of_type(TOPIC)
    assert len(encrypted) == 3
    for resource in encrypted:
        assert resource.inputs.get("kmsMasterKeyId") == key.state["arn"], resource.name
    assert plan.outputs["kmsKeyArn"] == key.state["arn"]


@pytest.mark.parametrize("stage", STAGES)
def test_the_key_policy_names_its_administrator_and_its_users(stage_plans, stage):
    plan = stage_plans[stage]
    statements = {s["Sid"]: s for s in json.loads(plan.one(KEY).inputs["policy"])["Statement"]}
    role_arn = named(plan, "aws:iam/role:Role", "notifier").state["arn"]
    assert statements["AccountAdministersTheKey"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    admin = statements["AccountAdministersTheKey"]["Action"]
    assert "kms:PutKeyPolicy" in admin
    assert "kms:Decrypt" not in admin, "root administers the key, it does not use it"
    users = {json.dumps(s["Principal"], sort_keys=True): s["Action"] for s in statements.values()}
    sweep_arn = named(plan, "aws:iam/role:Role", "sweep").state["arn"]
    principals = ({"Service": "cloudwatch.amazonaws.com"}, {"Service": "events.amazonaws.com"}, {"AWS": role_arn})
    for principal in (*principals, {"AWS": sweep_arn}):
        assert users[json.dumps(principal, sort_keys=True)] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # The sweep publishes only: through SNS, never SQS.
    assert statements["SweepWritesToEncryptedTopics"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}
    }


@pytest.mark.parametrize("stage", STAGES)
def test_blocked_queue_events_of_this_queue_alert_the_alerts_topic(stage_plans, stage):
    plan = stage_plans[stage]
    queue_arn = plan.one("aws:batch/jobQueue:JobQueue").state["arn"]
    rule = named(plan, RULE, "blocked")
    assert json.loads(rule.inputs["eventPattern"]) == queue_blocked_event_pattern(queue_arn)
    target = named(plan, TARGET, "blocked-alert")
    assert target.inputs["arn"] == plan.outputs["alertsTopicArn"] == plan.outputs["topicArn"]
    policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    events = [s for s in policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert [s["Condition"] for s in events] == [{"ArnEquals": {"aws:SourceArn": rule.state["arn"]}}]
    (alarms,) = [s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert sorted(alarms["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        a.state["arn"] for a in plan.of_type(ALARM)
    )
    assert {s["Action"] for s in policy["Statement"]} == {"sns:Publish"}


@pytest.mark.parametrize("stage", STAGES)
def test_the_queue_cancels_jobs_stuck_in_runnable(stage_plans, stage):
    actions = stage_plans[stage].one("aws:batch/jobQueue:JobQueue").inputs["jobStateTimeLimitActions"]
    assert {a["reason"] for a in actions} == set(stage_value(stage, "stuckJobReasons"))
    for action in actions:
        assert action["action"] == "CANCEL"
        assert action["state"] == "RUNNABLE"
        assert action["maxTimeSeconds"] == stage_value(stage, "stuckJobCancelAfterSeconds")
        assert 600 <= action["maxTimeSeconds"] <= 86400


@pytest.mark.parametrize("stage", STAGES)
def test_failure_handling_outputs_are_exported(stage_plans, stage):
    plan = stage_plans[stage]
    dlq, failed = named(plan, QUEUE, "undelivered"), named(plan, QUEUE, "notifier-failed")
    assert plan.outputs["deadLetterQueueArn"] == dlq.state["arn"]
    assert plan.outputs["deadLetterQueueUrl"] == dlq.state["url"]
    assert plan.outputs["notifierFailureQueueArn"] == failed.state["arn"]
    assert plan.outputs["notifierFailureQueueUrl"] == failed.state["url"]
    assert plan.outputs["queueBlockedRuleArn"] == named(plan, RULE, "blocked").state["arn"]


def test_a_separate_ops_topic_takes_the_alerts_and_keeps_its_own_policy():
    plan = run_program(ROOT, "prod", {"batch-array-notify:alertsTopicArn": OPS_TOPIC})
    assert plan.outputs["alertsTopicArn"] == OPS_TOPIC
    assert plan.of_type(ALARM)
    assert all(alarm.inputs["alarmActions"] == [OPS_TOPIC] for alarm in plan.of_type(ALARM))
    assert named(plan, TARGET, "blocked-alert").inputs["arn"] == OPS_TOPIC
    # Not our topic: its owner's policy stays; the completion topic needs none (only the role publishes).
    assert plan.of_type("aws:sns/topicPolicy:TopicPolicy") == []


@pytest.mark.parametrize("stage", STAGES)
def test_the_notifier_runs_under_its_reserved_concurrency(stage_plans, stage):
    notifier = named(stage_plans[stage], "aws:lambda/function:Function", "notifier")

    assert notifier.inputs["reservedConcurrentExecutions"] == stage_value(stage, "notifierReservedConcurrency")
    assert notifier.inputs["reservedConcurrentExecutions"] >= 1


def invalid_inputs_table() -> list[tuple[str, str, str]]:
    """(stage, config pairs, message) of each row of docs/reliability.md's table of invalid inputs."""
    docs = (ROOT / "docs" / "reliability.md").read_text()
    section = docs[docs.index("## Invalid inputs tried") :].split("\n## ", 1)[0]
    return re.findall(r"^\| (\w+) \| `(.+?)` \| `(.+)` \|$", section, re.M)


def test_the_invalid_inputs_table_has_its_rows():
    rows = invalid_inputs_table()

    assert len(rows) >= 20
    assert ("dev", "jobMemoryMib=3000") in {(stage, config) for stage, config, _ in rows}


@pytest.mark.parametrize(("stage", "config", "message"), invalid_inputs_table(), ids=lambda value: value[:40])
def test_each_invalid_input_of_the_docs_prints_the_message_the_table_quotes(stage, config, message, capsys):
    """The table quotes what `tools.plan` prints: the check's message, word for word, exit 2."""
    # A pair whose key names its namespace (`aws:region=...`) is given as it is; the rest are the project's.
    overrides = [
        f"--config={pair}" if ":" in pair.partition("=")[0] else f"--config=batch-array-notify:{pair}"
        for pair in config.split(", ")
    ]
    with pytest.raises(SystemExit) as exited:
        plan_main(["--stack", stage, *overrides])

    assert exited.value.code == 2
    assert capsys.readouterr().err == f"error: {message}\n"
