"""The one exit-code language every tool speaks, stated once and printed in every `--help`.

0 done · 1 the outcome was bad (a FAILED array job, a check that failed) · 2 usage or config error ·
3 AWS unreachable or no credentials. argparse already exits 2 on a usage error, so the parsers below only
add the table to the help text.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

DONE = 0
BAD_OUTCOME = 1
USAGE_ERROR = 2
AWS_UNREACHABLE = 3


def exit_codes_epilog(bad_outcome: str | None, *, uses_aws: bool) -> str:
    """The exit-code table for one tool; `bad_outcome` says what exit 1 means for it (None: a tool that
    has no bad outcome, only done or an error, and never exits 1)."""
    lines = ["exit codes:", f"  {DONE}  done"]
    if bad_outcome is not None:
        lines.append(f"  {BAD_OUTCOME}  {bad_outcome}")
    lines.append(f"  {USAGE_ERROR}  usage or config error (one line on stderr naming the option or key)")
    if uses_aws:
        lines.append(
            f"  {AWS_UNREACHABLE}  AWS unreachable, no credentials, access denied or throttled (one line, the fix)"
        )
    return "\n".join(lines)


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
    """An ArgumentParser whose description is the module docstring and whose epilog is the exit-code table."""
    if _deprecated_form is not None:
        doc = f"DEPRECATED: `{_deprecated_form}` is now `{prog}`, with the same options.\n\n{doc or ''}"
        prog = _deprecated_form
    return argparse.ArgumentParser(
        prog=prog,
        description=doc,
        epilog=exit_codes_epilog(bad_outcome, uses_aws=uses_aws),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
