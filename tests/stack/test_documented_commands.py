"""Every command in docs/*.md and examples/ works as printed, pasted into a fresh shell at the repository root.

tests/stack/test_readme_commands.py runs the README's commands in fresh shells; this test covers the rest of
the documentation without starting a shell per command. A command is any line of a shell block, any `$ `
line of an output block (a transcript), any inline code span that starts with a command (`python -m`,
`.venv/bin/python -m`, `make`, `pulumi`, `aws`), in the docs' prose and in the comments of examples/, and
every `$(...)` inside those. Each is checked for its shape:

- a bare `batch-array-notify X` fails in a shell block or a transcript (a fresh shell has no virtualenv);
- a bare `python -m` or `python3 -m` of a project module fails (a fresh shell has no virtualenv), unless
  the module needs nothing but the standard library (`python3 -m benchmarks.fresh_clone`);
- a command (`.venv/bin/batch-array-notify X`, batch_array_notify.cli) or a development tool
  (`.venv/bin/python -m tools.X`): the command or module exists and its own parser accepts the arguments; the
  stack file, the `--program` folder and a `--pattern` file exist; `--config` keys are declared;
- a make target exists in the Makefile, and a `STACK=` names a stack file;
- the Pulumi CLI (not installed here): the subcommand exists, stacks and config keys exist, and each
  `pulumi stack output NAME` is an output the stack exports;
- the AWS CLI: the service, the operation and every option exist in botocore's service model (the CLI is
  generated from it), but for the CLI's own customisations (`logs tail`, `sso login`).

Then the cheap offline ones that print no placeholders (`batch-array-notify plan`, `tools.config_table`,
...) actually run, in-process, each as its own test, and must exit 0.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import importlib.util
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import botocore.session
import pytest
import yaml
from botocore import xform_name

from batch_array_notify.cli.commands import COMMANDS, CONSOLE_SCRIPT
from batch_array_notify.cli.exit_codes import DONE
from tests.stack.test_readme_commands import (
    PULUMI_COMMANDS,
    VENV_PYTHON,
    make_target,
    pulumi_arguments,
    shell_lines,
    simple_commands,
)

ROOT = Path(__file__).resolve().parents[2]
PAGES = {f"docs/{page.name}": page.read_text() for page in sorted((ROOT / "docs").glob("*.md"))}
EXAMPLES = {
    path.relative_to(ROOT).as_posix(): path.read_text()
    for path in sorted((ROOT / "examples").rglob("*"))
    if path.suffix in {".py", ".yaml", ".md", ".txt"}
}
MAKEFILE = (ROOT / "Makefile").read_text()
DECLARED_KEYS = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
#: Tools cheap and offline enough to run, in-process, when the docs print them without placeholders. The
#: rehearsals the docs print are checked for their shape only (a second or so each); `make rehearse` runs
#: in a fresh shell (tests/stack/test_readme_commands.py), and tests/integration/test_rehearse.py runs the
#: scenarios docs/rehearsal.md shows.
RUN_TOOLS = {
    "batch_array_notify.cli.plan",
    "batch_array_notify.cli.chat_preview",
    "tools.config_table",
    "tools.api_schema",
}
#: The console script as a fresh shell at the repository root runs it.
VENV_SCRIPT = f".venv/bin/{CONSOLE_SCRIPT}"
#: The Pulumi CLI's package commands (docs/embedding.md), besides the README's.
PULUMI_GROUPS = PULUMI_COMMANDS | {"package": {"add", "get-schema"}}
#: AWS CLI commands that are the CLI's own, not in botocore's service models.
AWS_CLI_CUSTOMIZATIONS = {("logs", "tail"), ("sso", "login")}
#: Options every generated AWS CLI command takes (global and pagination options).
AWS_CLI_OPTIONS = {
    "query",
    "output",
    "region",
    "profile",
    "endpoint-url",
    "no-paginate",
    "max-items",
    "starting-token",
    "page-size",
    "cli-input-json",
    "cli-binary-format",
    "no-cli-pager",
    "debug",
}
#: Standard utilities the docs pipe through or substitute.
UTILITIES = {"jq", "sed", "date"}
#: A word that stands for a value the reader fills in: QUEUE, FILE.json, KEY=VALUE, JOB_ID.
PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_]*(?:\.[a-z]+)?(?:=[A-Z]+)?")
SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")
INLINE_COMMAND = re.compile(
    r"\.venv/bin/batch-array-notify |(?:\.venv/bin/python3?|python3?) -m |make \w|pulumi [a-z]|aws [a-z]"
)


@dataclass(frozen=True)
class DocumentedCommand:
    source: str
    words: tuple[str, ...]
    #: A `$ ` line of an output block: shown with what it prints (often an error), so only its form counts:
    #: how it is run, and that the options it names exist.
    transcript: bool = False
    #: An inline code span of the prose.
    inline: bool = False

    @property
    def text(self) -> str:
        return shlex.join(self.words)


def commands_of(line: str, source: str, *, transcript: bool = False, inline: bool = False) -> list[DocumentedCommand]:
    """The simple commands of one line, and those of its `$(...)` substitutions (each replaced by a word)."""
    inner = [command for found in SUBSTITUTION.findall(line) for command in commands_of(found, source)]
    words = [tuple(words) for words in simple_commands(SUBSTITUTION.sub("SUBSTITUTED", line))]
    return [DocumentedCommand(source, command, transcript, inline) for command in words] + inner


def without_fences(text: str) -> str:
    return re.sub(r"^[ \t]*```.*?^[ \t]*```", "", text, flags=re.S | re.M)


def inline_commands(prose: str, source: str) -> list[DocumentedCommand]:
    spans = (" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose))
    return [
        command for span in spans if INLINE_COMMAND.match(span) for command in commands_of(span, source, inline=True)
    ]


def page_commands(source: str, text: str) -> list[DocumentedCommand]:
    commands = [command for line in shell_lines(text) for command in commands_of(line, source)]
    for block in re.findall(r"^```text\n(.*?)^```", text, re.S | re.M):
        for line in block.splitlines():
            if line.startswith("$ "):
                commands += commands_of(line[2:], source, transcript=True)
    return commands + inline_commands(without_fences(text), source)


def example_commands(source: str, text: str) -> list[DocumentedCommand]:
    """Inline commands in the comments of an example (`#` comments, a Python file's docstrings)."""
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    if source.endswith(".py"):
        tree = ast.parse(text)
        comments += [
            ast.get_docstring(node) or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        ]
    return inline_commands("\n".join(comments), source)


@functools.cache
def documented_commands() -> dict[str, list[DocumentedCommand]]:
    found = {source: page_commands(source, text) for source, text in PAGES.items()}
    return found | {source: example_commands(source, text) for source, text in EXAMPLES.items()}


# --------------------------------------------------------------------------------------------------
# Shapes


def placeholders(words: tuple[str, ...]) -> list[str]:
    return [word for word in words if PLACEHOLDER.fullmatch(word) and word != "SUBSTITUTED"]


def as_printed(words: tuple[str, ...]) -> tuple[list[str], bool]:
    """The words with a synopsis' optional `[...]` and `...` taken out, and whether there were any."""
    kept = [word.strip("[]") for word in words]
    kept = [word for word in kept if word and word != "..."]
    return kept, kept != list(words)


def without_placeholders(
    words: list[str], known: set[str], required: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """The words without each placeholder and the option it is the value of (a `required` option keeps its
    placeholder as its value: the command would not parse without it); and the options so taken out that
    the parser does not know (`known` is its option strings)."""
    kept: list[str] = []
    unknown = []
    for word in words:
        if placeholders((word,)) and kept and kept[-1] in required:
            kept.append(word)
        elif placeholders((word,)) and kept and kept[-1].startswith("--"):
            option = kept.pop()
            unknown += [] if option in known else [option]
        elif not placeholders((word,)):
            kept.append(word)
    return kept, unknown


def stdlib_only(module: str) -> bool:
    """Whether `module` (of this project) imports only the standard library: the system python3 runs it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return False
    # A package runs its __main__.py (the deprecated `tools.<name>` forms are packages).
    source = Path(spec.origin).with_name("__main__.py") if spec.submodule_search_locations else Path(spec.origin)
    tree = ast.parse(source.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {"__future__"}


def tool_problems(command: DocumentedCommand) -> list[str]:
    module, arguments = command.words[2], list(command.words[3:])
    if importlib.util.find_spec(module) is None:
        return [f"no module {module}"]
    if not module.startswith(("tools.", "batch_array_notify.cli.")):
        return []
    tool = importlib.import_module(module)
    if not hasattr(tool, "parser"):
        return [f"{module} has no parser() to check its arguments with"]
    if command.inline and not arguments:
        return []  # the tool named in prose, not a command to run
    parser = tool.parser()
    required = frozenset(o for a in parser._actions if a.required for o in a.option_strings)
    words, unknown = without_placeholders(as_printed(tuple(arguments))[0], set(parser._option_string_actions), required)
    if unknown:
        return [f"{module} has no option {', '.join(unknown)}"]
    if {"--help", "-h"} & set(words):
        return []  # every tool's parser has --help
    if command.transcript:
        # Shown with what it prints, often the error of a deliberate mistake: only its options must exist.
        named = {word.partition("=")[0] for word in words if word.startswith("--")}
        return [f"{module} has no option {option}" for option in sorted(named - set(parser._option_string_actions))]
    try:
        options = parser.parse_args(words)
    except SystemExit:
        return [f"{module} refuses the arguments {shlex.join(words)}"]
    problems = []
    program = Path(getattr(options, "program", ROOT))
    program = program if program.is_absolute() else ROOT / program
    if not (program / "Pulumi.yaml").is_file():
        problems.append(f"--program {program} has no Pulumi.yaml")
    stack = getattr(options, "stack", None)
    if stack and not PLACEHOLDER.fullmatch(stack) and not (program / f"Pulumi.{stack}.yaml").is_file():
        problems.append(f"no stack file Pulumi.{stack}.yaml in {program}")
    pattern = getattr(options, "pattern", None)
    if pattern and not placeholders((pattern,)) and not pattern.lstrip().startswith("{"):
        problems += [] if (ROOT / pattern).is_file() else [f"no pattern file {pattern}"]
    for key, _ in getattr(options, "config", None) or []:
        namespace, _, name = key.rpartition(":")
        if namespace == "batch-array-notify" and name not in DECLARED_KEYS and program == ROOT:
            problems.append(f"--config {key} is not declared in Pulumi.yaml")
    return problems


def make_problems(words: tuple[str, ...]) -> list[str]:
    target = make_target(list(words))
    problems = [] if re.search(rf"^{target}:", MAKEFILE, re.M) else [f"no make target {target}"]
    stacks = [word.split("=", 1)[1] for word in words if word.startswith("STACK=")]
    return problems + [
        f"no stack file Pulumi.{stack}.yaml" for stack in stacks if not (ROOT / f"Pulumi.{stack}.yaml").exists()
    ]


def pulumi_problems(words: tuple[str, ...], outputs: set[str]) -> list[str]:
    positional, flags = pulumi_arguments(words)
    if not positional or positional[0] not in PULUMI_GROUPS:
        return [f"pulumi has no command {positional[:1]}"]
    if PULUMI_GROUPS[positional[0]] and (len(positional) < 2 or positional[1] not in PULUMI_GROUPS[positional[0]]):
        return [f"pulumi {positional[0]} has no subcommand {positional[1:2]}"]
    problems = []
    stacks = [flags.get("--stack", flags.get("-s"))]
    stacks += positional[2:3] if positional[:2] in (["stack", "init"], ["stack", "select"]) else []
    problems += [
        f"no stack file Pulumi.{stack}.yaml"
        for stack in stacks
        if stack and not (ROOT / f"Pulumi.{stack}.yaml").exists()
    ]
    if positional[:2] == ["config", "set"]:
        namespace, _, key = positional[2].rpartition(":")
        if namespace not in {"batch-array-notify", "aws"} or (
            namespace != "aws" and re.split(r"[.\[]", key)[0] not in DECLARED_KEYS
        ):
            problems.append(f"{positional[2]} is not a config key of the project")
    if positional[:2] == ["stack", "output"] and positional[2:] and positional[2] not in outputs:
        problems.append(f"the stack exports no output {positional[2]}")
    if positional[:2] == ["package", "add"]:
        # No placeholder reaches the reader: the package is added from a checkout's path.
        problems += [f"{positional[2]}: a placeholder reaches the reader"] if "<" in positional[2] else []
    return problems


@functools.cache
def aws_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def aws_operations(service: str) -> dict[str, str]:
    """The AWS CLI's command names of a service's operations (kebab case), to the operation names."""
    return {xform_name(name, "-"): name for name in aws_session().get_service_model(service).operation_names}


def aws_problems(words: tuple[str, ...]) -> list[str]:
    service, operation = words[1], words[2]
    if (service, operation) in AWS_CLI_CUSTOMIZATIONS:
        return []
    session = aws_session()
    if service not in session.get_available_services():
        return [f"aws has no service {service}"]
    names = aws_operations(service)
    if operation not in names:
        return [f"aws {service} has no command {operation}"]
    members = session.get_service_model(service).operation_model(names[operation]).input_shape.members
    known = {xform_name(member, "-") for member in members} | AWS_CLI_OPTIONS
    return [
        f"aws {service} {operation} has no option {word}"
        for word in words[3:]
        if word.startswith("--") and word[2:] not in known
    ]


def as_module(command: DocumentedCommand) -> DocumentedCommand:
    """A `.venv/bin/batch-array-notify COMMAND ...` line as the module that runs it (`.venv/bin/python -m
    batch_array_notify.cli.X ...`), which the tool checks read; any other line as it is."""
    words = command.words
    if words[0] == VENV_SCRIPT and len(words) > 1 and words[1] in COMMANDS:
        module = f"batch_array_notify.cli.{COMMANDS[words[1]].module}"
        return dataclasses.replace(command, words=(VENV_PYTHON, "-m", module, *words[2:]))
    return command


def shape_problems(command: DocumentedCommand, outputs: set[str]) -> list[str]:
    words = command.words
    if words[0] == VENV_SCRIPT:
        if len(words) == 1 or words[1] in {"--help", "-h"}:
            return []
        return tool_problems(as_module(command)) if words[1] in COMMANDS else [f"no command {words[1]}"]
    if words[0] == CONSOLE_SCRIPT:
        return [f"a fresh shell has no virtualenv; run {VENV_SCRIPT}"]
    if words[:2] == (VENV_PYTHON, "-m") and len(words) > 2:
        return tool_problems(command)
    if words[0] in {"python", "python3"} and words[1:2] == ("-m",) and len(words) > 2:
        stdlib = words[2].split(".")[0] in sys.stdlib_module_names or stdlib_only(words[2])
        return (
            []
            if words[0] == "python3" and stdlib
            else [f"a fresh shell has no virtualenv; run {VENV_PYTHON} -m {words[2]}"]
        )
    if words[0] == "make":
        return make_problems(words)
    if words[0] == "pulumi":
        return pulumi_problems(words, outputs)
    if words[0] == "aws" and len(words) > 2:
        return aws_problems(words)
    if words[0] == "export":
        return [] if re.fullmatch(r"[A-Z_]+=[\w-]+", words[1]) else ["not NAME=value"]
    if words[0] in UTILITIES:
        return []
    return ["not a command this test knows how to check"]


@pytest.fixture(scope="module")
def exported(stage_plans) -> set[str]:
    return {name for plan in stage_plans.values() for name in plan.outputs}


@pytest.mark.parametrize("source", sorted(documented_commands()))
def test_every_documented_command_has_the_shape_a_fresh_shell_runs(source, exported):
    problems = [
        f"{command.text}: {problem}"
        for command in documented_commands()[source]
        for problem in shape_problems(command, exported)
    ]

    assert problems == []


def test_the_commands_are_found_in_every_place_the_docs_print_them():
    """Guard for the extraction: each kind of place yields the commands it holds."""
    found = documented_commands()
    texts = {source: {command.text for command in commands} for source, commands in found.items()}

    assert ".venv/bin/batch-array-notify preflight --stack dev" in texts["docs/deploy.md"]  # a shell block
    assert any(text.startswith("pulumi stack output") for text in texts["docs/operations.md"])  # in $(...)
    assert ".venv/bin/batch-array-notify redrive --stack dev" in texts["docs/operations.md"]  # inline
    transcripts = [command for command in found["docs/tools.md"] if command.transcript]
    assert len(transcripts) >= 3
    assert (
        ".venv/bin/batch-array-notify plan --program examples/two_pipelines --stack dev"
        in texts["examples/two_pipelines/Pulumi.yaml"]
    )
    assert sum(len(commands) for commands in found.values()) > 100


def test_the_checks_refuse_what_a_fresh_shell_cannot_run(exported):
    """Guard for the checks: each kind of broken command is reported."""
    broken = [
        "python -m tools.redrive --stack dev",
        "python3 -m tools.plan --stack dev",
        "batch-array-notify plan --stack dev",
        ".venv/bin/batch-array-notify nosuchcommand",
        ".venv/bin/batch-array-notify rehearse --stack dev --size 7 --bogus",
        ".venv/bin/batch-array-notify plan --stack nosuchstage",
        ".venv/bin/batch-array-notify rehearse --stack dev --size 7 --pattern examples/patterns/none.json",
        ".venv/bin/python -m tools.nosuchtool",
        "make nosuchtarget",
        "make plan STACK=nosuchstage",
        "pulumi stack output noSuchOutput",
        "pulumi config set batch-array-notify:noSuchKey 1",
        "aws sqs receive-message --queue-url URL --no-such-option 1",
        "aws batch no-such-command",
        "curl https://example.com",
    ]
    reported = {line: shape_problems(DocumentedCommand("guard", tuple(shlex.split(line))), exported) for line in broken}

    transcript = DocumentedCommand("guard", (VENV_SCRIPT, "rehearse", "--stack", "dev", "--bogus"), True)

    assert [line for line, problems in reported.items() if not problems] == []
    assert shape_problems(transcript, exported) == ["batch_array_notify.cli.rehearse has no option --bogus"]
    assert shape_problems(DocumentedCommand("guard", ("python3", "-m", "benchmarks.fresh_clone")), exported) == []


def runnable() -> list[DocumentedCommand]:
    """The documented commands of the cheap offline tools, printed with their arguments and no
    placeholder, once each."""
    unique: dict[tuple[str, ...], DocumentedCommand] = {}
    for commands in documented_commands().values():
        for command in map(as_module, commands):
            _, synopsis = as_printed(command.words)
            if (
                command.words[:2] == (VENV_PYTHON, "-m")
                and command.words[2] in RUN_TOOLS
                and not (command.transcript or synopsis or placeholders(command.words))
                and not (command.inline and len(command.words) == 3)
            ):
                unique.setdefault(command.words, command)
    return list(unique.values())


@pytest.mark.parametrize("command", runnable(), ids=lambda command: command.text)
def test_the_offline_commands_run_as_printed(command, capsys):
    main = importlib.import_module(command.words[2]).main
    try:
        code = main(list(command.words[3:]))
    except SystemExit as exited:
        code = exited.code
    out, err = capsys.readouterr()

    assert code == DONE
    assert err == ""
    assert out
