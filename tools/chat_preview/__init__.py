"""Deprecated: `python -m tools.chat_preview` is `batch-array-notify chat-preview` (batch_array_notify.cli.chat_preview)."""
