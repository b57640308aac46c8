"""Deprecated: `python -m tools.submit`; see __main__.py."""
