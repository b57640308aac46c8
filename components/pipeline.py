"""BatchArrayPipeline: a Batch pipeline that says, exactly once, when a whole array job has finished.

Batch queue ──(every child's and the parent's state changes)──▶ EventBridge default bus
    ──(rule: this queue's array PARENT in a terminal status)──▶ notifier Lambda
    ──(one message per array job, duplicates suppressed)──▶ SNS topic ──▶ subscribers
"""

# No `from __future__ import annotations`: the component provider (components/__main__.py) infers the
# schema from the live annotations of `__init__`'s `args` and of the outputs below.
from typing import Any, Optional

import pulumi

from .args import BatchArrayPipelineArgs
from .batch import batch_resources
from .completion_bus import (
    COMPLETION_EVENT_DETAIL_TYPE,
    COMPLETION_EVENT_SOURCE,
    completion_bus,
    grant_put_events,
)
from .completion_rule import completion_rule
from .dashboard import pipeline_dashboard
from .downstream import downstream_function
from .naming import name_tag_transformation
from .network import job_network
from .notifier import completion_topic, notifier, notifier_role
from .reliability import (
    alerting,
    notifier_statements,
    protection,
    retry_policy,
    stuck_job_actions,
)
from .validation import resolve_args

TYPE_TOKEN = "batcharray:index:BatchArrayPipeline"


class BatchArrayPipeline(pulumi.ComponentResource):
    """Compute environment, job queue and job definition, plus a parent-only completion notifier."""

    compute_environment_arn: pulumi.Output[str]
    """ARN of the Batch compute environment."""
    job_queue_arn: pulumi.Output[str]
    """ARN of the job queue: submit array jobs here."""
    job_queue_name: pulumi.Output[str]
    """Name of the job queue."""
    job_definition_arn: pulumi.Output[str]
    """ARN of the job definition's current revision."""
    job_definition_name: pulumi.Output[str]
    """Name of the job definition (submit by name to always use the latest revision)."""
    job_log_group_name: pulumi.Output[str]
    """CloudWatch log group of the jobs' output."""
    completion_rule_arn: pulumi.Output[str]
    """ARN of the EventBridge rule that matches finished array parents."""
    completion_rule_name: pulumi.Output[str]
    """Name of that rule."""
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
    queue_blocked_rule_arn: pulumi.Output[str]
    """ARN of the rule that forwards this queue's `Batch Job Queue Blocked` events to the alerts topic."""
    compute_environment_arns: pulumi.Output[list[str]]
    """ARNs of every compute environment, in the order the queue uses them."""
    job_definition_arn_prefix: pulumi.Output[str]
    """ARN of the job definition without its revision."""
    job_log_group_arn: pulumi.Output[str]
    """ARN of the jobs' log group."""
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
    downstream_function_arn: Optional[pulumi.Output[str]]  # noqa: UP045 (the schema analyzer reads Optional)
    """ARN of the downstream Lambda, when `downstream_function` is given."""
    downstream_function_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Name of the downstream Lambda, when `downstream_function` is given."""
    downstream_role_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """IAM role of the downstream Lambda (attach your code's permissions to it), when given."""
    downstream_rule_arn: Optional[pulumi.Output[str]]  # noqa: UP045
    """ARN of the rule on the completion bus that invokes the downstream Lambda, when given."""
    downstream_log_group_name: Optional[pulumi.Output[str]]  # noqa: UP045
    """Log group of the downstream Lambda, when given."""
    dashboard_name: pulumi.Output[str]
    """Name of the pipeline's CloudWatch dashboard (`<name>-<stage>-<region>`; see docs/operations.md)."""
    dashboard_url: pulumi.Output[str]
    """Console URL of that dashboard: completions, failed children, duration, lag, failure queues, alarms."""

    def __init__(
        self,
        name: str,
        args: BatchArrayPipelineArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Validate before registering anything, so bad input declares no resource at all.
        settings = resolve_args(args)
        if settings.name_prefix is not None:
            # Inherited by every child; see components/naming.py.
            opts = pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(transformations=[name_tag_transformation(name, settings.name_prefix)]),
            )
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = settings.tags

        network = job_network(name, settings.subnet_ids, settings.security_group_ids, settings.vpc_id, tags, self)
        failures = settings.reliability
        batch = batch_resources(
            name,
            settings.compute_environments,
            settings.job,
            network,
            tags,
            self,
            time_limit_actions=stuck_job_actions(failures),
        )
        # The key names the notifier's role, and encrypts the topic and failure queues the notifier writes to.
        role = notifier_role(name, tags, self)
        shield = protection(name, role.arn, failures, tags, self)
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
        handler = notifier(
            name,
            settings.notifier,
            topic_arn,
            tags,
            self,
            event_bus=bus.reference,
            role=role,
            extra_statements=notifier_statements(shield, owns_topic, self),
            job_queue_arns=[batch.job_queue.arn],
        )
        grant_put_events(name, handler.role, bus, self)
        rule = completion_rule(
            name,
            batch.job_queue,
            batch.job_definition,
            settings.notify_statuses,
            handler.function,
            tags,
            self,
            retry_policy=retry_policy(failures),
            dead_letter_arn=shield.event_dead_letter_queue.arn,
        )
        downstream = None
        if settings.downstream_function is not None:
            downstream = downstream_function(
                name,
                settings.downstream_function,
                bus,
                batch.job_queue.arn,
                settings.notifier.log_retention_days,
                tags,
                self,
                retry_policy=retry_policy(failures),
                dead_letter_arn=shield.event_dead_letter_queue.arn,
            )
        alerts = alerting(
            name,
            failures,
            shield,
            topic_arn,
            owns_topic,
            batch.job_queue,
            handler.function,
            rule.rule,
            tags,
            self,
            other_dead_lettering_rules=[downstream.rule] if downstream else [],
            stage=settings.stage,
        )
        board = pipeline_dashboard(
            name,
            settings.stage,
            batch.job_queue,
            handler.function,
            handler.log_group,
            rule.rule,
            (shield.event_dead_letter_queue, shield.notifier_failure_queue),
            alerts.alarms,
            self,
        )

        self.compute_environment_arn = batch.compute_environment.arn
        self.job_queue_arn = batch.job_queue.arn
        self.job_queue_name = batch.job_queue.name
        self.job_definition_arn = batch.job_definition.arn
        self.job_definition_name = batch.job_definition.name
        self.job_log_group_name = batch.job_log_group.name
        self.completion_rule_arn = rule.rule.arn
        self.completion_rule_name = rule.rule.name
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
        self.queue_blocked_rule_arn = alerts.blocked_rule.arn
        self.compute_environment_arns = pulumi.Output.all(*(each.arn for each in batch.compute_environments))
        self.job_definition_arn_prefix = batch.job_definition.arn_prefix
        self.job_log_group_arn = batch.job_log_group.arn
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
        self.downstream_rule_arn = self.downstream_log_group_name = None
        if downstream is not None:
            self.downstream_function_arn = downstream.function.arn
            self.downstream_function_name = downstream.function.name
            self.downstream_role_name = downstream.role.name
            self.downstream_rule_arn = downstream.rule.arn
            self.downstream_log_group_name = downstream.log_group.name
        # Last, so the engine knows the component is complete and saves these outputs in state.
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Every output by its attribute name, for stack exports and `register_outputs` (unset optional
        outputs, e.g. the downstream function's when there is none, are left out)."""
        return {key: getattr(self, key) for key in type(self).__annotations__ if getattr(self, key) is not None}
