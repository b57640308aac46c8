"""Deprecated: `python -m tools.submit` runs `batch-array-notify submit` (docs/tools.md)."""

from batch_array_notify.cli import submit
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.submit", submit.main))
