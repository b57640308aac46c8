"""Realistic, deterministic streams of AWS Batch "Batch Job State Change" EventBridge events.

This is the one place that knows what Batch emits, so tests, the handler suite and the offline
rehearsal (`batch-array-notify rehearse`) all push the same shapes through moto. What is fact and what
is derived (sources in ../shared/notes/batch-events.md and tests/fixtures/events/SOURCES.md):

Captured facts, copied in shape:
- The envelope (`version`, `id`, `detail-type`, `source`, `account`, `time` at second precision,
  `region`, `resources`) and the JobDetail-like `detail` (docs sample, every capture).
- EC2 array children: `arrayProperties {"statusSummary": {}, "index": i}`, jobId `<parent>:<i>`,
  `tags.resourceArn` = the parent's ARN, `container.containerInstanceArn`/`taskArn`/`logStreamName`/
  `exitCode` once placed, mirrored in `attempts[].container` (ec2-array-child-succeeded.json).
- EC2 array parents: `container` without runtime fields, `attempts: []`,
  `arrayProperties {"statusSummary": {7 status counts}, "size": N}` (blog parent, abridged).
- Fargate jobs: `container.taskArn`, `networkInterfaces[{attachmentId, privateIpv4Address}]`,
  `fargatePlatformConfiguration`, no `containerInstanceArn` anywhere, `platformCapabilities
  ["FARGATE"]` (fargate-single-failed.json, a single job).
- `ecsProperties` jobs: no `container` key; instance/task ARNs and per-container `exitCode`/
  `logStreamName` under `ecsProperties.taskProperties[]` and `attempts[].taskProperties[]`; STARTING
  already carries the placement (aws-samples/aws-batch-runtime-monitoring captures, single jobs).

Derived (no public capture exists; built from the Batch API reference and the docs' array semantics):
- Every Fargate, EKS and ecsProperties *array* event, every EKS event at all (`eksProperties.
  podProperties`, `eksAttempts[]`, no `container`), every parent FAILED event, every child that fails
  before placement (RUNNABLE -> FAILED, no task, no exit code), Spot interruptions ("Host EC2 ...
  terminated.", no exit code), queue-blocked events, the parent PENDING event and its counts.
- Timing: children go RUNNABLE together, then run in waves of `_CONCURRENT_SLOTS`; the parent's
  terminal event comes only after every child is terminal (what the docs imply, not stated).
- Parents carry no `startedAt`/`stoppedAt`/`statusReason` (none is shown in any capture).

Determinism: the same spec always yields byte-identical events (ids, ARNs, times), so failing tests
reproduce. Event ids are unique within and across jobs, not across two runs of the same spec.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

Event = dict[str, Any]

BATCH_SOURCE: Final = "aws.batch"
JOB_STATE_CHANGE: Final = "Batch Job State Change"
QUEUE_BLOCKED: Final = "Batch Job Queue Blocked"

MIN_ARRAY_SIZE: Final = 2
MAX_ARRAY_SIZE: Final = 10_000

#: Fixed so that two runs of the same spec produce identical streams.
DEFAULT_START: Final = datetime(2024, 5, 14, 9, 0, tzinfo=UTC)

#: The order Batch lists status counts in the captured parent event.
STATUS_SUMMARY_KEYS: Final = (
    "STARTING",
    "FAILED",
    "RUNNING",
    "SUCCEEDED",
    "RUNNABLE",
    "SUBMITTED",
    "PENDING",
)

_ESSENTIAL_EXITED: Final = "Essential container in task exited"
#: Two documented ways a child dies in RUNNABLE: an operator's CancelJob reason, and the reason code
#: of a job-state time-limit action (`jobStateTimeLimitActions`) on a job no instance can ever take.
_PRE_PLACEMENT_REASONS: Final = (
    "Cancelled by operator: queue drained",
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
)
_QUEUE_BLOCKED_REASON: Final = (
    "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is "
    "higher than that can be met by the CE(s) attached to the job queue."
)
_ID_NAMESPACE: Final = uuid.UUID("5b0c8f4e-6f2a-4c1e-9a57-3f1d2a9b7c10")

#: Simultaneously running children; sets how many waves a large array takes (timing realism only).
_CONCURRENT_SLOTS: Final = 50
_STAGGER_MS: Final = 10
_STOP_STAGGER_MS: Final = 200
_RUNTIME_MS: Final = 60_000
_WAVE_GAP_MS: Final = 2_000


#: What a failed child that ran logged last (the same for every child): the rehearsal writes it to each
#: failed child's log stream in moto, and the documented examples show its tail. One line holds a
#: password, which every notification shows masked.
FAILED_CHILD_LOG: Final = (
    "starting print-color",
    "connecting to the palette service with password=hunter2",
    "Traceback (most recent call last):",
    '  File "/app/color.py", line 12, in <module>',
    "    print(COLORS[index])",
    "IndexError: list index out of range",
)


class Compute(StrEnum):
    """Where a job runs; decides which keys its events carry."""

    EC2 = "ec2"
    SPOT = "spot"
    FARGATE = "fargate"
    EKS = "eks"
    ECSPROPS = "ecsprops"


#: STARTING -> RUNNING delay: a warm EC2 host pulls the image in seconds, Fargate needs ~30 s.
_STARTUP_MS: Final[dict[Compute, int]] = {
    Compute.EC2: 12_000,
    Compute.SPOT: 12_000,
    Compute.FARGATE: 30_000,
    Compute.EKS: 8_000,
    Compute.ECSPROPS: 12_000,
}


@dataclass(frozen=True, slots=True)
class _BatchArn:
    partition: str
    region: str
    account: str
    resource: str


def _parse_batch_arn(arn: str, resource_type: str, field_name: str) -> _BatchArn:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "batch" or not parts[3] or not parts[4]:
        raise ValueError(f"{field_name} must be a Batch {resource_type} ARN, got {arn!r}")
    kind, _, resource = parts[5].partition("/")
    if kind != resource_type or not resource:
        raise ValueError(f"{field_name} must be a Batch {resource_type} ARN, got {arn!r}")
    return _BatchArn(parts[1], parts[3], parts[4], resource)


def _job_definition_name(job_definition_arn: str, field_name: str = "job_definition_arn") -> str:
    name, _, revision = _parse_batch_arn(job_definition_arn, "job-definition", field_name).resource.rpartition(":")
    if not name or not revision.isdigit():
        raise ValueError(f"{field_name} must end in ':<revision>' like events carry it, got {job_definition_arn!r}")
    return name


def _derived_id(*parts: object) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "|".join(str(p) for p in parts)))


def _epoch_ms(moment: datetime, field_name: str) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"{field_name} must be timezone-aware, got naive {moment.isoformat()}")
    return int(moment.timestamp() * 1000)


def _status_summary(**counts: int) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in STATUS_SUMMARY_KEYS}


@dataclass(frozen=True)
class ArrayJobSpec:
    """One array job: where it runs, how big it is, and how many children fail."""

    job_queue_arn: str
    job_definition_arn: str
    size: int
    failures: int = 0
    failures_before_placement: int = 0
    compute: Compute = Compute.EC2
    parent_job_id: str | None = None
    job_name: str = "print-color"
    start: datetime = DEFAULT_START

    def __post_init__(self) -> None:
        _parse_batch_arn(self.job_queue_arn, "job-queue", "job_queue_arn")
        _job_definition_name(self.job_definition_arn)
        if isinstance(self.size, bool) or not MIN_ARRAY_SIZE <= self.size <= MAX_ARRAY_SIZE:
            raise ValueError(f"size must be between {MIN_ARRAY_SIZE} and {MAX_ARRAY_SIZE}, got {self.size}")
        if not 0 <= self.failures <= self.size:
            raise ValueError(f"failures must be between 0 and size ({self.size}), got {self.failures}")
        if not 0 <= self.failures_before_placement <= self.failures:
            raise ValueError(
                f"failures_before_placement must be between 0 and failures ({self.failures}), "
                f"got {self.failures_before_placement}"
            )
        try:
            object.__setattr__(self, "compute", Compute(self.compute))
        except ValueError:
            raise ValueError(f"compute must be one of {[c.value for c in Compute]}, got {self.compute!r}") from None
        if self.parent_job_id is not None and (not self.parent_job_id or ":" in self.parent_job_id):
            raise ValueError(f"parent_job_id must be a non-empty id without ':', got {self.parent_job_id!r}")
        if not self.job_name:
            raise ValueError("job_name must not be empty")
        _epoch_ms(self.start, "start")

    @property
    def job_id(self) -> str:
        """The parent's job id: the caller's, or one derived from the spec (stable across runs)."""
        if self.parent_job_id is not None:
            return self.parent_job_id
        return _derived_id(
            self.job_queue_arn,
            self.job_definition_arn,
            self.job_name,
            self.start.isoformat(),
            self.size,
            self.failures,
            self.failures_before_placement,
            self.compute,
        )

    @property
    def failed_indices(self) -> frozenset[int]:
        """Children that end FAILED, spread evenly over the array (index k*size/failures, centred)."""
        return frozenset(((2 * k + 1) * self.size) // (2 * self.failures) for k in range(self.failures))

    @property
    def failed_before_placement_indices(self) -> frozenset[int]:
        """The first `failures_before_placement` of `failed_indices`: they never get a task or pod."""
        return frozenset(sorted(self.failed_indices)[: self.failures_before_placement])

    def event_count(self) -> int:
        """How many events `array_job_events` yields: 2 per parent, 2 per unplaced, 4 per placed child."""
        return 2 + 4 * self.size - 2 * self.failures_before_placement


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where one attempt ran; every id is derived from the job id and the child index."""

    task_id: str
    container_instance_id: str
    ec2_instance_id: str
    attachment_id: str
    private_ip: str
    pod_name: str
    node_name: str


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: str
    status_reason: str | None
    exit_code: int | None
    container_reason: str | None


def _exit_fields(outcome: _Outcome | None) -> Event:
    """How a container reports its end (`exitCode`, `reason`); nothing while it has not ended."""
    fields: Event = {}
    if outcome is not None and outcome.exit_code is not None:
        fields["exitCode"] = outcome.exit_code
    if outcome is not None and outcome.container_reason is not None:
        fields["reason"] = outcome.container_reason
    return fields


class _Job:
    """Builds the events of one Batch job (array parent, array child or single job).

    Everything constant across the job's events is computed once here; the per-event work is only
    fresh dict construction, so consumers may mutate events freely without affecting each other.
    """

    def __init__(
        self,
        job_queue_arn: str,
        job_definition_arn: str,
        compute: Compute,
        job_id: str,
        job_name: str,
    ) -> None:
        queue = _parse_batch_arn(job_queue_arn, "job-queue", "job_queue_arn")
        self.queue_arn = job_queue_arn
        self.queue_name = queue.resource
        self.definition_arn = job_definition_arn
        self.definition_name = _job_definition_name(job_definition_arn)
        self.compute = compute
        self.job_name = job_name
        self.partition, self.region, self.account = queue.partition, queue.region, queue.account
        self.job_arn = self.arn_of(job_id)
        id_seed = _derived_id(job_id, "ids")
        self._event_id_prefix = id_seed[:24]
        self._hex_seed = id_seed.replace("-", "")
        self._event_seq = 0
        # Task and container-instance ARNs name the ECS cluster Batch created for the environment.
        self._cluster = f"AWSBatch-{self.queue_name}-ce-{_derived_id(self.queue_arn, 'cluster')}"
        self._ecs_prefix = f"arn:{self.partition}:ecs:{self.region}:{self.account}"

    def arn_of(self, job_id: str) -> str:
        return f"arn:{self.partition}:batch:{self.region}:{self.account}:job/{job_id}"

    def envelope(self, detail_type: str, resources: list[str], time_ms: int, detail: Event) -> Event:
        self._event_seq += 1
        return {
            "version": "0",
            "id": f"{self._event_id_prefix}{self._event_seq:012x}",
            "detail-type": detail_type,
            "source": BATCH_SOURCE,
            "account": self.account,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time_ms // 1000)),
            "region": self.region,
            "resources": resources,
            "detail": detail,
        }

    def placement(self, index: int, slot: int) -> _Placement:
        """Ids for child `index` running on host/slot `slot` (hosts are reused across waves)."""
        task_id = f"{self._hex_seed[:24]}{index:08x}"
        return _Placement(
            task_id=task_id,
            container_instance_id=f"{self._hex_seed[8:32]}{slot:08x}",
            ec2_instance_id=f"i-0{self._hex_seed[:8]}{slot:08x}",
            attachment_id=f"{self._hex_seed[:8]}-{index >> 16:04x}-4{index & 0xFFF:03x}-a{slot:03x}-{task_id[:12]}",
            private_ip=f"10.0.{(index >> 8) & 0xFF}.{index & 0xFF}",
            pod_name=f"aws-batch.{task_id[:8]}-{task_id[8:12]}-{task_id[12:16]}-{task_id[16:20]}-{task_id[20:]}",
            node_name=f"ip-10-1-{slot >> 8 & 0xFF}-{slot & 0xFF}.{self.region}.compute.internal",
        )

    def _task_arn(self, placement: _Placement) -> str:
        return f"{self._ecs_prefix}:task/{self._cluster}/{placement.task_id}"

    def _container_instance_arn(self, placement: _Placement) -> str:
        return f"{self._ecs_prefix}:container-instance/{self._cluster}/{placement.container_instance_id}"

    def _log_stream(self, placement: _Placement, container_name: str = "default") -> str:
        return f"{self.definition_name}/{container_name}/{placement.task_id}"

    def _image(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{self.definition_name}:latest"

    def _network_interfaces(self, placement: _Placement | None) -> list[dict[str, str]]:
        # Only awsvpc tasks (Fargate) get an ENI of their own; EC2 tasks share the host's.
        if placement is None or self.compute is not Compute.FARGATE:
            return []
        return [{"attachmentId": placement.attachment_id, "privateIpv4Address": placement.private_ip}]

    def _runtime_container_fields(self, placement: _Placement, outcome: _Outcome | None) -> Event:
        """The ECS runtime fields shared by `container` and `attempts[].container`."""
        fields: Event = {}
        fields.update(_exit_fields(outcome))
        if self.compute is not Compute.FARGATE:
            fields["containerInstanceArn"] = self._container_instance_arn(placement)
        fields["taskArn"] = self._task_arn(placement)
        fields["logStreamName"] = self._log_stream(placement)
        fields["networkInterfaces"] = self._network_interfaces(placement)
        return fields

    def _container(self, placement: _Placement | None, outcome: _Outcome | None) -> Event:
        container: Event = {
            "image": self._image(),
            "command": ["python3", "-m", "print_color", "Ref::color"],
            "volumes": [],
            "environment": [{"name": "COLOR_SET", "value": "primary"}],
            "mountPoints": [],
            "ulimits": [],
            "networkInterfaces": [],
        }
        if placement is not None:
            container.update(self._runtime_container_fields(placement, outcome))
        if self.compute is Compute.FARGATE:
            container["executionRoleArn"] = f"arn:{self.partition}:iam::{self.account}:role/batch-task-execution"
            container["resourceRequirements"] = [
                {"value": "0.5", "type": "VCPU"},
                {"value": "2048", "type": "MEMORY"},
            ]
            container["networkConfiguration"] = {"assignPublicIp": "DISABLED"}
            container["fargatePlatformConfiguration"] = {"platformVersion": "LATEST"}
        else:
            container["resourceRequirements"] = [
                {"value": "1", "type": "VCPU"},
                {"value": "2048", "type": "MEMORY"},
            ]
        container["secrets"] = []
        return container

    def _task_container_runtime(self, placement: _Placement | None, outcome: _Outcome | None) -> Event:
        """What ECS reports about the task's one container: how it ended and, once placed, its logs."""
        runtime: Event = {"name": "main", **_exit_fields(outcome)}
        if placement is not None:
            runtime["logStreamName"] = self._log_stream(placement, "main")
            runtime["networkInterfaces"] = []
        return runtime

    def _task_containers(self, placement: _Placement | None, outcome: _Outcome | None) -> list[Event]:
        return [
            {
                "command": ["python3", "-m", "print_color", "Ref::color"],
                "dependsOn": [],
                "environment": [{"name": "COLOR_SET", "value": "primary"}],
                "essential": True,
                "image": self._image(),
                "mountPoints": [],
                "resourceRequirements": [{"value": "1", "type": "VCPU"}, {"value": "2048", "type": "MEMORY"}],
                "secrets": [],
                "ulimits": [],
                **self._task_container_runtime(placement, outcome),
            }
        ]

    def _ecs_properties(self, placement: _Placement | None, outcome: _Outcome | None) -> Event:
        task: Event = {"containers": self._task_containers(placement, outcome)}
        if placement is not None:
            task["containerInstanceArn"] = self._container_instance_arn(placement)
            task["taskArn"] = self._task_arn(placement)
        task["executionRoleArn"] = f"arn:{self.partition}:iam::{self.account}:role/batch-task-execution"
        task["taskRoleArn"] = f"arn:{self.partition}:iam::{self.account}:role/{self.definition_name}-job"
        task["volumes"] = []
        return {"taskProperties": [task]}

    def _eks_properties(self, placement: _Placement | None, outcome: _Outcome | None) -> Event:
        container: Event = {
            "name": "main",
            "image": self._image(),
            "command": ["python3", "-m", "print_color"],
            "args": ["Ref::color"],
            "env": [{"name": "COLOR_SET", "value": "primary"}],
            "resources": {"limits": {"cpu": "1", "memory": "2048Mi"}},
        }
        container.update(_exit_fields(outcome))
        pod: Event = {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet", "containers": [container]}
        if placement is not None:
            pod["podName"] = placement.pod_name
            pod["nodeName"] = placement.node_name
        return {"podProperties": pod}

    def _attempt(self, placement: _Placement, outcome: _Outcome, started_ms: int, stopped_ms: int) -> Event:
        attempt: Event = {}
        if self.compute is Compute.ECSPROPS:
            attempt["taskProperties"] = [
                {
                    "containerInstanceArn": self._container_instance_arn(placement),
                    "taskArn": self._task_arn(placement),
                    "containers": [self._task_container_runtime(placement, outcome)],
                }
            ]
        else:
            attempt["container"] = self._runtime_container_fields(placement, outcome)
        attempt["startedAt"] = started_ms
        attempt["stoppedAt"] = stopped_ms
        if outcome.status_reason is not None:
            attempt["statusReason"] = outcome.status_reason
        return attempt

    def _eks_attempt(self, placement: _Placement, outcome: _Outcome, started_ms: int, stopped_ms: int) -> Event:
        container: Event = {"name": "main", **_exit_fields(outcome)}
        return {
            "containers": [container],
            "podName": placement.pod_name,
            "nodeName": placement.node_name,
            "startedAt": started_ms,
            "stoppedAt": stopped_ms,
        }

    def _attempt_lists(
        self,
        placement: _Placement | None,
        outcome: _Outcome | None,
        started_ms: int | None,
        stopped_ms: int | None,
    ) -> tuple[list[Event], list[Event]]:
        """(`attempts`, `eksAttempts`): an attempt is listed only once it has finished."""
        if placement is None or outcome is None or started_ms is None or stopped_ms is None:
            return [], []
        if self.compute is Compute.EKS:
            return [], [self._eks_attempt(placement, outcome, started_ms, stopped_ms)]
        return [self._attempt(placement, outcome, started_ms, stopped_ms)], []

    def platform_capabilities(self) -> list[str]:
        if self.compute is Compute.FARGATE:
            return ["FARGATE"]
        if self.compute is Compute.EKS:
            return []
        return ["EC2"]

    def detail(
        self,
        *,
        job_id: str,
        status: str,
        array_properties: Event | None,
        created_ms: int,
        placement: _Placement | None = None,
        outcome: _Outcome | None = None,
        started_ms: int | None = None,
        stopped_ms: int | None = None,
        status_reason: str | None = None,
    ) -> Event:
        """One JobDetail-shaped `detail`. `placement` is None for parents and unplaced jobs."""
        detail: Event = {
            "jobArn": self.arn_of(job_id),
            "jobName": self.job_name,
            "jobId": job_id,
            "jobQueue": self.queue_arn,
            "status": status,
        }
        if outcome is not None and outcome.status_reason is not None:
            detail["statusReason"] = outcome.status_reason
        elif status_reason is not None:
            detail["statusReason"] = status_reason
        attempts, eks_attempts = self._attempt_lists(placement, outcome, started_ms, stopped_ms)
        detail["attempts"] = attempts
        detail["createdAt"] = created_ms
        detail["retryStrategy"] = {"attempts": 1, "evaluateOnExit": []}
        if started_ms is not None:
            detail["startedAt"] = started_ms
        if stopped_ms is not None:
            detail["stoppedAt"] = stopped_ms
        detail["dependsOn"] = []
        detail["jobDefinition"] = self.definition_arn
        detail["parameters"] = {"color": "blue"}
        if self.compute in (Compute.EC2, Compute.SPOT, Compute.FARGATE):
            # Parents and unplaced children keep the definition's container but no runtime fields.
            detail["container"] = self._container(placement, outcome)
        detail["tags"] = {"resourceArn": self.job_arn}
        detail["propagateTags"] = False
        detail["platformCapabilities"] = self.platform_capabilities()
        detail["eksAttempts"] = eks_attempts
        if self.compute is Compute.EKS:
            detail["eksProperties"] = self._eks_properties(placement, outcome)
        if self.compute is Compute.ECSPROPS:
            detail["ecsProperties"] = self._ecs_properties(placement, outcome)
        if array_properties is not None:
            detail["arrayProperties"] = array_properties
        return detail

    def state_change(self, time_ms: int, detail: Event) -> Event:
        return self.envelope(JOB_STATE_CHANGE, [detail["jobArn"]], time_ms, detail)

    def outcome(self, succeeded: bool, placement: _Placement) -> _Outcome:
        """How a placed attempt ends on this compute type."""
        if succeeded:
            if self.compute is Compute.EKS:
                return _Outcome("SUCCEEDED", None, 0, "Completed")
            return _Outcome("SUCCEEDED", _ESSENTIAL_EXITED, 0, None)
        if self.compute is Compute.SPOT:
            # A reclaimed Spot host kills the task before the container can exit: no exit code.
            reason = f"Host EC2 (instance {placement.ec2_instance_id}) terminated."
            return _Outcome("FAILED", reason, None, reason)
        if self.compute is Compute.EKS:
            return _Outcome("FAILED", None, 1, "Error")
        return _Outcome("FAILED", _ESSENTIAL_EXITED, 1, None)

    def run(
        self,
        *,
        job_id: str,
        array_properties: Event | None,
        created_ms: int,
        placement: _Placement,
        succeeded: bool,
        starting_ms: int,
        running_ms: int,
        stopped_ms: int,
    ) -> tuple[Event, Event, Event]:
        """STARTING, RUNNING and the terminal event of one placed attempt."""
        common: dict[str, Any] = {
            "job_id": job_id,
            "array_properties": array_properties,
            "created_ms": created_ms,
            "placement": placement,
        }
        outcome = self.outcome(succeeded, placement)
        return (
            self.state_change(starting_ms, self.detail(status="STARTING", **common)),
            self.state_change(running_ms, self.detail(status="RUNNING", started_ms=running_ms, **common)),
            self.state_change(
                stopped_ms,
                self.detail(
                    status=outcome.status,
                    outcome=outcome,
                    started_ms=running_ms,
                    stopped_ms=stopped_ms,
                    **common,
                ),
            ),
        )


def _child_array_properties(index: int) -> Event:
    return {"statusSummary": {}, "index": index}


def array_job_events(spec: ArrayJobSpec) -> Iterator[Event]:
    """Yield one array job's events in chronological order, the parent's terminal event last.

    Order: parent PENDING (all children counted PENDING); every child RUNNABLE; then waves of
    `_CONCURRENT_SLOTS` children, each child STARTING -> RUNNING -> SUCCEEDED/FAILED (children in
    `spec.failed_before_placement_indices` go straight RUNNABLE -> FAILED with no task, no exit code,
    a cancel/time-limit `statusReason`); finally the parent SUCCEEDED (no failures) or FAILED with
    final `statusSummary` counts and `size`. Yields `spec.event_count()` events, lazily.

    Captured: child/parent field shapes on EC2 (see module docstring). Derived: all Fargate/EKS/
    ecsprops array shapes, the parent PENDING/FAILED events, pre-placement failures, timings.
    """
    job_id = spec.job_id
    created_ms = _epoch_ms(spec.start, "start")
    job = _Job(spec.job_queue_arn, spec.job_definition_arn, spec.compute, job_id, spec.job_name)
    failed = spec.failed_indices
    unplaced = spec.failed_before_placement_indices

    def parent_event(status: str, time_ms: int, summary: dict[str, int]) -> Event:
        properties = {"statusSummary": summary, "size": spec.size}
        return job.state_change(
            time_ms,
            job.detail(job_id=job_id, status=status, array_properties=properties, created_ms=created_ms),
        )

    # Children are spawned (PENDING, no event) a second after the parent's submission.
    child_created_ms = created_ms + 1_000
    runnable_ms = created_ms + 2_000
    yield parent_event("PENDING", runnable_ms, _status_summary(PENDING=spec.size))
    for index in range(spec.size):
        yield job.state_change(
            runnable_ms + index,
            job.detail(
                job_id=f"{job_id}:{index}",
                status="RUNNABLE",
                array_properties=_child_array_properties(index),
                created_ms=child_created_ms,
            ),
        )

    startup_ms = _STARTUP_MS[spec.compute]
    wave_start_ms = runnable_ms + spec.size + 5_000
    for wave_first in range(0, spec.size, _CONCURRENT_SLOTS):
        indices = range(wave_first, min(wave_first + _CONCURRENT_SLOTS, spec.size))
        terminal_events: list[Event] = []
        running_events: list[Event] = []
        # Within a wave: all STARTING (or unplaced FAILED), then all RUNNING, then all terminal,
        # with per-slot offsets that keep the whole stream in time order.
        for slot, index in enumerate(indices):
            child_id = f"{job_id}:{index}"
            properties = _child_array_properties(index)
            starting_ms = wave_start_ms + slot * _STAGGER_MS
            if index in unplaced:
                yield job.state_change(
                    starting_ms,
                    job.detail(
                        job_id=child_id,
                        status="FAILED",
                        array_properties=properties,
                        created_ms=child_created_ms,
                        status_reason=_PRE_PLACEMENT_REASONS[index % len(_PRE_PLACEMENT_REASONS)],
                    ),
                )
                continue
            starting, running, terminal = job.run(
                job_id=child_id,
                array_properties=properties,
                created_ms=child_created_ms,
                placement=job.placement(index, slot),
                succeeded=index not in failed,
                starting_ms=starting_ms,
                running_ms=starting_ms + startup_ms,
                stopped_ms=wave_start_ms + startup_ms + _RUNTIME_MS + slot * _STOP_STAGGER_MS,
            )
            yield starting
            running_events.append(running)
            terminal_events.append(terminal)
        yield from running_events
        yield from terminal_events
        wave_start_ms += startup_ms + _RUNTIME_MS + _CONCURRENT_SLOTS * _STOP_STAGGER_MS + _WAVE_GAP_MS

    final = _status_summary(SUCCEEDED=spec.size - spec.failures, FAILED=spec.failures)
    yield parent_event("FAILED" if spec.failures else "SUCCEEDED", wave_start_ms, final)


def single_job_events(
    job_queue_arn: str,
    job_definition_arn: str,
    compute: Compute,
    status: str = "SUCCEEDED",
    *,
    job_id: str | None = None,
    job_name: str = "print-color",
    start: datetime = DEFAULT_START,
) -> Iterator[Event]:
    """Yield a non-array job's RUNNABLE, STARTING, RUNNING and terminal (`status`) events.

    No `arrayProperties` key at all, `tags.resourceArn` = its own ARN. Captured: EC2 SUCCEEDED and
    Fargate FAILED shapes (fixtures), ecsProperties SUCCEEDED/STARTING (aws-samples). Derived: EKS
    and Spot shapes, the timings. `job_id` defaults to one derived from the arguments.
    """
    if status not in ("SUCCEEDED", "FAILED"):
        raise ValueError(f"status must be SUCCEEDED or FAILED, got {status!r}")
    compute = Compute(compute)
    created_ms = _epoch_ms(start, "start")
    resolved_id = job_id or _derived_id(job_queue_arn, job_definition_arn, job_name, start.isoformat(), status, compute)
    job = _Job(job_queue_arn, job_definition_arn, compute, resolved_id, job_name)
    runnable_ms = created_ms + 1_000
    starting_ms = runnable_ms + 30_000
    yield job.state_change(
        runnable_ms,
        job.detail(job_id=resolved_id, status="RUNNABLE", array_properties=None, created_ms=created_ms),
    )
    yield from job.run(
        job_id=resolved_id,
        array_properties=None,
        created_ms=created_ms,
        placement=job.placement(0, 0),
        succeeded=status == "SUCCEEDED",
        starting_ms=starting_ms,
        running_ms=starting_ms + _STARTUP_MS[compute],
        stopped_ms=starting_ms + _STARTUP_MS[compute] + _RUNTIME_MS,
    )


def queue_blocked_event(
    job_queue_arn: str,
    job_definition_arn: str,
    *,
    compute: Compute = Compute.EC2,
    job_id: str | None = None,
    job_name: str = "print-color",
    start: datetime = DEFAULT_START,
) -> Event:
    """A `Batch Job Queue Blocked` event: a RUNNABLE job no compute environment can ever run.

    Captured in the docs (batch-job-queue-blocked-events): same JobDetail shape, status RUNNABLE,
    `resources` = job ARN + queue ARN, a `MISCONFIGURATION:`/`CAPACITY:` statusReason. The exact
    field set here is derived from the RUNNABLE docs sample.
    """
    compute = Compute(compute)
    created_ms = _epoch_ms(start, "start")
    resolved_id = job_id or _derived_id(job_queue_arn, job_definition_arn, job_name, start.isoformat(), "blocked")
    job = _Job(job_queue_arn, job_definition_arn, compute, resolved_id, job_name)
    detail = job.detail(
        job_id=resolved_id,
        status="RUNNABLE",
        array_properties=None,
        created_ms=created_ms,
        status_reason=_QUEUE_BLOCKED_REASON,
    )
    return job.envelope(QUEUE_BLOCKED, [job.job_arn, job_queue_arn], created_ms + 600_000, detail)


def noise_events(
    job_queue_arn: str,
    job_definition_arn: str,
    other_queue_arn: str,
    compute: Compute,
) -> Iterator[Event]:
    """Events a completion rule for `job_queue_arn` must ignore, concatenated job by job.

    A single job SUCCEEDED and one FAILED on the same queue and definition, an array job of size 3
    (one child failing) on `other_queue_arn`, and a queue-blocked event on the same queue. All
    derived from the shapes above; each job has its own derived id.
    """
    yield from single_job_events(job_queue_arn, job_definition_arn, compute, "SUCCEEDED", job_name="noise-single")
    yield from single_job_events(job_queue_arn, job_definition_arn, compute, "FAILED", job_name="noise-single")
    yield from array_job_events(
        ArrayJobSpec(other_queue_arn, job_definition_arn, size=3, failures=1, compute=compute, job_name="noise-other")
    )
    yield queue_blocked_event(job_queue_arn, job_definition_arn, compute=compute, job_name="noise-blocked")
