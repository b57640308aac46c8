"""Deprecated: `python -m tools.compare_rules`; see __main__.py."""
