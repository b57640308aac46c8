"""The component's arguments checked against AWS's own formats (components/aws_formats.py, from botocore's data):
ARNs by service, resource, partition and region; EC2 ids; instance types; e-mail addresses once; each job
fitting every compute environment. What embedders get, as the stack program does."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest

from batch_array_notify import ArrayCompletionNotifier, BatchArrayPipeline, InvalidArgumentError
from batch_array_notify.aws_formats import (
    ACCOUNT_ID,
    EXTERNAL_ID,
    ORGANIZATION_ID,
    ModelShape,
    instance_families,
    instance_types,
    parse_arn,
    partition_of,
    regions,
    role_resource_problem,
)
from batch_array_notify.cli.plan import invalid_argument_in
from batch_array_notify.testing.program import run_under_mocks
from batch_array_notify.validation import resolve_args

REGION = "eu-west-1"
QUEUE = f"arn:aws:batch:{REGION}:123456789012:job-queue/render"
TOPIC = f"arn:aws:sns:{REGION}:123456789012:done"


def test_regions_and_partitions_are_botocores():
    assert (partition_of("us-east-1"), partition_of("cn-north-1"), partition_of("us-gov-west-1")) == (
        "aws",
        "aws-cn",
        "aws-us-gov",
    )
    assert partition_of("mars-1") is None
    assert "eu-central-2" in regions()
    assert "us-east-1a" not in regions()


def test_instance_types_and_families_are_the_ec2_models():
    assert {"c6i.large", "m7g.metal", "p5.48xlarge"} <= instance_types()
    assert {"c6i", "m7g", "p5"} <= instance_families()
    assert "banana.huge" not in instance_types()
    assert "banana" not in instance_families()


def test_an_arn_is_split_into_its_six_parts():
    arn = parse_arn("arn:aws:batch:eu-west-1:123456789012:job-queue/a:b")
    assert arn is not None
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == (
        "aws",
        "batch",
        "eu-west-1",
        "123456789012",
        "job-queue/a:b",
    )
    assert parse_arn("arn:aws:sns:bogus") is None
    assert parse_arn("not-an-arn") is None


SNS = "expected an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>"

#: (arguments, the key the error names, a fragment of what it says)
RULES: list[tuple[dict[str, Any], str, str]] = [
    ({"existing_topic_arn": "arn:aws:sns:bogus"}, "existing_topic_arn", SNS),
    ({"existing_topic_arn": "not-an-arn"}, "existing_topic_arn", SNS),
    ({"existing_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "existing_topic_arn", "this ARN is of sqs"),
    ({"existing_topic_arn": "arn:aws:sns:mars-1:123456789012:t"}, "existing_topic_arn", "mars-1 is not an AWS region"),
    ({"existing_topic_arn": "arn:aws:sns:cn-north-1:123456789012:t"}, "existing_topic_arn", "partition aws-cn"),
    ({"existing_topic_arn": "arn:aws:sns:eu-west-1:1234:t"}, "existing_topic_arn", SNS),
    ({"existing_topic_arn": "arn:aws:sns:eu-west-1:123456789012:t.fifo"}, "existing_topic_arn", SNS),
    ({"existing_topic_arn": 7}, "existing_topic_arn", SNS),
    ({"alerts_topic_arn": "arn:aws:lambda:eu-west-1:123456789012:function:f"}, "alerts_topic_arn", "of lambda"),
    ({"completion_event_bus": "arn:aws:events:mars-1:123456789012:event-bus/b"}, "completion_event_bus", "mars-1"),
    ({"completion_event_bus": "arn:aws:sns:eu-west-1:123456789012:event-bus/b"}, "completion_event_bus", "of sns"),
    ({"subnet_ids": ["subnet-xyz"]}, "subnet_ids[0]", "subnet- and 8 or 17 hex digits"),
    ({"subnet_ids": ["subnet-0123abcd", "vpc_123"]}, "subnet_ids[1]", "subnet-"),
    ({"subnet_ids": ["subnet-0123abcd", "subnet-0123abcd"]}, "subnet_ids[1]", "already given as subnet_ids[0]"),
    ({"subnet_ids": ["subnet-0123ABCD"]}, "subnet_ids[0]", "hex digits"),
    ({"security_group_ids": ["sg-123"]}, "security_group_ids[0]", "sg- and 8 or 17 hex digits"),
    ({"security_group_ids": [7]}, "security_group_ids[0]", "sg-"),
    ({"vpc_id": "vpc_123"}, "vpc_id", "vpc- and 8 or 17 hex digits"),
    ({"instance_types": ["banana.huge"]}, "instance_types[0]", "expected an EC2 instance type"),
    ({"instance_types": ["c6i.larg"]}, "instance_types[0]", "did you mean c6i.large?"),
    ({"instance_types": ["c6i", "c6i"]}, "instance_types", "each instance type at most once"),
    ({"email_subscriptions": [{"address": "a@example.com"}] * 2}, "email_subscriptions[1].address", "already given"),
    (
        {"email_subscriptions": [{"address": "a@example.com"}, {"address": "A@EXAMPLE.COM"}]},
        "email_subscriptions[1].address",
        "already given as email_subscriptions[0]",
    ),
    ({"job_vcpus": 16, "max_vcpus": 4}, "job_vcpus", "never fits max_vcpus (4)"),
    (
        {
            "compute_environments": [
                {"compute_type": "SPOT", "max_vcpus": 64},
                {"compute_type": "EC2", "max_vcpus": 8},
            ],
            "job_vcpus": 16,
        },
        "job_vcpus",
        "never fits compute_environments[1].max_vcpus (8)",
    ),
    (
        {"compute_type": "FARGATE", "max_vcpus": 8, "job_vcpus": 16, "job_memory_mib": 32768},
        "job_vcpus",
        "never fits max_vcpus (8)",
    ),
]


@pytest.mark.parametrize(("args", "key", "fragment"), RULES, ids=[f"{rule[1]}-{i}" for i, rule in enumerate(RULES)])
def test_each_format_rule_names_the_argument(args, key, fragment):
    with pytest.raises(InvalidArgumentError) as refused:
        resolve_args(args)  # type: ignore[arg-type]

    assert refused.value.key == key
    assert fragment in refused.value.allowed


@pytest.mark.parametrize(
    "args",
    [
        {"subnet_ids": ["subnet-0123abcd", "subnet-0123456789abcdef0"], "vpc_id": "vpc-0123456789abcdef0"},
        {"security_group_ids": ["sg-0123abcd"]},
        {"instance_types": ["c6i.large", "m7g", "optimal", "default_x86_64", "default_arm64"]},
        {"existing_topic_arn": "arn:aws-us-gov:sns:us-gov-west-1:123456789012:done"},
        {"completion_event_bus": "arn:aws:events:eu-west-1:123456789012:event-bus/team"},
        {"job_vcpus": 16, "max_vcpus": 16},
        {"email_subscriptions": [{"address": "a@example.com"}, {"address": "b@example.com"}]},
    ],
)
def test_values_in_aws_formats_are_accepted(args):
    resolve_args(args)  # type: ignore[arg-type]


def test_a_pipeline_with_a_bogus_topic_arn_declares_nothing():
    """The issue's `BatchArrayPipeline("x", {"existing_topic_arn": "arn:aws:sns:bogus"})` under mocks."""
    errors: list[InvalidArgumentError] = []

    def program() -> None:
        try:
            BatchArrayPipeline("x", {"existing_topic_arn": "arn:aws:sns:bogus"})
        except InvalidArgumentError as error:
            errors.append(error)

    plan = run_under_mocks(program, "embedder", "test", {"aws:region": REGION})

    assert [(error.key, error.value) for error in errors] == [("existing_topic_arn", "arn:aws:sns:bogus")]
    assert plan.resources == []


def test_a_topic_of_another_region_known_only_at_deploy_time_is_refused():
    """An embedder's topic from another resource (an Output) is checked once the provider's region is known
    (the notifier, which the pipeline builds on: the smaller plan of the two)."""

    def program() -> None:
        other_region = pulumi.Output.from_input(TOPIC.replace(REGION, "us-east-1"))
        ArrayCompletionNotifier("x", {"job_queue_arns": [QUEUE], "existing_topic_arn": other_region})

    with pytest.raises(ValueError, match="While processing") as raised:
        run_under_mocks(program, "embedder", "test", {"aws:region": REGION})

    invalid = invalid_argument_in(raised.value)
    assert invalid is not None
    assert (invalid.key, invalid.allowed) == (
        "existing_topic_arn",
        f"expected one in {REGION}, where this stack deploys",
    )


@pytest.mark.parametrize(
    ("shape", "value", "problem"),
    [
        (ACCOUNT_ID, "123456789012", None),
        (ACCOUNT_ID, "12345678901", r"must match \^\\d\{12\}\$ \(botocore's organizations model, shape AccountId\)"),
        (ACCOUNT_ID, 123456789012, "must be a string"),
        # The model sets AccountId no minimum length: an empty one breaks its pattern, not a length rule.
        (ACCOUNT_ID, "", r"must match \^\\d\{12\}\$"),
        (ORGANIZATION_ID, "o-a1b2c3d4e5", None),
        (ORGANIZATION_ID, "o-A1B2C3D4E5", "OrganizationId"),
        (ORGANIZATION_ID, "r-a1b2c3d4e5", "OrganizationId"),
        (EXTERNAL_ID, "team-a_42", None),
        (EXTERNAL_ID, "ab", None),
        (EXTERNAL_ID, "x" * 1224, None),
        (EXTERNAL_ID, "x", "must be 2 to 1224 characters long, not 1"),
        (EXTERNAL_ID, "x" * 1225, "must be 2 to 1224 characters long, not 1225"),
        (EXTERNAL_ID, "two words", "externalIdType"),
    ],
)
def test_account_organization_and_external_ids_follow_the_botocore_models(
    shape: ModelShape, value: object, problem: str | None
) -> None:
    found = shape.problem(value)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert re.search(problem, found), found


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        ("role/reader", None),
        ("role/service-role/team/reader", None),
        ("/reader", "expected role/<name>"),
        ("user/reader", "expected role/<name>"),
        ("role/" + "r" * 65, "roleNameType"),
        ("role/no path/reader", "pathType"),
    ],
)
def test_a_role_arn_s_resource_is_role_then_a_path_and_name_iam_allows(resource: str, problem: str | None) -> None:
    found = role_resource_problem(resource)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
