"""Deprecated: `python -m tools.preflight` runs `batch-array-notify preflight` (docs/tools.md)."""

from batch_array_notify.cli import preflight
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.preflight", preflight.main))
