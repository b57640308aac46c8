"""Deprecated: `python -m tools.resubmit`; see __main__.py."""
