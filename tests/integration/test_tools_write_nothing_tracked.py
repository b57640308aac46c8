"""No tool changes the working tree (`git status` stays clean) when run with its documented defaults.

Each tool runs in this process as docs/tools.md prints it first, without its optional `[...]` parts, as in
a fresh shell with nothing set up (no credentials, no Pulumi CLI). An audit hook (PEP 578) records every
file the run opens for writing, renames or removes; each must be one git ignores (build/, caches), never a
tracked file and never a new file `git status` would show. Writing a tracked file takes a flag
(`dashboard_picture --output docs/dashboard.png`, `api_schema --write`).

To stay fast, the tools that rehearse many array jobs rehearse fewer (their writes do not depend on how
many). Two are left out: tools.mutate, whose default run takes hours and which guards its own report
(docs/testing.md), and tools.warm_bytecode, which `make venv` runs: it only imports, plans and rehearses
in two new processes, so it writes bytecode alone (under PYTHONPYCACHEPREFIX, or in __pycache__, ignored).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.cli.compare_rules import RULES, scenarios
from batch_array_notify.cli.rehearse import Scenario

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DOC = (ROOT / "docs" / "tools.md").read_text()
LEFT_OUT = {"mutate", "warm_bytecode"}
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_CHANGES = {"os.rename", "os.remove", "os.rmdir", "os.truncate", "shutil.rmtree", "os.mkdir"}
#: The paths written while a test records (empty: not recording). The audit hook cannot be removed.
_recorded: list[list[str]] = []


def _record_writes(event: str, arguments: tuple[Any, ...]) -> None:
    if not _recorded:
        return
    if event == "open" and isinstance(arguments[0], str | bytes | os.PathLike):
        _, mode, flags = arguments
        if (isinstance(mode, str) and set(mode) & set("wax+")) or (isinstance(flags, int) and flags & _WRITING):
            _recorded[-1].append(os.fsdecode(arguments[0]))
    elif event in _CHANGES:
        _recorded[-1] += [os.fsdecode(path) for path in arguments[:2] if isinstance(path, str | bytes | os.PathLike)]


sys.addaudithook(_record_writes)


def documented_default(tool: str) -> list[str]:
    """The arguments of the first command docs/tools.md prints for `tool`, without its optional parts."""
    section = TOOLS_DOC.split(f"\n## {tool}\n", 1)[1].split("\n## ", 1)[0]
    first = re.search(r"```sh\n(.*?)\n", section)[1]
    words = shlex.split(re.sub(r"\s*\[[^\]]*\]", "", first))
    if tool in COMMANDS:
        assert words[:2] == [".venv/bin/batch-array-notify", tool]
        return words[2:]
    assert words[:3] == [".venv/bin/python", "-m", f"tools.{tool}"]
    return words[3:]


def tool_main(tool: str) -> Any:
    """The `main` of a command (batch_array_notify.cli) or of a development tool (tools/)."""
    if tool in COMMANDS:
        return importlib.import_module(f"batch_array_notify.cli.{COMMANDS[tool].module}").main
    return importlib.import_module(f"tools.{tool}").main


def documented_tools() -> list[str]:
    return [tool for tool in re.findall(r"^## ([\w-]+)$", TOOLS_DOC, re.M) if tool not in LEFT_OUT]


def visible_to_git(paths: list[str]) -> list[str]:
    """The paths inside the repository that git does not ignore (a tracked file is never ignored)."""
    inside = sorted({str(Path(path).resolve()) for path in paths if Path(path).resolve().is_relative_to(ROOT)})
    ignored = subprocess.run(
        ["git", "check-ignore", "--stdin"],
        cwd=ROOT,
        input="\n".join(inside),
        capture_output=True,
        text=True,
        check=False,  # exit 1 when none is ignored
    ).stdout.splitlines()
    return [path for path in inside if path not in ignored]


@pytest.fixture
def fewer_rehearsals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("batch_array_notify.cli.compare_rules.RULES", RULES[:1])
    monkeypatch.setattr(
        "batch_array_notify.cli.compare_rules.scenarios", lambda size, failures: scenarios(size, failures)[:1]
    )
    monkeypatch.setattr("tools.dashboard_picture.SCENARIOS", (Scenario(size=2, failures=1),))


@pytest.fixture
def recording() -> Iterator[list[str]]:
    _recorded.append([])
    try:
        yield _recorded[-1]
    finally:
        _recorded.clear()


def test_every_tool_a_user_runs_is_run_here_but_the_two_left_out():
    assert set(documented_tools()) >= {"plan", "rehearse", "compare-rules", "dashboard_picture", "preflight"}
    assert documented_default("dashboard_picture") == ["--stack", "dev"]


@pytest.mark.usefixtures("offline_tools", "fewer_rehearsals")
@pytest.mark.parametrize("tool", documented_tools())
def test_a_tool_with_its_documented_defaults_leaves_git_status_clean(tool, recording, capsys):
    main = tool_main(tool)
    # An AWS tool without credentials or the Pulumi CLI ends with exit 2 or 3, having written nothing.
    with contextlib.suppress(SystemExit):
        main(documented_default(tool))
    capsys.readouterr()

    assert visible_to_git(recording) == []


def test_the_hook_sees_a_tracked_file_opened_for_writing(recording, tmp_path):
    readme = ROOT / "README.md"
    with readme.open("a"):
        pass  # opened for appending, nothing written: the file is unchanged
    (tmp_path / "elsewhere.txt").write_text("outside the repository")

    assert visible_to_git(recording) == [str(readme)]
