"""Deprecated: `python -m tools.chat_preview` runs `batch-array-notify chat-preview` (docs/tools.md)."""

from batch_array_notify.cli import chat_preview
from batch_array_notify.cli.exit_codes import run_deprecated

if __name__ == "__main__":
    raise SystemExit(run_deprecated("python -m tools.chat_preview", chat_preview.main))
