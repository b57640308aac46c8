"""Show what `pulumi up` would create, without an account: `batch-array-notify plan --stack dev`.

Runs the program under the Pulumi mock runtime (see testing/program.py) and prints one JSON document:
`{"project", "stack", "resources": [{"type", "name", "parent", "inputs"}], "outputs"}`.
Invalid config, or a key in the project's namespace that `Pulumi.yaml` does not declare (as the Pulumi CLI
refuses it): exit code 2, one line on stderr naming the key, nothing on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from batch_array_notify.cli.arguments import stack_name
from batch_array_notify.cli.exit_codes import USAGE_ERROR, tool_parser
from batch_array_notify.testing.program import MOCK_ACCOUNT, Plan, ProgramError, run_program
from batch_array_notify.validation import InvalidArgumentError


def config_override(text: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE (e.g. batch-array-notify:maxVcpus=8), got {text!r}")
    return key, value


def parser(description: str | None = __doc__) -> argparse.ArgumentParser:
    arguments = tool_parser("batch-array-notify plan", description, bad_outcome=None, uses_aws=False)
    add_program_arguments(arguments)
    return arguments


def add_program_arguments(arguments: argparse.ArgumentParser) -> None:
    """The arguments that choose a program and its config; shared by every tool that plans."""
    arguments.add_argument("--stack", required=True, type=stack_name, help="stage whose Pulumi.<stack>.yaml to use")
    arguments.add_argument(
        "--config",
        action="append",
        default=[],
        type=config_override,
        metavar="KEY=VALUE",
        help="override a config value, keys as in stack files (repeatable)",
    )
    arguments.add_argument("--program", type=Path, default=Path(), help="Pulumi program folder (default: .)")


def plan_or_exit(options: argparse.Namespace, account: str = MOCK_ACCOUNT) -> Plan:
    """Plan the chosen program (in `account`); config and usage errors end the process with exit code 2 and
    one line."""
    try:
        return run_program(options.program, options.stack, dict(options.config), account)
    except (InvalidArgumentError, ProgramError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None
    except ValueError as error:
        # A check that can only run once Outputs resolve (e.g. a queue in another region) reaches us
        # wrapped by the SDK, as `pulumi up` would report it; say the check's own line.
        invalid = invalid_argument_in(error)
        if invalid is None:
            raise
        print(f"error: {invalid}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None


def invalid_argument_in(error: BaseException) -> InvalidArgumentError | None:
    """The InvalidArgumentError that `error` was raised from or during, if any. The SDK re-raises a
    resource's failure from each dependent resource, so the chains branch and loop: walk them all."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        cause = pending.pop()
        if isinstance(cause, InvalidArgumentError):
            return cause
        if id(cause) not in seen:
            seen.add(id(cause))
            pending += [link for link in (cause.__cause__, cause.__context__) if link is not None]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    plan = plan_or_exit(options)
    json.dump(plan.to_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
