"""Chat delivery: completions and alarms in Slack and Microsoft Teams through Amazon Q Developer in chat
applications (formerly AWS Chatbot). Opt-in: nothing here is declared unless a Slack or Teams channel is set.

    notifier ──(custom-notification JSON)──▶ chat topic ──┐
    alarms, blocked-queue alerts ──────────▶ alerts topic ─┼──▶ channel configuration(s) ──▶ Slack / Teams
                                                           │      (own role, CloudWatch read-only guardrail)

The service renders only two kinds of SNS message: notifications of AWS services it knows (CloudWatch
alarms, EventBridge events) and its "custom notification" JSON (handler/chat.py writes it). The completion
topic's message (a text summary and a JSON report) is neither, so completions go to a topic of their own.

One step cannot be automated: a Slack workspace or a Teams team must be authorised once in the service's
console before a configuration can name it (see docs/chat.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from . import iam

#: The narrowest guardrail that still lets a channel render alarm notifications. The service documents
#: the AWS-managed policies it supports for channels (its admin guide, "IAM policies for Amazon Q
#: Developer in chat applications"): ReadOnlyAccess, CloudWatchReadOnlyAccess, and policies for Support,
#: Amazon Q, Resource Explorer and Incident Manager commands. Rendering an alarm (its state, history and
#: metric chart) needs CloudWatch reads; the others grant nothing of that or far more (ReadOnlyAccess reads
#: every service). Left unset, the service applies AdministratorAccess as the guardrail.
GUARDRAIL_POLICY = "policy/CloudWatchReadOnlyAccess"
#: The service's control plane has no endpoint in every region (none in us-east-1: aws/aws-cli#8658;
#: CloudFormation in us-east-1 creates configurations through us-east-2: aws/aws-cdk#24675). A
#: configuration is account-wide and subscribes to topics of any region, so it is managed from us-east-2.
CHATBOT_API_REGION = "us-east-2"
CHATBOT_SERVICE = "chatbot.amazonaws.com"
#: CreateSlackChannelConfiguration / CreateMicrosoftTeamsChannelConfiguration: 1-128 of [A-Za-z0-9-_].
CONFIGURATION_NAME_MAX = 128
#: Channel errors (an archived Slack channel, a revoked app) go to CloudWatch Logs; successes are not logged.
LOGGING_LEVEL = "ERROR"


@dataclass(frozen=True)
class SlackChannel:
    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class TeamsChannel:
    tenant_id: str
    team_id: str
    channel_id: str


@dataclass(frozen=True)
class ChatSettings:
    """A channel this notifier configures (Slack, Teams or both), or the name of a configuration that
    exists elsewhere (validation returns None instead of an empty one)."""

    slack: SlackChannel | None
    teams: TeamsChannel | None
    existing_configuration: str | None = None
    """Deliver through this configuration (another stack's or pipeline's): create none."""
    extra_topic_arns: list[pulumi.Input[Any]] = field(default_factory=list)
    """Other notifiers' chat and alerts topics that this notifier's configuration carries too: ARNs, or
    lists of them (another notifier's `chat_topic_arns`)."""


@dataclass(frozen=True)
class ChatDelivery:
    topic: aws.sns.Topic
    topic_arns: pulumi.Output[list[str]]
    """What a channel configuration subscribes to for this notifier: the chat topic and the alerts topic."""
    role: aws.iam.Role | None
    role_policy: aws.iam.RolePolicy | None
    slack: aws.chatbot.SlackChannelConfiguration | None
    teams: aws.chatbot.TeamsChannelConfiguration | None

    @property
    def configurations(self) -> list[aws.chatbot.SlackChannelConfiguration | aws.chatbot.TeamsChannelConfiguration]:
        return [configuration for configuration in (self.slack, self.teams) if configuration is not None]


class _ProgramClaims:
    """Channels configured by notifiers of the running program (the current root stack): channel -> the
    notifier's name. AWS refuses a second configuration of a channel in an account
    (CreateSlackChannelConfiguration: "Slack channel with ID ... has already been configured for AWS
    account ...", cloudcomponents/cdk-constructs#92, hashicorp/terraform-provider-awscc#1011,
    aws-cloudformation/cloudformation-coverage-roadmap#1155), so a program that plans two is refused
    before `pulumi up`. A new root stack (another run of a program in this process) starts afresh."""

    def __init__(self) -> None:
        self.root: object = None
        self.channels: dict[tuple[str, ...], str] = {}

    def of_this_program(self) -> dict[tuple[str, ...], str]:
        root = pulumi.runtime.get_root_resource()
        if root is not self.root:
            self.root, self.channels = root, {}
        return self.channels


_CLAIMS = _ProgramClaims()


def channel_keys(settings: ChatSettings) -> list[tuple[str, tuple[str, ...]]]:
    """The argument naming each channel this notifier would configure, and the channel's identity."""
    keys: list[tuple[str, tuple[str, ...]]] = []
    if settings.slack is not None:
        keys.append(("slack_channel_id", ("slack", settings.slack.workspace_id, settings.slack.channel_id)))
    if settings.teams is not None:
        keys.append(("teams_channel_id", ("teams", settings.teams.team_id, settings.teams.channel_id)))
    return keys


def claim_channels(name: str, settings: ChatSettings | None) -> tuple[str, str, str] | None:
    """Record that notifier `name` configures its channels. For a channel another notifier of this
    program configures already: (argument, value, what to do instead), and nothing is recorded."""
    if settings is None:
        return None
    claimed = _CLAIMS.of_this_program()
    claims = channel_keys(settings)
    for argument, channel in claims:
        owner = claimed.get(channel, name)
        if owner != name:
            owner_configuration = chat_configuration_name(owner, channel[0])
            return (
                argument,
                channel[-1],
                f"notifier {owner!r} of this program configures that channel already, and AWS allows one "
                f"configuration per channel per account: give {name!r} existing_chat_configuration="
                f"{owner_configuration!r} instead, and {owner!r} chat_extra_topic_arns={name!r}'s chat_topic_arns",
            )
    for _, channel in claims:
        claimed[channel] = name
    return None


def configuration_name(project: str, stack: str, component: str, kind: str) -> str:
    """A name unique per stack, pipeline and chat application (it is account-wide and not auto-named),
    within the API's 128 characters of [A-Za-z0-9-_]; a long one keeps a hash of the whole."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{project}-{stack}-{component}-{kind}")
    if len(name) <= CONFIGURATION_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{name[: CONFIGURATION_NAME_MAX - len(digest) - 1]}-{digest}"


def chat_delivery(
    name: str,
    settings: ChatSettings | None,
    key_arn: pulumi.Input[str],
    alerts_topic_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> ChatDelivery | None:
    """The chat topic and, unless the channel is configured elsewhere, the channels' role and the channel
    configuration(s), which carry this notifier's topics and `extra_topic_arns`; None (and no resource)
    when no channel is configured."""
    if settings is None:
        return None
    child = pulumi.ResourceOptions(parent=parent)
    topic = aws.sns.Topic(
        f"{name}-chat",
        # The pipeline's customer-managed key, like every topic of the pipeline. What the service needs
        # of an encrypted topic: a customer-managed key (the AWS-managed aws/sns key cannot be granted to
        # publishing services), whose policy lets each publisher encrypt (AWS Knowledge Center, "Why isn't
        # AWS Chatbot receiving messages from Amazon SNS?"; SNS developer guide, "Key management"). SNS
        # delivers to the service's HTTPS endpoint in plain text, so the service itself needs no key rights.
        # The only publisher here is the notifier, already allowed through SNS by the key policy
        # (components/iam.py key_policy), so the key policy needs nothing new.
        kms_master_key_id=key_arn,
        tags=tags,
        opts=child,
    )
    own_topics = pulumi.Output.all(topic.arn, alerts_topic_arn).apply(_distinct)
    if settings.existing_configuration is not None:
        # Configured elsewhere: `chat_topic_arns` says what to add to that configuration.
        return ChatDelivery(topic, own_topics, None, None, None, None)
    role = aws.iam.Role(
        f"{name}-chat",
        assume_role_policy=pulumi.Output.json_dumps(iam.assume_role_policy(CHATBOT_SERVICE)),
        tags=tags,
        opts=child,
    )
    opts = pulumi.InvokeOutputOptions(parent=parent)
    role_policy = aws.iam.RolePolicy(
        f"{name}-chat",
        role=role.id,
        policy=pulumi.Output.all(
            aws.get_partition_output(opts=opts).partition,
            aws.get_region_output(opts=opts).region,
            aws.get_caller_identity_output(opts=opts).account_id,
        ).apply(lambda values: json.dumps(iam.chat_channel_policy(*values))),
        opts=child,
    )
    channel: dict[str, Any] = {
        "iam_role_arn": role.arn,
        "guardrail_policy_arns": [iam.managed_policy_arn(GUARDRAIL_POLICY, parent)],
        # Completions (custom notifications) and alarms and blocked-queue alerts (rendered natively), this
        # notifier's and those of the notifiers that share the channel (one configuration per channel).
        "sns_topic_arns": pulumi.Output.all(own_topics, *settings.extra_topic_arns).apply(
            lambda values: _distinct([*values[0], *_flat(values[1:])])
        ),
        "logging_level": LOGGING_LEVEL,
        # Channel members run commands with roles of their own, never with the channel role, which is
        # only there to render notifications (and is capped by the guardrail either way).
        "user_authorization_required": True,
        "region": CHATBOT_API_REGION,
        "tags": tags,
        # The role's permissions first: the first notification may come before a policy attached later.
        "opts": pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    }
    project, stack = pulumi.get_project(), pulumi.get_stack()
    slack = teams = None
    if settings.slack is not None:
        slack = aws.chatbot.SlackChannelConfiguration(
            f"{name}-slack",
            configuration_name=configuration_name(project, stack, name, "slack"),
            slack_team_id=settings.slack.workspace_id,
            slack_channel_id=settings.slack.channel_id,
            **channel,
        )
    if settings.teams is not None:
        teams = aws.chatbot.TeamsChannelConfiguration(
            f"{name}-teams",
            configuration_name=configuration_name(project, stack, name, "teams"),
            tenant_id=settings.teams.tenant_id,
            team_id=settings.teams.team_id,
            channel_id=settings.teams.channel_id,
            **channel,
        )
    return ChatDelivery(topic, own_topics, role, role_policy, slack, teams)


def _flat(values: list[Any]) -> list[str]:
    """ARNs and lists of ARNs (other notifiers' `chat_topic_arns`) as one list."""
    return [arn for value in values for arn in (value if isinstance(value, list) else [value])]


def chat_configuration_name(component_name: str, application: str) -> str:
    """The name the notifier or pipeline `component_name` of this program and stack gives its channel
    configuration for `application` (`slack` or `teams`): what another notifier that shares the channel
    passes as `existing_chat_configuration`."""
    if application not in ("slack", "teams"):
        raise ValueError(f"application: {application!r} is not allowed; expected slack or teams")
    return configuration_name(pulumi.get_project(), pulumi.get_stack(), component_name, application)


def _distinct(arns: list[str]) -> list[str]:
    """`arns` in order, each once (the alerts topic may be the same as another notifier's)."""
    return list(dict.fromkeys(arns))


def notifier_environment(chat: ChatDelivery | None) -> dict[str, pulumi.Input[str]]:
    """What the notifier needs to send to chat; without CHAT_TOPIC_ARN its chat sink stays off."""
    return {} if chat is None else {"CHAT_TOPIC_ARN": chat.topic.arn}


def notifier_grants(
    chat: ChatDelivery | None, statements: pulumi.Output[list[iam.Statement]]
) -> pulumi.Output[list[iam.Statement]]:
    """The notifier's other statements, plus publishing to the chat topic (and nothing else of chat)."""
    if chat is None:
        return statements
    return pulumi.Output.all(statements, chat.topic.arn).apply(
        lambda values: [*values[0], iam.chat_publish_statement(values[1])]
    )
