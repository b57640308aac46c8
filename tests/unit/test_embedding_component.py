"""Embedding BatchArrayPipeline in larger programs: several compute environments, resources of the
caller's own, an explicit provider, the completion bus, a downstream function, the Name tag, outputs."""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from batch_array_notify import (
    COMPLETION_EVENT_DETAIL_TYPE,
    COMPLETION_EVENT_SOURCE,
    BatchArrayPipeline,
    BatchArrayPipelineArgs,
    InvalidArgumentError,
)
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan, run_under_mocks
from tests.support import (
    COMPUTE_ENV,
    FUNCTION,
    JOB_DEF,
    PERMISSION,
    PROFILE,
    PROVIDER,
    QUEUE,
    ROLE_POLICY,
    RULE,
    SECURITY_GROUP,
    TARGET,
    TOPIC,
    descendants,
    queued_compute_types,
)

REGION = "eu-west-1"


def plan_program(program) -> Plan:
    return run_under_mocks(program, "batch-array-notify", "test", {"aws:region": REGION})


def plan_one(name: str, args: BatchArrayPipelineArgs, export: bool = False) -> Plan:
    def program() -> None:
        pipeline = BatchArrayPipeline(name, args)
        if export:
            for key, output in pipeline.outputs().items():
                pulumi.export(key, output)

    return plan_program(program)


def rejected(args: BatchArrayPipelineArgs) -> InvalidArgumentError:
    raised: list[InvalidArgumentError] = []

    def program() -> None:
        with pytest.raises(InvalidArgumentError) as error:
            BatchArrayPipeline("bad", args)
        raised.append(error.value)

    assert plan_program(program).resources == []  # validated before anything is declared
    return raised[0]


# --------------------------------------------------------------------------------------------------
# Several compute environments behind the one queue


@pytest.fixture(scope="module")
def spot_then_ec2() -> Plan:
    return plan_one(
        "mix",
        {
            "compute_environments": [
                {"compute_type": "SPOT", "max_vcpus": 64, "instance_types": ["c6i"]},
                {"compute_type": "EC2", "max_vcpus": 8, "min_vcpus": 2},
            ]
        },
        export=True,
    )


def test_queue_uses_the_environments_in_the_given_order(spot_then_ec2):
    spot = spot_then_ec2.named(COMPUTE_ENV, "mix-compute")
    on_demand = spot_then_ec2.named(COMPUTE_ENV, "mix-compute-2")
    orders = spot_then_ec2.one(QUEUE).inputs["computeEnvironmentOrders"]

    assert orders == [
        {"computeEnvironment": spot.state["arn"], "order": 1},
        {"computeEnvironment": on_demand.state["arn"], "order": 2},
    ]
    assert spot.inputs["computeResources"]["type"] == "SPOT"
    assert spot.inputs["computeResources"]["maxVcpus"] == 64
    assert spot.inputs["computeResources"]["instanceTypes"] == ["c6i"]
    assert spot.inputs["computeResources"]["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert on_demand.inputs["computeResources"]["type"] == "EC2"
    assert on_demand.inputs["computeResources"]["minVcpus"] == 2
    assert on_demand.inputs["computeResources"]["instanceTypes"] == ["optimal"]
    assert spot_then_ec2.outputs["compute_environment_arns"] == [spot.state["arn"], on_demand.state["arn"]]
    assert spot_then_ec2.outputs["compute_environment_arn"] == spot.state["arn"]


def test_ec2_environments_share_one_instance_profile(spot_then_ec2):
    profile = spot_then_ec2.one(PROFILE)
    roles = {env.inputs["computeResources"]["instanceRole"] for env in spot_then_ec2.of_type(COMPUTE_ENV)}

    assert roles == {profile.state["arn"]}
    assert spot_then_ec2.one(JOB_DEF).inputs["platformCapabilities"] == ["EC2"]


def test_fargate_environments_take_fargate_jobs_and_no_instance_profile():
    plan = plan_one(
        "fg",
        {
            "compute_environments": [{"compute_type": "FARGATE_SPOT", "max_vcpus": 8}, {"compute_type": "FARGATE"}],
            "job_vcpus": 0.5,
            "job_memory_mib": 1024,
        },
    )

    assert queued_compute_types(plan, "fg-queue") == ["FARGATE_SPOT", "FARGATE"]
    assert not plan.of_type(PROFILE)
    assert plan.one(JOB_DEF).inputs["platformCapabilities"] == ["FARGATE"]


@pytest.mark.parametrize(
    ("args", "key", "allowed"),
    [
        ({"compute_environments": [{"compute_type": "EC2"}] * 4}, "compute_environments", "1 to 3"),
        ({"compute_environments": []}, "compute_environments", "1 to 3"),
        (
            {"compute_environments": [{"compute_type": "SPOT"}, {"compute_type": "FARGATE"}]},
            "compute_environments[1].compute_type",
            "not both",
        ),
        (
            {"compute_type": "SPOT", "compute_environments": [{"compute_type": "EC2"}]},
            "compute_type",
            "per entry",
        ),
        (
            {"compute_environments": [{"compute_type": "FARGATE", "instance_types": ["c6i"]}]},
            "compute_environments[0].instance_types",
            "only for EC2 or SPOT",
        ),
        (
            {"compute_environments": [{"compute_type": "EC2", "min_vcpus": 9, "max_vcpus": 4}]},
            "compute_environments[0].min_vcpus",
            "must not exceed",
        ),
        (
            {"compute_environments": [{"compute_type": "EC2", "vcpus": 4}]},
            "compute_environments[0]",
            "unknown keys",
        ),
        (
            # Fargate sizes are checked against the environments' kind, not the flat default (EC2).
            {"compute_environments": [{"compute_type": "FARGATE"}], "job_vcpus": 3},
            "job_vcpus",
            "allowed",
        ),
    ],
)
def test_invalid_compute_environments_are_rejected_before_anything_is_declared(args, key, allowed):
    error = rejected(args)

    assert error.key == key
    assert allowed in error.allowed


# --------------------------------------------------------------------------------------------------
# The caller's own network, topic and provider


def test_subnets_security_groups_and_topic_may_be_outputs_of_the_callers_resources():
    def program() -> None:
        vpc = aws.ec2.Vpc("shared", cidr_block="10.0.0.0/16")
        subnets = [
            aws.ec2.Subnet(f"private-{zone}", vpc_id=vpc.id, cidr_block=f"10.0.{index}.0/24")
            for index, zone in enumerate("ab")
        ]
        group = aws.ec2.SecurityGroup("jobs", vpc_id=vpc.id)
        topic = aws.sns.Topic("team-alerts")
        BatchArrayPipeline(
            "byo",
            {
                "subnet_ids": [subnet.id for subnet in subnets],
                "security_group_ids": [group.id],
                "existing_topic_arn": topic.arn,
            },
        )

    plan = plan_program(program)
    resources = plan.named(COMPUTE_ENV, "byo-compute").inputs["computeResources"]
    topic_arn = plan.named(TOPIC, "team-alerts").state["arn"]

    assert resources["subnets"] == [plan.named("aws:ec2/subnet:Subnet", f"private-{z}").id for z in "ab"]
    assert resources["securityGroupIds"] == [plan.named(SECURITY_GROUP, "jobs").id]
    assert [r.name for r in plan.of_type(SECURITY_GROUP)] == ["jobs"]
    assert [r.name for r in plan.of_type(TOPIC)] == ["team-alerts"]
    assert plan.named(FUNCTION, "byo-notifier").inputs["environment"]["variables"]["TOPIC_ARN"] == topic_arn


def test_every_child_uses_the_provider_given_through_opts():
    def program() -> None:
        frankfurt = aws.Provider("frankfurt", region="eu-central-1")
        BatchArrayPipeline("far", {}, pulumi.ResourceOptions(providers=[frankfurt]))

    plan = plan_program(program)
    plan.one(PROVIDER)
    children = descendants(plan, TYPE_TOKEN, "far")
    custom = [r for r in children if r.type.startswith("aws:")]
    references = {r.provider for r in custom}

    assert len(children) == len(plan.resources) - 2  # everything but the provider and the component
    assert len(custom) >= 15
    assert len(references) == 1, references
    assert "pulumi:providers:aws::frankfurt::" in references.pop()
    # Lookups run through it too: ARNs name its region, not the stack's.
    assert plan.one(QUEUE).state["arn"].startswith("arn:aws:batch:eu-central-1:")
    bus_policy = json.loads(plan.named(ROLE_POLICY, "far-notifier-events").inputs["policy"])
    assert bus_policy["Statement"][0]["Resource"] == f"arn:aws:events:eu-central-1:{MOCK_ACCOUNT}:event-bus/default"


# --------------------------------------------------------------------------------------------------
# The completion bus


def test_notifier_puts_completion_events_on_the_default_bus_and_only_there():
    plan = plan_one("bus", {})
    variables = plan.named(FUNCTION, "bus-notifier").inputs["environment"]["variables"]
    policy = json.loads(plan.named(ROLE_POLICY, "bus-notifier-events").inputs["policy"])

    assert variables["EVENT_BUS_NAME"] == "default"
    assert policy["Statement"] == [
        {
            "Sid": "PutCompletionEvent",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": f"arn:aws:events:{REGION}:{MOCK_ACCOUNT}:event-bus/default",
        }
    ]
    assert (
        plan.named(ROLE_POLICY, "bus-notifier-events").inputs["role"]
        == plan.named("aws:iam/role:Role", "bus-notifier").id
    )


def test_a_custom_bus_from_the_callers_program_is_used_by_name_and_granted_by_arn():
    def program() -> None:
        bus = aws.cloudwatch.EventBus("analytics")
        pipeline = BatchArrayPipeline("own", {"completion_event_bus": bus.name})
        pulumi.export("bus", pipeline.completion_event_bus_arn)
        pulumi.export("bus_name", pipeline.completion_event_bus_name)

    plan = plan_program(program)
    bus = plan.named("aws:cloudwatch/eventBus:EventBus", "analytics")
    policy = json.loads(plan.named(ROLE_POLICY, "own-notifier-events").inputs["policy"])

    assert (
        plan.named(FUNCTION, "own-notifier").inputs["environment"]["variables"]["EVENT_BUS_NAME"] == (bus.state["name"])
    )
    assert policy["Statement"][0]["Resource"] == f"arn:aws:events:{REGION}:{MOCK_ACCOUNT}:event-bus/{bus.state['name']}"
    assert plan.outputs == {"bus": policy["Statement"][0]["Resource"], "bus_name": bus.state["name"]}


def test_another_accounts_bus_is_granted_by_exactly_its_arn():
    arn = "arn:aws:events:eu-west-1:210987654321:event-bus/central"
    plan = plan_one("x", {"completion_event_bus": arn}, export=True)
    policy = json.loads(plan.named(ROLE_POLICY, "x-notifier-events").inputs["policy"])

    assert policy["Statement"][0]["Resource"] == arn
    assert plan.named(FUNCTION, "x-notifier").inputs["environment"]["variables"]["EVENT_BUS_NAME"] == arn
    assert plan.outputs["completion_event_bus_name"] == "central"


@pytest.mark.parametrize("bus", ["", "has space", "arn:aws:sns:eu-west-1:210987654321:topic"])
def test_an_invalid_bus_is_rejected(bus):
    assert rejected({"completion_event_bus": bus}).key == "completion_event_bus"


# --------------------------------------------------------------------------------------------------
# The downstream function


@pytest.fixture
def downstream_code(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event['detail']['jobId']\n")
    return tmp_path


def test_downstream_function_is_invoked_by_a_rule_on_this_pipelines_completion_events(downstream_code):
    plan = plan_one(
        "etl",
        {
            "completion_event_bus": "analytics",
            "downstream_function": {
                "code_path": str(downstream_code),
                "handler": "app.handler",
                "runtime": "python3.12",
                "environment": {"TARGET_TABLE": "results"},
            },
        },
        export=True,
    )
    function = plan.named(FUNCTION, "etl-downstream")
    rule = plan.named(RULE, "etl-downstream")
    target = plan.named(TARGET, "etl-downstream")
    permission = plan.named(PERMISSION, "etl-downstream")

    assert function.inputs["handler"] == "app.handler"
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["architectures"] == ["x86_64"]
    assert function.inputs["code"] == {"file": str(downstream_code)}
    assert function.inputs["environment"] == {"variables": {"TARGET_TABLE": "results"}}
    assert rule.inputs["eventBusName"] == "analytics"
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": [COMPLETION_EVENT_SOURCE],
        "detail-type": [COMPLETION_EVENT_DETAIL_TYPE],
        "detail": {"jobQueueArn": [plan.one(QUEUE).state["arn"]]},
    }
    assert target.inputs["eventBusName"] == "analytics"
    assert target.inputs["arn"] == function.state["arn"]
    assert permission.inputs["sourceArn"] == rule.state["arn"]
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert plan.outputs["downstream_function_arn"] == function.state["arn"]
    assert plan.outputs["downstream_rule_arn"] == rule.state["arn"]


def test_downstream_target_retries_then_dead_letters_like_the_completion_target(downstream_code):
    plan = plan_one("etl", {"downstream_function": {"code_path": str(downstream_code), "handler": "app.handler"}})
    downstream = plan.named(TARGET, "etl-downstream").inputs
    completion = plan.named(TARGET, "etl-notify").inputs
    dead_letter_queue = plan.named("aws:sqs/queue:Queue", "etl-undelivered").state["arn"]
    queue_policy = json.loads(plan.named("aws:sqs/queuePolicy:QueuePolicy", "etl-undelivered").inputs["policy"])
    allowed_sources = queue_policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]

    assert downstream["retryPolicy"] == completion["retryPolicy"]
    assert downstream["deadLetterConfig"] == {"arn": dead_letter_queue}
    # The queue only accepts dead letters from rules it names: the downstream rule must be one of them.
    assert plan.named(RULE, "etl-downstream").state["arn"] in allowed_sources
    assert plan.named(RULE, "etl-completed").state["arn"] in allowed_sources


def test_a_single_file_becomes_the_only_file_of_the_package(downstream_code):
    plan = plan_one(
        "one", {"downstream_function": {"code_path": str(downstream_code / "app.py"), "handler": "app.handler"}}
    )

    assert plan.named(FUNCTION, "one-downstream").inputs["code"] == {
        "assetArchive": {"app.py": {"file": str(downstream_code / "app.py")}}
    }


def test_without_downstream_function_there_is_no_downstream_output_or_resource():
    plan = plan_one("plain", {}, export=True)

    assert sorted(r.name for r in plan.of_type(FUNCTION)) == ["plain-notifier", "plain-sweep"]
    assert not any(key.startswith("downstream_") for key in plan.outputs)


@pytest.mark.parametrize(
    ("downstream", "key"),
    [
        ({"code_path": "/no/such/folder", "handler": "app.handler"}, "downstream_function.code_path"),
        ({"code_path": ".", "handler": "app handler"}, "downstream_function.handler"),
        ({"code_path": ".", "handler": "app.handler", "runtime": "cobol"}, "downstream_function.runtime"),
        ({"code_path": ".", "handler": "app.handler", "timeout_seconds": 901}, "downstream_function.timeout_seconds"),
        ({"code_path": ".", "handler": "app.handler", "architecture": "sparc"}, "downstream_function.architecture"),
        ({"code": ".", "handler": "app.handler"}, "downstream_function"),
    ],
)
def test_an_invalid_downstream_function_is_rejected(downstream, key):
    assert rejected({"downstream_function": downstream}).key == key


# --------------------------------------------------------------------------------------------------
# Name tags and outputs


def test_name_prefix_tags_every_taggable_child_by_its_part_and_keeps_the_users_tags():
    plan = plan_one("pipe", {"name_prefix": "etl", "tags": {"team": "data"}, "compute_type": "SPOT"})
    tagged = [r for r in plan.resources if "tags" in r.inputs]

    assert plan.named(QUEUE, "pipe-queue").inputs["tags"] == {"team": "data", "Name": "etl-queue"}
    assert plan.named(FUNCTION, "pipe-notifier").inputs["tags"]["Name"] == "etl-notifier"
    assert len(tagged) >= 10
    assert all(r.inputs["tags"]["Name"] == "etl-" + r.name.removeprefix("pipe-") for r in tagged)
    assert all(r.inputs["tags"]["team"] == "data" for r in tagged)
    assert rejected({"name_prefix": "etl pipeline"}).key == "name_prefix"


def test_without_name_prefix_no_name_tag_is_added():
    plan = plan_one("pipe", {"tags": {"team": "data"}})
    tagged = [r for r in plan.resources if "tags" in r.inputs]

    # The user's tags do arrive, so the absence of Name below is about the prefix, not about tagging.
    assert len(tagged) >= 10
    assert all(r.inputs["tags"] == {"team": "data"} for r in tagged)
    assert all("Name" not in (r.inputs.get("tags") or {}) for r in plan.resources)


def test_every_output_is_set_and_names_a_real_resource(spot_then_ec2):
    outputs = spot_then_ec2.outputs
    annotated = set(BatchArrayPipeline.output_names())
    optional = {key for key in annotated if key.startswith(("downstream_", "chat_"))}

    assert set(outputs) == annotated - optional
    assert all(value for value in outputs.values()), [key for key, value in outputs.items() if not value]
    arns = {key: value for key, value in outputs.items() if key.endswith("_arn")}
    assert all(value.startswith("arn:aws:") for value in arns.values()), arns
    assert outputs["completion_event_source"] == COMPLETION_EVENT_SOURCE
    assert outputs["completion_event_detail_type"] == COMPLETION_EVENT_DETAIL_TYPE
    assert outputs["completion_event_bus_name"] == "default"
