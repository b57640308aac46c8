"""The `batch-array-notify` front door (cli/commands.py): it picks the command and hands it the rest of the
line, so each command keeps its own options, output and exit codes; the deprecated `python -m tools.<name>`
forms run the same commands and say so in `--help`."""

from __future__ import annotations

import json
import runpy
import sys

import pytest

from batch_array_notify.cli import plan
from batch_array_notify.cli.commands import COMMANDS, main
from batch_array_notify.cli.exit_codes import USAGE_ERROR


def exit_code(argv: list[str]) -> int | str | None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return exited.value.code


def test_help_lists_every_command_with_its_summary(capsys):
    assert exit_code(["--help"]) == 0

    listing = capsys.readouterr().out.split("\ncommands:\n", 1)[1]
    assert [name for name, command in COMMANDS.items() if f"{name}" not in listing] == []
    assert all(" ".join(command.summary.split()[:3]) in " ".join(listing.split()) for command in COMMANDS.values())


@pytest.mark.parametrize(("argv", "said"), [([], "required: COMMAND"), (["replan"], "invalid choice: 'replan'")])
def test_no_command_or_an_unknown_one_is_a_usage_error(argv, said, capsys):
    assert exit_code(argv) == USAGE_ERROR
    assert said in capsys.readouterr().err


def test_the_rest_of_the_line_goes_to_the_command(capsys):
    assert main(["plan", "--stack", "dev"]) == 0
    through_front_door = capsys.readouterr().out
    assert plan.main(["--stack", "dev"]) == 0

    assert json.loads(through_front_door) == json.loads(capsys.readouterr().out)


def test_a_commands_own_usage_error_and_help_come_through(capsys):
    assert exit_code(["plan", "--stack", "dev", "--config", "batch-array-notify:maxVcpu=8"]) == USAGE_ERROR
    assert capsys.readouterr().err.startswith("error: --config: batch-array-notify:maxVcpu is not a config key")
    assert exit_code(["submit", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: batch-array-notify submit ")


def test_a_missing_extra_is_one_line_naming_it(monkeypatch, capsys):
    # As if moto were not installed: importing it fails, and nothing that imported it is cached.
    monkeypatch.setitem(sys.modules, "moto", None)
    for module in ("batch_array_notify.cli.rehearse", "batch_array_notify.testing.rehearsal_world"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delitem(sys.modules, "batch_array_notify.testing.rule_harness", raising=False)

    assert exit_code(["rehearse", "--stack", "dev"]) == USAGE_ERROR
    assert capsys.readouterr().err == (
        "error: `batch-array-notify rehearse` needs moto, which is not installed: "
        "pip install 'batch-array-notify[testing]'\n"
    )


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_deprecated_module_form_runs_the_command_and_says_so(name, monkeypatch, capsys):
    module = COMMANDS[name].module
    monkeypatch.setattr(sys, "argv", [f"tools/{module}", "--help"])

    with pytest.raises(SystemExit) as exited:
        runpy.run_module(f"tools.{module}", run_name="__main__", alter_sys=True)

    text = capsys.readouterr().out
    assert exited.value.code == 0
    assert text.startswith(f"usage: python -m tools.{module} ")
    assert f"DEPRECATED: `python -m tools.{module}` is now `batch-array-notify {name}`" in text
    # The next parser built in this process is the command's own again.
    assert plan.parser().prog == "batch-array-notify plan"
