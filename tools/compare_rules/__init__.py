"""Deprecated: `python -m tools.compare_rules` is `batch-array-notify compare-rules` (batch_array_notify.cli.compare_rules)."""
