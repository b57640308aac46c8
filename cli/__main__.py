"""`python -m batch_array_notify.cli`: the same as the `batch-array-notify` console script."""

from batch_array_notify.cli.commands import main

if __name__ == "__main__":
    raise SystemExit(main())
