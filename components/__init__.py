"""batch-array-notify: a Pulumi component for an AWS Batch pipeline that says, exactly once, when a whole
array job has finished. `from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs`.

The public API follows semantic versioning (CHANGELOG.md): the component's type token, its arguments
and outputs (snapshot in docs/api-schema.json), the completion event's detail and the SNS message's
`schemaVersion`.
"""

from .args import BatchArrayPipelineArgs, ComputeEnvironment, DownstreamFunction, EmailSubscription
from .completion_bus import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE, completion_event_pattern
from .pipeline import BatchArrayPipeline
from .validation import InvalidArgumentError

#: The package's one version: its metadata and the plugin package read it from here.
__version__ = "0.2.0"

__all__ = [
    "COMPLETION_EVENT_DETAIL_TYPE",
    "COMPLETION_EVENT_SOURCE",
    "BatchArrayPipeline",
    "BatchArrayPipelineArgs",
    "ComputeEnvironment",
    "DownstreamFunction",
    "EmailSubscription",
    "InvalidArgumentError",
    "__version__",
    "completion_event_pattern",
]
