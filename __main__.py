"""The batch-array-notify stack: read and check the stack's config, build one BatchArrayPipeline, export it;
or, with `existingJobQueueArns`, one ArrayCompletionNotifier on queues the account already has; or, with
`centralBusArn`, one BatchEventForwarder in a member account of an organisation; or, with
`memberAccounts` (Pulumi.org.yaml), one central ArrayCompletionNotifier for the organisation's accounts.

This is the only module that reads `pulumi.Config`; the components take plain arguments, so larger
programs can embed them with values of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi.config import ConfigTypeError
from pulumi.runtime.config import CONFIG, get_config_env

from batch_array_notify import (
    ArrayCompletionNotifier,
    ArrayCompletionNotifierArgs,
    BatchArrayPipeline,
    BatchArrayPipelineArgs,
    BatchEventForwarder,
    BatchEventForwarderArgs,
    InvalidArgumentError,
)
from batch_array_notify.args import DEFAULTS
from batch_array_notify.stack_checks import check_config_keys, check_region, read_stack_file
from batch_array_notify.validation import check_batch_arns_are_local, check_external_id, check_topic_arn

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
    "powertoolsLayerVersion": pulumi.Config.get,
    "maxFailedDetails": pulumi.Config.get_int,
    "notifierReservedConcurrency": pulumi.Config.get_int,
    "failedLogChildren": pulumi.Config.get_int,
    "failedLogLines": pulumi.Config.get_int,
    "failedLogBytes": pulumi.Config.get_int,
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
    "reconcileEveryMinutes": pulumi.Config.get_int,
    "reconcileLookbackHours": pulumi.Config.get_int,
    "reconcileBatchCallsPerSecond": pulumi.Config.get_int,
    "reconcileMaxArrayRuntimeHours": pulumi.Config.get_int,
    "slackWorkspaceId": pulumi.Config.get,
    "slackChannelId": pulumi.Config.get,
    "teamsTenantId": pulumi.Config.get,
    "teamsTeamId": pulumi.Config.get,
    "teamsChannelId": pulumi.Config.get,
    "existingChatConfiguration": pulumi.Config.get,
    "chatExtraTopicArns": pulumi.Config.get_object,
    "runbookUrl": pulumi.Config.get,
    "existingJobQueueArns": pulumi.Config.get_object,
    "existingJobDefinitionArnPrefixes": pulumi.Config.get_object,
    "existingJobLogGroupNames": pulumi.Config.get_object,
    "centralBusArn": pulumi.Config.get,
    "centralNotifierRoleArns": pulumi.Config.get_object,
    # A secret (`pulumi config set --secret`) stays one: an Output, known to the trust policy alone.
    "externalId": pulumi.Config.get_secret,
    "organizationId": pulumi.Config.get,
    "jobQueueArns": pulumi.Config.get_object,
    "readRole": pulumi.Config.get_bool,
    "memberAccounts": pulumi.Config.get_object,
    # A secret Output: the external id never reaches a log, a plan or the state in plain text.
    "memberExternalId": pulumi.Config.get_secret,
}
#: Config keys of the notifier-only stack whose argument is named differently.
ATTACH_ARGS: dict[str, str] = {
    "existingJobQueueArns": "job_queue_arns",
    "existingJobDefinitionArnPrefixes": "job_definition_arn_prefixes",
    "existingJobLogGroupNames": "job_log_group_names",
}
#: The keys of a `memberAccounts` entry, as written in the stack file -> the component's.
MEMBER_KEYS: dict[str, str] = {
    "accountId": "account_id",
    "readRoleArn": "read_role_arn",
    "jobQueueArns": "job_queue_arns",
    "regions": "regions",
}
#: The config keys of the notifier-only stack that hold Batch ARNs (checked against the stack's region).
ATTACH_ARN_KEYS = ("existingJobQueueArns", "existingJobDefinitionArnPrefixes")
#: Keys every kind of stack reads (the member stack among them).
READERS_OF_EVERY_STACK = ("alertsTopicArn", "existingJobLogGroupNames", "tags")
#: The member stack's keys (`centralBusArn` makes a stack one) -> the forwarder's arguments.
MEMBER_ARGS: dict[str, str] = {
    "centralBusArn": "central_bus_arn",
    "centralNotifierRoleArns": "central_notifier_role_arns",
    "externalId": "external_id",
    "organizationId": "organization_id",
    "jobQueueArns": "job_queue_arns",
    "readRole": "read_role",
    "alertsTopicArn": "alarm_topic_arn",
    "existingJobLogGroupNames": "job_log_group_names",
    "tags": "tags",
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


def _layer(values: dict[str, Any]) -> None:
    """`powertoolsLayerVersion`: a layer version number to pin, or `latest` (the release's SSM parameter)."""
    raw = values.pop("powertoolsLayerVersion", None)
    if raw is None:
        return
    if raw == "latest":
        values["powertoolsVersion"] = raw
    elif raw.isdigit():
        values["powertoolsLayerVersion"] = int(raw)
    else:
        raise InvalidArgumentError(
            f"{PROJECT}:powertoolsLayerVersion", raw, "expected a layer version number or latest"
        )


def pipeline_args(values: dict[str, Any], stage: str) -> BatchArrayPipelineArgs:
    values = dict(values)
    _layer(values)
    emails = [{"address": address} for address in values.pop("notificationEmails", [])]
    emails += [{"address": address, "statuses": ["FAILED"]} for address in values.pop("failureEmails", [])]
    args: dict[str, Any] = {_snake(key): value for key, value in values.items()}
    args["job_environment"] = _pairs("job_environment", args.get("job_environment"))
    args["tags"] = _pairs("tags", args.get("tags"))
    args["email_subscriptions"] = emails
    args["stage"] = stage
    return BatchArrayPipelineArgs(**{key: value for key, value in args.items() if value is not None})  # type: ignore[typeddict-item]


def notifier_args(values: dict[str, Any], stage: str) -> ArrayCompletionNotifierArgs:
    """The notifier-only stack: existing queues, no compute. A compute or job key set with them is an error
    naming it, rather than a setting silently ignored.

    The CLI hands the program Pulumi.yaml's defaults as if they were set, so a key counts as set when its
    value differs from the default (giving the default explicitly changes nothing, so it is let through).
    """
    renamed = {ATTACH_ARGS.get(key, key): value for key, value in values.items()}
    args: dict[str, Any] = dict(pipeline_args(renamed, stage))
    for arg in list(args):
        if arg in ArrayCompletionNotifierArgs.__annotations__:
            continue
        if args[arg] != DEFAULTS.get(arg):
            raise InvalidArgumentError(
                _config_key(arg),
                args[arg],
                "not with existingJobQueueArns: that stack attaches to queues you already have and creates no "
                "compute, queue or job definition (remove the key, or existingJobQueueArns for a whole pipeline)",
            )
        del args[arg]
    return ArrayCompletionNotifierArgs(**args)  # type: ignore[typeddict-item]


def member_args(values: dict[str, Any]) -> BatchEventForwarderArgs:
    """The member stack: a forwarder and nothing else. Any other key set (the CLI hands the program
    Pulumi.yaml's defaults as if set: a default counts as unset) is an error naming it."""
    for key, value in values.items():
        if key not in MEMBER_ARGS and value != _declared_default(key):
            raise InvalidArgumentError(
                f"{PROJECT}:{key}",
                value,
                "not with centralBusArn: a member stack only forwards its Batch events to the central notifier "
                f"(remove the key; a member stack takes {', '.join(MEMBER_ARGS)})",
            )
    args: dict[str, Any] = {MEMBER_ARGS[key]: value for key, value in values.items() if key in MEMBER_ARGS}
    if "tags" in args:
        args["tags"] = _pairs("tags", args["tags"])
    return BatchEventForwarderArgs(**args)  # type: ignore[typeddict-item]


def _declared_default(key: str) -> Any:
    """The default Pulumi.yaml declares for `key`, as the program reads it (the component's, a test keeps
    them equal), or None."""
    arg = _snake(key)
    if arg in {"notification_emails", "failure_emails"}:
        return []
    default = DEFAULTS.get(arg)
    if isinstance(default, dict):
        return [f"{name}={value}" for name, value in default.items()]
    return default


def member_config_key(arg: str) -> str:
    """The member stack's config key for a forwarder argument the component rejected (`job_queue_arns[1]`)."""
    name, bracket, index = arg.partition("[")
    keys = {argument: key for key, argument in MEMBER_ARGS.items()}
    return f"{PROJECT}:{keys.get(name, _camel(name))}" + (f"{bracket}{index}" if bracket else "")


def central_args(values: dict[str, Any], stage: str) -> ArrayCompletionNotifierArgs:
    """The central stack (Pulumi.org.yaml): a notifier for the members' queues, and its own, if any."""
    values = {"existingJobQueueArns": [], **values}
    if "memberExternalId" in values:
        # Checked as soon as the secret resolves, said with its config key (never its value).
        key = _config_key("member_external_id")
        values["memberExternalId"] = values["memberExternalId"].apply(lambda value: check_external_id(key, value))
    members = values["memberAccounts"]
    if isinstance(members, list):
        values["memberAccounts"] = [
            {MEMBER_KEYS.get(key, key): value for key, value in entry.items()} if isinstance(entry, dict) else entry
            for entry in members
        ]
    return notifier_args(values, stage)


def config_key_for(arg: str, notification_count: int) -> str:
    """Name the config key a user wrote for an argument the component rejected."""
    subscription = re.match(r"email_subscriptions\[(\d+)\]", arg)
    if subscription:
        index = int(subscription.group(1))
        if index < notification_count:
            return f"{PROJECT}:notificationEmails[{index}]"
        return f"{PROJECT}:failureEmails[{index - notification_count}]"
    head, _, field = arg.partition(".")
    name, bracket, index = head.partition("[")
    config_names = {arg_name: key for key, arg_name in ATTACH_ARGS.items()}
    key = f"{PROJECT}:{config_names[name]}" if name in config_names else _config_key(name)
    if name == "member_accounts":
        field_name, field_bracket, field_index = field.partition("[")
        field = {arg_name: key for key, arg_name in MEMBER_KEYS.items()}.get(field_name, field_name)
        field += f"{field_bracket}{field_index}"
    return key + (f"{bracket}{index}" if bracket else "") + (f".{field}" if field else "")


def _in_member_words(error: InvalidArgumentError) -> str:
    """A memberAccounts entry's message names the entry's own keys (one shares job_queue_arns' name)."""
    if not error.key.startswith("member_accounts"):
        return error.allowed
    names = {arg_name: key for key, arg_name in MEMBER_KEYS.items()}
    return re.sub(r"\b(?:" + "|".join(names) + r")\b", lambda found: names[found.group()], error.allowed)


def _in_config_words(argument: re.Match[str], notification_count: int) -> str:
    """An argument named in a message, as the config key the user wrote (others are left as they are)."""
    name = argument.group().partition("[")[0]
    known = _camel(name) in READERS or name in ATTACH_ARGS.values() or name == "email_subscriptions"
    return config_key_for(argument.group(), notification_count) if known else argument.group()


def check_stack_settings() -> str | None:
    """What the CLI lets through and the program must not: a stack file key it ignores (`configs:`), a
    config key nothing reads (a namespace or `aws:` typo), a region AWS does not have. The same checks
    as the offline tools' (`stack_checks`). Returns `aws:region`; unset, the provider takes AWS_REGION or
    the profile's region, and refuses the deploy when it finds none."""
    stack_file = Path(__file__).with_name(f"Pulumi.{pulumi.get_stack()}.yaml")
    if stack_file.is_file():
        read_stack_file(stack_file)
    written = {**get_config_env(), **CONFIG.get()}
    check_config_keys(dict.fromkeys(written, "stack config"), PROJECT, frozenset(READERS))
    aws = pulumi.Config("aws")
    region = aws.get("region")
    if region is not None and not aws.get_bool("skipRegionValidation"):
        check_region(region, "stack config")
    return region


def check_arns_are_local(values: dict[str, Any], region: str | None) -> None:
    """Topics and the queues of a notifier-only stack must be in the stack's region (`aws:region`):
    alarms and EventBridge rules only target topics of their own region, and Batch reports a queue's jobs
    only there. The account is checked once the provider answers. Said here in config keys."""
    for key in ("existingTopicArn", "alertsTopicArn"):
        if key in values:
            check_topic_arn(f"{PROJECT}:{key}", values[key], region)
    if region is None:
        return
    for key in ATTACH_ARN_KEYS:
        arns = values.get(key) or []
        named = {f"{PROJECT}:{key}[{i}]": arn for i, arn in enumerate(arns) if isinstance(arn, str)}
        check_batch_arns_are_local(named, region, account=None, where="the stack's aws:region")


def forwarder(values: dict[str, Any], region: str | None) -> None:
    """A member stack: one BatchEventForwarder, its outputs exported."""
    if region is not None:
        arns = values.get("jobQueueArns") or []
        named = {f"{PROJECT}:jobQueueArns[{i}]": arn for i, arn in enumerate(arns) if isinstance(arn, str)}
        check_batch_arns_are_local(named, region, account=None, where="the stack's aws:region")
    secret = values.get("externalId")
    if isinstance(secret, pulumi.Output):
        # Checked once the engine decrypts it, named as the config key.
        values = {**values, "externalId": secret.apply(lambda value: check_external_id(f"{PROJECT}:externalId", value))}
    try:
        component = BatchEventForwarder(PROJECT, member_args(values))
    except InvalidArgumentError as error:
        key = error.key if error.key.startswith(f"{PROJECT}:") else member_config_key(error.key)
        allowed = re.sub(
            r"\b[a-z]+(?:_[a-z]+)+(?:\[\d+\])?", lambda argument: member_config_key(argument.group()), error.allowed
        )
        raise error.renamed(key, allowed) from None
    for attribute, output in component.outputs().items():
        pulumi.export(_camel(attribute), output)


def main() -> None:
    region = check_stack_settings()
    values = read_config()
    check_arns_are_local(values, region)
    if "centralBusArn" in values:
        forwarder(values, region)
        return
    # `organizationId` is also the central stack's (its bus admits the organisation).
    shared = READERS_OF_EVERY_STACK + (("organizationId",) if "memberAccounts" in values else ())
    for key in MEMBER_ARGS:
        if key in values and key not in shared and values[key] != _declared_default(key):
            raise InvalidArgumentError(
                f"{PROJECT}:{key}",
                "(set)" if key == "externalId" else values[key],
                "only in a member stack, with centralBusArn (docs/configuration.md, Member accounts)",
            )
    notification_count = len(values.get("notificationEmails", []))
    central = "memberAccounts" in values
    attach = "existingJobQueueArns" in values or central
    if not attach and "existingJobDefinitionArnPrefixes" in values:
        raise InvalidArgumentError(
            _config_key("existing_job_definition_arn_prefixes"),
            values["existingJobDefinitionArnPrefixes"],
            "only with existingJobQueueArns (a pipeline's rule is scoped to its own job definition)",
        )
    if not attach and "existingJobLogGroupNames" in values:
        raise InvalidArgumentError(
            _config_key("existing_job_log_group_names"),
            values["existingJobLogGroupNames"],
            "only with existingJobQueueArns (a pipeline's notifier reads its own job log group)",
        )
    try:
        component: BatchArrayPipeline | ArrayCompletionNotifier
        if central:
            component = ArrayCompletionNotifier(PROJECT, central_args(values, pulumi.get_stack()))
        elif attach:
            component = ArrayCompletionNotifier(PROJECT, notifier_args(values, pulumi.get_stack()))
        else:
            component = BatchArrayPipeline(PROJECT, pipeline_args(values, pulumi.get_stack()))
    except InvalidArgumentError as error:
        # Say it in the user's words: config keys, also where the message names another setting.
        allowed = re.sub(
            r"\b[a-z]+(?:_[a-z]+)+(?:\[\d+\])?",
            lambda argument: _in_config_words(argument, notification_count),
            _in_member_words(error),
        )
        key = error.key if error.key.startswith(f"{PROJECT}:") else config_key_for(error.key, notification_count)
        raise error.renamed(key, allowed) from None

    for attribute, output in component.outputs().items():
        pulumi.export(_camel(attribute), output)
    if not isinstance(component, BatchArrayPipeline):
        return
    pipeline = component
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
