"""Submit an array job to a stack's queue and, with `--wait`, watch it until the parent ends.

    batch-array-notify submit --stack dev --size 7 [--wait]
    batch-array-notify submit --stack dev --size 7 --queue QUEUE --job-definition DEF --wait

The queue and job definition come from `pulumi stack output --json` (outputs `jobQueueName` and
`jobDefinitionName`) when the Pulumi CLI is installed, or from `--queue`/`--job-definition`, which
always win. `--wait` polls the parent's `arrayProperties.statusSummary`, draws a progress bar of the
children's states on stderr when it is a terminal, and prints a one-line summary when the parent ends.

Exit codes: 0 the array job SUCCEEDED (or was submitted, without `--wait`), 1 it FAILED, 2 usage error,
3 AWS unreachable, no credentials, access denied or throttled (one line naming the cause and the fix).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import yaml

from batch_array_notify.cli.arguments import ARRAY_SIZE_HELP, array_size, seconds, stack_name
from batch_array_notify.cli.aws_errors import exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.cli.stack_outputs import UsageError, stack_outputs
from batch_array_notify.handler.aws import new_client

#: What the caller's IAM policy must allow (docs/tools.md lists the same).
IAM_ACTIONS = ("batch:SubmitJob", "batch:DescribeJobs")
IAM_HELP = f"AWS: needs credentials whose policy allows {', '.join(IAM_ACTIONS)} (DescribeJobs only with --wait)."
TERMINAL = ("SUCCEEDED", "FAILED")
#: statusSummary keys in the order a child moves through them.
CHILD_STATES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
BAR_WIDTH = 30
#: Each poll is one DescribeJobs call, and Batch throttles its API per account and region (SubmitJob at 50
#: TPS; https://repost.aws/knowledge-center/aws-batch-requests-error): a second is the least; past 5 minutes
#: the end of the job is reported that much later.
POLL_SECONDS = (1.0, 300.0)
#: SubmitJob's jobName: up to 128 letters, numbers, hyphens and underscores, the first alphanumeric
#: (https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html).
_JOB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


@dataclass(frozen=True)
class Target:
    queue: str
    job_definition: str


@dataclass(frozen=True)
class Progress:
    status: str
    size: int
    counts: Mapping[str, int]

    @property
    def done(self) -> int:
        return self.counts.get("SUCCEEDED", 0) + self.counts.get("FAILED", 0)


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify submit",
        (__doc__.split("\n\n", 1)[0] if __doc__ else "") + "\n\n" + IAM_HELP,
        bad_outcome="the array job FAILED (with --wait)",
        uses_aws=True,
    )
    arguments.add_argument(
        "--stack", required=True, type=stack_name, help="stack whose outputs name the queue and job definition"
    )
    arguments.add_argument("--size", required=True, type=array_size, help=ARRAY_SIZE_HELP)
    arguments.add_argument("--wait", action="store_true", help="watch the job until the parent ends")
    arguments.add_argument("--queue", help="job queue name or ARN (default: the stack's jobQueueName output)")
    arguments.add_argument(
        "--job-definition", help="job definition name[:revision] or ARN (default: the stack's jobDefinitionName)"
    )
    arguments.add_argument("--job-name", type=job_name, default="array-job", help="job name (default: array-job)")
    arguments.add_argument("--region", help="AWS region (default: the stack's aws:region, else boto3's default)")
    arguments.add_argument("--program", type=Path, default=Path(), help="Pulumi program folder (default: .)")
    arguments.add_argument(
        "--poll-seconds",
        type=seconds(*POLL_SECONDS, "each poll is a DescribeJobs call, which Batch throttles per account"),
        default=10.0,
        help=f"seconds between polls, {POLL_SECONDS[0]:g} to {POLL_SECONDS[1]:g} (default: 10)",
    )
    return arguments


def job_name(text: str) -> str:
    """An argparse type: a name SubmitJob accepts, refused here rather than by Batch after the flags parsed."""
    if not _JOB_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Batch job name: up to 128 letters, digits, '-' and '_', the first a letter or digit"
        )
    return text


# --------------------------------------------------------------------------------------------------
# Where to submit


def resolve_target(options: argparse.Namespace, outputs: Callable[[], Mapping[str, Any]]) -> Target:
    """Flags win; otherwise the stack's outputs, read only when a flag is missing."""
    queue, definition = options.queue, options.job_definition
    if queue is None or definition is None:
        values = outputs()
        queue = queue or values.get("jobQueueName") or values.get("jobQueueArn")
        definition = definition or values.get("jobDefinitionName") or values.get("jobDefinitionArn")
        if not queue or not definition:
            raise UsageError(f"stack {options.stack!r} has no jobQueueName/jobDefinitionName outputs; pass the flags")
    return Target(str(queue), str(definition))


def region_for(options: argparse.Namespace, target: Target) -> str | None:
    """`--region`, else the queue ARN's region, else the stack file's `aws:region`, else boto3's default."""
    if options.region:
        return str(options.region)
    if target.queue.startswith("arn:"):
        return target.queue.split(":")[3]
    stack_file = options.program / f"Pulumi.{options.stack}.yaml"
    if stack_file.is_file():
        config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
        region = config.get("aws:region")
        return str(region) if region else None
    return None


# --------------------------------------------------------------------------------------------------
# Submitting and watching


def submit(batch: Any, target: Target, size: int, job_name: str) -> str:
    response = batch.submit_job(
        jobName=job_name,
        jobQueue=target.queue,
        jobDefinition=target.job_definition,
        arrayProperties={"size": size},
    )
    return str(response["jobId"])


def progress(batch: Any, job_id: str) -> Progress:
    jobs = batch.describe_jobs(jobs=[job_id])["jobs"]
    if not jobs:
        raise RuntimeError(f"Batch does not know job {job_id}")
    job = jobs[0]
    array = job.get("arrayProperties") or {}
    summary = {state: int(count) for state, count in (array.get("statusSummary") or {}).items()}
    return Progress(status=str(job["status"]), size=int(array.get("size") or 0), counts=summary)


def bar(state: Progress) -> str:
    """`[########----------] 4/10  SUCCEEDED 3  FAILED 1  RUNNING 6` (states with children only)."""
    size = max(state.size, 1)
    failed = round(BAR_WIDTH * state.counts.get("FAILED", 0) / size)
    succeeded = round(BAR_WIDTH * state.done / size) - failed
    cells = "#" * succeeded + "x" * failed
    cells += "-" * (BAR_WIDTH - len(cells))
    counts = "  ".join(f"{name} {state.counts[name]}" for name in CHILD_STATES if state.counts.get(name))
    return f"[{cells}] {state.done}/{state.size}  {counts}".rstrip()


def summary(job_id: str, state: Progress) -> str:
    succeeded, failed = state.counts.get("SUCCEEDED", 0), state.counts.get("FAILED", 0)
    return f"{job_id} {state.status}: {succeeded}/{state.size} children succeeded, {failed} failed"


def watch(
    batch: Any,
    job_id: str,
    poll_seconds: float,
    stream: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Poll until the parent is SUCCEEDED or FAILED; redraw the bar in place when `stream` is a terminal."""
    interactive = stream.isatty()
    while True:
        state = progress(batch, job_id)
        if interactive:
            stream.write("\r\033[K" + bar(state))
            stream.flush()
        if state.status in TERMINAL:
            if interactive:
                stream.write("\n")
            return state
        sleep(poll_seconds)


def main(argv: Sequence[str] | None = None, outputs: Callable[[str, Path], Mapping[str, Any]] | None = None) -> int:
    options = parser().parse_args(argv)
    read_outputs = outputs or partial(stack_outputs, instead="--queue and --job-definition")
    cached: dict[str, Mapping[str, Any]] = {}

    def stack_values() -> Mapping[str, Any]:
        if "outputs" not in cached:
            cached["outputs"] = read_outputs(options.stack, options.program)
        return cached["outputs"]

    try:
        target = resolve_target(options, stack_values)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR

    with exit_on_aws_environment_errors():
        batch = new_client("batch", region=region_for(options, target))
        job_id = submit(batch, target, options.size, options.job_name)
        print(f"submitted {job_id}: {options.size} children to {target.queue} with {target.job_definition}", flush=True)
        if not options.wait:
            return DONE
        state = watch(batch, job_id, options.poll_seconds, sys.stderr)
    print(summary(job_id, state))
    return DONE if state.status == "SUCCEEDED" else BAD_OUTCOME


if __name__ == "__main__":
    raise SystemExit(main())
