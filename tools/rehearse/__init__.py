"""Deprecated: `python -m tools.rehearse` is `batch-array-notify rehearse` (batch_array_notify.cli.rehearse)."""
