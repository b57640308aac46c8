"""Development tools (mutation testing, report writers, the API snapshot); the deprecated `python -m
tools.<command>` forms of the `batch-array-notify` commands (batch_array_notify.cli)."""
