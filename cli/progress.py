"""A one-line progress bar for people watching a long run: on a terminal only, never in piped output."""

from __future__ import annotations

import sys
from typing import IO


class Progress:
    """A one-line bar on a terminal stream, redrawn at most ~200 times per run."""

    def __init__(self, total: int, stream: IO[str], label: str = "events") -> None:
        self.total, self.stream, self.label = max(total, 1), stream, label
        self.done = 0
        self._step = max(self.total // 200, 1)
        self._next = 0

    def advance(self) -> None:
        self.done += 1
        if self.done >= self._next or self.done == self.total:
            self._next = self.done + self._step
            filled = 30 * min(self.done, self.total) // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {self.label}")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def progress_for(total: int, *, quiet: bool, stream: IO[str] | None = None, label: str = "events") -> Progress | None:
    """A bar only for people watching: never with --json, never when `stream` (default: stderr as it is
    now, not at import) is a file or pipe."""
    stream = sys.stderr if stream is None else stream
    return None if quiet or not stream.isatty() else Progress(total, stream, label)
