"""Compare the stack's rule with the usual alternatives by rehearsing each: `batch-array-notify compare-rules`.

Prints a markdown table (the README's): for one array job of `--size` children on EC2 and on Fargate,
without and with failures, how often each rule fires for that array job (= Lambda runs) and how many
notifications result; plus what the rule fired for the noise in the stream (single jobs on the same
queue, an array job on another queue) and whether the rehearsal was exact. Every number comes from
`batch_array_notify.cli.rehearse.rehearse`, the same code as `batch-array-notify rehearse`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from batch_array_notify.cli.arguments import ARRAY_SIZE_HELP, array_size, whole_number
from batch_array_notify.cli.exit_codes import USAGE_ERROR, tool_parser
from batch_array_notify.cli.plan import add_program_arguments, plan_or_exit
from batch_array_notify.cli.progress import progress_for
from batch_array_notify.cli.rehearse import Scenario, UsageError, pattern_on_objects, read_pattern, rehearse
from batch_array_notify.testing.eventgen import MAX_ARRAY_SIZE, MIN_ARRAY_SIZE, Compute
from batch_array_notify.testing.rehearsal_world import StackTarget

PATTERNS: Final = Path(__file__).resolve().parent.parent / "examples" / "patterns"


@dataclass(frozen=True)
class Rule:
    label: str
    #: None: the stack's own rule, from the plan.
    pattern_file: Path | None


RULES: Final = (
    Rule("this stack's rule (`arrayProperties.size` exists)", None),
    Rule("status only (`SUCCEEDED`, `FAILED`)", PATTERNS / "status-only.json"),
    Rule("`containerInstanceArn` trick (blog)", PATTERNS / "container-instance-arn-trick.json"),
)


def scenarios(size: int, failures: int) -> list[tuple[str, Scenario]]:
    before = failures // 2
    failing = f"{failures} fail ({before} before placement)"
    return [
        (f"{compute.name.title() if compute is Compute.FARGATE else compute.name}, {label}", scenario)
        for compute in (Compute.EC2, Compute.FARGATE)
        for label, scenario in (
            ("all succeed", Scenario(size=size, compute=compute)),
            (failing, Scenario(size=size, failures=failures, failures_before_placement=before, compute=compute)),
        )
    ]


def table(
    target: StackTarget,
    size: int,
    failures: int,
    extra_pattern: str | None = None,
    advance: Callable[[], None] = lambda: None,
) -> str:
    """The comparison; `extra_pattern` (checked JSON, from `--pattern`) adds rows for the user's own rule.
    `advance` is called after each row's rehearsal (a progress bar)."""
    header = [
        "rule",
        "array job",
        f"matches for the array job (N = {size})",
        "notifications for it",
        "matches of noise",
        "notifications of noise",
        "exact",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rules = [(rule.label, read_pattern(rule.pattern_file) if rule.pattern_file else None) for rule in RULES]
    if extra_pattern is not None:
        rules.append(("your `--pattern`", extra_pattern))
    for rule_label, pattern in rules:
        for label, scenario in scenarios(size, failures):
            result = rehearse(target, scenario, pattern=pattern)
            advance()
            (tally,) = result.jobs.values()
            cells = [
                rule_label,
                label,
                str(tally.matches),
                str(tally.notifications),
                str(result.other_matches),
                str(result.other_notifications),
                "yes" if result.exact else "no",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rows(extra_pattern: str | None) -> int:
    """How many rows (rehearsals) the table has: the same scenarios for every rule, whatever the size."""
    return (len(RULES) + (extra_pattern is not None)) * len(scenarios(MIN_ARRAY_SIZE, 1))


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        "batch-array-notify compare-rules",
        __doc__,
        bad_outcome=None,
        uses_aws=False,
    )
    add_program_arguments(arguments)
    arguments.add_argument(
        "--size",
        type=array_size,
        default=7,
        help=f"{ARRAY_SIZE_HELP}, default 7",
    )
    arguments.add_argument(
        "--failures",
        type=whole_number(1, MAX_ARRAY_SIZE),
        default=2,
        help="failing children in the failure rows, 1 to --size (default 2)",
    )
    arguments.add_argument(
        "--pattern",
        metavar="PATTERN",
        help="also rehearse this rule pattern (a file, or the JSON itself), checked as PutRule checks it",
    )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser()
    options = arguments.parse_args(argv)
    if options.failures > options.size:
        arguments.error(f"argument --failures: must be 1 to --size ({options.size}), got {options.failures}")
    try:
        extra_pattern = read_pattern(options.pattern) if options.pattern else None
    except UsageError as error:
        return _refused(f"--pattern: {error}")
    target = StackTarget.from_plan(plan_or_exit(options))
    problems = pattern_on_objects(extra_pattern, target) if extra_pattern else []
    if problems:
        return _refused(f"--pattern: {'; '.join(problems)}")
    if len(target.job_queue_arns) != 1:
        # Each row counts one array job; a notifier on several queues rehearses one per queue.
        return _refused(
            f"--stack: the comparison counts one array job per row, so it needs a stack with one queue; "
            f"{options.stack} has {len(target.job_queue_arns)}: choose a stack with one queue"
        )
    bar = progress_for(rows(extra_pattern), quiet=False, label="rehearsals")
    try:
        text = table(target, options.size, options.failures, extra_pattern, bar.advance if bar else lambda: None)
    finally:
        if bar is not None:
            bar.close()
    sys.stdout.write(text)
    return 0


def _refused(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return USAGE_ERROR


if __name__ == "__main__":
    raise SystemExit(main())
