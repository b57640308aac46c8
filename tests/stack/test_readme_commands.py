"""Every command in the README's shell blocks works as printed, pasted into a fresh shell on a fresh clone.

A fresh shell here: the repository root as working directory, no virtualenv activated (the venv's `bin/` off
`PATH`), no AWS credentials or config, nothing inherited from an outer `make`. Each command is one of:

- offline, so it is run for real (with a timeout): `make plan`, `make rehearse`, `.venv/bin/python -m` any
  tool and `.venv/bin/batch-array-notify` any command that needs no AWS, stdlib modules under the system
  `python3`, and pipelines of these;
- a make target too slow or recursive to run inside the suite (`make test` would run this very test):
  `make -n TARGET` must succeed, i.e. the target exists and its prerequisites resolve;
- a command that talks to AWS (`batch-array-notify submit`, `preflight`): `--help` exits 0 and the README's
  arguments parse with the command's own parser;
- the Pulumi CLI (not installed here): the subcommand is one the CLI has, every `--stack` names a stack
  file, every key given to `pulumi config set` is declared in `Pulumi.yaml`.

A command of any other kind fails the test until it is classified here. All processes start at once, so
the cost is about that of the slowest, `make rehearse`.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from batch_array_notify.cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
VENV_PYTHON = ".venv/bin/python"
VENV_CLI = ".venv/bin/batch-array-notify"
#: Make targets cheap and offline enough to run inside the suite.
RUN_TARGETS = {"plan", "rehearse"}
#: Tools that need AWS credentials (or the Pulumi CLI's stack outputs): only their help and arguments are checked.
AWS_TOOLS = {"submit", "preflight"}
#: The Pulumi CLI's commands the README may use, with the subcommands of the command groups.
PULUMI_COMMANDS = {
    "login": set(),
    "logout": set(),
    "whoami": set(),
    "version": set(),
    "install": set(),
    "up": set(),
    "preview": set(),
    "refresh": set(),
    "destroy": set(),
    "stack": {"init", "select", "ls", "output", "rm", "export", "import"},
    "config": {"set", "get", "rm"},
}
#: Pulumi CLI flags that take a value (the rest are switches).
PULUMI_VALUE_FLAGS = {"--stack", "-s", "--cwd", "-C", "--config-file"}
TIMEOUT_SECONDS = 600


def without_comment(line: str) -> str:
    """The line up to a `#` that starts a shell comment (outside quotes, at the start or after a blank)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def shell_lines(markdown: str) -> list[str]:
    """The command lines of the ```bash/```sh/```console/```shell blocks: prompts dropped, `\\` continuations
    joined, comments and blank lines left out."""
    lines: list[str] = []
    # Blocks inside list items are indented; so is their closing fence.
    for block in re.findall(r"^[ \t]*```(?:bash|sh|console|shell)\n(.*?)^[ \t]*```", markdown, re.S | re.M):
        pending = ""
        for raw in block.splitlines():
            # Indentation is layout (a list item's, a continued line's), never part of the command.
            line = raw.strip().removeprefix("$ ")
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1].rstrip() + " "
                continue
            command = without_comment(pending + line).strip()
            pending = ""
            if command:
                lines.append(command)
    return lines


def simple_commands(line: str) -> list[list[str]]:
    """The words of each simple command of a line (split at `&&`, `||`, `;` and `|`)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", "||", ";", "|"}:
            commands.append([])
        else:
            commands[-1].append(token)
    return [words for words in commands if words]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    kind: str

    @property
    def module(self) -> str:
        """The command's module: `batch_array_notify.cli.<module>`, or the tool's (`tools.<name>`)."""
        if self.words[0] == VENV_CLI:
            return f"batch_array_notify.cli.{COMMANDS[self.words[1]].module}"
        return self.words[2]

    @property
    def arguments(self) -> tuple[str, ...]:
        return self.words[2:] if self.words[0] == VENV_CLI else self.words[3:]


def make_target(words: list[str]) -> str:
    targets = [word for word in words[1:] if "=" not in word and not word.startswith("-")]
    return targets[0] if targets else "all"


def classify(words: list[str]) -> str:
    if words[0] == "make":
        return "run" if make_target(words) in RUN_TARGETS else "make-dry"
    if words[0] == "pulumi":
        return "pulumi"
    if words[:2] == [VENV_PYTHON, "-m"] and len(words) > 2 and words[2].startswith("tools."):
        return "run"
    if words[0] == VENV_CLI and len(words) > 1 and words[1] in COMMANDS:
        return "aws-tool" if words[1] in AWS_TOOLS else "run"
    # The system Python has none of the project's requirements: only the standard library runs under it.
    if words[:2] == ["python3", "-m"] and len(words) > 2 and words[2].split(".")[0] in sys.stdlib_module_names:
        return "run"
    return "unknown"


def readme_commands() -> list[tuple[str, list[Command]]]:
    return [
        (line, [Command(tuple(words), classify(words)) for words in simple_commands(line)])
        for line in shell_lines(README)
    ]


def fresh_shell_environment() -> dict[str, str]:
    """This process's environment as a new terminal would have it: no venv, no outer make, no AWS."""
    inherited = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in inherited and not name.startswith(("AWS_", "PYTEST_"))
    }
    venv_bin = (ROOT / ".venv" / "bin").resolve()
    environment["PATH"] = os.pathsep.join(
        folder
        for folder in environment.get("PATH", "").split(os.pathsep)
        if folder and Path(folder).resolve() not in {venv_bin, Path(sys.executable).parent.resolve()}
    )
    # Offline means offline: no credentials to find, and no instance metadata to ask.
    environment |= {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return environment


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def shell_checks() -> dict[str, str]:
    """Shell command lines to run, keyed by what they check."""
    checks: dict[str, str] = {}
    for line, commands in readme_commands():
        if all(command.kind == "run" for command in commands):
            checks[line] = line
            continue
        for command in commands:
            if command.kind == "make-dry":
                checks[f"make -n {make_target(list(command.words))}"] = shlex.join(["make", "-n", *command.words[1:]])
            elif command.kind == "aws-tool":
                checks[f"{command.words[1]} --help"] = shlex.join([VENV_CLI, command.words[1], "--help"])
    return checks


def run_in_fresh_shells(checks: dict[str, str]) -> dict[str, Outcome]:
    """Every shell check, started together in fresh shells and awaited."""
    environment = fresh_shell_environment()
    started = {
        name: subprocess.Popen(
            ["bash", "-o", "pipefail", "-c", line],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, line in checks.items()
    }
    try:
        finished = {}
        for name, process in started.items():
            stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
            finished[name] = Outcome(process.returncode, stdout, stderr)
        return finished
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def commands_of(kind: str) -> list[Command]:
    return [command for _, commands in readme_commands() for command in commands if command.kind == kind]


def test_the_readme_has_the_commands_a_new_user_needs():
    lines = [line for line, _ in readme_commands()]

    assert lines[0] == "make rehearse"
    assert lines[1] == "make venv && pulumi up --stack dev"
    assert "make plan | python3 -m json.tool" in lines
    assert "make test" in lines
    assert [command.words[1] for command in commands_of("aws-tool")] == ["preflight", "submit"]


def test_every_readme_command_is_one_this_test_knows_how_to_check():
    unknown = [shlex.join(command.words) for command in commands_of("unknown")]

    assert unknown == []


def test_the_classification_tells_a_fresh_shell_from_an_activated_venv():
    """Guard for the checks above: what would fail in a fresh shell is not classified as runnable."""
    assert classify(["python", "-m", "tools.mutate"]) == "unknown"
    assert classify(["python3", "-m", "tools.mutate"]) == "unknown"
    assert classify(["batch-array-notify", "plan", "--stack", "dev"]) == "unknown"
    assert classify([VENV_CLI, "replan"]) == "unknown"
    assert classify(["aws", "batch", "submit-job"]) == "unknown"
    assert classify(["python3", "-m", "json.tool"]) == "run"
    assert shell_lines("```sh\n$ make plan \\\n  STACK=prod  # the prod stage\n# a comment\n```\n") == [
        "make plan STACK=prod"
    ]
    assert shell_lines("- a step:\n\n  ```sh\n  make venv\n  ```\n") == ["make venv"]
    assert simple_commands("make venv && pulumi config set --path 'a:b[0]' x # y") == [
        ["make", "venv"],
        ["pulumi", "config", "set", "--path", "a:b[0]", "x"],
    ]


def test_the_readmes_commands_work_in_a_fresh_shell():
    """One test, so the processes start once (as separate tests, both xdist workers would start them)."""
    outcomes = run_in_fresh_shells(shell_checks())
    problems = [
        f"{name}: exit {outcome.returncode}: {outcome.stderr[-2000:]}"
        for name, outcome in outcomes.items()
        if outcome.returncode != 0
    ]
    for command in commands_of("aws-tool"):
        help_text = outcomes[f"{command.words[1]} --help"].stdout
        tool = importlib.import_module(command.module)
        if not help_text.startswith("usage:"):
            problems.append(f"{command.module} --help printed no usage")
        if not hasattr(tool, "parser"):
            problems.append(f"{command.module} exposes no parser() to check the README's arguments with")
            continue
        try:
            tool.parser().parse_args(list(command.arguments))
        except SystemExit:
            problems.append(f"{shlex.join(command.words)}: the tool refuses the README's arguments")

    assert problems == []
    assert set(outcomes) >= {"make rehearse", "make plan | python3 -m json.tool", "make -n test", "submit --help"}
    plan = json.loads(outcomes["make plan | python3 -m json.tool"].stdout)
    assert (plan["project"], plan["stack"]) == ("batch-array-notify", "dev")
    assert plan["resources"]
    # The rehearsal's output as the README shows it ("..." stands for lines left out) is what it prints.
    section = README[README.index("## What `make rehearse` shows") :]
    shown = [line for line in re.search(r"```text\n(.*?)```", section, re.S)[1].splitlines() if line != "..."]
    printed = outcomes["make rehearse"].stdout.splitlines()
    assert len(shown) >= 6
    assert [line for line in shown if line not in printed] == []


def pulumi_arguments(words: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """Positional words and value flags of a `pulumi ...` command."""
    positional, flags = [], {}
    rest = iter(words[1:])
    for word in rest:
        if word in PULUMI_VALUE_FLAGS:
            flags[word] = next(rest)
        elif not word.startswith("-"):
            positional.append(word)
    return positional, flags


@pytest.mark.parametrize("command", commands_of("pulumi"), ids=lambda command: shlex.join(command.words))
def test_pulumi_commands_name_real_subcommands_stacks_and_keys(command):
    positional, flags = pulumi_arguments(command.words)
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])

    assert positional[0] in PULUMI_COMMANDS
    if PULUMI_COMMANDS[positional[0]]:
        assert positional[1] in PULUMI_COMMANDS[positional[0]]
    stacks = [flags.get("--stack", flags.get("-s"))] + (positional[2:3] if positional[:2] == ["stack", "init"] else [])
    assert [stack for stack in stacks if stack and not (ROOT / f"Pulumi.{stack}.yaml").exists()] == []
    if positional[:2] == ["config", "set"]:
        namespace, _, key = positional[2].rpartition(":")
        assert namespace in {"batch-array-notify", "aws"}
        assert namespace == "aws" or re.split(r"[.\[]", key)[0] in declared


DEPLOY_GUIDE = (ROOT / "docs" / "deploy.md").read_text()
#: Commands docs/deploy.md may name before the branch that adds them lands; once one exists, the test below
#: fails until it is taken off this list (and its arguments are then checked like the others').
PENDING_TOOLS: set[str] = set()


def deploy_guide_commands() -> list[list[str]]:
    return [words for line in shell_lines(DEPLOY_GUIDE) for words in simple_commands(line)]


def test_the_deploy_guide_covers_credentials_preflight_deploy_and_submit():
    lines = shell_lines(DEPLOY_GUIDE)

    assert lines[0] == "export AWS_PROFILE=my-profile"
    assert "aws sso login --profile my-profile" in lines
    steps = [line.split(" --", 1)[0] for line in lines]
    assert steps.index("make venv") < steps.index(".venv/bin/batch-array-notify preflight") < steps.index("pulumi up")
    assert steps.index("pulumi up") < steps.index(".venv/bin/batch-array-notify submit")


@pytest.mark.parametrize("words", deploy_guide_commands(), ids=shlex.join)
def test_the_deploy_guides_commands_name_what_exists(words):
    """Checked without running: the guide's commands need the Pulumi CLI, AWS or minutes; the README's
    copies of the same steps are run or checked above."""
    kind = classify(words)
    if words[0] == "export":
        assert re.fullmatch(r"AWS_PROFILE=[\w-]+", words[1])
    elif words[0] == "aws":
        # The one AWS CLI command the guide needs, for SSO users (the AWS CLI is otherwise optional).
        assert words[1:3] == ["sso", "login"]
    elif kind == "make-dry" or (kind == "run" and words[0] == "make"):
        assert re.search(rf"^{make_target(words)}:", (ROOT / "Makefile").read_text(), re.M)
    elif kind == "pulumi":
        test_pulumi_commands_name_real_subcommands_stacks_and_keys(Command(tuple(words), kind))
    elif words[1] in PENDING_TOOLS:
        assert words[1] not in COMMANDS, f"{words[1]} exists: take it off PENDING_TOOLS"
    else:
        assert kind in {"run", "aws-tool"}
        command = Command(tuple(words), kind)
        importlib.import_module(command.module).parser().parse_args(list(command.arguments))
        stack = words[words.index("--stack") + 1]
        assert (ROOT / f"Pulumi.{stack}.yaml").exists()
