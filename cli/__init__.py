"""The operator commands behind the `batch-array-notify` console script."""
