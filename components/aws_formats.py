"""AWS's own definitions of the values a user writes: regions, partitions, instance types, ARNs and EC2 ids.

Read from botocore's data (its endpoint data and the EC2 service model), never typed here, so a new region
or instance type is known as soon as botocore is upgraded. Each table is loaded once, on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from botocore.loaders import Loader, create_loader  # type: ignore[import-untyped]  # botocore ships no type information

#: What Batch takes in `instanceTypes` besides EC2 types and families: it picks the types itself (Batch API
#: reference, ComputeResource.instanceTypes: "optimal", "default_x86_64", "default_arm64").
BATCH_INSTANCE_CHOICES = ("optimal", "default_x86_64", "default_arm64")


@cache
def _loader() -> Loader:
    return create_loader()


@cache
def partitions() -> dict[str, frozenset[str]]:
    """Partition (aws, aws-cn, aws-us-gov, ...) -> its regions, from botocore's endpoint data."""
    data = cast(dict[str, Any], _loader().load_data("endpoints"))
    return {partition["partition"]: frozenset(partition["regions"]) for partition in data["partitions"]}


def partition_of(region: str) -> str | None:
    """The partition a region belongs to, or None for a region AWS does not have."""
    return next((name for name, regions in partitions().items() if region in regions), None)


def regions() -> list[str]:
    return sorted(region for names in partitions().values() for region in names)


@cache
def instance_types() -> frozenset[str]:
    """Every EC2 instance type (the EC2 model's `InstanceType` enum)."""
    model = cast(dict[str, Any], _loader().load_service_model("ec2", "service-2"))
    return frozenset(model["shapes"]["InstanceType"]["enum"])


@cache
def instance_families() -> frozenset[str]:
    """Every family of an instance type (`c6i` of `c6i.large`), which Batch also accepts."""
    return frozenset(name.split(".", 1)[0] for name in instance_types())


def ec2_id_pattern(prefix: str) -> re.Pattern[str]:
    """An EC2 resource id of `prefix` (`subnet`, `sg`, `vpc`): the prefix, `-`, then 8 (before 2016) or 17
    lowercase hex characters (EC2 User Guide, "Resource IDs",
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html). botocore's EC2 model gives
    SubnetId, SecurityGroupId and VpcId no pattern, so the documented shape is used."""
    return re.compile(rf"^{prefix}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})$")


@dataclass(frozen=True)
class Arn:
    """The parts of `arn:<partition>:<service>:<region>:<account>:<resource>`."""

    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    """The ARN's parts, or None if `text` is not shaped like an ARN at all."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not all(parts[1:3]) or not parts[5]:
        return None
    return Arn(*parts[1:])


@dataclass(frozen=True)
class ModelShape:
    """A string shape of a botocore service model: its pattern and length bounds, as AWS validates them."""

    service: str
    shape: str

    @property
    def _definition(self) -> dict[str, Any]:
        return _string_shape(self.service, self.shape)

    def problem(self, value: object) -> str | None:
        """Why `value` is not one of these strings (naming the model's rule), or None if it is one."""
        definition = self._definition
        rule = f"botocore's {self.service} model, shape {self.shape}"
        if not isinstance(value, str):
            return f"must be a string ({rule})"
        low, high = definition.get("min", 0), definition.get("max")
        if len(value) < low or (high is not None and len(value) > high):
            bounds = f"{low} to {high}" if high is not None else f"at least {low}"
            return f"must be {bounds} characters long, not {len(value)} ({rule})"
        pattern = definition.get("pattern")
        if pattern is not None and re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is None:
            return f"must match {pattern} ({rule}), not {value!r}"
        return None


@cache
def _string_shape(service: str, shape: str) -> dict[str, Any]:
    model = cast(dict[str, Any], _loader().load_service_model(service, "service-2"))
    return dict(model["shapes"][shape])


#: A 12-digit AWS account id (Organizations' `AccountId`).
ACCOUNT_ID = ModelShape("organizations", "AccountId")
#: An AWS Organizations id, `o-` then 10 to 32 lowercase letters or digits (Organizations' `OrganizationId`).
ORGANIZATION_ID = ModelShape("organizations", "OrganizationId")
#: The external id a role's trust may require of whoever assumes it (STS `AssumeRole` `ExternalId`).
EXTERNAL_ID = ModelShape("sts", "externalIdType")
#: IAM's role names and paths.
ROLE_NAME = ModelShape("iam", "roleNameType")
ROLE_PATH = ModelShape("iam", "pathType")


def role_resource_problem(resource: str) -> str | None:
    """Why the resource part of a role ARN (`role/<path>/<name>`) is not one IAM allows (botocore's IAM
    model), or None."""
    if not resource.startswith("role/"):
        return "expected role/<name>"
    path, _, name = resource.removeprefix("role").rpartition("/")
    return ROLE_NAME.problem(name) or ROLE_PATH.problem(f"{path}/")
