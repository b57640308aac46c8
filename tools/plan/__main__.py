"""Deprecated: `python -m tools.plan` runs `batch-array-notify plan` (docs/tools.md)."""

from batch_array_notify.cli import plan
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.plan", plan.main))
