"""Deprecated: `python -m tools.rehearse` runs `batch-array-notify rehearse` (docs/tools.md)."""

from batch_array_notify.cli import rehearse
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.rehearse", rehearse.main))
