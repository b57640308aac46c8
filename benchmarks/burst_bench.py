"""The notifier's reserved concurrency against a burst of 1,000 completions (testing/burst.py's model, in
simulated time): what each setting costs Batch's account quota and how long the burst takes to drain.
The default (`notifier_reserved_concurrency`) is `chosen_concurrency` of these rows, which a test keeps
in step. Run from the repository root:

    .venv/bin/python -m benchmarks.burst_bench

Lambda's settings are the defaults (2 retries, 21,600 s maximum event age); the burst's completions
arrive evenly within one second, every fifth a FAILED array job.
"""

from __future__ import annotations

from batch_array_notify.args import DEFAULTS
from batch_array_notify.testing.burst import (
    BATCH_RATE,
    FAILED_EVERY,
    NOTIFIER_SHARE_OF_BATCH,
    BurstResult,
    Completion,
    LambdaSettings,
    chosen_concurrency,
    simulate,
)

COMPLETIONS = 1_000
CONCURRENCIES = (1, 2, 3, 4, 5, 6, 8, 10, 20, 50, None)


def burst(count: int = COMPLETIONS) -> list[Completion]:
    return [
        Completion(f"burst-{index:05d}", "FAILED" if index % FAILED_EVERY == 0 else "SUCCEEDED", index / count)
        for index in range(count)
    ]


def measure() -> list[BurstResult]:
    settings = [
        LambdaSettings(concurrency, DEFAULTS["notifier_max_retries"], DEFAULTS["notifier_max_event_age_seconds"])
        for concurrency in CONCURRENCIES
    ]
    completions = burst()
    return [simulate(completions, setting) for setting in settings]


def table(results: list[BurstResult]) -> str:
    rows = [
        "| reserved concurrency | peak Batch calls/s | bucket left to others | throttled Batch answers "
        f"| on-failure | drains a minute | longest wait in Lambda's queue | drain of {COMPLETIONS:,} |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        rows.append(
            f"| {result.concurrency} | {result.peak_batch_calls_per_second} | {result.share_left_to_others:.0%} "
            f"| {result.throttled_batch_answers:,} | {result.on_failure} | {result.drained_per_minute:,.0f} "
            f"| {result.max_event_age_seconds:,.0f} s | {result.drain_seconds:,.0f} s |"
        )
    return "\n".join(rows)


def main() -> None:
    results = measure()
    print(table(results))
    print(
        f"\nchosen: {chosen_concurrency(results)} (the largest whose peak stays within "
        f"{NOTIFIER_SHARE_OF_BATCH:.0%} of Batch's {BATCH_RATE:.0f} calls/s with nothing on the on-failure queue)"
    )


if __name__ == "__main__":
    main()
