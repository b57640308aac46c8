"""The BatchArrayPipeline component and its arguments: `from components import BatchArrayPipeline`."""

from components.args import BatchArrayPipelineArgs, ComputeEnvironment, DownstreamFunction, EmailSubscription
from components.completion_bus import COMPLETION_EVENT_DETAIL_TYPE, COMPLETION_EVENT_SOURCE, completion_event_pattern
from components.pipeline import BatchArrayPipeline
from components.validation import InvalidArgumentError

__all__ = [
    "COMPLETION_EVENT_DETAIL_TYPE",
    "COMPLETION_EVENT_SOURCE",
    "BatchArrayPipeline",
    "BatchArrayPipelineArgs",
    "ComputeEnvironment",
    "DownstreamFunction",
    "EmailSubscription",
    "InvalidArgumentError",
    "completion_event_pattern",
]
