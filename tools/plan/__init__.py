"""Deprecated: `python -m tools.plan`; see __main__.py."""
