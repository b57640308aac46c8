"""Deprecated: `python -m tools.redrive` is `batch-array-notify redrive` (batch_array_notify.cli.redrive)."""
