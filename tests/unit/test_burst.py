"""testing/burst.py: the model of Lambda's queue and Batch's token bucket, and the default concurrency it chose."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batch_array_notify.args import DEFAULTS
from batch_array_notify.cli.rehearse import main as rehearse_main
from batch_array_notify.handler.aws import MAX_ATTEMPTS
from batch_array_notify.testing.burst import (
    BATCH_RATE,
    BurstResult,
    Completion,
    LambdaSettings,
    TokenBucket,
    burst_completions,
    chosen_concurrency,
    simulate,
)
from benchmarks import burst_bench

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = (ROOT / "docs" / "reliability.md").read_text()


def completions(count: int, status: str = "SUCCEEDED") -> list[Completion]:
    return [Completion(f"job-{index}", status, index / count) for index in range(count)]


def test_the_bucket_answers_past_its_rate_and_refills_with_time():
    bucket = TokenBucket(rate=10, burst=10)

    assert [bucket.take(0.0) for _ in range(11)] == [True] * 10 + [False]
    assert bucket.take(0.05) is False
    assert bucket.take(0.1) is True


def test_a_small_burst_under_the_rate_is_notified_once_each_without_a_throttle():
    result = simulate(completions(20), LambdaSettings(3, max_retries=2, max_event_age_seconds=3600))

    assert (result.messages, result.duplicates, result.on_failure) == (20, 0, 0)
    assert result.throttled_batch_answers == 0
    assert result.lambda_throttles > 0, "20 at once under 3 environments: Lambda queues the rest"
    assert result.peak_batch_calls_per_second <= 3 * 1 / 0.2 + 3


def test_a_throttle_outlasting_the_retries_fails_the_invocation_and_lambda_retries_it_later():
    # One token a minute: most calls are refused MAX_ATTEMPTS times, then Lambda retries after 1 and 2 minutes.
    result = simulate(
        completions(3), LambdaSettings(3, max_retries=2, max_event_age_seconds=21600), bucket=TokenBucket(1 / 60, 1)
    )

    assert result.function_errors > 0
    assert result.throttled_batch_answers >= MAX_ATTEMPTS
    assert result.messages + result.on_failure == 3
    assert result.duplicates == 0


def test_an_event_past_its_maximum_age_is_dropped_to_the_on_failure_queue():
    result = simulate(completions(300), LambdaSettings(1, max_retries=2, max_event_age_seconds=60))

    assert result.dropped > 0
    assert result.on_failure == result.dropped
    assert result.messages == 300 - result.dropped


def test_a_completion_delivered_twice_is_a_duplicate_not_a_second_message():
    twice = [Completion("job-1", "FAILED", 0.0), Completion("job-1", "FAILED", 0.5)]

    result = simulate(twice, LambdaSettings(2, max_retries=2, max_event_age_seconds=3600))

    assert (result.messages, result.duplicates) == (1, 1)


def test_the_rules_deliveries_arrive_within_one_second_in_job_id_order():
    events = [{"detail": {"jobId": job_id, "status": "SUCCEEDED"}} for job_id in ("b", "a", "c")]

    assert burst_completions(events) == [
        Completion("a", "SUCCEEDED", 0.0),
        Completion("b", "SUCCEEDED", 1 / 3),
        Completion("c", "SUCCEEDED", 2 / 3),
    ]


def test_the_choice_takes_the_largest_concurrency_within_half_the_rate():
    def row(concurrency: str, peak: int, on_failure: int = 0) -> BurstResult:
        result = BurstResult(10, concurrency, messages=10 - on_failure, on_failure=on_failure)
        result.batch_attempts_by_second[0] = peak
        return result

    rows = [row("2", 10), row("3", 25), row("4", 26), row("5", 20, on_failure=1), row("unbounded", 5)]

    assert chosen_concurrency(rows) == 3
    with pytest.raises(ValueError, match="no measured concurrency fits"):
        chosen_concurrency([row("9", int(BATCH_RATE))])


@pytest.fixture(scope="module")
def measured() -> list[BurstResult]:
    return burst_bench.measure()


def test_the_default_reserved_concurrency_is_the_one_the_benchmark_chose(measured):
    assert DEFAULTS["notifier_reserved_concurrency"] == chosen_concurrency(measured)


def test_the_benchmark_table_in_the_docs_is_the_benchmarks(measured):
    assert burst_bench.table(measured) in RELIABILITY
    chosen = chosen_concurrency(measured)
    assert re.search(rf"the on-failure queue: \*\*{chosen}\*\*", RELIABILITY)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--burst", "5", "--size", "7"], "--burst sends its own completions; --size do not apply"),
        (["--burst", "5", "--events", "x.jsonl"], "--burst sends its own completions; --events do not apply"),
        (["--burst", "0"], "--burst: must be 1 to 10000, got 0"),
    ],
)
def test_a_burst_with_a_scenario_of_its_own_is_a_usage_error(argv, says, capsys):
    with pytest.raises(SystemExit) as exited:
        rehearse_main(["--stack", "dev", *argv])

    assert exited.value.code == 2
    assert says in capsys.readouterr().err
