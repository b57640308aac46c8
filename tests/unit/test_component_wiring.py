"""BatchArrayPipeline under the Pulumi mock runtime: what is created, how it is wired, what it may do."""

import json
from pathlib import Path

import pytest

from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs, InvalidArgumentError
from batch_array_notify.notifier import POWERTOOLS_VERSION
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import Plan, powertools_parameter_answer, run_under_mocks
from tests.support import (
    ATTACHMENT,
    COMPUTE_ENV,
    FUNCTION,
    JOB_DEF,
    LOG_GROUP,
    NOTIFIER,
    PERMISSION,
    PROFILE,
    QUEUE,
    ROLE,
    ROLE_POLICY,
    RULE,
    SECURITY_GROUP,
    SUBSCRIPTION,
    TABLE,
    TARGET,
    TOPIC,
    descendants,
)

HANDLER_DIR = Path(__file__).resolve().parents[2] / "handler"


def plan_pipelines(*pipelines: tuple[str, BatchArrayPipelineArgs]) -> Plan:
    def program() -> None:
        for name, args in pipelines:
            BatchArrayPipeline(name, args)

    return run_under_mocks(program, "batch-array-notify", "test", {"aws:region": "eu-west-1"})


@pytest.fixture(scope="module")
def ec2_plan() -> Plan:
    return plan_pipelines(("colors", {"stage": "qa", "tags": {"team": "render"}}))


def test_component_creates_the_whole_pipeline_under_one_parent(ec2_plan):
    component = ec2_plan.one(TYPE_TOKEN)
    children = [r for r in ec2_plan.resources if r is not component]

    for type_token in (COMPUTE_ENV, QUEUE, JOB_DEF, TOPIC, TABLE):
        assert len(ec2_plan.of_type(type_token)) == 1, type_token
    # The notifier and the reconciliation sweep, one code asset.
    assert sorted(function.name for function in ec2_plan.of_type(FUNCTION)) == ["colors-notifier", "colors-sweep"]
    assert ec2_plan.named(RULE, "colors-completed")
    assert ec2_plan.named(TARGET, "colors-notify")
    assert ec2_plan.named(PERMISSION, "colors-invoke")
    assert component.name == "colors"
    assert children
    assert descendants(ec2_plan, TYPE_TOKEN, "colors") == children
    # Batch resources directly, everything after the queue through the pipeline's one notifier.
    notifier = ec2_plan.one(NOTIFIER)
    assert (notifier.name, notifier.parent) == ("colors", (TYPE_TOKEN, "colors"))
    assert ec2_plan.one(QUEUE).parent == ec2_plan.one(JOB_DEF).parent == (TYPE_TOKEN, "colors")
    assert ec2_plan.named(FUNCTION, "colors-notifier").parent == ec2_plan.one(TOPIC).parent == (NOTIFIER, "colors")


def test_rule_targets_the_notifier_and_only_this_rule_may_invoke_it(ec2_plan):
    rule, target = ec2_plan.named(RULE, "colors-completed"), ec2_plan.named(TARGET, "colors-notify")
    function, permission = ec2_plan.named(FUNCTION, "colors-notifier"), ec2_plan.named(PERMISSION, "colors-invoke")

    assert target.inputs["rule"] == rule.state["name"]
    assert target.inputs["arn"] == function.state["arn"]
    assert permission.inputs["action"] == "lambda:InvokeFunction"
    assert permission.inputs["principal"] == "events.amazonaws.com"
    assert permission.inputs["sourceArn"] == rule.state["arn"]
    assert permission.inputs["function"] == function.state["name"]


def test_rule_pattern_is_scoped_to_this_queue_and_definition(ec2_plan):
    pattern = json.loads(ec2_plan.named(RULE, "colors-completed").inputs["eventPattern"])

    assert pattern["detail"]["jobQueue"] == [ec2_plan.one(QUEUE).state["arn"]]
    assert pattern["detail"]["jobDefinition"] == [{"prefix": ec2_plan.one(JOB_DEF).state["arnPrefix"] + ":"}]
    assert pattern["detail"]["arrayProperties"]["size"] == [{"exists": True}]


def test_notifier_environment_names_its_topic_table_and_stage(ec2_plan):
    variables = ec2_plan.named(FUNCTION, "colors-notifier").inputs["environment"]["variables"]

    assert variables == {
        "TOPIC_ARN": ec2_plan.one(TOPIC).state["arn"],
        "STAGE": "qa",
        "IDEMPOTENCY_TABLE": ec2_plan.one(TABLE).state["name"],
        "MAX_FAILED_DETAILS": "20",
        "POWERTOOLS_SERVICE_NAME": "batch-array-notify",
        "EVENT_BUS_NAME": "default",
        "JOB_QUEUE_ARNS": ec2_plan.one(QUEUE).state["arn"],
        "FAILED_LOG_CHILDREN": "3",
        "FAILED_LOG_LINES": "20",
        "FAILED_LOG_BYTES": "2048",
        # The pipeline's own job log group, the one its job definition logs to.
        "FAILED_LOG_GROUPS": json.loads(ec2_plan.one(JOB_DEF).inputs["containerProperties"])["logConfiguration"][
            "options"
        ]["awslogs-group"],
    }


def test_notifier_runs_the_handler_package_with_the_managed_powertools_layer(ec2_plan):
    function = ec2_plan.named(FUNCTION, "colors-notifier").inputs

    assert function["handler"] == "handler.app.handler"
    assert function["runtime"] == "python3.13"
    assert function["architectures"] == ["arm64"]
    # Powertools' own parameter for the tested release, read at deploy time (the plan mocks answer it).
    assert function["layers"] == [
        powertools_parameter_answer(
            f"/aws/service/powertools/python/arm64/python3.13/{POWERTOOLS_VERSION}", "eu-west-1"
        )["value"]
    ]
    assert function["loggingConfig"]["logGroup"] == ec2_plan.named(LOG_GROUP, "colors-notifier").state["name"]


def test_code_asset_holds_only_the_handler_sources(ec2_plan):
    assets = ec2_plan.named(FUNCTION, "colors-notifier").inputs["code"]["assetArchive"]

    assert set(assets) == {f"handler/{path.name}" for path in HANDLER_DIR.glob("*.py")}
    assert "handler/app.py" in assets
    assert not any("__pycache__" in key or "test" in key for key in assets)


def test_notifier_policy_reaches_only_its_log_group_topic_and_table(ec2_plan):
    policy = json.loads(ec2_plan.named(ROLE_POLICY, "colors-notifier").inputs["policy"])
    grants = {statement["Sid"]: statement for statement in policy["Statement"]}
    log_group_arn = ec2_plan.named(LOG_GROUP, "colors-notifier").state["arn"]

    assert grants["WriteOwnLogs"]["Resource"] == f"{log_group_arn}:*"
    assert grants["PublishCompletion"] == {
        "Sid": "PublishCompletion",
        "Effect": "Allow",
        "Action": "sns:Publish",
        "Resource": ec2_plan.one(TOPIC).state["arn"],
    }
    assert grants["RecordCompletions"]["Resource"] == ec2_plan.one(TABLE).state["arn"]
    assert grants["ReadBatchJobs"]["Action"] == ["batch:DescribeJobs", "batch:ListJobs"]
    role_policy = ec2_plan.named(ROLE_POLICY, "colors-notifier")
    assert role_policy.inputs["role"] == ec2_plan.named(ROLE, "colors-notifier").id


def test_idempotency_table_is_on_demand_with_ttl(ec2_plan):
    table = ec2_plan.one(TABLE).inputs

    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert table["hashKey"] == "id"
    assert table["attributes"] == [{"name": "id", "type": "S"}]
    assert table["ttl"] == {"attributeName": "expiration", "enabled": True}


def test_ec2_compute_uses_service_linked_role_and_an_instance_profile(ec2_plan):
    environment = ec2_plan.one(COMPUTE_ENV).inputs
    resources = environment["computeResources"]

    assert environment["type"] == "MANAGED"
    assert "serviceRole" not in environment
    assert resources["type"] == "EC2"
    assert resources["allocationStrategy"] == "BEST_FIT_PROGRESSIVE"
    assert resources["instanceTypes"] == ["optimal"]
    assert resources["instanceRole"] == ec2_plan.one(PROFILE).state["arn"]
    assert resources["ec2Configurations"] == [{"imageType": "ECS_AL2023"}]
    assert resources["securityGroupIds"] == [ec2_plan.one(SECURITY_GROUP).id]
    assert len(resources["subnets"]) == 3
    assert ec2_plan.one(ATTACHMENT).inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    )
    # Tags on the environment, never inside computeResources: changing those replaces the environment.
    assert environment["tags"] == {"team": "render"}
    assert "tags" not in resources


def test_default_security_group_allows_no_ingress(ec2_plan):
    group = ec2_plan.one(SECURITY_GROUP).inputs

    assert not group.get("ingress")
    assert [rule["protocol"] for rule in group["egress"]] == ["-1"]
    assert group["vpcId"] == "vpc-0d3fa017b0e2c5a10"


def test_queue_runs_on_the_compute_environment(ec2_plan):
    queue = ec2_plan.one(QUEUE).inputs

    assert queue["computeEnvironmentOrders"] == [
        {"computeEnvironment": ec2_plan.one(COMPUTE_ENV).state["arn"], "order": 1}
    ]
    assert queue["state"] == "ENABLED"


def test_job_definition_reproduces_the_print_color_demo_and_logs_to_its_own_group(ec2_plan):
    definition = ec2_plan.one(JOB_DEF).inputs
    container = json.loads(definition["containerProperties"])

    assert definition["platformCapabilities"] == ["EC2"]
    assert definition["retryStrategy"] == {"attempts": 1}
    assert definition["timeout"] == {"attemptDurationSeconds": 3600}
    assert container["image"].startswith("public.ecr.aws/")
    assert "AWS_BATCH_JOB_ARRAY_INDEX" in container["command"][-1]
    assert container["resourceRequirements"] == [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]
    # The awslogs driver, into the pipeline's job log group: where the notifier reads a failed child's lines.
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": ec2_plan.named(LOG_GROUP, "colors-jobs").state["name"],
            "awslogs-stream-prefix": "job",
        },
    }
    assert "executionRoleArn" not in container


def test_every_log_group_has_a_retention(ec2_plan):
    assert {r.name: r.inputs["retentionInDays"] for r in ec2_plan.of_type(LOG_GROUP)} == {
        "colors-jobs": 14,
        "colors-notifier": 14,
        "colors-sweep": 14,
    }


def test_each_role_is_assumed_by_the_service_that_runs_it():
    """A role its service cannot assume fails only at run time: the first job never starts on its host,
    or the first completion is never delivered."""
    plan = plan_pipelines(("e", {}), ("f", {"compute_type": "FARGATE"}))
    trusted = {
        role.name: [statement["Principal"] for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]]
        for role in plan.of_type(ROLE)
    }

    assert trusted == {
        "e-instance": [{"Service": "ec2.amazonaws.com"}],
        "f-execution": [{"Service": "ecs-tasks.amazonaws.com"}],
        **{f"{name}-notifier": [{"Service": "lambda.amazonaws.com"}] for name in "ef"},
        **{f"{name}-sweep": [{"Service": "lambda.amazonaws.com"}] for name in "ef"},
        **{f"{name}-sweep-schedule": [{"Service": "scheduler.amazonaws.com"}] for name in "ef"},
    }
    assert plan.named(ATTACHMENT, "e-instance-AmazonEC2ContainerServiceforEC2Role").inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    )
    assert plan.named(ATTACHMENT, "f-execution-AmazonECSTaskExecutionRolePolicy").inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    )


def test_no_broad_managed_policy_is_attached_anywhere():
    plan = plan_pipelines(("a", {}), ("b", {"compute_type": "FARGATE"}))
    arns = [attachment.inputs["policyArn"] for attachment in plan.of_type(ATTACHMENT)]

    assert arns
    assert not [arn for arn in arns if "FullAccess" in arn or "AdministratorAccess" in arn]


def test_fargate_uses_an_execution_role_and_no_ec2_settings():
    plan = plan_pipelines(("f", {"compute_type": "FARGATE_SPOT", "job_vcpus": 0.25, "job_memory_mib": 512}))
    resources = plan.one(COMPUTE_ENV).inputs["computeResources"]
    definition = plan.one(JOB_DEF).inputs
    container = json.loads(definition["containerProperties"])

    assert resources["type"] == "FARGATE_SPOT"
    assert not {"instanceTypes", "minVcpus", "allocationStrategy", "instanceRole", "ec2Configurations"} & set(resources)
    assert not plan.of_type(PROFILE)
    assert definition["platformCapabilities"] == ["FARGATE"]
    assert container["executionRoleArn"] == plan.named(ROLE, "f-execution").state["arn"]
    assert container["networkConfiguration"] == {"assignPublicIp": "ENABLED"}
    assert container["resourceRequirements"][0] == {"type": "VCPU", "value": "0.25"}
    assert plan.one(ATTACHMENT).inputs["policyArn"].endswith("service-role/AmazonECSTaskExecutionRolePolicy")


def test_spot_defaults_to_price_capacity_optimized():
    plan = plan_pipelines(("s", {"compute_type": "SPOT"}))

    assert plan.one(COMPUTE_ENV).inputs["computeResources"]["allocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"


def test_given_network_and_topic_are_used_instead_of_created():
    topic = "arn:aws:sns:eu-west-1:111122223333:team-alerts"
    plan = plan_pipelines(
        (
            "byo",
            {
                "subnet_ids": ["subnet-11111111", "subnet-22222222"],
                "security_group_ids": ["sg-99999999"],
                "existing_topic_arn": topic,
            },
        )
    )

    assert not plan.of_type(TOPIC)
    assert not plan.of_type(SECURITY_GROUP)
    assert plan.one(COMPUTE_ENV).inputs["computeResources"]["subnets"] == ["subnet-11111111", "subnet-22222222"]
    assert plan.one(COMPUTE_ENV).inputs["computeResources"]["securityGroupIds"] == ["sg-99999999"]
    assert plan.named(FUNCTION, "byo-notifier").inputs["environment"]["variables"]["TOPIC_ARN"] == topic
    policy = json.loads(plan.named(ROLE_POLICY, "byo-notifier").inputs["policy"])
    assert {"Sid": "PublishCompletion", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic} in policy[
        "Statement"
    ]


def test_email_subscriptions_filter_on_the_status_attribute():
    plan = plan_pipelines(
        (
            "mail",
            {
                "email_subscriptions": [
                    {"address": "team@example.com"},
                    {"address": "oncall@example.com", "statuses": ["FAILED"]},
                ]
            },
        )
    )
    subscriptions = {s.inputs["endpoint"]: s.inputs for s in plan.of_type(SUBSCRIPTION)}

    assert set(subscriptions) == {"team@example.com", "oncall@example.com"}
    assert all(s["protocol"] == "email" and s["topic"] == plan.one(TOPIC).state["arn"] for s in subscriptions.values())
    assert "filterPolicy" not in subscriptions["team@example.com"]
    assert json.loads(subscriptions["oncall@example.com"]["filterPolicy"]) == {"status": ["FAILED"]}
    assert subscriptions["oncall@example.com"]["filterPolicyScope"] == "MessageAttributes"


def test_two_instances_in_one_program_never_clash():
    plan = plan_pipelines(("render", {}), ("encode", {"compute_type": "FARGATE"}))
    identities = [(r.type, r.name) for r in plan.resources]
    completion_rules = [plan.named(RULE, "render-completed"), plan.named(RULE, "encode-completed")]
    patterns = [json.loads(rule.inputs["eventPattern"])["detail"]["jobQueue"] for rule in completion_rules]

    assert len(identities) == len(set(identities))
    assert len(plan.of_type(TYPE_TOKEN)) == 2
    assert patterns[0] != patterns[1]
    # Physical names are left to auto-naming, so two stacks in one account cannot collide either.
    assert all("name" not in r.inputs for r in plan.resources if r.type in (QUEUE, COMPUTE_ENV, FUNCTION, RULE))


def test_invalid_arguments_declare_nothing():
    raised: list[InvalidArgumentError] = []

    def program() -> None:
        with pytest.raises(InvalidArgumentError) as error:
            BatchArrayPipeline("bad", {"compute_type": "FARGATE", "job_vcpus": 3, "job_memory_mib": 512})
        raised.append(error.value)

    plan = run_under_mocks(program, "batch-array-notify", "test")

    assert plan.resources == []
    assert raised[0].key == "job_vcpus"
    assert "0.25" in raised[0].allowed
