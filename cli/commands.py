"""The `batch-array-notify` console script: one front door to the operator commands.

    batch-array-notify plan --stack dev            # what `pulumi up` would create, as JSON, offline
    batch-array-notify preflight --stack dev       # read-only checks of the account before `pulumi up`
    batch-array-notify submit --stack dev --size 7 --wait

Each command works from the folder of any Pulumi program that uses the component (`--program` chooses
another). The front door only picks the command: the rest of the line goes to that command's own parser,
so its options, `--help`, `--json` and exit codes are the command's. Commands import on use: `--help`
needs none of the optional dependencies, and a missing one is one line naming the extra that brings it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from batch_array_notify.cli.exit_codes import USAGE_ERROR, tool_parser

CONSOLE_SCRIPT: Final = "batch-array-notify"


@dataclass(frozen=True)
class Command:
    module: str
    summary: str
    extra: str
    """The package extra that brings what the command imports beyond the package's own dependencies."""


#: Offline commands need the testing kit's emulators (`testing`); the ones that talk to AWS need boto3 (`cli`).
COMMANDS: Final[dict[str, Command]] = {
    "plan": Command("plan", "what `pulumi up` would create, as JSON, without an account", "testing"),
    "rehearse": Command("rehearse", "an array job's events through the stack's rule and notifier, offline", "testing"),
    "compare-rules": Command("compare_rules", "the stack's rule against the usual alternatives, offline", "testing"),
    "chat-preview": Command("chat_preview", "how the chat message reads in the channel", "testing"),
    "preflight": Command("preflight", "read-only checks of the AWS account before `pulumi up`", "cli"),
    "submit": Command("submit", "submit an array job to the stack's queue and watch it", "cli"),
    "redrive": Command("redrive", "replay the events the failure queues kept into the notifier", "cli"),
    "resubmit": Command("resubmit", "resubmit only the failed children of an array job", "cli"),
}


def parser() -> argparse.ArgumentParser:
    front = tool_parser(CONSOLE_SCRIPT, __doc__, bad_outcome="the command's bad outcome", uses_aws=True)
    subcommands = front.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        subcommands.add_parser(name, help=command.summary, add_help=False)
    return front


def command_main(name: str) -> Callable[[Sequence[str]], int]:
    """The `main` of a command's module, imported now; a missing optional dependency ends the process
    with exit code 2 and one line naming the extra to install."""
    command = COMMANDS[name]
    try:
        module = importlib.import_module(f"batch_array_notify.cli.{command.module}")
    except ModuleNotFoundError as error:
        missing = (error.name or "").partition(".")[0]
        if missing.startswith("batch_array_notify"):
            raise
        print(
            f"error: `{CONSOLE_SCRIPT} {name}` needs {missing}, which is not installed: "
            f"pip install 'batch-array-notify[{command.extra}]'",
            file=sys.stderr,
        )
        raise SystemExit(USAGE_ERROR) from None
    main: Callable[[Sequence[str]], int] = module.main
    return main


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] not in COMMANDS:
        # `--help`, no command or an unknown one: argparse prints the list or the error (exit 0 or 2).
        parser().parse_args(arguments[:1])
    return command_main(arguments[0])(arguments[1:])


if __name__ == "__main__":
    raise SystemExit(main())
