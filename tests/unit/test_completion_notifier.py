"""ArrayCompletionNotifier under the Pulumi mock runtime: queues you already have, one of them another
stack's output; everything after the queue and nothing before it; many queues over several rules."""

import json
import re

import pulumi
import pytest

from batch_array_notify import ArrayCompletionNotifier, ArrayCompletionNotifierArgs, InvalidArgumentError, runbook
from batch_array_notify.cli.plan import invalid_argument_in
from batch_array_notify.event_pattern import completion_rule_queue_groups
from batch_array_notify.testing.program import Plan, run_under_mocks
from tests.policy_grammar import document_problems
from tests.support import (
    ALARM,
    DASHBOARD,
    FUNCTION,
    KEY,
    LOG_GROUP,
    NOTIFIER,
    PERMISSION,
    ROLE_POLICY,
    RULE,
    TARGET,
    TOPIC,
    descendants,
)

REGION = "eu-west-1"
RENDER = f"arn:aws:batch:{REGION}:123456789012:job-queue/render"
ENCODE = f"arn:aws:batch:{REGION}:123456789012:job-queue/encode"
RENDER_FRAMES = f"arn:aws:batch:{REGION}:123456789012:job-definition/render-frames"
#: The stack that owns the Batch side (Terraform's outputs would do as well): its queue comes from there.
BATCH_STACK = "org/batch/prod"


def plan_notifier(args: ArrayCompletionNotifierArgs, name: str = "byo") -> Plan:
    def program() -> None:
        batch = pulumi.StackReference(BATCH_STACK)
        resolved = {
            **args,
            "job_queue_arns": [
                batch.get_output("encodeQueueArn") if arn == "from-stack" else arn for arn in args["job_queue_arns"]
            ],
        }
        ArrayCompletionNotifier(name, ArrayCompletionNotifierArgs(**resolved))  # type: ignore[typeddict-item]

    return run_under_mocks(program, "byo", "test", {"aws:region": REGION}, {BATCH_STACK: {"encodeQueueArn": ENCODE}})


@pytest.fixture(scope="module")
def two_queues() -> Plan:
    """One queue ARN written out, one another stack's output."""
    return plan_notifier({"job_queue_arns": [RENDER, "from-stack"], "stage": "render", "tags": {"team": "render"}})


def test_the_notifier_alone_creates_no_compute_queue_or_job_definition(two_queues):
    component = two_queues.one(NOTIFIER)

    assert [r.type for r in two_queues.resources if r.type.startswith("aws:batch/")] == []
    assert descendants(two_queues, NOTIFIER, "byo") == [r for r in two_queues.resources if r is not component]
    assert component.outputs["job_queue_arns"] == [RENDER, ENCODE]
    assert component.outputs["job_definition_arn_prefixes"] == []
    for type_token in (FUNCTION, RULE, TARGET, PERMISSION, "aws:sns/topic:Topic", "aws:dynamodb/table:Table"):
        assert two_queues.of_type(type_token), type_token
    # The notifier's six, two for its one rule, and the reconciliation sweep's three.
    assert len(two_queues.of_type(ALARM)) == 11
    assert all(r.aliases == () for r in two_queues.resources)


def test_one_rule_lists_both_queues_for_any_job_definition(two_queues):
    rule = two_queues.named(RULE, "byo-completed")
    pattern = json.loads(rule.inputs["eventPattern"])

    assert pattern["detail"]["jobQueue"] == [RENDER, ENCODE]
    assert "jobDefinition" not in pattern["detail"]
    # What the EventBridge console lists the rule as.
    assert rule.inputs["description"] == "An array job of this pipeline reached a terminal status (parent only)"
    assert pattern["detail"]["arrayProperties"] == {"size": [{"exists": True}], "index": [{"exists": False}]}
    assert (
        two_queues.named(TARGET, "byo-notify").inputs["arn"] == two_queues.named(FUNCTION, "byo-notifier").state["arn"]
    )
    assert two_queues.one(NOTIFIER).outputs["completion_rule_arns"] == [rule.state["arn"]]
    blocked = json.loads(two_queues.named(RULE, "byo-blocked").inputs["eventPattern"])
    assert blocked["detail"]["jobQueue"] == [RENDER, ENCODE]


def test_the_handler_is_told_exactly_its_queues(two_queues):
    variables = two_queues.named(FUNCTION, "byo-notifier").inputs["environment"]["variables"]

    assert variables["JOB_QUEUE_ARNS"] == f"{RENDER},{ENCODE}"
    assert variables["STAGE"] == "render"


def test_job_definition_scoping_matches_every_revision_of_the_named_definitions():
    plan = plan_notifier({"job_queue_arns": [RENDER], "job_definition_arn_prefixes": [RENDER_FRAMES]})

    pattern = json.loads(plan.named(RULE, "byo-completed").inputs["eventPattern"])
    assert pattern["detail"]["jobDefinition"] == [{"prefix": f"{RENDER_FRAMES}:"}]
    assert plan.one(NOTIFIER).outputs["job_definition_arn_prefixes"] == [RENDER_FRAMES]


@pytest.fixture(scope="module")
def many_queues() -> tuple[list[str], Plan]:
    queues = [f"arn:aws:batch:{REGION}:123456789012:job-queue/{'team-' * 10}{index:03d}" for index in range(30)]
    return queues, plan_notifier({"job_queue_arns": queues})


def test_more_queues_than_one_pattern_holds_are_shared_out_over_numbered_rules(many_queues):
    queues, plan = many_queues
    groups = completion_rule_queue_groups(queues, None)
    suffixes = ["", *[f"-{n}" for n in range(2, len(groups) + 1)]]
    names = [f"byo-completed{suffix}" for suffix in suffixes]

    assert len(groups) > 1
    assert sorted(rule.name for rule in plan.of_type(RULE) if "-completed" in rule.name) == sorted(names)
    listed = [json.loads(plan.named(RULE, name).inputs["eventPattern"])["detail"]["jobQueue"] for name in names]
    assert [queue for rule in listed for queue in rule] == queues  # each queue in exactly one rule
    assert all(len(plan.named(RULE, name).inputs["eventPattern"]) <= 2048 for name in names)
    for suffix in suffixes:
        assert (
            plan.named(TARGET, f"byo-notify{suffix}").inputs["rule"]
            == plan.named(RULE, f"byo-completed{suffix}").state["name"]
        )
        assert (
            plan.named(PERMISSION, f"byo-invoke{suffix}").inputs["sourceArn"]
            == (plan.named(RULE, f"byo-completed{suffix}").state["arn"])
        )
        assert plan.named(RULE, f"byo-blocked{suffix}")
        assert plan.named(ALARM, f"byo-rule-failed-alarm{suffix}").inputs["dimensions"] == {
            "RuleName": plan.named(RULE, f"byo-completed{suffix}").state["name"]
        }
    assert len(plan.of_type(ALARM)) == 6 + 2 * len(groups) + 3  # + the reconciliation sweep's
    assert plan.one(NOTIFIER).outputs["completion_rule_arns"] == [plan.named(RULE, name).state["arn"] for name in names]


def test_every_alarm_of_every_rule_links_its_runbook_section(many_queues):
    _, plan = many_queues
    sections = {
        "rule-failed-alarm": runbook.RULE_FAILED_INVOCATIONS,
        "dead-letter-failed-alarm": runbook.DEAD_LETTER_FAILED,
    }
    rule_alarms = [a for a in plan.of_type(ALARM) if a.inputs["namespace"] == "AWS/Events"]

    assert len(rule_alarms) == 2 * len(plan.one(NOTIFIER).outputs["completion_rule_arns"]) > 2
    for alarm in rule_alarms:
        kind = re.sub(r"-\d+$", "", alarm.name.removeprefix("byo-"))
        assert alarm.inputs["alarmDescription"].endswith(f". Runbook: {runbook.runbook_url(None, sections[kind])}"), (
            alarm.name
        )


def test_one_dashboard_and_one_ignored_events_alarm_serve_every_queue_and_rule(many_queues):
    queues, plan = many_queues
    body = json.loads(plan.one(DASHBOARD).inputs["dashboardBody"])
    lines = [
        array for widget in body["widgets"] if widget["type"] == "metric" for array in widget["properties"]["metrics"]
    ]
    (ignored,) = [a for a in plan.of_type(ALARM) if a.inputs["metricName"] == "IgnoredEvents"]
    names = [queue.rpartition("/")[2] for queue in queues]

    assert [a[5] for a in lines if a[1] == "ArrayJobsFailed"] == names
    assert [a[5] for a in lines if a[1] == "IgnoredEvents"] == [names[0]]
    assert ignored.inputs["dimensions"] == {"stage": "dev", "jobQueue": names[0]}
    rules = {a[3] for a in lines if a[1] == "FailedInvocations"}
    assert rules == {r.state["name"] for r in plan.of_type(RULE) if "-completed" in r.name}
    assert plan.one(NOTIFIER).outputs["dashboard_name"] == f"byo-dev-{REGION}"


def test_every_rule_may_dead_letter_and_every_blocked_rule_may_alert(many_queues):
    queues, plan = many_queues
    rules = {r.state["arn"] for r in plan.of_type(RULE)}
    blocked = sorted(r.state["arn"] for r in plan.of_type(RULE) if "-blocked" in r.name)

    (queue_policy,) = plan.of_type("aws:sqs/queuePolicy:QueuePolicy")
    (statement,) = json.loads(queue_policy.inputs["policy"])["Statement"]
    assert set(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == rules
    topic_policy = json.loads(plan.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    (events,) = [s for s in topic_policy["Statement"] if s["Principal"] == {"Service": "events.amazonaws.com"}]
    assert sorted(events["Condition"]["ArnEquals"]["aws:SourceArn"]) == blocked
    assert len(blocked) == len(completion_rule_queue_groups(queues, None))


def test_the_downstream_function_hears_the_completion_events_of_all_its_queues():
    plan = plan_notifier(
        {
            "job_queue_arns": [RENDER, "from-stack"],
            "downstream_function": {"code_path": __file__, "handler": "x.handler"},
        }
    )

    pattern = json.loads(plan.named(RULE, "byo-downstream").inputs["eventPattern"])
    assert pattern["detail"] == {"jobQueueArn": [RENDER, ENCODE]}
    assert plan.one(NOTIFIER).outputs["downstream_rule_arns"] == [plan.named(RULE, "byo-downstream").state["arn"]]


def test_the_downstream_function_gets_its_environment_its_own_log_group_and_a_valid_grant_to_it():
    downstream = {"code_path": __file__, "handler": "x.handler", "environment": {"TARGET_TABLE": "results"}}
    plan = plan_notifier({"job_queue_arns": [RENDER], "downstream_function": downstream})
    function = plan.named(FUNCTION, "byo-downstream").inputs
    policy = json.loads(plan.named(ROLE_POLICY, "byo-downstream").inputs["policy"])

    assert function["environment"] == {"variables": {"TARGET_TABLE": "results"}}
    assert function["loggingConfig"] == {
        "logFormat": "Text",
        "logGroup": plan.named(LOG_GROUP, "byo-downstream").state["name"],
    }
    assert document_problems(ROLE_POLICY, policy) == []
    # What the EventBridge console lists its rule as.
    assert plan.named(RULE, "byo-downstream").inputs["description"] == (
        "A completion event of this pipeline, for the downstream function"
    )


def test_with_log_tails_off_the_notifier_may_read_no_job_logs(two_queues):
    """A right the handler never uses is one a stolen role could: with `failed_log_children` 0, none."""
    off = plan_notifier({"job_queue_arns": [RENDER], "failed_log_children": 0})

    assert "ReadFailedJobLogs" in role_statements(two_queues, "byo-notifier")
    assert "ReadFailedJobLogs" not in role_statements(off, "byo-notifier")
    assert [s for s in role_statements(off, "byo-notifier").values() if "logs:GetLogEvents" in _actions(s)] == []


@pytest.mark.parametrize(
    ("alarm", "says"),
    [
        (
            "byo-sweep-errors-alarm",
            "The reconciliation sweep failed: it is not retried, the next sweep covers the same window",
        ),
        ("byo-rule-failed-alarm", "EventBridge failed to invoke the notifier (retried, then dead-lettered)"),
    ],
)
def test_an_alarm_tells_on_call_what_happened_before_its_runbook_link(two_queues, alarm, says):
    description = two_queues.named(ALARM, alarm).inputs["alarmDescription"]

    assert description.startswith(f"{says}. Runbook: ")


def test_the_notifier_may_send_to_its_on_failure_queue_and_encrypt_under_the_key(two_queues):
    statements = role_statements(two_queues, "byo-notifier")
    outputs = two_queues.one(NOTIFIER).outputs

    assert statements["SendFailedEventsToDestination"]["Resource"] == outputs["notifier_failure_queue_arn"]
    assert statements["EncryptForTopicAndDestination"]["Resource"] == outputs["kms_key_arn"]


def test_every_alarm_but_the_sweeps_stopped_early_one_fires_on_the_first_period_over_its_threshold(two_queues):
    """Each is a count of something that went wrong (zero when all is well): one period is enough."""
    alarms = {alarm.name: alarm.inputs for alarm in two_queues.of_type(ALARM)}
    stopped_early = alarms.pop("byo-sweep-stopped-early-alarm")

    assert {name: alarm["evaluationPeriods"] for name, alarm in alarms.items()} == dict.fromkeys(alarms, 1)
    assert not [name for name, alarm in alarms.items() if alarm.get("datapointsToAlarm")]
    assert (stopped_early["evaluationPeriods"], stopped_early["datapointsToAlarm"]) == (2, 2)


def test_the_completion_target_dead_letters_into_the_notifiers_queue(two_queues):
    """What EventBridge could not deliver after its retries is kept, not dropped."""
    target = two_queues.named(TARGET, "byo-notify").inputs

    assert target["deadLetterConfig"] == {"arn": two_queues.one(NOTIFIER).outputs["dead_letter_queue_arn"]}


@pytest.mark.parametrize(
    ("args", "key", "message"),
    [
        ({}, "job_queue_arns", "non-empty list"),
        ({"job_queue_arns": []}, "job_queue_arns", "non-empty list"),
        (
            {"job_queue_arns": ["render"]},
            "job_queue_arns[0]",
            "expected an ARN like arn:aws:batch:<region>:<account>:job-queue/<name>",
        ),
        (
            {"job_queue_arns": [RENDER], "job_definition_arn_prefixes": ["frames"]},
            "job_definition_arn_prefixes[0]",
            "expected an ARN like arn:aws:batch:<region>:<account>:job-definition/<name> (no revision)",
        ),
        ({"job_queue_arns": [RENDER, RENDER]}, "job_queue_arns[1]", "already given as job_queue_arns[0]"),
        (
            {"job_queue_arns": [RENDER, RENDER.replace(REGION, "us-east-1")]},
            "job_queue_arns[1]",
            "like job_queue_arns[0]",
        ),
        (
            {"job_queue_arns": [RENDER], "job_definition_arn_prefixes": [f"{RENDER_FRAMES}:4"]},
            "job_definition_arn_prefixes[0]",
            "without its revision",
        ),
        (
            # The longest name Batch allows, with a revision: still recognised as a definition ARN.
            {"job_queue_arns": [RENDER], "job_definition_arn_prefixes": [f"{RENDER_FRAMES[:-13]}{'d' * 128}:4"]},
            "job_definition_arn_prefixes[0]",
            "without its revision",
        ),
        (
            {
                "job_queue_arns": [RENDER],
                "job_definition_arn_prefixes": [f"{RENDER_FRAMES}-{n:02d}{'d' * 100}" for n in range(12)],
            },
            "job_definition_arn_prefixes",
            "exceeds EventBridge's 2048-character pattern limit",
        ),
        (
            {
                "job_queue_arns": [
                    f"arn:aws:batch:{REGION}:123456789012:job-queue/{n:03d}{'q' * 120}" for n in range(20)
                ]
            },
            "job_queue_arns",
            "JOB_QUEUE_ARNS would be",
        ),
        (
            {"job_queue_arns": [RENDER], "job_definition_arn_prefixes": [RENDER_FRAMES.replace(REGION, "us-east-1")]},
            "job_definition_arn_prefixes[0]",
            "like job_queue_arns[0]",
        ),
        (
            {"job_queue_arns": [RENDER], "job_definition_arn_prefixes": [RENDER_FRAMES.replace("1234", "4321")]},
            "job_definition_arn_prefixes[0]",
            "like job_queue_arns[0]",
        ),
        ({"job_queue_arns": [RENDER], "compute_type": "EC2"}, "compute_type", "unknown argument"),
    ],
    ids=[
        "missing",
        "empty",
        "not an ARN",
        "not a definition ARN",
        "twice",
        "two regions",
        "revision",
        "revision of the longest name",
        "too many definitions",
        "too long for the environment",
        "definition of another region",
        "definition of another account",
        "compute key",
    ],
)
def test_bad_arguments_name_the_key_and_declare_nothing(args, key, message):
    errors: list[InvalidArgumentError] = []

    def program() -> None:
        with pytest.raises(InvalidArgumentError) as raised:
            ArrayCompletionNotifier("byo", args)  # type: ignore[arg-type]
        errors.append(raised.value)

    plan = run_under_mocks(program, "byo", "test", {"aws:region": REGION})

    (error,) = errors
    assert error.key == key
    assert message in str(error)
    assert plan.resources == []


def test_a_queue_of_another_region_known_only_at_deploy_time_is_refused_naming_it():
    other_region = RENDER.replace(REGION, "us-east-1")

    def program() -> None:
        ArrayCompletionNotifier("byo", {"job_queue_arns": [pulumi.Output.from_input(other_region)]})

    # The SDK wraps the check's error in its own (ValueError), as `pulumi up` reports it.
    with pytest.raises(ValueError, match="While processing") as raised:
        run_under_mocks(program, "byo", "test", {"aws:region": REGION})

    invalid = invalid_argument_in(raised.value)
    assert invalid is not None
    assert invalid.key == "job_queue_arns[0]"
    assert f"in {REGION}, where this stack deploys" in str(invalid)


def test_an_arn_known_only_at_deploy_time_does_not_keep_the_ones_after_it_from_being_checked():
    errors: list[InvalidArgumentError] = []

    def program() -> None:
        with pytest.raises(InvalidArgumentError) as raised:
            ArrayCompletionNotifier("byo", {"job_queue_arns": [pulumi.Output.from_input(RENDER), "render"]})
        errors.append(raised.value)

    plan = run_under_mocks(program, "byo", "test", {"aws:region": REGION})

    assert [(error.key, error.value) for error in errors] == [("job_queue_arns[1]", "render")]
    assert plan.resources == []


def test_name_prefix_tags_every_taggable_child_of_the_notifier_by_its_part():
    def program() -> None:
        ArrayCompletionNotifier("byo", {"job_queue_arns": [RENDER], "name_prefix": "render", "tags": {"team": "vfx"}})

    plan = run_under_mocks(program, "byo", "test", {"aws:region": REGION})
    tagged = [r for r in plan.resources if "tags" in r.inputs]

    assert plan.named(FUNCTION, "byo-notifier").inputs["tags"] == {"team": "vfx", "Name": "render-notifier"}
    assert len(tagged) >= 5
    assert all(r.inputs["tags"]["Name"] == "render-" + r.name.removeprefix("byo-") for r in tagged)


#: A completion topic the stack does not own (`existing_topic_arn`): nothing of ours encrypts it.
OPS_TOPIC = f"arn:aws:sns:{REGION}:123456789012:ops"
SLACK = {"slack_workspace_id": "T07EA123LEP", "slack_channel_id": "C07EZ1ABC23"}


def role_statements(plan: Plan, role: str = "byo-sweep") -> dict[str, dict]:
    """The statements of a role's inline policy (the sweep's by default) by Sid."""
    policy = json.loads(plan.named(ROLE_POLICY, role).inputs["policy"])
    return {statement.get("Sid", ""): statement for statement in policy["Statement"]}


@pytest.fixture(scope="module")
def ops_topic_with_chat() -> Plan:
    return plan_notifier({"job_queue_arns": [RENDER], "existing_topic_arn": OPS_TOPIC, **SLACK})


def test_with_a_topic_not_its_own_the_sweep_still_encrypts_for_the_chat_topic_under_the_key(ops_topic_with_chat):
    """The sweep reports a missed completion to chat too; the chat topic is ours and under the key, so the
    sweep needs the key through SNS even though the completion topic is someone else's."""
    plan = ops_topic_with_chat
    statements = role_statements(plan)
    chat_topic_arn = plan.named(TOPIC, "byo-chat").state["arn"]

    assert statements["EncryptForTopics"]["Resource"] == plan.one(KEY).state["arn"]
    assert statements["EncryptForTopics"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"sns.{REGION}.amazonaws.com"]}
    }
    assert statements["PublishChatNotification"]["Resource"] == chat_topic_arn


def test_with_a_topic_not_its_own_the_notifier_still_encrypts_for_the_chat_topic_under_the_key(ops_topic_with_chat):
    """The same for the notifier: it publishes each completion to the chat topic."""
    statements = role_statements(ops_topic_with_chat, "byo-notifier")

    assert (
        f"sns.{REGION}.amazonaws.com"
        in statements["EncryptForTopicAndDestination"]["Condition"]["StringEquals"]["kms:ViaService"]
    )


def test_with_a_topic_not_its_own_and_no_chat_the_sweep_has_no_right_to_the_key():
    """Then the sweep publishes only to the existing topic, which our key does not encrypt."""
    plan = plan_notifier({"job_queue_arns": [RENDER], "existing_topic_arn": OPS_TOPIC})
    statements = role_statements(plan)

    assert "EncryptForTopics" not in statements
    assert "PublishChatNotification" not in statements
    assert [s for s in statements.values() if any(str(a).startswith("kms:") for a in _actions(s))] == []


def _actions(statement: dict) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)
