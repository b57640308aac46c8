"""batch-array-notify: a Pulumi component for an AWS Batch pipeline that says, exactly once, when a whole
array job has finished. `from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs`; for job
queues you already have, `from batch_array_notify import ArrayCompletionNotifier, ArrayCompletionNotifierArgs`;
in each member account of an organisation, `from batch_array_notify import BatchEventForwarder,
BatchEventForwarderArgs`.

The public API follows semantic versioning (CHANGELOG.md): the components' type tokens, their arguments
and outputs (snapshot in docs/api-schema.json), the completion event's detail and the SNS message's
`schemaVersion`.
"""

from .args import (
    ArrayCompletionNotifierArgs,
    BatchArrayPipelineArgs,
    ComputeEnvironment,
    DownstreamFunction,
    EmailSubscription,
    NotifierOptions,
)
from .chat import chat_configuration_name
from .completion_bus import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE, completion_event_pattern
from .completion_notifier import ArrayCompletionNotifier
from .forwarder import BatchEventForwarder
from .forwarder_args import BatchEventForwarderArgs
from .pipeline import BatchArrayPipeline
from .validation import InvalidArgumentError

#: The package's one version: its metadata and the plugin package read it from here.
__version__ = "0.3.0"

__all__ = [
    "COMPLETION_EVENT_DETAIL_TYPE",
    "COMPLETION_EVENT_SOURCE",
    "ArrayCompletionNotifier",
    "ArrayCompletionNotifierArgs",
    "BatchArrayPipeline",
    "BatchArrayPipelineArgs",
    "BatchEventForwarder",
    "BatchEventForwarderArgs",
    "ComputeEnvironment",
    "DownstreamFunction",
    "EmailSubscription",
    "InvalidArgumentError",
    "NotifierOptions",
    "__version__",
    "chat_configuration_name",
    "completion_event_pattern",
]
