"""Typed views of the Batch job data the handler reads: the EventBridge event and DescribeJobs results.

Only the fields the handler uses are declared; everything else is ignored, because AWS adds fields to
these documents without notice. Validation is strict (no "7" for 7, no null for a string) so that a
malformed event is recognised as such instead of being half-understood.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

EpochMillis = Annotated[int, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


class _AwsDocument(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, strict=True, frozen=True, extra="ignore")


class EventEnvelope(_AwsDocument):
    """The EventBridge envelope; `detail` is validated separately once the detail-type is known."""

    id: str | None = None
    source: str
    detail_type: str = Field(alias="detail-type")
    time: str | None = None
    account: str | None = None
    """The account the event happened in: kept when a member's forwarder sends it to a central bus."""
    region: str | None = None
    detail: dict[str, Any]


class ArrayProperties(_AwsDocument):
    """Parents carry `size` and `statusSummary`, children `index` (API_ArrayPropertiesDetail)."""

    size: int | None = Field(default=None, ge=1)
    index: int | None = Field(default=None, ge=0)
    status_summary: dict[str, Count] = Field(default_factory=dict)


class JobDetail(_AwsDocument):
    """The job-level fields of a `Batch Job State Change` detail or a DescribeJobs `JobDetail`."""

    job_id: str = Field(min_length=1)
    job_name: str
    job_arn: str | None = None
    job_queue: str = Field(min_length=1)
    job_definition: str
    status: str
    status_reason: str | None = None
    created_at: EpochMillis | None = None
    started_at: EpochMillis | None = None
    stopped_at: EpochMillis | None = None
    array_properties: ArrayProperties | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    container: ContainerRun | None = None
    """What the job's container ran with (a resubmission's lineage is in its environment, see lineage.py)."""


class LogConfiguration(_AwsDocument):
    log_driver: str | None = None
    options: dict[str, str] = Field(default_factory=dict)


class ContainerRun(_AwsDocument):
    """What one container of a job did; the shape shared by `container` and ECS task containers."""

    exit_code: int | None = None
    reason: str | None = None
    log_stream_name: str | None = None
    log_configuration: LogConfiguration | None = None
    environment: list[dict[str, str]] = Field(default_factory=list)


class AttemptContainer(_AwsDocument):
    log_stream_name: str | None = None


class Attempt(_AwsDocument):
    """One attempt of a job (`attempts[]`); its container names the stream that attempt logged to."""

    container: AttemptContainer | None = None


class EcsTaskProperties(_AwsDocument):
    containers: list[ContainerRun] = Field(default_factory=list)


class EcsProperties(_AwsDocument):
    task_properties: list[EcsTaskProperties] = Field(default_factory=list)


class EksContainerRun(_AwsDocument):
    exit_code: int | None = None
    reason: str | None = None


class EksAttempt(_AwsDocument):
    containers: list[EksContainerRun] = Field(default_factory=list)


class ChildJobDetail(JobDetail):
    """A child's DescribeJobs result; where its container ran depends on the compute type.

    EC2 and Fargate jobs report `container`, multi-container jobs `ecsProperties.taskProperties[]`, EKS jobs
    `eksAttempts[].containers[]` (EKS logs go to the cluster's own logging, not CloudWatch Logs by Batch).
    """

    container: ContainerRun | None = None
    ecs_properties: EcsProperties | None = None
    eks_attempts: list[EksAttempt] = Field(default_factory=list)
    attempts: list[Attempt] = Field(default_factory=list)

    @property
    def last_attempt_stream(self) -> str | None:
        """The log stream of the latest attempt that names one (`attempts[].container.logStreamName`)."""
        streams = [a.container.log_stream_name for a in self.attempts if a.container and a.container.log_stream_name]
        return streams[-1] if streams else None

    @property
    def array_index(self) -> int | None:
        """The child's index; from the `<parentId>:<index>` jobId when `arrayProperties.index` is absent."""
        if self.array_properties is not None and self.array_properties.index is not None:
            return self.array_properties.index
        _, separator, suffix = self.job_id.rpartition(":")
        return int(suffix) if separator and suffix.isdigit() else None
