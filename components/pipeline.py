"""BatchArrayPipeline: a Batch pipeline that says, exactly once, when a whole array job has finished.

Batch compute environment(s), job queue and job definition, plus an `ArrayCompletionNotifier` on that
queue and job definition for everything after it (components/completion_notifier.py):

Batch queue ──(every child's and the parent's state changes)──▶ EventBridge default bus
    ──(rule: this queue's array PARENT in a terminal status)──▶ notifier Lambda
    ──(one message per array job, duplicates suppressed)──▶ SNS topic ──▶ subscribers
"""

# No `from __future__ import annotations`: the component provider (components/__main__.py) infers the
# schema from the live annotations of `__init__`'s `args` and of the outputs below.
from typing import Optional

import pulumi

from .args import ArrayCompletionNotifierArgs, BatchArrayPipelineArgs, NotifierOptions
from .batch import batch_resources
from .completion_notifier import ArrayCompletionNotifier, NotifierOutputs
from .naming import name_tag_transformation
from .network import job_network
from .reliability import stuck_job_actions
from .validation import claim_chat_channels, resolve_args

TYPE_TOKEN = "batcharray:index:BatchArrayPipeline"


class BatchArrayPipeline(pulumi.ComponentResource, NotifierOutputs):
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
    queue_blocked_rule_arn: pulumi.Output[str]
    """ARN of the rule that forwards this queue's `Batch Job Queue Blocked` events to the alerts topic."""
    compute_environment_arns: pulumi.Output[list[str]]
    """ARNs of every compute environment, in the order the queue uses them."""
    job_definition_arn_prefix: pulumi.Output[str]
    """ARN of the job definition without its revision."""
    job_log_group_arn: pulumi.Output[str]
    """ARN of the jobs' log group."""
    downstream_rule_arn: Optional[pulumi.Output[str]]  # noqa: UP045
    """ARN of the rule on the completion bus that invokes the downstream Lambda, when given."""

    def __init__(
        self,
        name: str,
        args: BatchArrayPipelineArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        # Validate before registering anything, so bad input declares no resource at all.
        settings = resolve_args(args)
        # Its notifier (named like it) configures the channels: a channel already taken fails here, first.
        claim_chat_channels(name, settings.chat)
        if settings.name_prefix is not None:
            # Inherited by every child; see components/naming.py.
            opts = pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(transformations=[name_tag_transformation(name, settings.name_prefix)]),
            )
        super().__init__(TYPE_TOKEN, name, {}, opts)
        tags = settings.tags

        network = job_network(name, settings.subnet_ids, settings.security_group_ids, settings.vpc_id, tags, self)
        batch = batch_resources(
            name,
            settings.compute_environments,
            settings.job,
            network,
            tags,
            self,
            time_limit_actions=stuck_job_actions(settings.reliability),
        )
        # The pipeline's own options, as given; its Name tags already reach the notifier's children
        # (transformations are inherited), so `name_prefix` stays here.
        options = {key: value for key, value in args.items() if key in NotifierOptions.__annotations__}
        options.pop("name_prefix", None)
        # Named like the pipeline, so its children keep the names (and, with the aliases `moved_from`
        # adds, the identity) they had when the pipeline parented them itself.
        completion = ArrayCompletionNotifier(
            name,
            ArrayCompletionNotifierArgs(
                job_queue_arns=[batch.job_queue.arn],
                job_definition_arn_prefixes=[batch.job_definition.arn_prefix],
                # Its job definition logs there: the notifier reads failed children's tails from it alone.
                job_log_group_names=[batch.job_log_group.name],
                **options,  # type: ignore[typeddict-item]
            ),
            pulumi.ResourceOptions(parent=self),
            moved_from=self,
        )

        self.compute_environment_arn = batch.compute_environment.arn
        self.job_queue_arn = batch.job_queue.arn
        self.job_queue_name = batch.job_queue.name
        self.job_definition_arn = batch.job_definition.arn
        self.job_definition_name = batch.job_definition.name
        self.job_log_group_name = batch.job_log_group.name
        self.compute_environment_arns = pulumi.Output.all(*(each.arn for each in batch.compute_environments))
        self.job_definition_arn_prefix = batch.job_definition.arn_prefix
        self.job_log_group_arn = batch.job_log_group.arn
        # One queue, so one rule of each kind.
        self.completion_rule_arn = completion.completion_rule_arns[0]
        self.completion_rule_name = completion.completion_rule_names[0]
        self.queue_blocked_rule_arn = completion.queue_blocked_rule_arns[0]
        self.take_notifier_outputs(completion)
        downstream_rules = completion.downstream_rule_arns
        self.downstream_rule_arn = downstream_rules[0] if downstream_rules is not None else None
        # Last, so the engine knows the component is complete and saves these outputs in state.
        self.register_outputs(self.outputs())
