"""`batch_array_notify.testing.matches` answers as moto's EventBridge delivers: the stack's rule on the
default bus (RuleHarness) and `matches` on the same pattern pick the same events from a whole stream."""

from __future__ import annotations

import json

from batch_array_notify.testing import ArrayJobSpec, Compute, array_job_events, completion_rule, matches, noise_events
from batch_array_notify.testing.rule_harness import RuleHarness
from tests.integration.rule_fixtures import BLOG_PATTERN, OTHER_QUEUE_ARN, rule_under_test


def test_matches_picks_what_the_rule_delivers(stage_plans):
    rule = completion_rule(stage_plans["dev"])
    queue = rule["detail"]["jobQueue"][0]
    definition = rule["detail"]["jobDefinition"][0]["prefix"] + "3"
    stream = [
        *array_job_events(ArrayJobSpec(queue, definition, size=5, failures=2, failures_before_placement=1)),
        *noise_events(queue, definition, OTHER_QUEUE_ARN, Compute.FARGATE),
    ]

    for pattern in (rule, BLOG_PATTERN):
        with rule_under_test(pattern) as harness:
            harness: RuleHarness
            harness.put(stream)
            delivered = sorted(json.dumps(event["detail"], sort_keys=True) for event in harness.delivered())
        matched = sorted(json.dumps(event["detail"], sort_keys=True) for event in stream if matches(pattern, event))
        assert matched == delivered
        assert matched
