"""Deprecated: `python -m tools.preflight` is `batch-array-notify preflight` (batch_array_notify.cli.preflight)."""
