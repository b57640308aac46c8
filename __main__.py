"""The batch-array-notify stack: read and check the stack's config, build one BatchArrayPipeline, export it.

This is the only module that reads `pulumi.Config`; the component takes plain arguments, so larger
programs can embed it with values of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.config import ConfigTypeError

from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs, InvalidArgumentError

PROJECT = "batch-array-notify"


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(word.title() for word in rest)


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _config_key(arg: str) -> str:
    return f"{PROJECT}:{_camel(arg)}"


def _pairs(key: str, items: list[Any] | None) -> dict[str, str] | None:
    """`["team=data", "stage=dev"]` -> `{"team": "data", "stage": "dev"}`: project config has no map type."""
    if items is None:
        return None
    pairs: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str) or "=" not in item:
            raise InvalidArgumentError(_config_key(key), item, "expected NAME=value")
        name, value = item.split("=", 1)
        if name in pairs:
            raise InvalidArgumentError(_config_key(key), item, f"{name} is given twice")
        pairs[name] = value
    return pairs


def _number(config: pulumi.Config, key: str) -> float | None:
    raw = config.get(key)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidArgumentError(f"{PROJECT}:{key}", raw, "expected a number such as 1 or 0.25") from None


#: Config key (as in the stack file) -> how to read it. Args whose config key differs are built below.
READERS: dict[str, Callable[[pulumi.Config, str], Any]] = {
    "computeType": pulumi.Config.get,
    "minVcpus": pulumi.Config.get_int,
    "maxVcpus": pulumi.Config.get_int,
    "instanceTypes": pulumi.Config.get_object,
    "allocationStrategy": pulumi.Config.get,
    "subnetIds": pulumi.Config.get_object,
    "securityGroupIds": pulumi.Config.get_object,
    "vpcId": pulumi.Config.get,
    "assignPublicIp": pulumi.Config.get_bool,
    "jobImage": pulumi.Config.get,
    "jobCommand": pulumi.Config.get_object,
    "jobVcpus": _number,
    "jobMemoryMib": pulumi.Config.get_int,
    "jobEnvironment": pulumi.Config.get_object,
    "jobRetryAttempts": pulumi.Config.get_int,
    "jobAttemptTimeoutSeconds": pulumi.Config.get_int,
    "jobLogRetentionDays": pulumi.Config.get_int,
    "notifyStatuses": pulumi.Config.get_object,
    "notificationEmails": pulumi.Config.get_object,
    "failureEmails": pulumi.Config.get_object,
    "existingTopicArn": pulumi.Config.get,
    "notifierArchitecture": pulumi.Config.get,
    "notifierRuntime": pulumi.Config.get,
    "notifierLogRetentionDays": pulumi.Config.get_int,
    "powertoolsLayerVersion": pulumi.Config.get_int,
    "maxFailedDetails": pulumi.Config.get_int,
    "ruleRetryAttempts": pulumi.Config.get_int,
    "ruleMaxEventAgeSeconds": pulumi.Config.get_int,
    "notifierMaxRetries": pulumi.Config.get_int,
    "notifierMaxEventAgeSeconds": pulumi.Config.get_int,
    "deadLetterRetentionSeconds": pulumi.Config.get_int,
    "alertsTopicArn": pulumi.Config.get,
    "stuckJobCancelAfterSeconds": pulumi.Config.get_int,
    "stuckJobReasons": pulumi.Config.get_object,
    "kmsKeyDeletionWindowDays": pulumi.Config.get_int,
    "tags": pulumi.Config.get_object,
    "slackWorkspaceId": pulumi.Config.get,
    "slackChannelId": pulumi.Config.get,
    "teamsTenantId": pulumi.Config.get,
    "teamsTeamId": pulumi.Config.get,
    "teamsChannelId": pulumi.Config.get,
}


_TYPE_NAMES: dict[Callable[[pulumi.Config, str], Any], str] = {
    pulumi.Config.get_int: "a whole number",
    pulumi.Config.get_bool: "true or false",
    pulumi.Config.get_object: "a YAML list",
}


def read_config() -> dict[str, Any]:
    """Every set key, read by its declared type; a value of the wrong type names its key."""
    config = pulumi.Config()
    values: dict[str, Any] = {}
    for key, read in READERS.items():
        try:
            value = read(config, key)
        except ConfigTypeError as error:
            expected = {"int": "a whole number", "bool": "true or false"}.get(error.expect_type, "a YAML list")
            raise InvalidArgumentError(f"{PROJECT}:{key}", config.get(key), f"expected {expected}") from None
        if value is not None:
            values[key] = value
    return values


def pipeline_args(values: dict[str, Any], stage: str) -> BatchArrayPipelineArgs:
    emails = [{"address": address} for address in values.pop("notificationEmails", [])]
    emails += [{"address": address, "statuses": ["FAILED"]} for address in values.pop("failureEmails", [])]
    args: dict[str, Any] = {_snake(key): value for key, value in values.items()}
    args["job_environment"] = _pairs("job_environment", args.get("job_environment"))
    args["tags"] = _pairs("tags", args.get("tags"))
    args["email_subscriptions"] = emails
    args["stage"] = stage
    return BatchArrayPipelineArgs(**{key: value for key, value in args.items() if value is not None})  # type: ignore[typeddict-item]


def config_key_for(arg: str, notification_count: int) -> str:
    """Name the config key a user wrote for an argument the component rejected."""
    subscription = re.match(r"email_subscriptions\[(\d+)\]", arg)
    if subscription:
        index = int(subscription.group(1))
        if index < notification_count:
            return f"{PROJECT}:notificationEmails[{index}]"
        return f"{PROJECT}:failureEmails[{index - notification_count}]"
    head, _, field = arg.partition(".")
    return _config_key(head) + (f".{field}" if field else "")


def main() -> None:
    values = read_config()
    notification_count = len(values.get("notificationEmails", []))
    args = pipeline_args(values, pulumi.get_stack())
    try:
        pipeline = BatchArrayPipeline(PROJECT, args)
    except InvalidArgumentError as error:
        # Say it in the user's words: config keys, also where the message names another setting.
        allowed = re.sub(
            r"\b[a-z]+(?:_[a-z]+)+\b",
            lambda word: _config_key(word.group()) if _camel(word.group()) in READERS else word.group(),
            error.allowed,
        )
        raise error.renamed(config_key_for(error.key, notification_count), allowed) from None

    for attribute, output in pipeline.outputs().items():
        pulumi.export(_camel(attribute), output)
    pulumi.export(
        "submitArrayJob",
        pulumi.Output.format(
            "aws batch submit-job --job-name print-color --job-queue {0} --job-definition {1} "
            "--array-properties size=7",
            pipeline.job_queue_name,
            pipeline.job_definition_name,
        ),
    )


main()
