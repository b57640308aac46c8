"""Rehearse a stack offline: one array job's whole event stream through the stack's real rule and handler.

    batch-array-notify rehearse --stack dev --size 7 [--failures 2] [--compute fargate] [--duplicates 1]
    batch-array-notify rehearse --stack dev --events captured.jsonl      # replay your own events
    batch-array-notify rehearse --stack dev --size 7 --pattern examples/patterns/status-only.json
    batch-array-notify rehearse --stack dev --size 7 --lose-parent-events 1   # the sweep must recover it
    batch-array-notify rehearse --stack dev --burst 1000   # N completions at once: concurrency, Batch's quota
    batch-array-notify rehearse --stack dev --size 7 --failures 2 --resubmit  # then resubmit the failed children
    batch-array-notify rehearse --stack org [--size 3] [--duplicates 1] [--member-config KEY=VALUE]  # organisation

The rule pattern and the notifier's environment come from the stack's program run under the mock
runtime, by the same code path as `batch-array-notify plan` (`--stack`, `--config`, `--program`). The events
(testing/eventgen.py: the array job, noise on the same and another queue, duplicate deliveries of the
parent's terminal event) go through moto's EventBridge with that pattern; every delivered event is
handed to the real `handler.app.handler`, against moto Batch/SNS/DynamoDB holding the same jobs.

`exact` is judged on what the RULE matched, not on what the handler did with it: a defensive handler
that ignores stray matches still costs one Lambda run per match, so it does not make a loose rule exact.
The handler's metrics (the EMF documents it writes on stdout, see handler/metrics.py) are read back and
shown, so the rehearsal shows what the dashboard would. Its events carry synthetic times, so during the
rehearsal the handler's clock reads each invoking event's `time` plus the real time the invocation has
taken: NotificationLagSeconds is then the handler's own share of the lag (delivery is instant here).
`--lose-parent-events K` drops the terminal events of K array jobs' parents (every delivery of them) before
the rule, as a disabled or replaced rule would, and then runs the stack's reconciliation sweep
(`handler.reconcile.handler`, with its own environment from the plan, its clock at the stream's last event plus
its grace period):
`exact` then also needs the sweep to have reported each lost completion, once.
`--burst N` sends N array completions within one second through the stack's rule and drains them through a
model of Lambda's asynchronous queue and Batch's token bucket, in simulated time, at the stack's planned
reserved concurrency and unbounded (testing/burst.py says what is real and what is modelled); exit 1 when
the planned run did not notify each once, sent any to the on-failure queue, or reached Batch's rate.

`--resubmit` then resubmits each FAILED job's failed children with cli/resubmit.py in the same moto
account and runs the new job's events through the rule and handler (testing/rehearsal_resubmit.py): `exact`
also needs one notification per new array job, naming the job it retried.

A central stack (its notifier names `memberAccounts`, e.g. `--stack org`) is rehearsed as an organisation
(testing/rehearsal_org.py): each member's array job through the member stack's forwarder (`--member-stack`,
planned in that account, `--member-config` overriding its config), the intake bus's policy and rules, and the
notifier assuming the member's read role; a third account's events must be refused at the bus. `exact` then
needs one notification per member array job, naming its account, and nothing else.
Exit code 0 when exact, 1 when not, 2 for usage or config errors.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information

from batch_array_notify.cli.arguments import ARRAY_SIZE_HELP, array_size, stack_name, whole_number
from batch_array_notify.cli.chat_preview import channel_view
from batch_array_notify.cli.exit_codes import USAGE_ERROR, tool_parser
from batch_array_notify.cli.plan import add_program_arguments, config_override, plan_or_exit
from batch_array_notify.cli.progress import Progress, progress_for
from batch_array_notify.handler import app as handler_app
from batch_array_notify.handler import reconcile as handler_reconcile
from batch_array_notify.handler import settings as handler_settings
from batch_array_notify.testing.burst import MAX_BURST, rehearse_burst, render_burst
from batch_array_notify.testing.emf import EmfDocument, read_documents, totals
from batch_array_notify.testing.eventgen import MAX_ARRAY_SIZE, ArrayJobSpec, Compute, array_job_events, noise_events
from batch_array_notify.testing.pattern_rules import PatternError, check_pattern, exists_on_objects, object_paths
from batch_array_notify.testing.rehearsal_org import (
    CentralTarget,
    is_central,
    plan_forwarders,
    rehearse_organisation,
    render_organisation,
)
from batch_array_notify.testing.rehearsal_resubmit import ResubmissionRun, render_runs, resubmit_failed
from batch_array_notify.testing.rehearsal_world import (
    TERMINAL_STATUSES,
    BatchLedger,
    Notification,
    StackTarget,
    WorldMismatchError,
    handler_logs_to,
    rehearsal_account,
    sweep_environment,
)
from batch_array_notify.testing.rule_harness import RuleHarness

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

Event = dict[str, Any]

EXACT: Final = 0
NOT_EXACT: Final = 1
#: Duplicate deliveries per array job: each is one more PutEvents through moto and one more notifier run,
#: and one already shows whether the notifier drops repeats (100,000 ran past 5 minutes).
MAX_DUPLICATES: Final = 1000
#: The config key that turns the reconciliation sweep on, which `--lose-parent-events` needs.
SWEEP_KEY: Final = "batch-array-notify:reconcileEveryMinutes"


class UsageError(Exception):
    """Bad input from the user (files, options); reported in one line with exit code 2."""


# --------------------------------------------------------------------------------------------------
# What to rehearse


@dataclass(frozen=True)
class Scenario:
    """One array job of `size` children on each of the stack's queues, as `array_job_events` generates it."""

    size: int
    failures: int = 0
    #: None: half of the failures (rounded down) die before placement, the rest after running.
    failures_before_placement: int | None = None
    #: None: the compute type of the stack.
    compute: Compute | None = None
    duplicates: int = 0
    noise: bool = True
    job_name: str = "print-color"
    #: Array jobs (of the first queues) whose parent's terminal events never reach the rule.
    lost_parents: int = 0

    def spec(
        self, target: StackTarget, parent_job_id: str | None = None, job_queue_arn: str | None = None
    ) -> ArrayJobSpec:
        """The generator's spec for one queue (default: the first); raises ValueError (with a message for
        the user) for impossible ones."""
        if self.duplicates < 0:
            raise ValueError(f"duplicates must be 0 or more, got {self.duplicates}")
        if not 0 <= self.lost_parents <= len(target.job_queue_arns):
            raise ValueError(
                f"--lose-parent-events {self.lost_parents}: the rehearsal runs one array job per queue, "
                f"{len(target.job_queue_arns)} on stack {target.stack}: lose at most {len(target.job_queue_arns)}"
            )
        if self.lost_parents and target.sweep_environment is None:
            raise ValueError(
                f"--lose-parent-events: stack {target.stack} has no reconciliation sweep to recover lost events; "
                f"turn it on with --config {SWEEP_KEY}=15 (or set {SWEEP_KEY} in Pulumi.{target.stack}.yaml)"
            )
        before = self.failures // 2 if self.failures_before_placement is None else self.failures_before_placement
        return ArrayJobSpec(
            job_queue_arn or target.job_queue_arn,
            target.job_definition_arn,
            size=self.size,
            failures=self.failures,
            failures_before_placement=before,
            compute=self.compute or target.compute,
            parent_job_id=parent_job_id,
            job_name=self.job_name,
        )


@dataclass(frozen=True)
class JobTally:
    """What the rule and the handler did for one array job of the stack: deliveries of its parent's and
    children's events, and notifications about it."""

    matches: int
    notifications: int


@dataclass
class Rehearsal:
    events: int
    matches: int
    invocations: int
    notifications: list[Notification]
    jobs: dict[str, JobTally]
    other_matches: int
    other_notifications: int
    problems: list[str] = field(default_factory=list)
    #: The custom notifications published to the chat topic (only when the stack has chat channels).
    chat_messages: list[dict[str, Any]] = field(default_factory=list)
    chat_configured: bool = False
    #: What the handler emitted: one EMF document per invocation, each invocation's wall time, its errors.
    metrics: list[EmfDocument] = field(default_factory=list)
    invocation_ms: list[float] = field(default_factory=list)
    handler_errors: list[str] = field(default_factory=list)
    #: Terminal parent events dropped before the rule (`--lose-parent-events`), and what the sweep then did.
    lost_events: int = 0
    swept: bool = False
    sweep_recovered: int = 0
    #: `--resubmit`: each FAILED job's failed children resubmitted, and the notifications of the new jobs.
    resubmissions: list[ResubmissionRun] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        document = {
            "events": self.events,
            "matches": self.matches,
            "invocations": self.invocations,
            "notifications": [notification.summary() for notification in self.notifications],
            "metrics": [document.to_json() for document in self.metrics],
            "exact": self.exact,
        }
        if self.chat_configured:
            document["chatMessages"] = self.chat_messages
        if self.swept:
            document["lostEvents"] = self.lost_events
            document["sweepRecovered"] = self.sweep_recovered
        if self.resubmissions:
            document["resubmissions"] = [run.to_json() for run in self.resubmissions]
        return document


# --------------------------------------------------------------------------------------------------
# Inputs


def read_events(path: Path) -> list[Event]:
    """One EventBridge event per line (blank lines skipped); errors name the file and line."""
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise UsageError(f"cannot read events file {path}: {error.strerror}") from None
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            raise UsageError(f"{path}:{number}: not valid JSON: {error.msg} (column {error.colno})") from None
        problem = _event_problem(event)
        if problem:
            raise UsageError(f"{path}:{number}: {problem}")
        events.append(event)
    return events


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return f"expected an EventBridge event (a JSON object), got {type(event).__name__}"
    missing = [key for key in ("source", "detail-type", "detail") if key not in event]
    if missing:
        return f"the event has no {', '.join(missing)}"
    if not isinstance(event["source"], str) or not isinstance(event["detail-type"], str):
        return "source and detail-type must be strings"
    if not isinstance(event["detail"], dict):
        return "detail must be a JSON object"
    if "time" in event:
        try:
            datetime.fromisoformat(str(event["time"]))
        except ValueError:
            return f"time must be an ISO 8601 timestamp, got {event['time']!r}"
    return None


def read_pattern(source: str | Path) -> str:
    """An EventBridge pattern, inline (`{...}`) or from a file, checked as PutRule checks it
    (testing/pattern_rules.py): moto's matcher accepts patterns EventBridge refuses, and would rehearse them."""
    text = str(source)
    where = ""
    if isinstance(source, Path) or not _is_json(text):
        path = Path(text)
        try:
            text = path.read_text()
        except OSError as error:
            raise UsageError(
                f"cannot read pattern file {path}: {error.strerror}; give a file or the JSON pattern itself"
            ) from None
        where = f"{path}: "
    try:
        pattern = check_pattern(text)
    except PatternError as error:
        raise UsageError(f"{where}{error}") from None
    return json.dumps(pattern)


def _is_json(text: str) -> bool:
    """Whether `--pattern` was given JSON (checked as a pattern, e.g. `[]` is refused as not an object)
    rather than a file name; broken JSON that opens like an object or array still counts as JSON."""
    try:
        json.loads(text)
    except ValueError:
        return text.lstrip()[:1] in ("{", "[")
    return True


def pattern_on_objects(pattern: str, target: StackTarget) -> list[str]:
    """`exists` on fields the stack's events carry as objects (PutRule accepts it; it never tests them):
    the events of a 2-child array job of every compute type show which fields are objects."""
    sample = Scenario(size=2)
    events = [event for compute in Compute for event in array_job_events(replace(sample, compute=compute).spec(target))]
    return exists_on_objects(json.loads(pattern), object_paths(events))


# --------------------------------------------------------------------------------------------------
# The rehearsal


def _observed(events: Iterable[Event], ledger: BatchLedger, progress: Progress | None) -> Iterator[Event]:
    for event in events:
        ledger.observe(event)
        if progress is not None:
            progress.advance()
        yield event


def _scenario_stream(scenario: Scenario, specs: Sequence[ArrayJobSpec]) -> tuple[Iterator[Event], int]:
    """Each queue's array job's events, then the noise, then the duplicate deliveries; and how many in all."""
    first = specs[0]
    # Another queue of the same account, so its array job is noise the rule must not match.
    other_queue = f"{first.job_queue_arn}-other"
    noise = (
        list(noise_events(first.job_queue_arn, first.job_definition_arn, other_queue, first.compute))
        if scenario.noise
        else []
    )

    def stream() -> Iterator[Event]:
        terminals: list[Event] = []
        for spec in specs:
            events = list(array_job_events(spec))
            yield from events
            terminals.append(events[-1])  # the parent's terminal event comes last
        yield from noise
        # At-least-once delivery: the same events again, byte for byte.
        for terminal in terminals:
            for _ in range(scenario.duplicates):
                yield terminal

    total = sum(spec.event_count() for spec in specs) + len(noise) + scenario.duplicates * len(specs)
    return stream(), total


@contextlib.contextmanager
def _handler_clock_follows(event: Mapping[str, Any]) -> Iterator[None]:
    """The handler's clock starts at the event's `time` (synthetic) and runs in real time from there."""
    emitted_ms = _event_time_ms(event)
    started = time.perf_counter()
    previous = handler_app.clock
    if emitted_ms is not None:
        handler_app.clock = lambda: emitted_ms / 1000 + (time.perf_counter() - started)
    try:
        yield
    finally:
        handler_app.clock = previous


def _losing(events: Iterable[Event], lost: set[str], dropped: list[Event]) -> Iterator[Event]:
    """The stream without the terminal events of the `lost` parents (kept in `dropped`)."""
    for event in events:
        job_id, is_terminal = _job_of(event)
        if is_terminal and job_id in lost:
            dropped.append(event)
            continue
        yield event


@contextlib.contextmanager
def _sweep_clock_follows(dropped: Sequence[Event]) -> Iterator[None]:
    """The sweep runs once the grace period after the last lost event has passed (its window then holds the
    stream's synthetic times). Inside `sweep_environment`: the grace period is the sweep function's."""
    times = [ms for ms in map(_event_time_ms, dropped) if ms is not None]
    grace_seconds = handler_settings.sweep_settings().grace_seconds
    started = time.perf_counter()
    previous = handler_reconcile.clock
    if times:
        handler_reconcile.clock = lambda: max(times) / 1000 + grace_seconds + (time.perf_counter() - started)
    try:
        yield
    finally:
        handler_reconcile.clock = previous


def _event_time_ms(event: Mapping[str, Any]) -> int | None:
    try:
        return int(datetime.fromisoformat(str(event["time"])).timestamp() * 1000)
    except (KeyError, ValueError):
        return None


def rehearse(
    target: StackTarget,
    source: Scenario | Sequence[Event],
    *,
    pattern: str | None = None,
    progress: bool = False,
    handler_log: IO[str] | None = None,
    resubmit: bool = False,
) -> Rehearsal:
    """Run one rehearsal in a fresh moto account. Raises UsageError for a pattern EventBridge rejects,
    ValueError for an impossible scenario, WorldMismatchError if moto cannot stand in for the plan."""
    if isinstance(source, Scenario):
        source.spec(target)  # fail on an impossible scenario before building anything
    with (
        rehearsal_account(target) as world,
        open(os.devnull, "w") if handler_log is None else contextlib.nullcontext(handler_log) as log,
        handler_logs_to(log),
    ):
        try:
            harness = RuleHarness(
                pattern or target.event_pattern, region=target.region, name=f"{target.stack}-rehearsal"
            )
        except ClientError as error:
            raise UsageError(f"EventBridge rejected the pattern: {error.response['Error']['Message']}") from None
        if isinstance(source, Scenario):
            # The stream names the plan's queue and definition ARNs (what the rule matches on), which are
            # also moto's (see rehearsal_world), and moto's job ids, which the handler will describe.
            specs = [
                source.spec(target, world.submit_array_job(source.size, source.job_name, queue), queue)
                for queue in target.job_queue_arns
            ]
            events, total = _scenario_stream(source, specs)
            lost = {str(spec.parent_job_id) for spec in specs[: source.lost_parents]}
        else:
            events, total = iter(source), len(source)
            lost = set()
        ledger = BatchLedger()
        bar = progress_for(total, quiet=not progress)
        dropped: list[Event] = []
        try:
            # Batch still ran the lost jobs (the ledger sees every event); only the rule never gets them.
            emitted = harness.put(_losing(_observed(events, ledger, bar), lost, dropped))
        finally:
            if bar is not None:
                bar.close()
        world.settle(ledger)

        delivered = harness.delivered()
        errors: list[str] = []
        # Powertools' LambdaContext is a typing aid; at run time it reads only the attributes ours has.
        context = cast("LambdaContext", world.lambda_context())
        # The handler's stdout is its metrics (EMF), as in Lambda, where CloudWatch Logs extracts them.
        handler_stdout = io.StringIO()
        invocation_ms: list[float] = []

        def invoke(events: Sequence[Event]) -> None:
            for event in events:
                started = time.perf_counter()
                try:
                    with contextlib.redirect_stdout(handler_stdout), _handler_clock_follows(event):
                        handler_app.handler(event, context)
                except Exception as error:  # Lambda would retry; the rehearsal reports it
                    errors.append(f"{type(error).__name__}: {error}")
                invocation_ms.append((time.perf_counter() - started) * 1000)

        invoke(delivered)
        recovered = None
        if lost:
            with sweep_environment(target), contextlib.redirect_stdout(handler_stdout), _sweep_clock_follows(dropped):
                try:
                    recovered = int(handler_reconcile.handler({}, context)["reconciled"])
                except Exception as error:  # the schedule would run it again; the rehearsal reports it
                    errors.append(f"sweep: {type(error).__name__}: {error}")
        notifications = world.notifications()
        chat_messages = world.chat_messages()
        # --resubmit: the FAILED jobs' failed children again, through the same rule and notifier.
        compute = (source.compute if isinstance(source, Scenario) else None) or target.compute
        resubmissions = resubmit_failed(world, compute, notifications) if resubmit else []
        for run in resubmissions:
            run_ledger = BatchLedger()
            harness.put(_observed(run.events(), run_ledger, None))
            world.settle(run_ledger)
            run_delivered = harness.delivered()
            run.matches = len(run_delivered)
            invoke(run_delivered)
            run.notifications = world.notifications()
    judged = _judge(target, ledger, emitted, delivered, notifications, errors, lost)
    if lost:
        judged.swept, judged.lost_events, judged.sweep_recovered = True, len(dropped), recovered or 0
        if recovered != len(lost):
            judged.problems.append(f"the sweep reported {recovered} completions, {len(lost)} were lost")
    judged.chat_messages = chat_messages
    judged.chat_configured = "CHAT_TOPIC_ARN" in target.handler_environment
    if judged.chat_configured and len(chat_messages) != len(notifications):
        # Exactly once holds per sink: the channels hear of each array job exactly as often as e-mail does.
        judged.problems.append(f"{len(chat_messages)} chat messages for {len(notifications)} notifications")
    judged.resubmissions = resubmissions
    judged.problems += [problem for run in resubmissions for problem in run.problems()]
    judged.metrics = read_documents(handler_stdout.getvalue().splitlines())
    judged.invocation_ms = invocation_ms
    judged.handler_errors = errors
    return judged


def _identity(event: Mapping[str, Any]) -> str:
    """Same content = same event. EventBridge gives every PutEvents entry a new `id`, so a repeated
    delivery of one Batch event is recognised by its content, not its id."""
    return json.dumps(
        [event.get(key) for key in ("source", "detail-type", "resources", "time", "detail")], sort_keys=True
    )


def _job_of(event: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(the array parent the event belongs to, whether it is that parent's terminal event)."""
    detail = event.get("detail")
    job_id = detail.get("jobId") if isinstance(detail, dict) else None
    if not isinstance(job_id, str) or not isinstance(detail, dict):
        return None, False
    parent_id, separator, index = job_id.rpartition(":")
    if separator and index.isdigit():
        return parent_id, False
    return job_id, detail.get("status") in TERMINAL_STATUSES and event.get("detail-type") == "Batch Job State Change"


def _judge(
    target: StackTarget,
    ledger: BatchLedger,
    emitted: int,
    delivered: Sequence[Event],
    notifications: Sequence[Notification],
    errors: Sequence[str],
    lost: set[str] = frozenset(),  # type: ignore[assignment]
) -> Rehearsal:
    in_scope = [
        record.job_id
        for record in ledger.finished_parents()
        if target.owns({"jobQueue": record.job_queue_arn, "jobDefinition": record.job_definition_arn})
    ]
    deliveries: Counter[str] = Counter()
    terminal: dict[str, set[str]] = {job_id: set() for job_id in in_scope}
    others: dict[str, set[str]] = {job_id: set() for job_id in in_scope}
    other_matches = 0
    for event in delivered:
        job_id, is_terminal = _job_of(event)
        if job_id not in terminal:
            other_matches += 1
            continue
        deliveries[job_id] += 1
        (terminal if is_terminal else others)[job_id].add(_identity(event))
    notified = Counter(notification.job_id for notification in notifications)
    jobs = {job_id: JobTally(deliveries[job_id], notified[job_id]) for job_id in in_scope}
    other_notifications = sum(count for job_id, count in notified.items() if job_id not in jobs)

    problems: list[str] = []
    if not in_scope:
        definitions = ", ".join(f"{prefix}:*" for prefix in target.job_definition_arn_prefixes) or "any"
        problems.append(
            f"no array job of stack {target.stack} (queues {', '.join(target.job_queue_arns)}, definitions "
            f"{definitions}) finished in the stream: nothing to judge"
        )
    for job_id in in_scope:
        # A lost parent's terminal events never reached the rule: the sweep reports it instead.
        expected_terminal = 0 if job_id in lost else 1
        if len(terminal[job_id]) != expected_terminal:
            problems.append(f"array job {job_id}: the rule matched {len(terminal[job_id])} terminal events of it")
        if others[job_id]:
            problems.append(
                f"array job {job_id}: the rule also matched {len(others[job_id])} of its other events "
                "(children or non-terminal)"
            )
        if notified[job_id] != 1:
            problems.append(f"array job {job_id}: {notified[job_id]} notifications, expected 1")
    if other_matches:
        problems.append(f"the rule matched {other_matches} events of other jobs")
    if other_notifications:
        problems.append(f"{other_notifications} notifications about other jobs")
    if errors:
        problems.append(f"{len(errors)} handler invocations raised, first: {errors[0]}")
    return Rehearsal(
        events=emitted,
        matches=len(delivered),
        invocations=len(delivered),
        notifications=list(notifications),
        jobs=jobs,
        other_matches=other_matches,
        other_notifications=other_notifications,
        problems=problems,
    )


# --------------------------------------------------------------------------------------------------
# Command line


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify rehearse",
        __doc__.split("\n\n")[0] if __doc__ else None,
        bad_outcome="the rehearsal was not exact (the rule matched or notified other than once per array job)",
        uses_aws=False,
    )
    add_program_arguments(arguments)
    arguments.add_argument("--size", type=array_size, help=ARRAY_SIZE_HELP)
    arguments.add_argument(
        "--failures", type=whole_number(0, MAX_ARRAY_SIZE), help="children that fail, at most --size (default 0)"
    )
    arguments.add_argument(
        "--failures-before-placement",
        type=whole_number(0, MAX_ARRAY_SIZE),
        metavar="K",
        help="of the failures, how many die before placement, at most --failures (default: half, rounded down)",
    )
    arguments.add_argument(
        "--compute", choices=[c.value for c in Compute], help="event shapes (default: the stack's compute type)"
    )
    arguments.add_argument(
        "--duplicates",
        type=whole_number(0, MAX_DUPLICATES, "cost: each is one more delivery and notifier run; 1 shows the same"),
        help=f"extra deliveries of the parent's terminal event, 0-{MAX_DUPLICATES} (default 0)",
    )
    arguments.add_argument(
        "--lose-parent-events",
        type=whole_number(0, MAX_ARRAY_SIZE),
        metavar="K",
        help="drop K array jobs' terminal parent events before the rule (at most one per queue of the stack), "
        f"then run the reconciliation sweep ({SWEEP_KEY} above 0)",
    )
    arguments.add_argument("--events", type=Path, metavar="FILE.jsonl", help="replay these events instead")
    arguments.add_argument(
        "--burst",
        type=whole_number(1, MAX_BURST),
        metavar="N",
        help="N array completions within one second: the notifier's concurrency against Batch's quota",
    )
    arguments.add_argument(
        "--pattern",
        metavar="PATTERN",
        help="rehearse this rule pattern instead (a file, or the JSON itself), checked as PutRule checks it",
    )
    arguments.add_argument(
        "--resubmit",
        action="store_true",
        help="then resubmit the failed children (batch-array-notify resubmit) and show the second notification",
    )
    arguments.add_argument(
        "--member-stack",
        type=stack_name,
        default="member",
        help="a central stack's rehearsal: the member stack planned in each member account (default: member)",
    )
    arguments.add_argument(
        "--member-config",
        action="append",
        default=[],
        type=config_override,
        metavar="KEY=VALUE",
        help="a central stack's rehearsal: override a member stack's config value (repeatable)",
    )
    arguments.add_argument("--json", action="store_true", help="print one JSON document")
    arguments.add_argument("--handler-logs", action="store_true", help="show the handler's log lines on stderr")
    return arguments


_SCENARIO_OPTIONS: Final = (
    "size",
    "failures",
    "failures_before_placement",
    "compute",
    "duplicates",
    "lose_parent_events",
)


def _scenario(options: argparse.Namespace) -> Scenario:
    return Scenario(
        size=options.size,
        failures=options.failures or 0,
        failures_before_placement=options.failures_before_placement,
        compute=Compute(options.compute) if options.compute else None,
        duplicates=options.duplicates or 0,
        lost_parents=options.lose_parent_events or 0,
    )


def render(rehearsal: Rehearsal, target: StackTarget, rule: str) -> str:
    lines = [
        f"Rehearsal of stack {target.stack}: {rule}",
        f"  events emitted           {rehearsal.events}",
        f"  rule matches             {rehearsal.matches}",
        f"  handler invocations      {rehearsal.invocations}",
        f"  notifications published  {len(rehearsal.notifications)}",
    ]
    if rehearsal.swept:
        lines.append(f"  parent events lost       {rehearsal.lost_events}")
        lines.append(f"  sweep recovered          {rehearsal.sweep_recovered}")
    for job_id, tally in rehearsal.jobs.items():
        lines.append(f"  array job {job_id}: {tally.matches} matches, {tally.notifications} notification(s)")
    if rehearsal.exact:
        lines.append("  exact: yes - one notification per array job, nothing else matched")
    else:
        lines.append("  exact: NO")
        lines += [f"    - {problem}" for problem in rehearsal.problems]
    lines += render_metrics(rehearsal.metrics)
    for number, notification in enumerate(rehearsal.notifications, start=1):
        lines += ["", f"Notification {number}", f"Subject: {notification.subject}", "", notification.body.rstrip()]
    lines += render_runs(rehearsal.resubmissions, len(rehearsal.notifications) + 1)
    for number, message in enumerate(rehearsal.chat_messages, start=1):
        lines += [
            "",
            f"Chat message {number}, as the channel shows it",
            "",
            channel_view(message).rstrip(),
            "",
            f"Chat message {number}, as published to the chat topic",
            json.dumps(message, indent=2, ensure_ascii=False),
        ]
    return "\n".join(lines) + "\n"


def render_metrics(documents: Sequence[EmfDocument]) -> list[str]:
    """The handler's metrics per namespace and dimensions: counts summed, times listed."""
    lines: list[str] = []
    for (namespace, dimensions), metrics in totals(documents).items():
        named = ", ".join(f"{name}={value}" for name, value in dimensions)
        lines += ["", f"Metrics the handler emitted ({namespace}; {named})"]
        lines += [f"  {metric.name:<25}{metric.describe()}" for metric in metrics]
    return lines


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _burst(arguments: argparse.ArgumentParser, options: argparse.Namespace) -> int:
    given = [f"--{name.replace('_', '-')}" for name in (*_SCENARIO_OPTIONS, "events", "pattern", "handler_logs")]
    given = [flag for flag in given if getattr(options, flag[2:].replace("-", "_")) not in (None, False)]
    if given:
        arguments.error(f"--burst sends its own completions; {', '.join(given)} do not apply")
    result = rehearse_burst(plan_or_exit(options), options.burst)
    if options.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_burst(result))
    return NOT_EXACT if result.problems() else EXACT


#: What an organisation's rehearsal does not take (it runs its own scenario, one array job per account).
_NOT_FOR_ORGANISATION: Final = (*_SCENARIO_OPTIONS[1:4], "lose_parent_events", "events", "burst", "pattern", "resubmit")
#: An organisation's rehearsal: an array job of this many children in each account, unless --size.
ORGANISATION_ARRAY_SIZE: Final = 3


def _organisation(arguments: argparse.ArgumentParser, options: argparse.Namespace, plan: Any) -> int:
    """The rehearsal of a central stack: its members' forwarders, the intake bus, the notifier."""
    given = [
        f"--{name.replace('_', '-')}" for name in _NOT_FOR_ORGANISATION if getattr(options, name) not in (None, False)
    ]
    if given:
        verb = "does" if len(given) == 1 else "do"
        arguments.error(
            f"stack {options.stack} is an organisation's central stack; {', '.join(given)} {verb} not apply"
        )
    try:
        central = CentralTarget.from_plan(plan)

        def plan_member(account: str, config: Mapping[str, str]) -> Any:
            member = argparse.Namespace(
                program=options.program, stack=options.member_stack, config=list(config.items())
            )
            return plan_or_exit(member, account)

        forwarders = plan_forwarders(central, plan_member, dict(options.member_config))
        result = rehearse_organisation(
            central,
            forwarders,
            size=options.size or ORGANISATION_ARRAY_SIZE,
            duplicates=1 if options.duplicates is None else options.duplicates,
            handler_log=sys.stderr if options.handler_logs else None,
        )
    except WorldMismatchError as error:
        return _fail(str(error))
    if options.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_organisation(result))
    return EXACT if result.exact else NOT_EXACT


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser()
    options = arguments.parse_args(argv)
    plan = plan_or_exit(options)
    if is_central(plan):
        return _organisation(arguments, options, plan)
    if options.member_config or options.member_stack != "member":
        arguments.error("--member-stack and --member-config apply to a central stack (one naming memberAccounts)")
    if options.burst is not None:
        return _burst(arguments, options)
    if options.events is None and options.size is None:
        arguments.error("--size is required (or --events to replay captured events)")
    if options.resubmit and (options.events is not None or not options.failures):
        arguments.error("--resubmit needs failed children to resubmit: give --failures N (N > 0)")
    if options.events is not None:
        given = [f"--{name.replace('_', '-')}" for name in _SCENARIO_OPTIONS if getattr(options, name) is not None]
        if given:
            verb = "does" if len(given) == 1 else "do"
            arguments.error(f"--events replays captured events; {', '.join(given)} {verb} not apply")
    elif (options.failures or 0) > options.size:
        arguments.error(f"argument --failures: must be 0 to --size ({options.size}), got {options.failures}")
    elif (options.failures_before_placement or 0) > (options.failures or 0):
        arguments.error(
            f"argument --failures-before-placement: must be 0 to --failures ({options.failures or 0}), "
            f"got {options.failures_before_placement}"
        )
    try:
        source: Scenario | list[Event] = read_events(options.events) if options.events else _scenario(options)
    except UsageError as error:
        return _fail(f"--events: {error}")
    try:
        pattern = read_pattern(options.pattern) if options.pattern else None
    except UsageError as error:
        return _fail(f"--pattern: {error}")

    try:
        target = StackTarget.from_plan(plan)
    except WorldMismatchError as error:
        return _fail(str(error))
    if isinstance(source, Scenario):
        try:
            source.spec(target)
        except ValueError as error:
            return _fail(str(error))
    if pattern is not None:
        problems = pattern_on_objects(pattern, target)
        if problems:
            return _fail(f"--pattern: {'; '.join(problems)}")
    try:
        result = rehearse(
            target,
            source,
            pattern=pattern,
            progress=not options.json,
            handler_log=sys.stderr if options.handler_logs else None,
            resubmit=options.resubmit,
        )
    except (UsageError, WorldMismatchError) as error:
        return _fail(str(error))

    if options.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        rule = f"pattern from {options.pattern}" if options.pattern else "the stack's rule"
        if isinstance(source, Scenario):
            spec = source.spec(target)
            queues = len(target.job_queue_arns)
            where = f" on each of {queues} queues" if queues > 1 else ""
            rule += (
                f", one array job of {spec.size} on {spec.compute.value}{where}, {spec.failures} failing "
                f"({spec.failures_before_placement} before placement), {source.duplicates} duplicate deliveries"
            )
            if source.lost_parents:
                rule += f", {source.lost_parents} array job(s)' terminal parent events lost before the rule"
        else:
            rule += f", {len(source)} events from {options.events}"
        sys.stdout.write(render(result, target, rule))
    return EXACT if result.exact else NOT_EXACT


if __name__ == "__main__":
    raise SystemExit(main())
