"""The one exit-code language every tool speaks, stated once and printed in every `--help`, and the one way
every tool reports a usage error.

0 done · 1 the outcome was bad (a FAILED array job, a check that failed) · 2 usage or config error ·
3 AWS unreachable or no credentials. `tool_parser` gives every tool the same parser: the exit-code table
in its help, and a usage error as ONE line on stderr (exit 2) that names the option and points at `--help`,
where argparse would print its multi-line usage block first.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable
from typing import NoReturn

DONE = 0
BAD_OUTCOME = 1
USAGE_ERROR = 2
AWS_UNREACHABLE = 3

_UNRECOGNIZED = re.compile(r"^unrecognized arguments: (.+)$")


def exit_codes_epilog(bad_outcome: str | None, *, uses_aws: bool) -> str:
    """The exit-code table for one tool; `bad_outcome` says what exit 1 means for it (None: a tool that
    has no bad outcome, only done or an error, and never exits 1)."""
    lines = ["exit codes:", f"  {DONE}  done"]
    if bad_outcome is not None:
        lines.append(f"  {BAD_OUTCOME}  {bad_outcome}")
    lines.append(f"  {USAGE_ERROR}  usage or config error (one line on stderr naming the option or key)")
    if uses_aws:
        lines.append(
            f"  {AWS_UNREACHABLE}  AWS unreachable or failing (5xx), no credentials, access denied or throttled "
            "(one line, the fix)"
        )
    return "\n".join(lines)


class ToolParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: `error: <what>; see <prog> --help`."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {self._closest_option(message)}; see {self.prog} --help\n")
        raise SystemExit(USAGE_ERROR)

    def _closest_option(self, message: str) -> str:
        """argparse's message, with "did you mean" for a mistyped option."""
        unrecognized = _UNRECOGNIZED.match(message)
        if unrecognized is None:
            return message
        first = unrecognized.group(1).split()[0].partition("=")[0]
        known = [option for action in self._actions for option in action.option_strings if option.startswith("--")]
        close = difflib.get_close_matches(first, known, n=1) if first.startswith("-") else []
        return f"{message} (did you mean {close[0]}?)" if close else message


#: The form the user typed when it is a deprecated one (`batch-array-notify plan`), set by `run_deprecated`.
_deprecated_form: str | None = None


def run_deprecated(form: str, main: Callable[[], int]) -> int:
    """Run a command reached through its deprecated `form`: its usage line shows that form and its
    `--help` opens with the command that replaces it; options, output and exit codes are the same."""
    global _deprecated_form  # noqa: PLW0603 (one process runs one command)
    _deprecated_form = form
    try:
        return main()
    finally:
        _deprecated_form = None


def tool_parser(prog: str, doc: str | None, *, bad_outcome: str | None, uses_aws: bool) -> argparse.ArgumentParser:
    """The parser of one command: its description is the module docstring, its epilog the exit-code table,
    its usage errors one line (`ToolParser`)."""
    if _deprecated_form is not None:
        doc = f"DEPRECATED: `{_deprecated_form}` is now `{prog}`, with the same options.\n\n{doc or ''}"
        prog = _deprecated_form
    return ToolParser(
        prog=prog,
        description=doc,
        epilog=exit_codes_epilog(bad_outcome, uses_aws=uses_aws),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
