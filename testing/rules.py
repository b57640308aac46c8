"""A plan's completion rule, and whether EventBridge would deliver an event to a rule's pattern.

`matches` first checks the pattern as PutRule checks it (testing/pattern_rules.py, from EventBridge's
documented syntax), since moto's matcher accepts patterns EventBridge refuses, then asks moto's
EventBridge matcher (`moto.events.models.EventPattern`, the one the suite and the rehearsal run events
through). moto emulates AWS's matcher; AWS's own answer is the TestEventPattern API
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html), which needs an
account. moto comes with the package's `testing` extra.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from batch_array_notify.testing.pattern_rules import check_pattern
from batch_array_notify.testing.program import Plan

NOTIFIER_TYPE: Final = "batcharray:index:ArrayCompletionNotifier"


def completion_rule(plan: Plan, notifier: str | None = None) -> dict[str, Any]:
    """The event pattern of the rule that sends finished array parents to the notifier Lambda.

    `notifier` is the logical name of the `ArrayCompletionNotifier` (a pipeline's notifier has the
    pipeline's name); it may be left out when the plan has one."""
    # The rehearsal's reading of a plan, so the rule found here is the one it replays (it imports moto).
    from batch_array_notify.testing.rehearsal_world import StackTarget  # noqa: PLC0415

    found = [resource for resource in plan.of_type(NOTIFIER_TYPE) if notifier in (None, resource.name)]
    if len(found) != 1:
        names = [resource.name for resource in plan.of_type(NOTIFIER_TYPE)]
        raise LookupError(f"expected one ArrayCompletionNotifier named {notifier or 'anything'}, found {names}")
    own = [resource for resource in plan.resources if found[0] in (resource, *plan.ancestors(resource))]
    pattern: dict[str, Any] = json.loads(
        StackTarget.from_plan(Plan(plan.project, plan.stack, own, plan.outputs)).event_pattern
    )
    return pattern


def matches(pattern: Mapping[str, Any] | str, event: Mapping[str, Any]) -> bool:
    """Whether a rule with `pattern` (a dict or its JSON) matches `event` (an event as EventBridge delivers
    it: `source`, `detail-type`, `detail`, ...). A pattern PutRule would refuse raises `PatternError`."""
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    check_pattern(text)
    try:
        from moto.events.models import EventPattern  # noqa: PLC0415 (moto is the `testing` extra's)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "matches() needs moto: pip install 'batch-array-notify[testing]'", name=error.name
        ) from None
    matched: bool = EventPattern.load(text).matches_event(dict(event))
    return matched
