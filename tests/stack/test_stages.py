"""The whole program, once per stage file: what each stage creates and that its rule is parent-only."""

import json
from pathlib import Path

import pytest
import yaml
from moto import mock_aws

from batch_array_notify.args import DEFAULTS
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events, noise_events, single_job_events
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rule_harness import RuleHarness
from tests.support import NOTIFIER, RULE, ToolRun, descendants, run_tool

REQUIRED_TYPES = (
    "aws:batch/computeEnvironment:ComputeEnvironment",
    "aws:batch/jobQueue:JobQueue",
    "aws:batch/jobDefinition:JobDefinition",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:lambda/function:Function",
    "aws:lambda/permission:Permission",
    "aws:sns/topic:Topic",
)
ROOT = Path(__file__).resolve().parents[2]
STAGES = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
#: Stages that build the whole pipeline (the others attach a notifier to existing queues: test_attach.py;
#: forward a member account's events: tests/stack/test_member.py; or are an organisation's central notifier:
#: tests/unit/test_central_notifier.py).
NOT_A_PIPELINE = {
    "batch-array-notify:existingJobQueueArns",
    "batch-array-notify:centralBusArn",
    "batch-array-notify:memberAccounts",
}
PIPELINE_STAGES = [
    stage
    for stage in STAGES
    if not NOT_A_PIPELINE & set(yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"])
]


def completion_rule_inputs(plan: Plan) -> tuple[str, str, str]:
    """The rendered pattern, and the queue and definition ARNs the stage's events will carry."""
    rule = plan.named(RULE, f"{plan.project}-completed")
    queue_arn = plan.one("aws:batch/jobQueue:JobQueue").state["arn"]
    definition_prefix = plan.one("aws:batch/jobDefinition:JobDefinition").state["arnPrefix"]
    return rule.inputs["eventPattern"], queue_arn, definition_prefix


def test_both_real_stages_and_the_attach_example_exist():
    assert PIPELINE_STAGES == ["dev", "prod"]
    assert "attach" in STAGES


@pytest.mark.parametrize("stage", PIPELINE_STAGES)
def test_stage_creates_the_pipeline_under_one_component(stage_plans, stage):
    plan = stage_plans[stage]
    components = plan.of_type(TYPE_TOKEN)

    assert plan.project == "batch-array-notify"
    assert len(components) == 1
    for type_token in REQUIRED_TYPES:
        assert plan.of_type(type_token), f"{stage} lacks {type_token}"
    below = descendants(plan, TYPE_TOKEN, components[0].name)
    assert below == [r for r in plan.resources if r.type != TYPE_TOKEN]
    assert len(plan.of_type(NOTIFIER)) == 1


@pytest.mark.parametrize("stage", PIPELINE_STAGES)
def test_stage_exports_every_component_output(stage_plans, stage):
    outputs = stage_plans[stage].outputs

    assert outputs["jobQueueArn"].startswith("arn:aws:batch:us-east-1:")
    assert outputs["topicArn"].startswith("arn:aws:sns:")
    assert outputs["completionRuleArn"].startswith("arn:aws:events:")
    assert "--array-properties size=7" in outputs["submitArrayJob"]


def test_stages_differ_the_way_real_ones_do(stage_plans):
    dev = stage_plans["dev"].one("aws:batch/computeEnvironment:ComputeEnvironment").inputs["computeResources"]
    prod = stage_plans["prod"].one("aws:batch/computeEnvironment:ComputeEnvironment").inputs["computeResources"]
    retention = {
        stage: {r.inputs["retentionInDays"] for r in stage_plans[stage].of_type("aws:cloudwatch/logGroup:LogGroup")}
        for stage in ("dev", "prod")
    }

    assert (dev["type"], dev["maxVcpus"]) == ("FARGATE_SPOT", 4)
    assert (prod["type"], prod["maxVcpus"]) == ("EC2", 256)
    assert max(retention["dev"]) < min(retention["prod"])


@pytest.mark.parametrize("stage", PIPELINE_STAGES)
@pytest.mark.parametrize("compute", list(Compute))
def test_stage_rule_matches_only_array_parents_in_a_terminal_status(stage_plans, fake_aws, stage, compute):
    pattern, queue_arn, definition_prefix = completion_rule_inputs(stage_plans[stage])
    other_queue = queue_arn.rsplit("/", 1)[0] + "/someone-elses-queue"
    # Revision 9: jobs submitted after several `pulumi up`s must still match.
    definition = f"{definition_prefix}:9"
    arrays = [
        ArrayJobSpec(queue_arn, definition, size=7, compute=compute),
        ArrayJobSpec(
            queue_arn,
            definition,
            size=5,
            failures=2,
            failures_before_placement=1,
            compute=compute,
            parent_job_id="b0b0b0b0-0000-4000-8000-000000000002",
        ),
    ]
    stream = [event for spec in arrays for event in array_job_events(spec)]
    stream += list(noise_events(queue_arn, definition, other_queue, compute))
    stream += list(single_job_events(queue_arn, definition, compute, status="FAILED"))

    with mock_aws():
        harness = RuleHarness(pattern)
        harness.put(stream)
        delivered = harness.delivered()

    assert harness.put_count == len(stream)
    assert sorted((e["detail"]["jobId"], e["detail"]["status"]) for e in delivered) == sorted(
        [(arrays[0].job_id, "SUCCEEDED"), (arrays[1].job_id, "FAILED")]
    )


def test_project_config_declares_every_key_the_program_reads():
    program = (ROOT / "__main__.py").read_text()
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]

    for key, schema in declared.items():
        assert f'"{key}"' in program, f"Pulumi.yaml declares {key} but __main__.py never reads it"
        assert schema.get("type") in {"string", "integer", "boolean", "array"}, key
        assert schema.get("description"), key


def test_project_defaults_equal_the_component_defaults():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    unmapped = set()
    for key, schema in declared.items():
        if "default" not in schema:
            continue
        arg = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        if arg not in DEFAULTS:
            unmapped.add(key)
            continue
        default = DEFAULTS[arg]
        if isinstance(default, float):
            assert float(schema["default"]) == default, key
        elif isinstance(default, dict):
            assert schema["default"] == [f"{k}={v}" for k, v in default.items()], key
        else:
            assert schema["default"] == default, key
    # Every other key with a default is compared: only the e-mail lists become another argument
    # (`email_subscriptions`), so a renamed argument cannot silently drop out of the comparison.
    assert unmapped == {"notificationEmails", "failureEmails"}


def run_plan(*arguments: str) -> ToolRun:
    return run_tool(plan_main, *arguments)


def test_plan_cli_prints_the_resources_as_json():
    result = run_plan("--stack", "dev")
    document = json.loads(result.stdout)

    assert result.code == 0, result.stderr
    assert document["project"] == "batch-array-notify"
    assert document["stack"] == "dev"
    types = {r["type"] for r in document["resources"]}
    assert set(REQUIRED_TYPES) <= types
    rule = next(r for r in document["resources"] if r["type"] == RULE and r["name"] == "batch-array-notify-completed")
    assert json.loads(rule["inputs"]["eventPattern"])["detail"]["arrayProperties"]["size"] == [{"exists": True}]
    assert rule["parent"] == {"type": NOTIFIER, "name": "batch-array-notify"}
    # What the engine keys state on, and the alias that keeps the rule from before the notifier split.
    assert rule["urn"] == (
        f"urn:pulumi:dev::batch-array-notify::{TYPE_TOKEN}${NOTIFIER}${RULE}::batch-array-notify-completed"
    )
    assert rule["aliases"] == [f"urn:pulumi:dev::batch-array-notify::{TYPE_TOKEN}${RULE}::batch-array-notify-completed"]


@pytest.mark.parametrize(
    ("override", "named_key"),
    [
        ("batch-array-notify:computeType=GPU", "batch-array-notify:computeType"),
        ("batch-array-notify:maxVcpus=-4", "batch-array-notify:maxVcpus"),
    ],
)
def test_plan_cli_rejects_invalid_config_with_exit_2_and_one_line(override, named_key):
    result = run_plan("--stack", "dev", "--config", override)

    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert named_key in result.stderr
    assert override.rsplit("=", 1)[1] in result.stderr


def test_plan_cli_names_a_missing_stack_file():
    result = run_plan("--stack", "staging")

    assert result.code == 2
    assert "Pulumi.staging.yaml" in result.stderr
