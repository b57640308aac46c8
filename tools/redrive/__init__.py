"""Deprecated: `python -m tools.redrive`; see __main__.py."""
