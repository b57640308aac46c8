"""Deprecated: `python -m tools.submit` is `batch-array-notify submit` (batch_array_notify.cli.submit)."""
