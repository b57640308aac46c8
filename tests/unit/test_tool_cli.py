"""Every command and tool speaks the one exit-code language (cli/exit_codes.py) in its --help, and
states the array-size rule in the same words."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.cli.exit_codes import AWS_UNREACHABLE, exit_codes_epilog

TOOLS = Path(__file__).resolve().parents[2] / "tools"
#: Command or development tool -> whether it calls AWS (then its --help also lists exit 3).
RUNNABLE = {
    "api_schema": False,
    "chat-preview": False,
    "compare-rules": False,
    "config_table": False,
    "dashboard_picture": False,
    "plan": False,
    "preflight": True,
    "redrive": True,
    "rehearse": False,
    "resubmit": True,
    "submit": True,
    "mutate": False,
    "warm_bytecode": False,
}


def module_of(name: str) -> ModuleType:
    """A `batch-array-notify` command's module, or a development tool's under tools/."""
    if name in COMMANDS:
        return importlib.import_module(f"batch_array_notify.cli.{COMMANDS[name].module}")
    return importlib.import_module(f"tools.{name}")


def help_text(module: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        module_of(module).main(["--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_list_names_every_command_and_tool_a_user_runs():
    tools = {path.stem for path in TOOLS.glob("*.py") if 'if __name__ == "__main__":' in path.read_text()}
    assert tools | set(COMMANDS) == set(RUNNABLE)
    assert not tools & set(COMMANDS)


@pytest.mark.parametrize(("module", "uses_aws"), sorted(RUNNABLE.items()))
def test_help_ends_with_the_exit_code_table(module, uses_aws, capsys):
    text = help_text(module, capsys)

    table = text[text.index("exit codes:") :].rstrip("\n")
    assert re.fullmatch(r"exit codes:\n(  [0-3]  .+\n?)+", table)
    assert "  0  done" in table
    assert "  2  usage or config error" in table
    assert (f"  {AWS_UNREACHABLE}  AWS unreachable" in table) is uses_aws


def test_the_table_omits_exit_1_for_a_tool_without_a_bad_outcome():
    assert "  1  " not in exit_codes_epilog(None, uses_aws=False)
    assert "  1  the job FAILED" in exit_codes_epilog("the job FAILED", uses_aws=True)


SIZED = ("submit", "rehearse", "compare-rules")
REQUIRED = {"submit": ["--queue", "q", "--job-definition", "d"]}


@pytest.mark.parametrize("module", SIZED)
@pytest.mark.parametrize("size", ["0", "1", "10001"])
def test_every_tool_states_the_array_size_rule_in_the_same_words(module, size, capsys):
    with pytest.raises(SystemExit) as exited:
        module_of(module).main(["--stack", "dev", "--size", size, *REQUIRED.get(module, [])])

    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"error: argument --size: an array job has 2 to 10000 children, got {size}; "
        f"see batch-array-notify {module} --help\n"
    )


DOCS = TOOLS.parent / "docs" / "tools.md"


@pytest.mark.parametrize("module", sorted(RUNNABLE))
def test_docs_have_a_section_and_the_exit_code_table_of_every_tool(module, capsys):
    text = help_text(module, capsys)
    docs = DOCS.read_text()

    assert f"\n## {module}\n" in docs
    section = docs.split(f"\n## {module}\n", 1)[1].split("\n## ", 1)[0]
    runs_as = f".venv/bin/batch-array-notify {module}" if module in COMMANDS else f".venv/bin/python -m tools.{module}"
    assert runs_as in section
    table = text[text.index("exit codes:") :].rstrip("\n")
    assert f"```text\n{table}\n```" in section


@pytest.mark.parametrize("module", ["preflight", "resubmit", "submit"])
def test_docs_and_help_list_the_iam_actions_of_the_tools_that_call_aws(module, capsys):
    actions = module_of(module).IAM_ACTIONS
    section = DOCS.read_text().split(f"\n## {module}\n", 1)[1].split("\n## ", 1)[0]
    text = " ".join(help_text(module, capsys).split())

    assert [action for action in actions if f"`{action}`" not in section] == []
    assert [action for action in actions if action not in text] == []


@pytest.mark.parametrize(
    ("module", "argv"),
    [
        ("plan", ["--stack", "dev", "--config", "batch-array-notify:maxVcpu=8"]),
        ("rehearse", ["--stack", "dev", "--size", "7", "--pattern", '{"source": [{"bogus": 1}]}']),
        ("rehearse", ["--stack", "dev", "--size", "7", "--duplicates", "100000"]),
    ],
)
def test_the_error_lines_the_docs_show_are_the_tools_own(module, argv, capsys):
    try:
        code = module_of(module).main(argv)
    except SystemExit as exited:
        code = exited.code
    err = capsys.readouterr().err

    assert code == 2
    command = (
        ".venv/bin/batch-array-notify "
        + module
        + " "
        + " ".join(f"'{arg}'" if arg.startswith("{") else arg for arg in argv)
    )
    assert f"$ {command}\n{err}" in DOCS.read_text()


#: Arguments each tool needs besides the bounded option, so that only the bound is wrong.
BOUNDED_BASE = {
    "rehearse": ["--stack", "dev", "--size", "7"],
    "compare-rules": ["--stack", "dev"],
    "submit": ["--stack", "dev", "--size", "7"],
    "redrive": ["--stack", "dev"],
}


def bounds_table() -> list[tuple[str, str, int, int]]:
    """(tool, option, lowest, highest) of each row of docs/tools.md's bounds table with fixed numbers."""
    rows = re.findall(r"^\| ([\w, -]+) \| `(--[\w-]+)` \| (\d+) to (\d+) \|", DOCS.read_text(), re.M)
    return [(tool, option, int(low), int(high)) for tools, option, low, high in rows for tool in tools.split(", ")]


def test_the_bounds_table_lists_the_bounded_options():
    assert {(tool, option) for tool, option, *_ in bounds_table()} >= {
        ("rehearse", "--duplicates"),
        ("submit", "--poll-seconds"),
        ("redrive", "--max"),
        ("compare-rules", "--size"),
    }


@pytest.mark.parametrize(("tool", "option", "lowest", "highest"), bounds_table())
def test_each_bound_the_docs_state_is_the_tools_own(tool, option, lowest, highest, capsys):
    parser = module_of(tool).parser()
    for value in (lowest, highest):
        parser.parse_args([*BOUNDED_BASE[tool], option, str(value)])
    for value in (lowest - 1, highest + 1):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([*BOUNDED_BASE[tool], option, str(value)])
        assert exited.value.code == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 2
    assert f"argument {option}: " in err
    assert f"{lowest} to {highest}" in err
