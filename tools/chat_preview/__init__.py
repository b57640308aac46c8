"""Deprecated: `python -m tools.chat_preview`; see __main__.py."""
