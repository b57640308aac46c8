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

from batch_array_notify.notifier import HANDLER_ENTRY
from batch_array_notify.testing.pattern_rules import check_pattern
from batch_array_notify.testing.program import Plan

NOTIFIER_TYPE: Final = "batcharray:index:ArrayCompletionNotifier"
_FUNCTION: Final = "aws:lambda/function:Function"
_RULE: Final = "aws:cloudwatch/eventRule:EventRule"
_TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"


def completion_rule(plan: Plan, notifier: str | None = None) -> dict[str, Any]:
    """The event pattern of the rule that sends finished array parents to the notifier Lambda.

    `notifier` is the logical name of the `ArrayCompletionNotifier` (a pipeline's notifier has the
    pipeline's name); it may be left out when the plan has one. Found through the rule's target, the
    notifier's function: the notifier also owns other rules (the blocked-queue alert, a downstream
    function's rule on the completion bus)."""
    found = [resource for resource in plan.of_type(NOTIFIER_TYPE) if notifier in (None, resource.name)]
    if len(found) != 1:
        names = [resource.name for resource in plan.of_type(NOTIFIER_TYPE)]
        raise LookupError(f"expected one ArrayCompletionNotifier named {notifier or 'anything'}, found {names}")
    own = [resource for resource in plan.resources if found[0] in plan.ancestors(resource)]
    functions = {r.state.get("arn") for r in own if r.type == _FUNCTION and r.inputs.get("handler") == HANDLER_ENTRY}
    rules = {r.state.get("name"): r for r in own if r.type == _RULE}
    targeted = [
        rules[target.inputs["rule"]]
        for target in own
        if target.type == _TARGET and target.inputs.get("arn") in functions and target.inputs.get("rule") in rules
    ]
    if len(targeted) != 1:
        raise LookupError(f"expected one rule targeting the notifier of {found[0].name}, found {len(targeted)}")
    pattern: dict[str, Any] = json.loads(targeted[0].inputs["eventPattern"])
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
