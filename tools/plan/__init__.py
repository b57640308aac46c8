"""Deprecated: `python -m tools.plan` is `batch-array-notify plan` (batch_array_notify.cli.plan)."""
