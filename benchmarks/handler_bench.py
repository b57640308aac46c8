"""Completion handler benchmark on moto: work per notification must not grow with the array.

For array size N in {2, 1000, 10000} and failed children F in {0, ceil(N/10), N}: wall time of one
warm invocation, the part of it spent reading the failed children's log tails (each shown child's
stream holds 30 lines), AWS calls by IAM action, messages published, EMF metric documents written
(stdout, kept off the table). Also the handler's cold import time and the zipped size of the code
asset. Run from the repository root:

    .venv/bin/python -m benchmarks.handler_bench

Targets (issues 3 and 22): at most 4 Batch calls whatever N and F, and at most 4 + failedLogChildren
Batch and Logs calls together; import under 300 ms, asset under 50 KB.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from batch_array_notify.handler import completion
from batch_array_notify.handler.app import handler, logger
from batch_array_notify.handler.report import DEFAULT_LOG_GROUP
from batch_array_notify.handler.settings import DEFAULT_FAILED_LOG_CHILDREN
from batch_array_notify.notifier import handler_sources
from batch_array_notify.testing.emf import read_documents
from batch_array_notify.testing.rehearsal_world import MOTO_CONFIG, reset_handler_caches
from tests.integration.moto_stack import (
    FAKE_AWS_ENVIRONMENT,
    MotoBatch,
    TopicSubscriber,
    create_batch_stack,
    handler_environment,
    make_lambda_context,
    record_aws_calls,
)

ROOT = Path(__file__).resolve().parents[1]
SIZES = (2, 1_000, 10_000)
MAX_BATCH_CALLS = 4
#: One GetLogEvents per failed child shown, on top of the Batch calls.
MAX_BATCH_AND_LOGS_CALLS = MAX_BATCH_CALLS + DEFAULT_FAILED_LOG_CHILDREN
LOG_LINES_PER_CHILD = 30
IMPORT_TARGET_MS = 300
ASSET_TARGET_BYTES = 50 * 1024
IMPORT_RUNS = 5


def failure_counts(size: int) -> list[int]:
    return sorted({0, math.ceil(size / 10), size})


def measure_invocations() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    os.environ.update(FAKE_AWS_ENVIRONMENT)
    with mock_aws(config=MOTO_CONFIG):
        stack = create_batch_stack()
        os.environ.update(handler_environment(stack))
        reset_handler_caches()
        calls = record_aws_calls()
        tails_seconds = _time_log_tails()
        boto3.client("logs").create_log_group(logGroupName=DEFAULT_LOG_GROUP)
        batch, subscriber, context = MotoBatch(stack), TopicSubscriber(stack), make_lambda_context()
        # A warm-up completion so the table shows warm invocations (clients, idempotency set up).
        with contextlib.redirect_stdout(io.StringIO()):
            handler(batch.completion_event(batch.submit_array_job(size=2)), context)
        subscriber.notifications()
        for size in SIZES:
            for failed in failure_counts(size):
                event = batch.completion_event(_array_job(batch, size, failed))
                before = Counter(calls)
                tails_seconds.clear()
                metrics = io.StringIO()
                started = time.perf_counter()
                with contextlib.redirect_stdout(metrics):
                    handler(event, context)
                elapsed_ms = (time.perf_counter() - started) * 1000
                used = calls - before
                rows.append(
                    {
                        "N": size,
                        "F": failed,
                        "ms": elapsed_ms,
                        "tails ms": sum(tails_seconds) * 1000,
                        "calls": used,
                        "messages": len(subscriber.notifications()),
                        "EMF documents": len(read_documents(metrics.getvalue().splitlines())),
                    }
                )
    return rows


def _time_log_tails() -> list[float]:
    """Seconds spent in each reading of log tails (`with_log_tails`), appended as the handler runs."""
    spent: list[float] = []
    read = completion.with_log_tails

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return read(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    completion.with_log_tails = timed  # type: ignore[assignment]
    return spent


def _array_job(batch: MotoBatch, size: int, failed: int) -> str:
    if failed == size:
        os.environ["MOTO_SIMPLE_BATCH_FAIL_AFTER"] = "0"
        try:
            parent_id = batch.submit_array_job(size=size)
        finally:
            del os.environ["MOTO_SIMPLE_BATCH_FAIL_AFTER"]
        _write_logs(batch, parent_id, range(min(DEFAULT_FAILED_LOG_CHILDREN, size)))
        return parent_id
    parent_id = batch.submit_array_job(size=size)
    if failed:
        # Spread like real failures, not all at the front of the array.
        indexes = [(2 * k + 1) * size // (2 * failed) for k in range(failed)]
        batch.fail_children(parent_id, indexes, reason="Essential container in task exited")
        _write_logs(batch, parent_id, indexes[:DEFAULT_FAILED_LOG_CHILDREN])
    return parent_id


def _write_logs(batch: MotoBatch, parent_id: str, indexes: Iterable[int]) -> None:
    """The streams of the failed children the report shows first, each with `LOG_LINES_PER_CHILD` lines."""
    logs = boto3.client("logs")
    now = int(time.time() * 1000)
    for index in indexes:
        stream = batch.describe_job(f"{parent_id}:{index}")["container"]["logStreamName"]
        logs.create_log_stream(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream)
        events = [{"timestamp": now + n, "message": f"child {index} line {n}"} for n in range(LOG_LINES_PER_CHILD)]
        logs.put_log_events(logGroupName=DEFAULT_LOG_GROUP, logStreamName=stream, logEvents=events)


def unpacked_asset(directory: Path) -> Path:
    """The code asset as Lambda unpacks it: `handler/*.py` at the top of the task root."""
    for name, source in handler_sources().items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(source.read_bytes())
    return directory


def cold_import_ms(modules: list[str]) -> list[float]:
    """`-X importtime` of importing `modules` in fresh interpreters, from the unpacked code asset as
    Lambda imports `handler.app` (not through the component package, which imports Pulumi): the sum of
    their top-level cumulative times (a module another one already imported costs nothing more)."""
    timings = []
    for _ in range(IMPORT_RUNS):
        # A new task root each run: Lambda's is read-only, so the handler's modules are compiled at
        # every cold start, while the layer's packages come precompiled.
        with tempfile.TemporaryDirectory() as task_root:
            timings.append(_import_once(modules, unpacked_asset(Path(task_root))))
    return timings


def _import_once(modules: list[str], task_root: Path) -> float:
    # `-c` puts the working directory, the task root, first on the path, as Lambda does; the installed
    # package is `batch_array_notify`, so `handler` can only come from the task root.
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {', '.join(modules)}"],
        cwd=task_root,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    top_level = re.findall(r"^import time:\s+\d+ \|\s+(\d+) \| (\S+)$", stderr, re.MULTILINE)
    return sum(int(us) for us, name in top_level if name in modules) / 1000


def asset_bytes() -> tuple[int, int]:
    """Zipped size of the code asset (the handler package's modules, as the component ships it) and file count."""
    sources = handler_sources()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sources.items():
            archive.write(path, name)
    return len(buffer.getvalue()), len(sources)


def main() -> int:
    # One JSON log line per invocation would bury the table.
    logger.setLevel("WARNING")
    rows = measure_invocations()
    actions = sorted({action for row in rows for action in row["calls"]})  # type: ignore[attr-defined]
    header = ["N", "F", "wall ms", "of it log tails ms", *actions, "Batch calls", "Batch + Logs calls"]
    header += ["messages", "EMF documents"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    worst_batch_calls = worst_with_logs = 0
    for row in rows:
        calls: Counter[str] = row["calls"]  # type: ignore[assignment]
        batch_calls = sum(n for action, n in calls.items() if action.startswith("batch:"))
        with_logs = batch_calls + calls["logs:GetLogEvents"]
        worst_batch_calls = max(worst_batch_calls, batch_calls)
        worst_with_logs = max(worst_with_logs, with_logs)
        cells = [row["N"], row["F"], f"{row['ms']:.0f}", f"{row['tails ms']:.0f}", *(calls[a] for a in actions)]
        cells += [batch_calls, with_logs, row["messages"], row["EMF documents"]]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")

    imports = cold_import_ms(["handler.app"])
    # Best of N, as timeit advises: the box is shared, so slower runs measure other processes too.
    import_ms = min(imports)
    with_deferred = min(cold_import_ms(["handler.app", "boto3", "aws_lambda_powertools.utilities.idempotency"]))
    size, files = asset_bytes()
    print()
    print(
        f"cold import of handler.app (best of {IMPORT_RUNS}): {import_ms:.0f} ms, median "
        f"{statistics.median(imports):.0f} ms (runs: {', '.join(f'{t:.0f}' for t in imports)}; "
        f"target < {IMPORT_TARGET_MS} ms)"
    )
    print(
        f"handler.app plus what the first completion imports (boto3, idempotency utility), best of "
        f"{IMPORT_RUNS}: {with_deferred:.0f} ms"
    )
    print(f"code asset: {files} files, {size} bytes zipped ({size / 1024:.1f} KB; target < 50 KB)")

    failures = []
    if worst_batch_calls > MAX_BATCH_CALLS:
        failures.append(f"{worst_batch_calls} Batch calls > {MAX_BATCH_CALLS}")
    if worst_with_logs > MAX_BATCH_AND_LOGS_CALLS:
        failures.append(f"{worst_with_logs} Batch and Logs calls > {MAX_BATCH_AND_LOGS_CALLS}")
    if any(row["messages"] != 1 for row in rows):
        failures.append("an invocation did not publish exactly one message")
    if any(row["EMF documents"] != 1 for row in rows):
        failures.append("an invocation did not write exactly one EMF document")
    if import_ms >= IMPORT_TARGET_MS:
        failures.append(f"import {import_ms:.0f} ms >= {IMPORT_TARGET_MS} ms")
    if size >= ASSET_TARGET_BYTES:
        failures.append(f"asset {size} bytes >= {ASSET_TARGET_BYTES}")
    print("targets: " + ("all met" if not failures else "MISSED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
