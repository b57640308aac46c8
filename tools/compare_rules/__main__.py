"""Deprecated: `python -m tools.compare_rules` runs `batch-array-notify compare-rules` (docs/tools.md)."""

from batch_array_notify.cli import compare_rules
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.compare_rules", compare_rules.main))
