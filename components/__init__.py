"""The BatchArrayPipeline component and its arguments: `from components import BatchArrayPipeline`."""

from components.args import BatchArrayPipelineArgs, EmailSubscription
from components.pipeline import BatchArrayPipeline
from components.validation import InvalidArgumentError

__all__ = ["BatchArrayPipeline", "BatchArrayPipelineArgs", "EmailSubscription", "InvalidArgumentError"]
