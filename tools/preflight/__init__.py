"""Deprecated: `python -m tools.preflight`; see __main__.py."""
