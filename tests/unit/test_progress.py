"""The progress bar is for people watching a terminal: never with --json, never into a file or a pipe."""

from __future__ import annotations

import io
import sys

import pytest

from batch_array_notify.cli.progress import Progress, progress_for


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_and_ends_with_the_total():
    terminal = Terminal()
    bar = progress_for(3, quiet=False, stream=terminal, label="rehearsals")
    assert isinstance(bar, Progress)
    for _ in range(3):
        bar.advance()
    bar.close()

    assert terminal.getvalue().endswith("] 3/3 rehearsals\n")
    assert terminal.getvalue().startswith("\r[")


@pytest.mark.parametrize(("quiet", "stream"), [(True, Terminal()), (False, io.StringIO())])
def test_no_bar_with_json_or_off_a_terminal(quiet, stream):
    assert progress_for(10, quiet=quiet, stream=stream) is None


def test_the_default_stream_is_stderr_when_called_not_when_imported(monkeypatch):
    """A tool's caller (a test's capture, a redirect) may replace sys.stderr after tools.progress loaded."""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)

    bar = progress_for(1, quiet=False)

    assert bar is not None
    assert bar.stream is terminal
