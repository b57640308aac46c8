"""handler.completion without AWS: when a report counts as published, and when it was a duplicate."""

from __future__ import annotations

import pytest

from batch_array_notify.handler import completion
from batch_array_notify.handler.metrics import duplicate_metrics
from tests.unit.test_handler_metrics import STOPPED_MS, SUCCEEDED


@pytest.fixture
def delivered(monkeypatch):
    """Make every sink answer with `results` (set by the test) instead of calling AWS."""
    results: list[dict] = []
    monkeypatch.setattr(completion, "deliver", lambda report, context: results)
    return results


def test_the_lag_runs_from_the_parents_stop_to_the_clock_after_delivery(delivered):
    delivered[:] = [{"sink": "sns", "messageId": "m-1"}]
    published_s = (STOPPED_MS + 2_500) / 1000

    reported = completion.deliver_once(SUCCEEDED, None, clock=lambda: published_s)

    assert (reported.report, reported.deliveries, reported.duplicate) == (SUCCEEDED, delivered, False)
    (lag,) = [m for m in reported.metrics if m.name == "NotificationLagSeconds"]
    assert lag.value == 2.5


def test_a_report_every_sink_sent_before_counts_only_as_a_duplicate(delivered):
    delivered[:] = [{"sink": "sns", "duplicate": True}, {"sink": "eventbridge", "duplicate": True}]

    reported = completion.deliver_once(SUCCEEDED, None, clock=lambda: STOPPED_MS / 1000)

    assert reported.duplicate
    assert reported.metrics == duplicate_metrics()


def test_one_sink_sending_for_the_first_time_is_not_a_duplicate(delivered):
    delivered[:] = [{"sink": "sns", "duplicate": True}, {"sink": "chat", "messageId": "m-2"}]

    reported = completion.deliver_once(SUCCEEDED, None, clock=lambda: STOPPED_MS / 1000)

    assert not reported.duplicate
    assert "ArrayJobsSucceeded" in {m.name for m in reported.metrics}
