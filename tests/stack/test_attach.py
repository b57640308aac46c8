"""The notifier-only stack (`Pulumi.attach.yaml`, `existingJobQueueArns`): the program, its rule through
moto, its config errors, and `batch-array-notify plan` / `batch-array-notify rehearse` on it."""

import json
from pathlib import Path

import pytest
import yaml
from moto import mock_aws

from batch_array_notify import InvalidArgumentError
from batch_array_notify.cli.plan import main as plan_main
from batch_array_notify.cli.rehearse import main as rehearse_main
from batch_array_notify.testing.eventgen import ArrayJobSpec, Compute, array_job_events, noise_events
from batch_array_notify.testing.program import run_program
from batch_array_notify.testing.rule_harness import RuleHarness
from tests.support import FUNCTION, NOTIFIER, RULE, descendants

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "Pulumi.attach.yaml").read_text())["config"]
QUEUES = CONFIG["batch-array-notify:existingJobQueueArns"]
DEFINITIONS_KEY = "batch-array-notify:existingJobDefinitionArnPrefixes"
A_DEFINITION = "arn:aws:batch:us-east-1:123456789012:job-definition/x"


def test_the_stack_attaches_to_its_two_queues_and_creates_nothing_before_them(stage_plans):
    plan = stage_plans["attach"]
    (notifier,) = plan.of_type(NOTIFIER)

    assert len(QUEUES) == 2
    assert [r.type for r in plan.resources if r.type.startswith("aws:batch/")] == []
    assert descendants(plan, NOTIFIER, "batch-array-notify") == [r for r in plan.resources if r is not notifier]
    assert plan.outputs["jobQueueArns"] == QUEUES
    for function in plan.of_type(FUNCTION):  # the notifier and the sweep serve the same queues
        assert function.inputs["environment"]["variables"]["JOB_QUEUE_ARNS"] == ",".join(QUEUES)
    assert "submitArrayJob" not in plan.outputs
    assert plan.outputs["topicArn"].startswith("arn:aws:sns:us-east-1:")


@pytest.mark.parametrize("compute", list(Compute))
def test_its_rule_matches_exactly_the_parents_of_its_queues(stage_plans, compute):
    pattern = stage_plans["attach"].named(RULE, "batch-array-notify-completed").inputs["eventPattern"]
    third = QUEUES[0].rsplit("/", 1)[0] + "/someone-elses-queue"
    definition = QUEUES[0].replace("job-queue/render", "job-definition/anything:12")
    specs = [ArrayJobSpec(queue, definition, size=4, failures=1, compute=compute) for queue in [*QUEUES, third]]
    stream = [event for spec in specs for event in array_job_events(spec)]
    stream += list(noise_events(QUEUES[1], definition, third, compute))

    with mock_aws():
        rule = RuleHarness(pattern)
        rule.put(stream)
        delivered = sorted(event["detail"]["jobId"] for event in rule.delivered())

    assert delivered == sorted(spec.job_id for spec in specs[:2])


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"batch-array-notify:computeType": "FARGATE"}, "batch-array-notify:computeType"),
        ({"batch-array-notify:subnetIds": '["subnet-11111111"]'}, "batch-array-notify:subnetIds"),
        ({"batch-array-notify:jobImage": "my/image"}, "batch-array-notify:jobImage"),
        (
            {"batch-array-notify:existingJobQueueArns": '["arn:aws:batch:eu-west-1:123456789012:job-queue/x"]'},
            "batch-array-notify:existingJobQueueArns[0]",
        ),
        ({"batch-array-notify:existingJobQueueArns": '["render"]'}, "batch-array-notify:existingJobQueueArns[0]"),
        (
            {DEFINITIONS_KEY: f'["{A_DEFINITION}:2"]'},
            f"{DEFINITIONS_KEY}[0]",
        ),
    ],
    ids=["compute type", "subnets", "job image", "other region", "not an ARN", "definition with revision"],
)
def test_config_that_cannot_go_with_existing_queues_is_refused_naming_the_key(override, named):
    with pytest.raises(InvalidArgumentError) as raised:
        run_program(ROOT, "attach", override)

    assert raised.value.key == named


def test_compute_keys_at_their_defaults_are_not_a_clash():
    """The CLI hands the program Pulumi.yaml's defaults as if set; those must not count as a clash."""
    plan = run_program(ROOT, "attach", {"batch-array-notify:computeType": "EC2", "batch-array-notify:maxVcpus": "16"})

    assert plan.of_type(NOTIFIER)


def test_job_definition_scoping_needs_existing_queues():
    with pytest.raises(InvalidArgumentError) as raised:
        run_program(
            ROOT,
            "dev",
            {DEFINITIONS_KEY: f'["{A_DEFINITION}"]'},
        )

    assert raised.value.key == DEFINITIONS_KEY
    assert "only with existingJobQueueArns" in str(raised.value)


def test_plan_cli_plans_the_attach_stack(capsys):
    exit_code = plan_main(["--stack", "attach"])

    document = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert document["stack"] == "attach"
    assert [r["type"] for r in document["resources"] if r["type"].startswith("aws:batch/")] == []
    assert document["outputs"]["jobQueueArns"] == QUEUES


def test_the_rehearsal_of_the_attach_stack_is_exact_with_one_notification_per_queue(capsys):
    exit_code = rehearse_main(
        ["--stack", "attach", "--size", "5", "--failures", "2", "--duplicates", "1", "--compute", "fargate", "--json"]
    )

    document = json.loads(capsys.readouterr().out)
    assert exit_code == 0
    assert document["exact"] is True
    # One array job per queue, each delivered twice (its terminal event and the duplicate); nothing else.
    assert document["matches"] == document["invocations"] == 4
    assert [(n["status"], n["size"], n["failed"]) for n in document["notifications"]] == [("FAILED", 5, 2)] * 2
    assert len({n["jobId"] for n in document["notifications"]}) == 2
    # Each queue's completion is counted under that queue, its duplicate too: the dashboard's line per queue.
    counted = sorted(
        (metrics["dimensions"]["jobQueue"], name)
        for metrics in document["metrics"]
        for name in metrics["metrics"]
        if name in ("ArrayJobsFailed", "DuplicateDeliveries")
    )
    names = sorted(queue.rpartition("/")[2] for queue in QUEUES)
    assert counted == [(queue, name) for queue in names for name in ("ArrayJobsFailed", "DuplicateDeliveries")]
