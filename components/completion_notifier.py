"""ArrayCompletionNotifier: exactly-once array-completion notifications for job queues that already exist.

Everything after the queue, nothing before it:

existing Batch queues ──(every child's and parent's state change)──▶ EventBridge default bus
    ──(rules: these queues' array PARENTS in a terminal status)──▶ notifier Lambda (ignores other queues)
    ──(one message per array job, duplicates suppressed)──▶ SNS topic ──▶ subscribers
    ──(one `Batch Array Job Completed` event)──▶ completion bus ──▶ your rules (and a downstream Lambda)
plus the failure handling of docs/reliability.md: retries, two encrypted failure queues, alarms, a
blocked-queue alert, the key. `BatchArrayPipeline` is Batch resources plus one of these on its queue.
Central mode (`member_accounts`): also an intake bus the members' forwarders send to, its rules, and the
right to assume each member's read role (components/intake_bus.py, docs/organization.md).
"""

# No `from __future__ import annotations`: the component provider (components/__main__.py) infers the
# schema from the live annotations of `__init__`'s `args` and of the outputs below.
import functools
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from .args import ArrayCompletionNotifierArgs
from .chat import chat_delivery, notifier_environment, notifier_grants
from .completion_bus import (
    COMPLETION_EVENT_DETAIL_TYPE,
    COMPLETION_EVENT_SOURCE,
    completion_bus,
    grant_put_events,
)
from .completion_rule import completion_rule
from .dashboard import notifier_dashboard
from .downstream import downstream_function
from .identity import children_moved_from
from .intake_bus import check_policy_fits, grant_assume_member_roles, intake_bus, member_environment
from .member_accounts import resolve_organization
from .metric_names import ORGANIZATION_HOME_QUEUE, queue_name
from .naming import name_tag_transformation
from .notifier import completion_topic, notifier, notifier_role
from .reconcile import sweep, sweep_role
from .reliability import alerting, alerts_topic, notifier_statements, protection, retry_policy
from .validation import (
    ResolvedNotifierArgs,
    check_batch_arns_are_local,
    check_topic_arn,
    claim_chat_channels,
    resolve_notifier_args,
)

TYPE_TOKEN = "batcharray:index:ArrayCompletionNotifier"


class NotifierOutputs:
    """The outputs of everything after the queue, declared once: both components have them
    (`BatchArrayPipeline` takes its notifier's)."""

    notifier_function_arn: pulumi.Output[str]
    """ARN of the completion handler Lambda."""
    notifier_function_name: pulumi.Output[str]
    """Name of the completion handler Lambda."""
    notifier_log_group_name: pulumi.Output[str]
    """CloudWatch log group of the completion handler."""
    idempotency_table_name: pulumi.Output[str]
    """DynamoDB table that records which completions were already notified."""
    topic_arn: pulumi.Output[str]
    """SNS topic receiving one message per finished array job."""
    dead_letter_queue_arn: pulumi.Output[str]
    """SQS queue keeping events the rules could not deliver after their retry policy (see docs/reliability.md)."""
    dead_letter_queue_url: pulumi.Output[str]
    """URL of that queue, for `aws sqs receive-message` and redriving."""
    notifier_failure_queue_arn: pulumi.Output[str]
    """SQS queue (the notifier's on-failure destination) keeping events it failed on after all retries."""
    notifier_failure_queue_url: pulumi.Output[str]
    """URL of that queue."""
    alerts_topic_arn: pulumi.Output[str]
    """SNS topic receiving the alarms and blocked-queue alerts (the completion topic unless `alerts_topic_arn`)."""
    kms_key_arn: pulumi.Output[str]
    """Customer-managed KMS key encrypting the completion topic and both failure queues."""
    notifier_role_arn: pulumi.Output[str]
    """ARN of the completion handler's IAM role."""
    notifier_log_group_arn: pulumi.Output[str]
    """ARN of the completion handler's log group."""
    idempotency_table_arn: pulumi.Output[str]
    """ARN of the idempotency table."""
    completion_event_bus_name: pulumi.Output[str]
    """Name of the EventBridge bus receiving one `Batch Array Job Completed` event per finished array job."""
    completion_event_bus_arn: pulumi.Output[str]
    """ARN of that bus."""
    completion_event_source: pulumi.Output[str]
    """`source` of the completion events (`batch-array-notify`), for consumers' rules."""
    completion_event_detail_type: pulumi.Output[str]
    """`detail-type` of the completion events (`Batch Array Job Completed`), for consumers' rules."""
    dashboard_name: pulumi.Output[str]
    """Name of the notifier's CloudWatch dashboard (`<name>-<stage>-<region>`; see docs/operations.md)."""
    dashboard_url: pulumi.Output[str]
    """Console URL of that dashboard: completions per queue, failed children, duration, lag, failure queues, alarms."""
    downstream_function_arn: Optional[pulumi.Output[str]]  # noqa: UP045 (the schema analyzer reads Optional)
    """ARN of the downstream Lambda, when `downstream_function` is given."""
    downstream_function_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Name of the downstream Lambda, when `downstream_function` is given."""
    downstream_role_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """IAM role of the downstream Lambda (attach your code's permissions to it), when given."""
    downstream_log_group_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Log group of the downstream Lambda, when given."""
    sweep_function_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Name of the reconciliation sweep's Lambda (reports completions whose event never reached the
    notifier), unless `reconcile_every_minutes` is 0."""
    sweep_log_group_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Log group of the reconciliation sweep, unless `reconcile_every_minutes` is 0."""
    sweep_schedule_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Name of the EventBridge Scheduler schedule that runs the sweep, unless `reconcile_every_minutes` is 0."""
    sweep_role_arn: Optional[pulumi.Output[str]]  # noqa: UP045
    """The sweep's IAM role, unless `reconcile_every_minutes` is 0: in central mode, with `notifier_role_arn`,
    what each member's read role trusts (the forwarder's `central_notifier_role_arns`)."""
    chat_topic_arns: Optional[pulumi.Output[list[str]]]  # noqa: UP045
    """With a chat channel: this notifier's chat topic and alerts topic, which the channel's configuration
    carries. With `existing_chat_configuration`, add them to that configuration (its owner's
    `chat_extra_topic_arns`): AWS allows one configuration per channel per account."""
    chat_configuration_arns: Optional[pulumi.Output[list[str]]]  # noqa: UP045
    """ARNs of the channel configurations this notifier created (none with `existing_chat_configuration`)."""

    @classmethod
    def output_names(cls) -> list[str]:
        """Every output attribute: the class's own, then those declared here."""
        names: list[str] = []
        for klass in cls.__mro__:
            if issubclass(klass, NotifierOutputs):
                names += [key for key in vars(klass).get("__annotations__", {}) if key not in names]
        return names

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Every output by its attribute name, for stack exports and `register_outputs` (unset optional
        outputs, e.g. the downstream function's when there is none, are left out)."""
        return {key: getattr(self, key) for key in self.output_names() if getattr(self, key) is not None}

    def take_notifier_outputs(self, source: "NotifierOutputs") -> None:
        """Adopt `source`'s values for the outputs declared here."""
        for key in NotifierOutputs.output_names():
            setattr(self, key, getattr(source, key))


class ArrayCompletionNotifier(pulumi.ComponentResource, NotifierOutputs):
    """Exactly-once array-completion notifications for job queues you already have: the completion rules,
    notifier, topic, idempotency table, failure queues, alarms and key; no compute, queue or job definition."""

    job_queue_arns: pulumi.Output[list[str]]
    """The job queues whose array jobs this notifier reports (the notifier ignores any other queue's)."""
    job_definition_arn_prefixes: pulumi.Output[list[str]]
    """The job definitions (ARNs without revision) whose array jobs count; empty: any job definition."""
    completion_rule_arns: pulumi.Output[list[str]]
    """ARNs of the EventBridge rules that match finished array parents: one per group of queues that fits
    EventBridge's pattern limit, usually one."""
    completion_rule_names: pulumi.Output[list[str]]
    """Names of those rules, in the same order."""
    queue_blocked_rule_arns: pulumi.Output[list[str]]
    """ARNs of the rules that forward these queues' `Batch Job Queue Blocked` events to the alerts topic."""
    downstream_rule_arns: Optional[pulumi.Output[list[str]]]  # noqa: UP045
    """ARNs of the rules on the completion bus that invoke the downstream Lambda, when given."""
    intake_bus_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Central mode: name of the bus the members' forwarders send their Batch events to."""
    intake_bus_arn: Optional[pulumi.Output[str]]  # noqa: UP045
    """Central mode: ARN of that bus, each member stack's `centralBusArn`."""
    member_account_ids: Optional[pulumi.Output[list[str]]]  # noqa: UP045
    """Central mode: the member accounts the intake bus admits and the notifier reports."""
    intake_bus_account_capacity: Optional[pulumi.Output[int]]  # noqa: UP045
    """Central mode: how many accounts `member_accounts` may name, the intake bus's policy then staying within
    EventBridge's 10,240-character quota for any bus ARN (counted on the policy itself); beyond that, give
    `organization_id`."""

    def __init__(
        self,
        name: str,
        args: ArrayCompletionNotifierArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        moved_from: pulumi.Resource | None = None,
    ) -> None:
        """`moved_from`: the component that parented these resources before (`BatchArrayPipeline` up to
        0.1): each child gets an alias to its old URN, so the next `pulumi up` keeps it (components/identity.py)."""
        # Validate before registering anything, so bad input declares no resource at all.
        settings = resolve_notifier_args(args)
        organization = resolve_organization(args)
        if organization is not None:
            check_policy_fits(organization)
        claim_chat_channels(name, settings.chat)
        transformations = []
        if settings.name_prefix is not None:
            # Inherited by every child; see components/naming.py.
            transformations.append(name_tag_transformation(name, settings.name_prefix))
        if moved_from is not None:
            transformations.append(children_moved_from(self, moved_from))
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(transformations=transformations))
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = settings.tags
        failures = settings.reliability

        queue_arns, definitions = local_arns(settings, self)
        queue_groups = [queue_arns.apply(functools.partial(_picked, group)) for group in settings.rule_groups]
        # The key names the notifier's role, and encrypts the topic and failure queues the notifier writes to.
        role = notifier_role(name, tags, self)
        # The sweep publishes what it reports to the same encrypted topics: the key names its role too.
        reconcile_role = sweep_role(name, tags, self) if settings.reconcile is not None else None
        shield = protection(name, role.arn, failures, tags, self, reconcile_role.arn if reconcile_role else None)
        owns_topic = settings.existing_topic_arn is None
        topic_arn = completion_topic(
            name,
            settings.existing_topic_arn,
            settings.email_subscriptions,
            tags,
            self,
            kms_master_key_id=shield.key.arn,
        )
        bus = completion_bus(settings.completion_event_bus, self)
        # Opt-in chat channels: a chat topic (under the key) the notifier publishes to, and channels
        # subscribed to it and to the alerts topic. Nothing at all without a Slack or Teams channel.
        chat = chat_delivery(name, settings.chat, shield.key.arn, alerts_topic(failures, topic_arn), tags, self)
        handler = notifier(
            name,
            settings.notifier,
            topic_arn,
            tags,
            self,
            event_bus=bus.reference,
            role=role,
            extra_statements=notifier_grants(chat, notifier_statements(shield, owns_topic or chat is not None, self)),
            extra_environment={
                **notifier_environment(chat),
                **(member_environment(organization, self) if organization is not None else {}),
            },
            job_queue_arns=queue_arns,
            job_log_group_names=pulumi.Output.all(*settings.job_log_group_names),
        )
        grant_put_events(name, handler.role, bus, self)
        rules = [
            completion_rule(
                name,
                group_arns,
                definitions,
                settings.notify_statuses,
                handler.function,
                tags,
                self,
                retry_policy=retry_policy(failures),
                dead_letter_arn=shield.event_dead_letter_queue.arn,
                index=index,
            ).rule
            for index, group_arns in enumerate(queue_groups)
        ]
        intake = None
        every_rule = list(rules)
        if organization is not None:
            intake = intake_bus(
                name,
                organization,
                settings.notify_statuses,
                handler.function,
                tags,
                self,
                retry_policy=retry_policy(failures),
                dead_letter_arn=shield.event_dead_letter_queue.arn,
            )
            every_rule += intake.rules
            grant_assume_member_roles(f"{name}-notifier-members", handler.role, organization, self)
            if reconcile_role is not None:
                grant_assume_member_roles(f"{name}-sweep-members", reconcile_role, organization, self)
        downstream = None
        if settings.downstream_function is not None:
            downstream = downstream_function(
                name,
                settings.downstream_function,
                bus,
                queue_groups,
                settings.notifier.log_retention_days,
                tags,
                self,
                retry_policy=retry_policy(failures),
                dead_letter_arn=shield.event_dead_letter_queue.arn,
            )
        # The handler counts every event it ignores, and the sweep what it reconciled, under its first queue
        # (a central notifier without queues of its own: under `organization`).
        home_queue_name = queue_arns.apply(lambda arns: queue_name(arns[0]) if arns else ORGANIZATION_HOME_QUEUE)
        swept = None
        if settings.reconcile is not None and reconcile_role is not None:
            swept = sweep(
                name,
                settings.reconcile,
                settings.notifier,
                handler,
                reconcile_role,
                job_definition_arn_prefixes=definitions,
                notify_statuses=settings.notify_statuses,
                bus_arn=bus.arn,
                key_arn=shield.key.arn if owns_topic or chat is not None else None,
                chat_topic_arn=chat.topic.arn if chat is not None else None,
                alerts_topic_arn=alerts_topic(failures, topic_arn),
                stage=settings.stage,
                home_queue_name=home_queue_name,
                runbook_url=failures.runbook_url,
                tags=tags,
                parent=self,
            )
        alerts = alerting(
            name,
            failures,
            shield,
            topic_arn,
            owns_topic,
            queue_groups,
            handler.function,
            every_rule,
            tags,
            self,
            other_dead_lettering_rules=downstream.rules if downstream else [],
            stage=settings.stage,
            home_queue_name=home_queue_name,
            other_alarms=swept.alarms if swept is not None else [],
        )
        board = notifier_dashboard(
            name,
            settings.stage,
            queue_arns,
            handler.function,
            handler.log_group,
            rules,
            (shield.event_dead_letter_queue, shield.notifier_failure_queue),
            alerts.alarms,
            self,
            sweep=(swept.function, swept.log_group) if swept is not None else None,
            runbook_url=failures.runbook_url,
            member_accounts=organization.account_ids if organization is not None else (),
            member_queue_arns=[arn for member in organization.members for arn in member.job_queue_arns]
            if organization is not None
            else (),
            intake=(intake.bus.name, intake.rules) if intake is not None else None,
        )

        self.job_queue_arns = queue_arns
        self.job_definition_arn_prefixes = definitions if definitions is not None else pulumi.Output.from_input([])
        self.completion_rule_arns = pulumi.Output.all(*(rule.arn for rule in every_rule))
        self.completion_rule_names = pulumi.Output.all(*(rule.name for rule in every_rule))
        self.queue_blocked_rule_arns = pulumi.Output.all(*(rule.arn for rule in alerts.blocked_rules))
        self.notifier_function_arn = handler.function.arn
        self.notifier_function_name = handler.function.name
        self.notifier_log_group_name = handler.log_group.name
        self.idempotency_table_name = handler.idempotency_table.name
        self.topic_arn = topic_arn
        self.dead_letter_queue_arn = shield.event_dead_letter_queue.arn
        self.dead_letter_queue_url = shield.event_dead_letter_queue.url
        self.notifier_failure_queue_arn = shield.notifier_failure_queue.arn
        self.notifier_failure_queue_url = shield.notifier_failure_queue.url
        self.alerts_topic_arn = alerts.alerts_topic_arn
        self.kms_key_arn = shield.key.arn
        self.notifier_role_arn = handler.role.arn
        self.notifier_log_group_arn = handler.log_group.arn
        self.idempotency_table_arn = handler.idempotency_table.arn
        self.completion_event_bus_name = bus.name
        self.completion_event_bus_arn = bus.arn
        self.completion_event_source = pulumi.Output.from_input(COMPLETION_EVENT_SOURCE)
        self.completion_event_detail_type = pulumi.Output.from_input(COMPLETION_EVENT_DETAIL_TYPE)
        self.dashboard_name = board.dashboard.dashboard_name
        self.dashboard_url = board.url
        self.downstream_function_arn = self.downstream_function_name = self.downstream_role_name = None
        self.downstream_log_group_name = self.downstream_rule_arns = None
        self.sweep_function_name = self.sweep_log_group_name = self.sweep_schedule_name = self.sweep_role_arn = None
        self.chat_topic_arns = self.chat_configuration_arns = None
        self.intake_bus_name = self.intake_bus_arn = self.member_account_ids = self.intake_bus_account_capacity = None
        if intake is not None and organization is not None:
            self.intake_bus_name = intake.bus.name
            self.intake_bus_arn = intake.bus.arn
            self.member_account_ids = pulumi.Output.from_input(organization.account_ids)
            self.intake_bus_account_capacity = intake.account_capacity
        if chat is not None:
            self.chat_topic_arns = chat.topic_arns
            self.chat_configuration_arns = pulumi.Output.all(
                *(configuration.chat_configuration_arn for configuration in chat.configurations)
            )
        if swept is not None:
            self.sweep_function_name = swept.function.name
            self.sweep_log_group_name = swept.log_group.name
            self.sweep_schedule_name = swept.schedule.name
            self.sweep_role_arn = reconcile_role.arn if reconcile_role is not None else None
        if downstream is not None:
            self.downstream_function_arn = downstream.function.arn
            self.downstream_function_name = downstream.function.name
            self.downstream_role_name = downstream.role.name
            self.downstream_log_group_name = downstream.log_group.name
            self.downstream_rule_arns = pulumi.Output.all(*(rule.arn for rule in downstream.rules))
        # Last, so the engine knows the component is complete and saves these outputs in state.
        self.register_outputs(self.outputs())


def _picked(indices: list[int], arns: list[str]) -> list[str]:
    return [arns[index] for index in indices]


def local_arns(
    settings: ResolvedNotifierArgs, parent: pulumi.Resource
) -> tuple[pulumi.Output[list[str]], pulumi.Output[list[str]] | None]:
    """The queue and job-definition ARNs, once each is checked to be in the account and region the stack
    deploys to (Outputs are only known now). Everything the notifier builds from them waits for the check."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=invoke).region
    account = aws.get_caller_identity_output(opts=invoke).account_id
    queues = pulumi.Output.all(*settings.job_queue_arns)
    definitions = pulumi.Output.all(*(settings.job_definition_arn_prefixes or []))
    # Alarms and EventBridge rules publish only to topics of their own region: the given topics too.
    given_topics = {
        "existing_topic_arn": settings.existing_topic_arn,
        "alerts_topic_arn": settings.reliability.alerts_topic_arn,
    }
    topic_keys = [key for key, arn in given_topics.items() if arn is not None]
    topics = pulumi.Output.all(*(given_topics[key] for key in topic_keys))

    def checked(values: list[Any]) -> tuple[list[str], list[str]]:
        region_name, account_id, queue_arns, definition_arns, topic_arns = values
        named = {f"job_queue_arns[{index}]": arn for index, arn in enumerate(queue_arns)}
        named |= {f"job_definition_arn_prefixes[{index}]": arn for index, arn in enumerate(definition_arns)}
        check_batch_arns_are_local(named, region_name, account_id)
        for key, arn in zip(topic_keys, topic_arns, strict=True):
            check_topic_arn(key, arn, region_name, where="where this stack deploys")
        return queue_arns, definition_arns

    both = pulumi.Output.all(region, account, queues, definitions, topics).apply(checked)
    return (
        both.apply(lambda pair: pair[0]),
        None if settings.job_definition_arn_prefixes is None else both.apply(lambda pair: pair[1]),
    )
