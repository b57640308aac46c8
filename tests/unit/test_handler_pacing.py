"""handler/pacing.py: a token bucket on our side, in simulated time."""

from __future__ import annotations

import pytest

from batch_array_notify.handler.pacing import Pacer
from tests.support import SimulatedTime


def calls_in_busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1) for start in times)


def test_a_burst_goes_at_once_then_calls_follow_at_the_rate():
    time = SimulatedTime()
    pacer = Pacer(rate=5, burst=5, clock=time.clock, sleep=time.sleep)

    times = []
    for _ in range(20):
        pacer.wait()
        times.append(time.now)

    assert times[:5] == [0.0] * 5
    assert times[-1] == pytest.approx((20 - 5) / 5)
    assert calls_in_busiest_second(times) <= 5 + 5


def test_a_call_costing_several_tokens_waits_for_all_of_them():
    time = SimulatedTime()
    pacer = Pacer(rate=5, burst=5, clock=time.clock, sleep=time.sleep)

    pacer.wait(4)
    waited = pacer.wait(4)

    assert waited == pytest.approx(3 / 5)
    assert time.now == pytest.approx(0.6)


def test_an_idle_pacer_refills_only_up_to_its_burst():
    time = SimulatedTime()
    pacer = Pacer(rate=2, burst=2, clock=time.clock, sleep=time.sleep)
    time.now = 100.0

    assert [pacer.wait() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_pacer_that_could_never_send_is_refused(rate, burst):
    with pytest.raises(ValueError, match="rate > 0 and burst >= 1"):
        Pacer(rate=rate, burst=burst)


def test_tokens_come_back_at_the_rate_and_a_call_with_enough_of_them_sleeps_not_at_all():
    time = SimulatedTime()
    pacer = Pacer(rate=4, burst=4, clock=time.clock, sleep=time.sleep)
    for _ in range(4):
        pacer.wait()
    time.now += 0.5  # two tokens, at 4 a second

    assert [pacer.wait() for _ in range(3)] == [0.0, 0.0, pytest.approx(0.25)]
    assert time.slept == [pytest.approx(0.25)]


def test_by_default_one_call_goes_at_once_and_the_next_waits_a_whole_interval():
    time = SimulatedTime()
    pacer = Pacer(rate=2, clock=time.clock, sleep=time.sleep)

    assert [pacer.wait(), pacer.wait()] == [0.0, pytest.approx(0.5)]


def test_a_slow_pacer_with_a_bucket_of_one_is_allowed():
    time = SimulatedTime()
    pacer = Pacer(rate=0.5, burst=1, clock=time.clock, sleep=time.sleep)

    assert [pacer.wait(), pacer.wait()] == [0.0, pytest.approx(2.0)]
