"""The one place that makes AWS clients, for the handler, the sweep and the tools.

Every client comes from `new_client()`, with botocore's **standard** retry mode and at most
`MAX_ATTEMPTS` attempts per call (`retry_config()`). Standard, not adaptive: adaptive mode's client-side
rate limiter lives in one client of one process, and a burst runs in many Lambda environments at once,
so it cannot pace them; the notifier's reserved concurrency does that, and the sweep and redrive pace
themselves (`pacing.py`). Standard mode waits `rand(0, 1) * min(2 ** i, 20)` seconds before retry `i`
after a throttle (botocore `retries/standard.py`, `ExponentialBackoff`), so 5 attempts ride out 4
throttled answers in a row within at most 1 + 2 + 4 + 8 = 15 s; botocore's default (3 attempts, about a
second) gave up during a burst. A throttle that outlasts them raises: the handler makes its Batch calls
before any sink runs, so nothing is sent, no idempotency record is written, and Lambda retries.

The handler's calls in its own account go through `client()`, all made from one boto3 session, so a test
can observe every call by registering a botocore hook on `session().events` before the first client is
made (clients copy the session's event hooks when they are created); a member account's (central mode)
come from that account's session (accounts.py), made by `counted_session` like this one. Throttled Batch
answers, retried or not, are counted (`take_throttled_calls()`) for the `BatchCallsThrottled` metric. boto3
is imported on first use, not at module import: ignored events never pay for it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, Final, Literal

from .settings import settings

ServiceName = Literal["batch", "sns", "dynamodb", "events", "logs", "sts"]
#: Per-service client settings. Log tails are optional extras: one attempt (no retries of a throttled or
#: failed call) and short socket timeouts, so reading them can never hold a notification back for long
#: (handler/log_tails.py: CALL_TIMEOUT_SECONDS is their sum).
_CLIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "logs": {"connect_timeout": 1, "read_timeout": 2, "attempts": 1},
}

#: botocore's retry mode for every client (`standard` or `adaptive`; `legacy` is not allowed).
RETRY_MODE: Final = "standard"
#: Attempts per call, the first included: 4 throttled answers in a row are ridden out.
MAX_ATTEMPTS: Final = 5

_throttled_batch_calls = 0


def retry_config(attempts: int = MAX_ATTEMPTS, **options: Any) -> Any:
    """A botocore `Config` with the project's retry mode and `attempts`, plus `options` (e.g. read_timeout)."""
    config = importlib.import_module("botocore.config")
    return config.Config(retries={"mode": RETRY_MODE, "total_max_attempts": attempts}, **options)


def new_client(
    service: str, *, region: str | None = None, session: Any = None, attempts: int = MAX_ATTEMPTS, **options: Any
) -> Any:
    """A client of `session` (default: a new boto3 session) for `service` in `region`, with `retry_config`.
    Typed `Any`: boto3 ships no type information."""
    if session is None:
        session = importlib.import_module("boto3").session.Session()
    return session.client(service, region_name=region, config=retry_config(attempts, **options))


@functools.cache
def session() -> Any:
    """The handler's boto3 session (typed `Any`: boto3 ships no type information)."""
    return counted_session(region=settings().region)


def counted_session(*, region: str, botocore_session: Any = None) -> Any:
    """A boto3 session whose Batch answers are counted (`take_throttled_calls`): the handler's, and each
    member account's (accounts.py, over a botocore session holding that account's credentials)."""
    # Imported on first use: boto3 costs ~200 ms to import.
    boto3 = importlib.import_module("boto3")
    made = boto3.session.Session(region_name=region, botocore_session=botocore_session)
    made.events.register_first("needs-retry.batch", _count_throttle)
    return made


@functools.cache
def client(service: ServiceName) -> Any:
    """A cached client of the handler's session for `service`: the project's retries, except where
    `_CLIENT_SETTINGS` says otherwise."""
    return service_client(service, region=settings().region, session=session())


def service_client(service: ServiceName, *, region: str, session: Any) -> Any:
    """A client of `session` for `service` in `region` with the settings every handler client has."""
    return new_client(service, region=region, session=session, **_CLIENT_SETTINGS.get(service, {}))


def _count_throttle(**attempt: Any) -> None:
    """botocore's own judgement of each Batch answer (called for every attempt, retried or final)."""
    global _throttled_batch_calls  # noqa: PLW0603 (one counter per execution environment)
    standard = importlib.import_module("botocore.retries.standard")
    if attempt.get("response") is not None and _throttling_detector(standard).is_throttling_error(**attempt):
        _throttled_batch_calls += 1


@functools.cache
def _throttling_detector(standard: Any) -> Any:
    return standard.ThrottlingErrorDetector(standard.RetryEventAdapter())


def take_throttled_calls() -> int:
    """Batch answers throttled since the last call (then counted from zero again)."""
    global _throttled_batch_calls
    taken, _throttled_batch_calls = _throttled_batch_calls, 0
    return taken


def pace_batch_calls(wait: Callable[[], object], batch_client: Any = None) -> None:
    """Call `wait` before every Batch request `batch_client` (default: the handler's) sends, retries
    included (the sweep's pacer). One pacer per client: a warm environment's next invocation replaces the
    last one's."""

    def before_send(**_: Any) -> None:
        wait()  # returns None: a before-send hook that returned a value would stand in for the response

    events = (batch_client or client("batch")).meta.events
    events.unregister("before-send.batch", unique_id="pace-batch-calls")
    events.register("before-send.batch", before_send, unique_id="pace-batch-calls")


def reset() -> None:
    """Forget the session, clients and counts (tests switch credentials, regions and mocks between cases)."""
    client.cache_clear()
    session.cache_clear()
    take_throttled_calls()
