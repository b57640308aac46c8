"""The rehearsal of an organisation: member accounts' array jobs through their forwarders, the central intake
bus's policy and rules, to the central notifier, in one moto mock (`batch-array-notify rehearse --stack org`).

What is planned, by the same code path as `batch-array-notify plan`: the central stack (`CentralTarget`: its
intake bus, the bus policy, the rules on that bus, the notifier's environment with `MEMBER_ACCOUNTS`) and,
for each member account it names, the member stack planned in that account (`ForwarderTarget`: the forwarder
rule's pattern, its target bus, the read role's name and trust), wired to the central plan as a deployment
would be (`member_overrides`). A third account that is not a member deploys the same forwarder.

What happens, in `accounts_world` (testing/accounts_world.py), per account: one array job of the same name
runs in Batch there; its events (testing/eventgen.py: every child's, the parent's, other jobs' and a
queue-blocked event, then duplicate deliveries of the parent's terminal event) go through the forwarder's rule
in that account's EventBridge (`RuleHarness`); what it forwards is judged by the central bus policy
(`policy_evaluation`: principal the sender's events role, `events:source`, `events:detail-type`,
`aws:PrincipalOrgID` for the organisation's accounts), then matched against each central rule; each match
runs the real `handler.app.handler` with the central environment. The handler's `sts:AssumeRole` goes
through the read role's trust as `accounts_world` judges it (moto checks none): a wrong external id or a
trust naming another role fails the handler, as STS would.

The organisation's id (for `aws:PrincipalOrgID`) is the central stack's `organizationId` when it has one,
else the one the members' read-role trust names: the rehearsal takes the accounts to be in it. Members run in
the central stack's region only (their queues there; a member listing queues only elsewhere is refused).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Final, cast
from unittest import mock

from botocore.exceptions import ClientError  # type: ignore[import-untyped]  # no type information
from moto.core.models import DEFAULT_ACCOUNT_ID

from batch_array_notify.handler import app as handler_app
from batch_array_notify.handler import aws as handler_aws
from batch_array_notify.handler.aws import new_client
from batch_array_notify.notifier import HANDLER_ENTRY
from batch_array_notify.testing.accounts_world import Account, AccountsWorld, Member, accounts_world
from batch_array_notify.testing.eventgen import (
    ArrayJobSpec,
    Compute,
    array_job_events,
    queue_blocked_event,
    single_job_events,
)
from batch_array_notify.testing.policy_evaluation import Decision, evaluate
from batch_array_notify.testing.program import Plan
from batch_array_notify.testing.rehearsal_world import (
    LambdaContext,
    Notification,
    WorldMismatchError,
    create_idempotency_table,
    handler_logs_to,
    received_notifications,
    reset_handler_caches,
    subscribe_queue,
)
from batch_array_notify.testing.rule_harness import RuleHarness
from batch_array_notify.testing.rules import matches

Event = dict[str, Any]

_FUNCTION: Final = "aws:lambda/function:Function"
_RULE: Final = "aws:cloudwatch/eventRule:EventRule"
_TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"
_BUS_POLICY: Final = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
_ROLE: Final = "aws:iam/role:Role"
_FORWARDER: Final = "batcharray:index:BatchEventForwarder"
_SWEEP_ENTRY: Final = "handler.reconcile.handler"
_ORG_KEY: Final = "aws:PrincipalOrgID"
#: The array job every account runs: the same name everywhere, so that only the account tells them apart.
JOB_NAME: Final = "nightly"
#: The outsider: the first of these that is neither the central account nor a member.
OUTSIDER_CANDIDATES: Final = ("333333333333", "444444444444", "555555555555")
#: The session name EventBridge's assumed events role shows when it puts a forwarded event.
_FORWARDING_SESSION: Final = "forwarding"


def is_central(plan: Plan) -> bool:
    """Whether the plan's notifier runs in central mode (its environment names member accounts)."""
    return any("MEMBER_ACCOUNTS" in _environment(function) for function in plan.of_type(_FUNCTION))


def _environment(function: Any) -> dict[str, str]:
    """A function's environment, secrets (the external id) in the clear: the handler runs with them."""
    variables = (function.revealed_inputs.get("environment") or {}).get("variables") or {}
    return {str(key): str(value) for key, value in variables.items()}


def _organization_in(document: Mapping[str, Any]) -> str | None:
    """The `aws:PrincipalOrgID` a policy's StringEquals conditions name, if any."""
    for statement in document.get("Statement", []):
        for key, value in ((statement.get("Condition") or {}).get("StringEquals") or {}).items():
            if key.lower() == _ORG_KEY.lower():
                return str(value)
    return None


@dataclass(frozen=True)
class CentralTarget:
    """What the rehearsal needs of the central stack's plan."""

    stack: str
    region: str
    account: str
    intake_bus_arn: str
    bus_policy: Mapping[str, Any]
    rule_patterns: tuple[str, ...]
    function_name: str
    handler_environment: Mapping[str, str]
    #: The notifier's role (first) and the sweep's: the roles a member's read role trusts.
    role_arns: tuple[str, ...]
    #: Member account -> the queues its entry lists (empty: any queue of the account).
    member_queues: Mapping[str, tuple[str, ...]]

    @property
    def organization_id(self) -> str | None:
        return _organization_in(self.bus_policy)

    @classmethod
    def from_plan(cls, plan: Plan) -> CentralTarget:
        functions = plan.of_type(_FUNCTION)
        notifiers = [
            f for f in functions if f.inputs.get("handler") == HANDLER_ENTRY and "MEMBER_ACCOUNTS" in _environment(f)
        ]
        policies = plan.of_type(_BUS_POLICY)
        if len(notifiers) != 1 or len(policies) != 1:
            raise WorldMismatchError(
                f"expected one central notifier and one intake bus policy in stack {plan.stack}, "
                f"found {len(notifiers)} and {len(policies)}"
            )
        notifier, policy = notifiers[0], policies[0]
        environment = _environment(notifier)
        bus_name = policy.inputs["eventBusName"]
        buses = [bus for bus in plan.of_type("aws:cloudwatch/eventBus:EventBus") if bus.state.get("name") == bus_name]
        rules = {
            rule.state.get("name"): rule for rule in plan.of_type(_RULE) if rule.inputs.get("eventBusName") == bus_name
        }
        patterns = tuple(
            str(rules[target.inputs["rule"]].inputs["eventPattern"])
            for target in plan.of_type(_TARGET)
            if target.inputs.get("arn") == notifier.state.get("arn") and target.inputs.get("rule") in rules
        )
        if len(buses) != 1 or not patterns:
            raise WorldMismatchError(f"expected the intake bus {bus_name} and its rules to the notifier in the plan")
        sweeps = [f for f in functions if f.inputs.get("handler") == _SWEEP_ENTRY]
        members = json.loads(environment["MEMBER_ACCOUNTS"])
        _, _, _, region, account, _ = str(buses[0].state["arn"]).split(":", 5)
        return cls(
            stack=plan.stack,
            region=region,
            account=account,
            intake_bus_arn=str(buses[0].state["arn"]),
            bus_policy=json.loads(policy.inputs["policy"]),
            rule_patterns=patterns,
            function_name=str(notifier.state["name"]),
            handler_environment=environment,
            role_arns=tuple(str(function.inputs["role"]) for function in [notifier, *sweeps]),
            member_queues={account: tuple(entry.get("jobQueueArns") or ()) for account, entry in members.items()},
        )

    def outsider(self) -> str:
        return next(a for a in OUTSIDER_CANDIDATES if a != self.account and a not in self.member_queues)

    def member_overrides(self, account: str) -> dict[str, str]:
        """The member stack's config as a deployment wires it to this central stack: its bus and roles, the
        central region, and the member's queues there (none listed: every queue of the account)."""
        overrides = {
            "aws:region": self.region,
            "batch-array-notify:centralBusArn": self.intake_bus_arn,
            "batch-array-notify:centralNotifierRoleArns": json.dumps(list(self.role_arns)),
        }
        listed = self.member_queues.get(account, ())
        here = [arn for arn in listed if arn.split(":")[3] == self.region]
        if listed and not here:
            raise WorldMismatchError(
                f"member {account} lists no queue in {self.region}, the central stack's region, where the "
                "rehearsal runs"
            )
        if here:
            overrides["batch-array-notify:jobQueueArns"] = json.dumps(here)
        return overrides


@dataclass(frozen=True)
class ForwarderTarget:
    """What the rehearsal needs of a member stack's plan (planned in the member's account)."""

    account: str
    pattern: str
    bus_arn: str
    events_role_arn: str
    read_role_name: str
    read_role_trust: Mapping[str, Any]
    #: The queue the account's array job runs on: the first the rule names, else one named `rehearsal`.
    queue_arn: str

    @classmethod
    def from_plan(cls, plan: Plan, account: str, region: str) -> ForwarderTarget:
        forwarders = plan.of_type(_FORWARDER)
        targets = plan.of_type(_TARGET)
        if len(forwarders) != 1 or len(targets) != 1:
            raise WorldMismatchError(
                f"expected one BatchEventForwarder with one target in stack {plan.stack}, found {len(forwarders)}"
            )
        target = targets[0]
        rule = next(r for r in plan.of_type(_RULE) if r.state.get("name") == target.inputs["rule"])
        read_role_arn = forwarders[0].outputs.get("read_role_arn")
        roles = [role for role in plan.of_type(_ROLE) if role.state.get("arn") == read_role_arn]
        if len(roles) != 1:
            raise WorldMismatchError(
                f"the member stack {plan.stack} declares no read role in account {account}: plan it with "
                "batch-array-notify:readRole true (the account's one forwarder that declares it)"
            )
        pattern = str(rule.inputs["eventPattern"])
        queues = json.loads(pattern).get("detail", {}).get("jobQueue") or [
            f"arn:aws:batch:{region}:{account}:job-queue/rehearsal"
        ]
        return cls(
            account=account,
            pattern=pattern,
            bus_arn=str(target.inputs["arn"]),
            events_role_arn=str(target.inputs["roleArn"]),
            read_role_name=str(roles[0].state["name"]),
            read_role_trust=json.loads(roles[0].revealed_inputs["assumeRolePolicy"]),
            queue_arn=str(queues[0]),
        )


# --------------------------------------------------------------------------------------------------
# The run


@dataclass
class AccountTally:
    """What happened to one account's events, hop by hop."""

    account: str
    member: bool
    job_id: str = ""
    events: int = 0
    forwarded: int = 0
    admitted: int = 0
    refused: int = 0
    refusal: str = ""
    central_matches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Forwarded events that are not the array job's terminal event (children, other jobs).
    stray: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "member": self.member,
            "jobId": self.job_id,
            "events": self.events,
            "forwarded": self.forwarded,
            "admitted": self.admitted,
            "refused": self.refused,
            "centralMatches": self.central_matches,
            "handlerOutcomes": dict(self.outcomes),
        }


@dataclass
class OrganisationRehearsal:
    central: CentralTarget
    size: int
    duplicates: int
    accounts: list[AccountTally]
    notifications: list[Notification]
    errors: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "centralAccount": self.central.account,
            "accounts": [tally.to_json() for tally in self.accounts],
            "notifications": [
                {**notification.summary(), "account": notification.document.get("account")}
                for notification in self.notifications
            ],
            "exact": self.exact,
            "problems": self.problems,
        }


def rehearse_organisation(
    central: CentralTarget,
    forwarders: Mapping[str, ForwarderTarget],
    *,
    size: int,
    duplicates: int,
    handler_log: IO[str] | None = None,
) -> OrganisationRehearsal:
    """Run the organisation's rehearsal: `forwarders` by account, the members' and the outsider's."""
    if central.account != DEFAULT_ACCOUNT_ID:
        raise WorldMismatchError(
            f"the central plan is in account {central.account}, moto's default is {DEFAULT_ACCOUNT_ID}"
        )
    members = [account for account in forwarders if account in central.member_queues]
    trusts = [_organization_in(forwarders[account].read_role_trust) for account in members]
    organization_id = central.organization_id or next((org for org in trusts if org), None)
    tallies = [AccountTally(account, account in central.member_queues) for account in forwarders]
    errors: list[str] = []
    with (
        accounts_world(central.region, (central.account, *members), organization_id) as world,
        open(os.devnull, "w") if handler_log is None else contextlib.nullcontext(handler_log) as log,
        handler_logs_to(log),
        _central_environment(central),
    ):
        subscriber = _central_resources(central)
        notifier = world.act_as(central.role_arns[0], "notifier")
        _judge_assume_role_by_trust(world, notifier)
        context = cast("Any", LambdaContext.of_function(central.function_name, central.region))
        for tally in tallies:
            forwarder = forwarders[tally.account]
            member = world.add_member(
                tally.account,
                forwarder.read_role_trust,
                queue_name=forwarder.queue_arn.rpartition("/")[2],
                read_role=forwarder.read_role_name,
            )
            forwarded = _forward(member, forwarder, tally, size, duplicates)
            for event in forwarded:
                decision = _bus_admits(central, world, forwarder, event)
                if not decision.allowed:
                    tally.refused += 1
                    tally.refusal = tally.refusal or decision.why
                    continue
                tally.admitted += 1
                for pattern in central.rule_patterns:
                    if matches(pattern, event):  # moto's matcher, the harness's
                        tally.central_matches += 1
                        _invoke(event, context, tally, errors)
        notifications = received_notifications(new_client("sqs", region=central.region), subscriber)
    rehearsal = OrganisationRehearsal(central, size, duplicates, tallies, notifications, errors)
    rehearsal.problems = _judge(rehearsal)
    return rehearsal


@contextlib.contextmanager
def _central_environment(central: CentralTarget) -> Iterator[None]:
    """The central notifier's environment, and fresh handler caches, both put back afterwards."""
    with mock.patch.dict(os.environ, dict(central.handler_environment)):
        reset_handler_caches()
        try:
            yield
        finally:
            reset_handler_caches()


def _central_resources(central: CentralTarget) -> str:
    """The central account's topic (under the plan's name) and idempotency table; the topic's subscriber."""
    topic_arn = central.handler_environment["TOPIC_ARN"]
    minted = new_client("sns", region=central.region).create_topic(Name=topic_arn.rpartition(":")[2])["TopicArn"]
    if minted != topic_arn:
        raise WorldMismatchError(f"the plan's topic is {topic_arn} but moto minted {minted}")
    create_idempotency_table(central.handler_environment["IDEMPOTENCY_TABLE"], central.region)
    return subscribe_queue(topic_arn, "organisation-rehearsal-subscriber", central.region)


def _judge_assume_role_by_trust(world: AccountsWorld, notifier: Account) -> None:
    """The handler's AssumeRole (its own STS client, as the notifier's role) is judged by the role's trust
    before moto answers: refused as STS refuses (`AccessDenied`), which moto never does."""

    def judge(params: Mapping[str, Any], **_: Any) -> None:
        world.check_trust(notifier, str(params["RoleArn"]), params.get("ExternalId"))

    handler_aws.client("sts").meta.events.register("before-parameter-build.sts.AssumeRole", judge)


def _forward(
    member: Member, forwarder: ForwarderTarget, tally: AccountTally, size: int, duplicates: int
) -> list[Event]:
    """The account's array job in Batch, its events and some noise through the forwarder's rule there."""
    tally.job_id = member.submit_array_job(JOB_NAME, size)
    queue, definition = member.job_queue_arn, member.job_definition_arn
    events = list(
        array_job_events(ArrayJobSpec(queue, definition, size, parent_job_id=tally.job_id, job_name=JOB_NAME))
    )
    terminal = events[-1]  # the parent's terminal event comes last
    events += [
        *single_job_events(queue, definition, Compute.EC2, "SUCCEEDED", job_name="noise-single"),
        *single_job_events(queue, definition, Compute.EC2, "FAILED", job_name="noise-single"),
        queue_blocked_event(queue, definition, job_name="noise-blocked"),
        *[terminal] * duplicates,  # at-least-once delivery: the same event again
    ]
    harness = RuleHarness(
        forwarder.pattern, region=member.account.region, name=f"forward-{tally.account}", session=member.account.session
    )
    tally.events = harness.put(events)
    forwarded = harness.delivered()
    tally.forwarded = len(forwarded)
    tally.stray = sum(1 for event in forwarded if event.get("detail") != terminal["detail"])
    return forwarded


def _bus_admits(central: CentralTarget, world: AccountsWorld, forwarder: ForwarderTarget, event: Event) -> Decision:
    """The intake bus policy's decision on the forwarder's PutEvents of `event` (as its events role)."""
    if forwarder.bus_arn != central.intake_bus_arn:
        return Decision(
            False, f"the forwarder targets {forwarder.bus_arn}, not the intake bus {central.intake_bus_arn}"
        )
    role_name = forwarder.events_role_arn.rpartition("/")[2]
    sender = f"arn:aws:sts::{forwarder.account}:assumed-role/{role_name}/{_FORWARDING_SESSION}"
    context = {"events:source": str(event["source"]), "events:detail-type": str(event["detail-type"])}
    if world.organization_id is not None and forwarder.account in world.organization_accounts:
        context[_ORG_KEY] = world.organization_id
    return evaluate(
        central.bus_policy,
        principal=sender,
        action="events:PutEvents",
        resource=central.intake_bus_arn,
        context=context,
    )


def _invoke(event: Event, context: Any, tally: AccountTally, errors: list[str]) -> None:
    """The notifier on one event; its stdout is its metrics (EMF), not the report's."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = handler_app.handler(event, context)
        tally.outcomes[str(result.get("outcome"))] += 1
    except Exception as error:  # Lambda would retry; the rehearsal reports it
        cause = error.__cause__
        why = f" ({cause.response['Error']['Message']})" if isinstance(cause, ClientError) else ""
        errors.append(f"account {tally.account}: {type(error).__name__}: {error}{why}")
        tally.outcomes["raised"] += 1


def _judge(rehearsal: OrganisationRehearsal) -> list[str]:
    problems: list[str] = []
    notified = Counter((n.document.get("account"), n.job_id) for n in rehearsal.notifications)
    expected = {(tally.account, tally.job_id) for tally in rehearsal.accounts if tally.member}
    for tally in rehearsal.accounts:
        if tally.stray:
            problems.append(
                f"account {tally.account}: the forwarder forwarded {tally.stray} events other than the array "
                "job's terminal one"
            )
        if tally.member:
            if tally.refused:
                problems.append(
                    f"member {tally.account}: the intake bus refused {tally.refused} events ({tally.refusal})"
                )
            if tally.central_matches != tally.admitted:
                problems.append(
                    f"member {tally.account}: the central rules matched {tally.central_matches} of its "
                    f"{tally.admitted} admitted events"
                )
            count = notified[(tally.account, tally.job_id)]
            if count != 1:
                problems.append(
                    f"member {tally.account}: {count} notifications of array job {tally.job_id}, expected 1"
                )
        elif tally.admitted:
            problems.append(
                f"account {tally.account} is not a member, yet the intake bus admitted {tally.admitted} of its events"
            )
    others = sum(count for key, count in notified.items() if key not in expected)
    if others:
        problems.append(f"{others} notifications about other jobs or accounts")
    if rehearsal.errors:
        problems.append(f"{len(rehearsal.errors)} handler invocations raised, first: {rehearsal.errors[0]}")
    return problems


def render_organisation(rehearsal: OrganisationRehearsal) -> str:
    central = rehearsal.central
    members = [tally.account for tally in rehearsal.accounts if tally.member]
    outsiders = [tally.account for tally in rehearsal.accounts if not tally.member]
    lines = [
        f"Rehearsal of stack {central.stack} (organisation): central account {central.account}, members "
        f"{', '.join(members)}, not a member {', '.join(outsiders)}; an array job {JOB_NAME!r} of {rehearsal.size} "
        f"in each, {rehearsal.duplicates} duplicate deliveries",
        f"  {'account':<14}{'':<12}{'events':>7}{'forwarded':>11}{'admitted':>10}{'refused':>9}"
        f"{'matched':>9}{'notified':>10}",
    ]
    notified = Counter(n.document.get("account") for n in rehearsal.notifications)
    for tally in rehearsal.accounts:
        lines.append(
            f"  {tally.account:<14}{'member' if tally.member else 'not member':<12}{tally.events:>7}"
            f"{tally.forwarded:>11}{tally.admitted:>10}{tally.refused:>9}{tally.central_matches:>9}{notified[tally.account]:>10}"
        )
    for tally in rehearsal.accounts:
        if tally.refusal:
            lines.append(f"  refused at the intake bus, {tally.account}: {tally.refusal}")
        duplicates = tally.outcomes.get("duplicate", 0)
        if duplicates:
            lines.append(f"  duplicates the notifier dropped, {tally.account}: {duplicates}")
    if rehearsal.exact:
        lines.append(
            "  exact: yes - one notification per member array job, naming its account; nothing from the others"
        )
    else:
        lines.append("  exact: NO")
        lines += [f"    - {problem}" for problem in rehearsal.problems]
    for number, notification in enumerate(rehearsal.notifications, start=1):
        lines += ["", f"Notification {number}", f"Subject: {notification.subject}", "", notification.body.rstrip()]
    return "\n".join(lines) + "\n"


def plan_forwarders(
    central: CentralTarget, plan_member: Callable[[str, Mapping[str, str]], Plan], member_config: Mapping[str, str]
) -> dict[str, ForwarderTarget]:
    """Each member's forwarder, and the outsider's, from `plan_member(account, config overrides)`: the member
    stack planned in that account, wired to the central plan, then `member_config` over it."""
    return {
        account: ForwarderTarget.from_plan(
            plan_member(account, {**central.member_overrides(account), **member_config}), account, central.region
        )
        for account in [*central.member_queues, central.outsider()]
    }
