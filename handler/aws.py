"""The one place that makes AWS clients.

Every AWS call of the handler goes through a client from `client()`, all made from one boto3 session,
so a test can observe every call by registering a botocore hook on `session().events` before the first
client is made (clients copy the session's event hooks when they are created). boto3 is imported here,
on first use, rather than at module import: ignored events never pay for it.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Literal

from .settings import settings

ServiceName = Literal["batch", "sns", "dynamodb", "events", "logs"]
#: Per-service client settings. Log tails are optional extras: one attempt (no retries of a throttled or
#: failed call) and short socket timeouts, so reading them can never hold a notification back for long
#: (handler/log_tails.py: CALL_TIMEOUT_SECONDS is their sum).
_CLIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "logs": {"connect_timeout": 1, "read_timeout": 2, "retries": {"total_max_attempts": 1, "mode": "standard"}},
}


@functools.cache
def session() -> Any:
    """The boto3 session (typed `Any`: boto3 ships no type information)."""
    # Imported on first use: boto3 costs ~200 ms to import.
    boto3 = importlib.import_module("boto3")
    return boto3.session.Session(region_name=settings().region)


@functools.cache
def client(service: ServiceName) -> Any:
    """A cached client for `service`."""
    settings = _CLIENT_SETTINGS.get(service)
    if settings is None:
        return session().client(service)
    config = importlib.import_module("botocore.config").Config(**settings)
    return session().client(service, config=config)


def reset() -> None:
    """Forget the session and clients (tests switch credentials, regions and mocks between cases)."""
    client.cache_clear()
    session.cache_clear()
