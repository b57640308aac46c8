"""Where the jobs run (components/network.py), under the mock runtime: which lookups the default network
makes, and the security group of our own the jobs get when none is given."""

from typing import Any

import pulumi
import pytest

from batch_array_notify.network import job_network
from batch_array_notify.testing import program as testing_program
from batch_array_notify.testing.program import Plan, PlanMocks, run_under_mocks
from tests.support import SECURITY_GROUP

#: The data-source calls of the current test: (token, arguments).
CALLS: list[tuple[str, dict[str, Any]]] = []


class RecordingMocks(PlanMocks):
    """PlanMocks that also keep each data-source call in `CALLS`."""

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        CALLS.append((args.token, dict(args.args)))
        return super().call(args)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    CALLS.clear()
    monkeypatch.setattr(testing_program, "PlanMocks", RecordingMocks)
    return CALLS


def plan_network(subnet_ids: list[str] | None, security_group_ids: list[str] | None = None) -> Plan:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Network", "net")
        job_network("net", subnet_ids, security_group_ids, None, {"team": "vfx"}, parent)

    return run_under_mocks(program, "net", "test", {"aws:region": "eu-west-1"})


def test_without_subnets_the_jobs_run_in_the_default_vpcs_default_subnets_only(recorded):
    plan_network(None)
    calls = dict(recorded)

    assert calls["aws:ec2/getVpc:getVpc"]["default"] is True
    # A default VPC may hold user-made private subnets too: only its default ones (one per zone) are taken.
    assert calls["aws:ec2/getSubnets:getSubnets"]["filters"] == [
        {"name": "vpc-id", "values": ["vpc-0d3fa017b0e2c5a10"]},
        {"name": "default-for-az", "values": ["true"]},
    ]


def test_with_subnets_but_no_security_group_the_group_is_made_in_the_first_subnets_vpc(recorded):
    plan = plan_network(["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"])
    (group,) = plan.of_type(SECURITY_GROUP)

    assert [args["id"] for token, args in recorded if token == "aws:ec2/getSubnet:getSubnet"] == [
        "subnet-0aaaaaaaaaaaaaaaa"
    ]
    assert group.inputs["vpcId"] == "vpc-0f1e2d3c4b5a69788"


def test_the_jobs_security_group_lets_them_call_out_and_nothing_in(recorded):
    """Out: image pulls, CloudWatch Logs and AWS APIs, over IPv4 and IPv6. The description is part of the
    group's identity: EC2 cannot change it, so a new one would replace the group."""
    (group,) = plan_network(None).of_type(SECURITY_GROUP)

    assert group.inputs["description"] == "batch-array-notify jobs: egress only"
    assert group.inputs["egress"] == [
        {
            "description": "Image pulls, CloudWatch Logs and AWS APIs",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
            "ipv6CidrBlocks": ["::/0"],
        }
    ]
    assert not group.inputs.get("ingress")
    assert group.inputs["tags"] == {"team": "vfx"}


def test_given_security_groups_no_group_of_our_own_is_made(recorded):
    plan = plan_network(["subnet-0aaaaaaaaaaaaaaaa"], ["sg-0123456789abcdef0"])

    assert plan.of_type(SECURITY_GROUP) == []
    assert [token for token, _ in recorded if token.startswith("aws:ec2/")] == []
