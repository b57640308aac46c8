"""A burst of completions through the notifier, in simulated time: a model of Lambda's asynchronous queue
in front of the notifier and of Batch's account-wide token bucket behind it.

What is real and what is modelled:
- The N completions are the stack's: `batch-array-notify rehearse --burst N` sends them through the stack's rule in
  moto's EventBridge and hands this model what the rule delivered.
- Lambda's asynchronous queue is modelled (not run): an event is offered to the function when it arrives;
  with no free concurrency Lambda throttles it and offers it again after 1 s, doubling up to 5 minutes;
  a function error is retried after 1 then 2 minutes, `notifierMaxRetries` times, then goes to the
  on-failure destination, as does an event older than `notifierMaxEventAgeSeconds` ("How Lambda handles
  errors and retries with asynchronous invocation", Lambda developer guide). The settings are the plan's.
- Each invocation makes the handler's Batch calls (1 for a SUCCEEDED array job: DescribeJobs; 3 for a
  FAILED one: DescribeJobs, ListJobs, DescribeJobs; handler/batch_jobs.py) against a token bucket that
  answers 429 TooManyRequestsException when empty, and retries each as the handler's clients do: botocore's
  own `ExponentialBackoff` (standard mode) for at most `MAX_ATTEMPTS` attempts (handler/aws.py), then the
  invocation fails. Delivery is modelled by the idempotency key (jobId, status): a second delivery of a
  key is a duplicate.
- Times of an invocation's parts are assumptions, stated in `Timings`.

Everything runs on a heap of timed steps, so 1,000 completions take well under a second and the same
input gives the same result (the backoff's jitter comes from a seeded generator).
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.retries import standard  # type: ignore[import-untyped]  # no type information

from batch_array_notify.handler.aws import MAX_ATTEMPTS
from batch_array_notify.testing.eventgen import ArrayJobSpec, array_job_events
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rehearsal_world import StackTarget, rehearsal_account
from batch_array_notify.testing.rule_harness import RuleHarness

#: Batch's account-wide API rate: 50 calls a second (AWS Knowledge Center, "Why does my AWS Batch job fail
#: with a Too Many Requests error?"). The bucket holds one second of it.
BATCH_RATE: Final = 50.0
BATCH_BURST: Final = 50.0
#: "Unbounded": no reserved concurrency, so the account's (Lambda's default quota, 1,000) is the limit.
ACCOUNT_CONCURRENCY: Final = 1000
#: Lambda's waits before retrying a function error (after the first, after the second attempt).
FUNCTION_ERROR_RETRY_SECONDS: Final = (60.0, 120.0)
#: Lambda's waits after throttling an event: from 1 s, doubling, to at most 5 minutes.
THROTTLE_RETRY_FIRST_SECONDS: Final = 1.0
THROTTLE_RETRY_MAX_SECONDS: Final = 300.0
#: The most completions one burst rehearsal sends (the model is linear in them; moto's EventBridge is not fast).
MAX_BURST: Final = 10_000
#: Every fifth completion of a burst is a FAILED array job (3 Batch calls), the others SUCCEEDED (1).
FAILED_EVERY: Final = 5


@dataclass(frozen=True)
class Timings:
    """Assumed durations of an invocation's parts, in seconds."""

    cold_start: float = 0.5
    """A new execution environment: Python runtime, Powertools layer, boto3 import."""
    batch_call: float = 0.05
    """One Batch call Batch answers."""
    throttled_answer: float = 0.02
    """One 429 answer (before botocore's backoff)."""
    sinks: float = 0.15
    """The idempotency records and the sinks (DynamoDB, SNS, EventBridge)."""


@dataclass(frozen=True)
class Completion:
    job_id: str
    status: str
    arrived_at: float

    @property
    def batch_calls(self) -> int:
        return 3 if self.status == "FAILED" else 1


@dataclass(frozen=True)
class LambdaSettings:
    """The notifier's planned settings: reserved concurrency (None: unbounded) and async invoke config."""

    reserved_concurrency: int | None
    max_retries: int
    max_event_age_seconds: int

    @property
    def concurrency(self) -> int:
        return self.reserved_concurrency if self.reserved_concurrency is not None else ACCOUNT_CONCURRENCY


@dataclass
class BurstResult:
    completions: int
    concurrency: str
    messages: int = 0
    duplicates: int = 0
    on_failure: int = 0
    dropped: int = 0
    batch_attempts_by_second: Counter[int] = field(default_factory=Counter)
    batch_accepted_by_second: Counter[int] = field(default_factory=Counter)
    throttled_batch_answers: int = 0
    function_errors: int = 0
    lambda_throttles: int = 0
    drain_seconds: float = 0.0
    max_event_age_seconds: float = 0.0

    @property
    def peak_batch_calls_per_second(self) -> int:
        return max(self.batch_attempts_by_second.values(), default=0)

    @property
    def drained_per_minute(self) -> float:
        """Completions notified a minute, over the whole drain."""
        return self.messages / self.drain_seconds * 60 if self.drain_seconds else 0.0

    @property
    def share_left_to_others(self) -> float:
        """Of the bucket's rate, what the notifier left in its busiest second (never below 0)."""
        busiest = max(self.batch_accepted_by_second.values(), default=0)
        return max(0.0, 1 - busiest / BATCH_RATE)

    def to_json(self) -> dict[str, Any]:
        return {
            "completions": self.completions,
            "concurrency": self.concurrency,
            "messages": self.messages,
            "duplicates": self.duplicates,
            "onFailure": self.on_failure,
            "dropped": self.dropped,
            "peakBatchCallsPerSecond": self.peak_batch_calls_per_second,
            "shareOfBucketLeftToOthers": round(self.share_left_to_others, 3),
            "throttledBatchAnswers": self.throttled_batch_answers,
            "functionErrors": self.function_errors,
            "lambdaThrottles": self.lambda_throttles,
            "drainSeconds": round(self.drain_seconds, 1),
            "maxEventAgeSeconds": round(self.max_event_age_seconds, 1),
        }


class TokenBucket:
    """Batch's side: `rate` tokens a second, at most `burst` held; an empty bucket answers 429."""

    def __init__(self, rate: float = BATCH_RATE, burst: float = BATCH_BURST) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, 0.0

    def take(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class _AlwaysThrottled:
    """Tells botocore's backoff that every error here is a throttle (base 1 s, not 50 ms)."""

    def is_throttling_error_from_context(self, context: Any) -> bool:
        return True


def botocore_backoff(seed: int) -> Callable[[int], float]:
    """The wait botocore's standard mode takes after failed attempt `n` (1-based), jitter seeded."""
    backoff = standard.ExponentialBackoff(random=random.Random(seed).random, throttling_detector=_AlwaysThrottled())
    return lambda attempt: float(backoff.delay_amount(standard.RetryContext(attempt_number=attempt)))


def burst_completions(events: Iterable[Mapping[str, Any]]) -> list[Completion]:
    """The rule's deliveries as completions, in job-id order, arriving evenly within one second."""
    keyed = sorted((str(event["detail"]["jobId"]), str(event["detail"]["status"])) for event in events)
    return [Completion(job_id, status, index / len(keyed)) for index, (job_id, status) in enumerate(keyed)]


@dataclass
class _Event:
    completion: Completion
    lambda_throttles: int = 0
    function_attempts: int = 0


@dataclass
class _Invocation:
    event: _Event
    call: int = 0
    attempt: int = 1


def simulate(
    completions: Sequence[Completion],
    settings: LambdaSettings,
    *,
    bucket: TokenBucket | None = None,
    timings: Timings = Timings(),
    seed: int = 0,
) -> BurstResult:
    """Drain `completions` through the modelled queue, notifier and Batch; what it cost."""
    bucket = bucket or TokenBucket()
    backoff = botocore_backoff(seed)
    jitter = random.Random(seed + 1).random

    def lambda_throttle_wait(throttles: int) -> float:
        # Lambda documents the interval, not its jitter: half of it fixed, half random ("equal jitter") is
        # assumed, so that events throttled together do not all come back in the same instant.
        interval = min(THROTTLE_RETRY_FIRST_SECONDS * 2.0 ** (throttles - 1), THROTTLE_RETRY_MAX_SECONDS)
        return interval / 2 + jitter() * interval / 2

    concurrency = settings.concurrency
    label = str(settings.reserved_concurrency) if settings.reserved_concurrency is not None else "unbounded"
    result = BurstResult(len(completions), label)
    steps: list[tuple[float, int, str, Any]] = []
    order = itertools.count()
    busy = environments = 0
    delivered: set[tuple[str, str]] = set()

    def at(time: float, kind: str, subject: Any) -> None:
        heapq.heappush(steps, (time, next(order), kind, subject))

    for completion in completions:
        at(completion.arrived_at, "offer", _Event(completion))
    while steps:
        now, _, kind, subject = heapq.heappop(steps)
        if kind == "offer":
            event: _Event = subject
            age = now - event.completion.arrived_at
            if age > settings.max_event_age_seconds:
                result.dropped += 1
                result.on_failure += 1
            elif busy < concurrency:
                cold = busy == environments
                busy, environments = busy + 1, environments + int(cold)
                result.max_event_age_seconds = max(result.max_event_age_seconds, age)
                at(now + (timings.cold_start if cold else 0.0), "call", _Invocation(event))
            else:
                result.lambda_throttles += 1
                event.lambda_throttles += 1
                at(now + lambda_throttle_wait(event.lambda_throttles), "offer", event)
        elif kind == "call":
            invocation: _Invocation = subject
            second = math.floor(now)
            result.batch_attempts_by_second[second] += 1
            if bucket.take(now):
                result.batch_accepted_by_second[second] += 1
                invocation.call, invocation.attempt = invocation.call + 1, 1
                done = invocation.call == invocation.event.completion.batch_calls
                finish = now + timings.batch_call
                at(finish + timings.sinks, "delivered", invocation) if done else at(finish, "call", invocation)
            else:
                result.throttled_batch_answers += 1
                answered = now + timings.throttled_answer
                if invocation.attempt >= MAX_ATTEMPTS:
                    at(answered, "failed", invocation)
                else:
                    at(answered + backoff(invocation.attempt), "call", invocation)
                    invocation.attempt += 1
        elif kind == "delivered":
            busy -= 1
            completion = subject.event.completion
            key = (completion.job_id, completion.status)
            if key in delivered:
                result.duplicates += 1
            else:
                delivered.add(key)
                result.messages += 1
            result.drain_seconds = max(result.drain_seconds, now)
        else:  # "failed": the throttle outlasted botocore's retries; nothing was sent (handler/aws.py)
            busy -= 1
            result.function_errors += 1
            event = subject.event
            event.function_attempts += 1
            if event.function_attempts > settings.max_retries:
                result.on_failure += 1
            else:
                at(now + FUNCTION_ERROR_RETRY_SECONDS[event.function_attempts - 1], "offer", event)
    return result


#: The notifier may take at most this share of Batch's rate in its busiest second: the rest is the
#: user's orchestrator's (which polls DescribeJobs and submits jobs on the same account quota).
NOTIFIER_SHARE_OF_BATCH: Final = 0.5


def chosen_concurrency(results: Iterable[BurstResult]) -> int:
    """The default reserved concurrency: the largest measured one whose burst notified every completion,
    sent none to the on-failure queue, and kept to `NOTIFIER_SHARE_OF_BATCH` of Batch's rate."""
    fitting = [
        int(result.concurrency)
        for result in results
        if result.concurrency.isdigit()
        and result.messages == result.completions
        and result.on_failure == 0
        and result.peak_batch_calls_per_second <= BATCH_RATE * NOTIFIER_SHARE_OF_BATCH
    ]
    if not fitting:
        raise ValueError("no measured concurrency fits")
    return max(fitting)


# --------------------------------------------------------------------------------------------------
# The rehearsal: the stack's completions through its rule, then the model, planned and unbounded

_FUNCTION: Final = "aws:lambda/function:Function"
_INVOKE_CONFIG: Final = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
_HANDLER_ENTRY: Final = "handler.app.handler"


def planned_settings(plan: Plan) -> LambdaSettings:
    """The notifier's reserved concurrency and async invoke config, as the plan declares them."""
    (function,) = [f for f in plan.of_type(_FUNCTION) if f.inputs.get("handler") == _HANDLER_ENTRY]
    # The sweep has an invoke config of its own: the notifier's is the one naming its function.
    (invoke,) = [c for c in plan.of_type(_INVOKE_CONFIG) if c.inputs.get("functionName") == function.state.get("name")]
    reserved = function.inputs.get("reservedConcurrentExecutions")
    return LambdaSettings(
        reserved_concurrency=int(reserved) if reserved is not None and int(reserved) >= 0 else None,
        max_retries=int(invoke.inputs["maximumRetryAttempts"]),
        max_event_age_seconds=int(invoke.inputs["maximumEventAgeInSeconds"]),
    )


def burst_events(target: StackTarget, count: int) -> list[dict[str, Any]]:
    """The terminal events of `count` array parents (2 children each) on the stack's first queue; every
    `FAILED_EVERY`-th FAILED. Job ids `burst-00000`, ... so the burst is the same every time. One parent of
    each status is generated (testing/eventgen.py); the others are copies under their own job id."""
    templates = {}
    for failed in (False, True):
        spec = ArrayJobSpec(
            target.job_queue_arn,
            target.job_definition_arn,
            size=2,
            failures=1 if failed else 0,
            compute=target.compute,
            parent_job_id=f"burst-template-{int(failed)}",
        )
        parent = [event for event in array_job_events(spec) if event["detail"]["jobId"] == spec.job_id]
        templates[failed] = (spec.job_id, json.dumps(parent[-1]))
    events = []
    for index in range(count):
        template_id, template = templates[index % FAILED_EVERY == 0]
        events.append(json.loads(template.replace(template_id, f"burst-{index:05d}")))
    return events


@dataclass(frozen=True)
class BurstRehearsal:
    stack: str
    sent: int
    matched: int
    results: tuple[BurstResult, ...]
    """At the planned concurrency, then unbounded."""

    @property
    def planned(self) -> BurstResult:
        return self.results[0]

    def problems(self) -> list[str]:
        """Why the planned run is not what the issue asks of it (empty: it is)."""
        planned, found = self.planned, []
        if self.matched != self.sent:
            found.append(f"the rule matched {self.matched} of {self.sent} completions")
        if (planned.messages, planned.duplicates, planned.on_failure) != (self.sent, 0, 0):
            found.append(
                f"{planned.messages} messages, {planned.duplicates} duplicates, {planned.on_failure} on the "
                f"on-failure queue for {self.sent} completions"
            )
        if planned.peak_batch_calls_per_second >= BATCH_RATE:
            found.append(
                f"the notifier's peak of {planned.peak_batch_calls_per_second} Batch calls/s reaches the bucket's rate"
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "sent": self.sent,
            "ruleMatches": self.matched,
            "batchBucket": {"rate": BATCH_RATE, "burst": BATCH_BURST},
            "runs": [result.to_json() for result in self.results],
            "problems": self.problems(),
        }


def rehearse_burst(plan: Plan, count: int) -> BurstRehearsal:
    """Send `count` completions within one second through the stack's rule (moto's EventBridge), then drain
    what it delivered through the model at the planned concurrency and unbounded."""
    target = StackTarget.from_plan(plan)
    planned = planned_settings(plan)
    with rehearsal_account(target):
        harness = RuleHarness(target.event_pattern, region=target.region, name=f"{target.stack}-burst")
        sent = harness.put(burst_events(target, count))
        delivered = harness.delivered()
    completions = burst_completions(delivered)
    unbounded = LambdaSettings(None, planned.max_retries, planned.max_event_age_seconds)
    return BurstRehearsal(
        target.stack, sent, len(delivered), (simulate(completions, planned), simulate(completions, unbounded))
    )


def render_burst(rehearsal: BurstRehearsal) -> str:
    lines = [
        f"Burst rehearsal of stack {rehearsal.stack}: {rehearsal.sent:,} array completions within one second "
        f"through the stack's rule ({rehearsal.matched:,} matched); Lambda's queue and Batch modelled in "
        f"simulated time, Batch a token bucket of {BATCH_RATE:.0f} calls/s (burst {BATCH_BURST:.0f})",
        "",
        burst_table(rehearsal.results),
        "",
    ]
    problems = rehearsal.problems()
    lines.append("ok: every completion notified once, none failed, Batch left room" if not problems else "NOT OK:")
    lines += [f"  - {problem}" for problem in problems]
    return "\n".join(lines) + "\n"


COLUMNS: Final[tuple[tuple[str, Callable[[BurstResult], str]], ...]] = (
    ("notifier concurrency", lambda r: r.concurrency),
    ("completions", lambda r: f"{r.completions:,}"),
    ("messages sent", lambda r: f"{r.messages:,}"),
    ("duplicates", lambda r: str(r.duplicates)),
    ("on-failure queue", lambda r: str(r.on_failure)),
    ("peak Batch calls/s (bucket 50/s)", lambda r: str(r.peak_batch_calls_per_second)),
    ("bucket left to others", lambda r: f"{r.share_left_to_others:.0%}"),
    ("throttled Batch answers", lambda r: f"{r.throttled_batch_answers:,}"),
    ("notifier errors", lambda r: f"{r.function_errors:,}"),
    ("longest wait in Lambda's queue", lambda r: f"{r.max_event_age_seconds:,.0f} s"),
    ("time to drain", lambda r: f"{r.drain_seconds:,.0f} s"),
)


def burst_table(results: Sequence[BurstResult]) -> str:
    """The results side by side, one row each, as Markdown."""
    rows = [
        "| " + " | ".join(name for name, _ in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(cell(result) for _, cell in COLUMNS) + " |" for result in results),
    ]
    return "\n".join(rows)
