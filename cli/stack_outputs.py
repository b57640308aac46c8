"""A deployed stack's outputs, read through `pulumi stack output --json`: how the deploy-time tools find
the resources they act on when the user names only the stack."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad arguments or missing stack information: exit code 2, one line on stderr."""


def stack_outputs(
    stack: str, program: Path, run: Callable[..., Any] = subprocess.run, *, instead: str = "the flags instead"
) -> dict[str, Any]:
    """`pulumi stack output --json` of `stack`; UsageError when the CLI is missing or refuses.

    `instead` names the flags that replace the outputs, for the message when the CLI is missing."""
    cli = shutil.which("pulumi")
    if cli is None:
        raise UsageError(f"the Pulumi CLI is not installed, so the stack's outputs cannot be read; pass {instead}")
    result = run(
        [cli, "stack", "output", "--json", "--show-secrets=false", "--stack", stack, "--cwd", str(program)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UsageError(f"pulumi stack output failed for stack {stack!r}: {result.stderr.strip()}")
    outputs: dict[str, Any] = json.loads(result.stdout or "{}")
    return outputs
