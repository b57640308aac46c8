"""The EventBridge pattern that matches only the *parent* of an array job reaching a terminal status.

Pure functions on plain strings: no Pulumi, no AWS. The component renders the result with
`pulumi.Output.json_dumps`; tests and the offline tools feed it straight to moto's EventBridge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Statuses in which a Batch job never changes again. An array parent only ever ends in one of these.
TERMINAL_STATUSES: tuple[str, ...] = ("SUCCEEDED", "FAILED")

#: EventBridge's default limit on a rule pattern's length (raisable to 4096 only by a quota request).
MAX_PATTERN_CHARS = 2048

BATCH_SOURCE = "aws.batch"
JOB_STATE_CHANGE = "Batch Job State Change"
QUEUE_BLOCKED = "Batch Job Queue Blocked"


def job_definition_revision_prefix(job_definition_arn_prefix: str) -> str:
    """Turn `...:job-definition/name` into `...:job-definition/name:`.

    The trailing colon is what keeps `name-v2` from matching a rule meant for `name`, while every
    revision of `name` (`name:1`, `name:2`, ...) still does: Pulumi registers a new revision on most
    changes, and a rule pinned to one revision would silently stop firing after the next `pulumi up`.
    """
    _, _, name = job_definition_arn_prefix.partition(":job-definition/")
    # A revision left on (`name:3`) would give `name:3:`, a prefix no event ever carries: silence.
    if not name or ":" in name:
        raise ValueError(
            "job_definition_arn_prefix must be a job-definition ARN without its revision, "
            f"got {job_definition_arn_prefix!r}"
        )
    return f"{job_definition_arn_prefix}:"


def completion_event_pattern(
    job_queue_arns: str | Sequence[str],
    job_definition_arn_prefixes: str | Sequence[str] | None,
    statuses: Sequence[str] = TERMINAL_STATUSES,
) -> dict[str, Any]:
    """Build the rule pattern for "an array job of these queues has finished".

    `job_queue_arns` is one queue ARN or several (the rule matches any of them); `job_definition_arn_prefixes`
    one job-definition ARN without revision, several, or None for any job definition.

    Why each clause is there:

    - `source` + `detail-type`: Batch also emits `Batch Job Queue Blocked` and service-job events
      with the same `detail` shape; only job state changes mean "finished".
    - `detail.jobQueue`: the exact queue ARNs scope the rule to this component, so two stacks or two
      pipelines in one account never answer each other's jobs.
    - `detail.jobDefinition` prefix on the ARN *without* revision: events carry the full ARN with
      `:revision`, and jobs submitted with an older or newer revision must still match. Left out when
      no job definition is given: every job of the queues counts.
    - `detail.status`: terminal statuses only, so the parent's PENDING event never fires.
    - `detail.arrayProperties.size` exists: the Batch API returns `size` for parent array jobs only
      (children carry `index`, single jobs no `arrayProperties` at all). This holds on EC2, Spot,
      Fargate, EKS and multi-container (`ecsProperties`) jobs alike, unlike the well-known
      `container.containerInstanceArn` trick, which only EC2 jobs can satisfy. `exists` is applied to
      leaves only, as EventBridge requires (`statusSummary` is an object and would not work).
    - `detail.arrayProperties.index` absent: belt and braces in case a future event ever carries both.

    Raises ValueError for no queue, a repeated queue, an empty job-definition list, an empty or
    non-terminal status list, or a pattern over EventBridge's 2048-character limit (split the queues
    with `completion_rule_queue_groups`).
    """
    queues, definitions = _checked(job_queue_arns, job_definition_arn_prefixes, statuses)
    return _within_limit(_completion_pattern(queues, definitions, statuses), f"{len(queues)} queue(s)")


def _within_limit(pattern: dict[str, Any], subject: str) -> dict[str, Any]:
    """`pattern`, or ValueError when it is over EventBridge's pattern limit (`subject`: what it is for)."""
    rendered = json.dumps(pattern)
    if len(rendered) > MAX_PATTERN_CHARS:
        raise ValueError(
            f"the completion pattern for {subject} is {len(rendered)} characters; "
            f"EventBridge allows {MAX_PATTERN_CHARS}"
        )
    return pattern


def _listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _checked(
    job_queue_arns: str | Sequence[str],
    job_definition_arn_prefixes: str | Sequence[str] | None,
    statuses: Sequence[str],
) -> tuple[list[str], list[str] | None]:
    queues = _listed(job_queue_arns)
    if not queues or not all(queues):
        raise ValueError(f"job_queue_arns must name at least one job-queue ARN, got {job_queue_arns!r}")
    if len(set(queues)) != len(queues):
        raise ValueError(f"job_queue_arns names a queue twice: {queues}")
    definitions = None if job_definition_arn_prefixes is None else _listed(job_definition_arn_prefixes)
    if definitions == []:
        raise ValueError("job_definition_arn_prefixes must name at least one job definition, or be None for any")
    if not statuses:
        raise ValueError(f"statuses must name at least one of {list(TERMINAL_STATUSES)}")
    unknown = [s for s in statuses if s not in TERMINAL_STATUSES]
    if unknown:
        raise ValueError(f"statuses {unknown} are not terminal; allowed: {list(TERMINAL_STATUSES)}")
    return queues, definitions


def any_queue_completion_event_pattern(statuses: Sequence[str] = TERMINAL_STATUSES) -> dict[str, Any]:
    """The completion pattern for every queue of the account (a member account's forwarder without named
    queues): no `detail.jobQueue` clause, since Batch sends a job's events only to its own account's and
    region's default bus, where the rule lives. Every other clause is `completion_event_pattern`'s."""
    _checked(["any"], None, statuses)
    return _completion_pattern(None, None, statuses)


def _completion_pattern(
    queues: list[str] | None, definitions: list[str] | None, statuses: Sequence[str]
) -> dict[str, Any]:
    detail: dict[str, Any] = {} if queues is None else {"jobQueue": queues}
    if definitions is not None:
        detail["jobDefinition"] = [{"prefix": job_definition_revision_prefix(each)} for each in definitions]
    detail["status"] = list(dict.fromkeys(statuses))
    detail["arrayProperties"] = {"size": [{"exists": True}], "index": [{"exists": False}]}
    return {"source": [BATCH_SOURCE], "detail-type": [JOB_STATE_CHANGE], "detail": detail}


#: The longest job-queue ARN AWS can mint: the longest partition, a region name longer than any so far,
#: and a 128-character name (CreateJobQueue's limit). It stands in for a queue whose ARN is not known
#: while the program plans (an Output of another resource), so the rule count never depends on it.
LONGEST_JOB_QUEUE_ARN = f"arn:aws-us-gov:batch:{'r' * 16}:123456789012:job-queue/{'q' * 128}"
#: The same for a job-definition ARN without revision (names are at most 128 characters too).
LONGEST_JOB_DEFINITION_ARN_PREFIX = f"arn:aws-us-gov:batch:{'r' * 16}:123456789012:job-definition/{'d' * 128}"


def completion_rule_queue_groups(
    job_queue_arns: Sequence[str | None],
    job_definition_arn_prefixes: Sequence[str | None] | None,
    statuses: Sequence[str] = TERMINAL_STATUSES,
) -> list[list[int]]:
    """Share the queues out over as few completion rules as EventBridge's pattern limit allows.

    Returns the queues' indices, in order, one list per rule. `None` stands for an ARN not known yet
    (an Output), counted as the longest possible, so the number of rules is known while planning.

    Why several exact rules rather than one rule on a queue-ARN prefix: a prefix also matches queues
    that merely share it, today's or ones created later by someone else, and every such match is a
    Lambda run (and a notification, without the handler's own-queue check). Exact lists keep the
    rule exact; each queue is in exactly one rule, so no event matches twice.

    Raises ValueError when even one queue does not fit beside the job-definition list (too many or
    too long job definitions): that scope cannot be expressed as an EventBridge pattern.
    """
    # Unknown ARNs become distinct longest ones, so they count at their worst and are never "repeated".
    queues = [arn or f"{LONGEST_JOB_QUEUE_ARN[:-6]}{i:06d}" for i, arn in enumerate(job_queue_arns)]
    definitions = (
        None
        if job_definition_arn_prefixes is None
        else [
            arn or f"{LONGEST_JOB_DEFINITION_ARN_PREFIX[:-6]}{i:06d}"
            for i, arn in enumerate(job_definition_arn_prefixes)
        ]
    )
    _checked(queues, definitions, statuses)

    def fits(indices: list[int]) -> bool:
        pattern = _completion_pattern([queues[i] for i in indices], definitions, statuses)
        return len(json.dumps(pattern)) <= MAX_PATTERN_CHARS

    groups: list[list[int]] = [[]]
    for index in range(len(queues)):
        if fits([*groups[-1], index]):
            groups[-1].append(index)
        elif groups[-1] and fits([index]):
            groups.append([index])
        else:
            raise ValueError(
                f"a completion rule for one queue and {len(definitions or [])} job definition(s) exceeds "
                f"EventBridge's {MAX_PATTERN_CHARS}-character pattern limit: scope to fewer job definitions "
                "(or none, for any job definition of the queues)"
            )
    return groups


def queue_blocked_event_pattern(job_queue_arns: str | Sequence[str]) -> dict[str, Any]:
    """Pattern for `Batch Job Queue Blocked` events of these queues: a job stuck RUNNABLE never completes.

    Never longer than the completion pattern of the same queues, so their rule groups fit it too."""
    queues = _listed(job_queue_arns)
    if not queues or not all(queues):
        raise ValueError(f"job_queue_arns must name at least one job-queue ARN, got {job_queue_arns!r}")
    return {
        "source": [BATCH_SOURCE],
        "detail-type": [QUEUE_BLOCKED],
        "detail": {"jobQueue": queues},
    }


def member_completion_event_pattern(
    account_ids: Sequence[str],
    job_queue_arns: Sequence[str] | None,
    statuses: Sequence[str] = TERMINAL_STATUSES,
) -> dict[str, Any]:
    """The completion pattern on a central notifier's intake bus: finished array parents of these member
    accounts (the event's top-level `account`, which a forwarded event keeps), of these queues when given
    (None: any queue of the accounts). Raises ValueError past EventBridge's pattern limit."""
    if not account_ids:
        raise ValueError("a member completion pattern needs at least one account")
    queues = list(job_queue_arns) if job_queue_arns is not None else ["-"]
    _checked(queues, None, statuses)
    pattern = _completion_pattern(queues, None, statuses)
    if job_queue_arns is None:
        del pattern["detail"]["jobQueue"]
    return _within_limit({**pattern, "account": list(dict.fromkeys(account_ids))}, f"{len(account_ids)} account(s)")


def account_of(job_queue_arn: str) -> str:
    """The account a job-queue ARN belongs to (`arn:<partition>:batch:<region>:<account>:job-queue/...`)."""
    return job_queue_arn.split(":")[4]


def member_rule_groups(
    any_queue_accounts: Sequence[str],
    member_queue_arns: Sequence[str],
    statuses: Sequence[str] = TERMINAL_STATUSES,
) -> list[tuple[list[str], list[str] | None]]:
    """Share the members out over as few intake rules as the pattern limit allows: (accounts, None) for
    members of any queue, (accounts, queues) for members that name queues, each rule's accounts those of
    its queues. Each member and queue is in exactly one rule, so no event matches twice."""

    def fits(accounts: list[str], queues: list[str] | None) -> bool:
        try:
            member_completion_event_pattern(accounts, queues, statuses)
        except ValueError:
            return False
        return True

    groups: list[tuple[list[str], list[str] | None]] = []
    for account in any_queue_accounts:
        if groups and fits([*groups[-1][0], account], None):
            groups[-1][0].append(account)
        else:
            groups.append(([account], None))
    queue_groups: list[list[str]] = []
    for arn in member_queue_arns:
        if queue_groups and fits(_accounts_of(*queue_groups[-1], arn), [*queue_groups[-1], arn]):
            queue_groups[-1].append(arn)
        else:
            queue_groups.append([arn])
    return [*groups, *((_accounts_of(*queues), queues) for queues in queue_groups)]


def _accounts_of(*job_queue_arns: str) -> list[str]:
    return list(dict.fromkeys(account_of(arn) for arn in job_queue_arns))
