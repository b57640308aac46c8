"""Deprecated: `python -m tools.redrive` runs `batch-array-notify redrive` (docs/tools.md)."""

from batch_array_notify.cli import redrive
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.redrive", redrive.main))
