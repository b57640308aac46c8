"""Deprecated: `python -m tools.resubmit` runs `batch-array-notify resubmit` (docs/tools.md)."""

from batch_array_notify.cli import resubmit
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.resubmit", resubmit.main))
