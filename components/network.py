"""Where the jobs run: the given subnets and security groups, or the default VPC's and one of our own."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class JobNetwork:
    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]


def job_network(
    name: str,
    subnet_ids: list[pulumi.Input[str]] | None,
    security_group_ids: list[pulumi.Input[str]] | None,
    vpc_id: pulumi.Input[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> JobNetwork:
    """Resolve the compute environment's network.

    Lookups use `parent` so they run through the component's provider (another region or account
    when the caller passes one), exactly like the resources they feed.
    """
    invoke_opts = pulumi.InvokeOutputOptions(parent=parent)
    if subnet_ids:
        subnets: pulumi.Output[list[str]] = pulumi.Output.all(*subnet_ids)
    else:
        default_vpc = aws.ec2.get_vpc_output(default=True, opts=invoke_opts)
        vpc_id = default_vpc.id
        subnet_filters: list[aws.ec2.GetSubnetsFilterArgsDict] = [
            {"name": "vpc-id", "values": [default_vpc.id]},  # type: ignore[list-item]  # an Output is accepted here
            # Only the default subnets: a default VPC may hold user-made private subnets too.
            {"name": "default-for-az", "values": ["true"]},
        ]
        subnets = aws.ec2.get_subnets_output(
            filters=subnet_filters,
            opts=invoke_opts,
        ).ids

    if security_group_ids:
        return JobNetwork(subnets, pulumi.Output.all(*security_group_ids))

    if vpc_id is None:
        vpc_id = aws.ec2.get_subnet_output(id=subnets.apply(lambda ids: ids[0]), opts=invoke_opts).vpc_id
    # Batch jobs only call out (image pulls, logs, AWS APIs); nothing may call in.
    group = aws.ec2.SecurityGroup(
        f"{name}-jobs",
        description="batch-array-notify jobs: egress only",
        vpc_id=vpc_id,
        egress=[
            {
                "description": "Image pulls, CloudWatch Logs and AWS APIs",
                "protocol": "-1",
                "from_port": 0,
                "to_port": 0,
                "cidr_blocks": ["0.0.0.0/0"],
                "ipv6_cidr_blocks": ["::/0"],
            }
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return JobNetwork(subnets, pulumi.Output.all(group.id))
