"""The job definition's container properties (components/batch.py), built without a plan."""

import dataclasses

import pytest

from batch_array_notify.batch import JobSettings, container_properties

JOB = JobSettings(
    image="public.ecr.aws/docker/library/busybox:latest",
    command=["echo", "hello"],
    vcpus=0.25,
    memory_mib=512,
    environment={},
    retry_attempts=1,
    attempt_timeout_seconds=3600,
    log_retention_days=14,
    assign_public_ip=True,
)
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/jobs-execution"


@pytest.mark.parametrize(("assign_public_ip", "shown"), [(True, "ENABLED"), (False, "DISABLED")])
def test_a_fargate_job_asks_for_a_public_ip_only_when_told_to(assign_public_ip, shown):
    """Behind a NAT gateway (`assign_public_ip` false) a task must not ask for one; in a public subnet
    without one it could not pull its image."""
    job = dataclasses.replace(JOB, assign_public_ip=assign_public_ip)

    properties = container_properties(job, "FARGATE", "/batch/jobs", EXECUTION_ROLE)

    assert properties["networkConfiguration"] == {"assignPublicIp": shown}
    assert properties["executionRoleArn"] == EXECUTION_ROLE


def test_an_ec2_job_has_no_fargate_network_settings():
    properties = container_properties(JOB, "EC2", "/batch/jobs", None)

    assert not {"networkConfiguration", "executionRoleArn", "fargatePlatformConfiguration"} & set(properties)
