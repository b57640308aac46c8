"""The testing kit: test a Pulumi program that uses the component, offline, as this project tests itself.

- `run_under_mocks(program, project, stack)` runs a function that declares resources (or `run_program`, a
  program folder with its stack file) under `PlanMocks`, which answer as AWS would in shape: ARNs per
  service, auto-names, a job definition's `arnPrefix` and revision, caller identity, region, partition,
  the default VPC and its subnets. It returns the `Plan` that `batch-array-notify plan` prints, with
  queries: `of_type`, `one`, `named`, `children`, `ancestors`, and each resource's `inputs`, `state`
  (what the mocks answered) and `outputs` (a component's).
- `completion_rule(plan)` and `matches(pattern, event)`: the rule that reaches the notifier, and whether
  EventBridge would deliver an event to it (moto's matcher; the `testing` extra installs moto).
- `array_job_events(ArrayJobSpec(...))`: a realistic, deterministic array job's event stream for your
  queue and job definition (`noise_events`, `single_job_events`, `queue_blocked_event` for the rest).

docs/embedding.md has a whole test built from these.
"""

from batch_array_notify.testing.eventgen import (
    BATCH_SOURCE,
    JOB_STATE_CHANGE,
    ArrayJobSpec,
    Compute,
    array_job_events,
    noise_events,
    queue_blocked_event,
    single_job_events,
)
from batch_array_notify.testing.pattern_rules import PatternError
from batch_array_notify.testing.program import (
    DEFAULT_REGION,
    MOCK_ACCOUNT,
    Plan,
    PlanMocks,
    PlannedResource,
    ProgramError,
    run_program,
    run_under_mocks,
    stack_config,
)
from batch_array_notify.testing.rules import completion_rule, matches

__all__ = [
    "BATCH_SOURCE",
    "DEFAULT_REGION",
    "JOB_STATE_CHANGE",
    "MOCK_ACCOUNT",
    "ArrayJobSpec",
    "Compute",
    "PatternError",
    "Plan",
    "PlanMocks",
    "PlannedResource",
    "ProgramError",
    "array_job_events",
    "completion_rule",
    "matches",
    "noise_events",
    "queue_blocked_event",
    "run_program",
    "run_under_mocks",
    "single_job_events",
    "stack_config",
]
