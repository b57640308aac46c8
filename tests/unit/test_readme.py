"""The README's and the docs' generated parts, figures and commands stay true to the code.

The README keeps only what a new user needs first; the reference moved to docs/ (configuration.md,
how-it-works.md, ...), and each check moved with the text it keeps in step."""

import importlib.util
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

import batch_array_notify
from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs
from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.event_pattern import MAX_PATTERN_CHARS, completion_event_pattern
from batch_array_notify.handler.report import MAX_SUBJECT_CHARS
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import run_under_mocks
from tools.config_table import config_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
CONFIGURATION = (DOCS / "configuration.md").read_text()
HOW_IT_WORKS = (DOCS / "how-it-works.md").read_text()
#: Every Markdown page a reader can reach from the README.
PAGES = {"README.md": README} | {f"docs/{page.name}": page.read_text() for page in sorted(DOCS.glob("*.md"))}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def table_rows(text: str, header_start: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_config_table_is_the_one_generated_from_pulumi_yaml():
    assert config_table() in CONFIGURATION


COMPARISON_HEADER = "| rule | array job |"


def test_the_readmes_rule_comparison_rows_are_rows_of_the_full_table_in_the_rehearsal_docs():
    """The README shows four rows of `make compare`'s table; docs/rehearsal.md has all of it
    (tests/integration/test_readme_figures.py recomputes the README's rows)."""
    readme_rows = table_rows(README, COMPARISON_HEADER)
    docs_rows = table_rows((DOCS / "rehearsal.md").read_text(), COMPARISON_HEADER)

    assert len(readme_rows) == 2 + 4
    assert len(docs_rows) == 2 + 12
    assert readme_rows[:2] == docs_rows[:2]
    assert [row for row in readme_rows if row not in docs_rows] == []
    ours = [row for row in docs_rows if row.startswith("| this stack's rule")]
    assert len(ours) == 4
    assert all(row.endswith("| 1 | 1 | 0 | 0 | yes |") for row in ours)


def test_the_readmes_n_plus_1_is_what_the_status_only_rows_show():
    size = int(re.search(r"\(N = (\d+)\)", README)[1])
    status_only = [row for row in table_rows(README, COMPARISON_HEADER) if row.startswith("| status only")]

    assert "fires N+1 times" in README
    assert "runs the Lambda N+1 times" in README
    assert status_only
    assert all(row.split(" | ")[2] == str(size + 1) for row in status_only)


#: Modules that other branches add; a docs page may name them before they land. When one exists, the test
#: below fails until it is taken off this list.
PENDING_MODULES: set[str] = set()


def test_every_python_module_the_readme_and_the_docs_run_exists():
    modules = {module for text in PAGES.values() for module in re.findall(r"python3? -m ([\w.]*\w)", text)}

    assert {"tools.mutate", "tools.config_table", "tools.dashboard_picture"} <= modules
    missing = {module for module in modules if importlib.util.find_spec(module) is None}
    assert missing == PENDING_MODULES & modules


def test_every_command_the_readme_and_the_docs_run_exists():
    pattern = r"(?:\.venv/bin/|`)batch-array-notify ([a-z][\w-]*)"
    commands = {command for text in PAGES.values() for command in re.findall(pattern, text)}

    assert {"plan", "rehearse", "submit", "compare-rules", "chat-preview", "preflight", "redrive"} <= commands
    assert "submit" in re.findall(pattern, README)
    assert commands - set(COMMANDS) == PENDING_MODULES & commands


def test_every_make_target_the_readme_and_the_docs_name_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = {target for text in PAGES.values() for target in re.findall(r"`make (\w+)", text)}
    targets |= set(re.findall(r"make (\w+)", README))

    assert {"test", "rehearse", "venv", "plan", "compare"} <= targets
    assert [target for target in targets if not re.search(rf"^{target}:", makefile, re.M)] == []


def test_ci_runs_the_readmes_test_command():
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_how_it_works_report_examples_are_lines_of_the_generated_examples():
    """docs/how-it-works.md abbreviates the examples of docs/message-format.md (which a test keeps equal to
    what the handler renders); every line it shows in full must stand there verbatim."""
    generated = (DOCS / "message-format.md").read_text()
    blocks = re.findall(r"```text\nSubject: (.*?)```", HOW_IT_WORKS, re.S)
    shown = [
        line.strip()
        for block in blocks
        for line in block.splitlines()[2:]
        if line.strip() and "..." not in line and not line.startswith(("{", " "))
    ]

    assert len(blocks) == 2
    assert len(shown) > 15
    assert [line for line in shown if line not in generated] == []
    assert all(block.split("\n", 1)[0] in generated for block in blocks)


def fenced_blocks(language: str, text: str = README) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_readmes_python_program_plans_a_pipeline_with_the_installed_package():
    (program,) = [block for block in fenced_blocks("python") if block.startswith("# __main__.py")]

    plan = run_under_mocks(lambda: exec(compile(program, "README.md", "exec"), {}), "my-batch", "dev")

    pipelines = plan.of_type(TYPE_TOKEN)
    assert [pipeline.name for pipeline in pipelines] == ["etl"]
    assert plan.outputs["jobQueue"].startswith("etl-queue-")
    # The wheel `make wheel` writes (tests/integration/test_package.py installs both lines as printed).
    requirement = f"../batch-array-notify/dist/batch_array_notify-{batch_array_notify.__version__}-py3-none-any.whl"
    assert requirement in {line for block in fenced_blocks("text") for line in block.splitlines()}


def test_the_embedding_docs_yaml_program_uses_inputs_and_outputs_the_component_has():
    embedding = (DOCS / "embedding.md").read_text()
    (program,) = [yaml.safe_load(block) for block in fenced_blocks("yaml", embedding) if "runtime: yaml" in block]
    pipeline = program["resources"]["pipeline"]
    inputs = {camel(key) for key in BatchArrayPipelineArgs.__annotations__}
    outputs = {camel(key) for key in BatchArrayPipeline.output_names()}

    assert pipeline["type"] == TYPE_TOKEN
    assert set(pipeline["properties"]) <= inputs
    assert {value.strip("${}").split(".", 1)[1] for value in program["outputs"].values()} <= outputs
    assert len(program["outputs"]) >= 1
    assert program["packages"]["batcharray"] == "../batch-array-notify/components"


def test_the_resource_counts_are_those_of_the_stage_plans(stage_plans):
    paragraph = HOW_IT_WORKS[HOW_IT_WORKS.index("Counts from the offline plan") :].split("\n\n", 1)[0]
    counts = {stage: int(count) for stage, count in re.findall(r"\*\*(\w+)\*\*\D*?(\d+)", paragraph)}

    assert counts == {stage: len(plan.resources) for stage, plan in stage_plans.items()}


def test_the_readmes_notifier_only_program_plans_no_batch_resources():
    (program,) = [block for block in fenced_blocks("python") if block.startswith("# Already have Batch")]
    encode = "arn:aws:batch:us-east-1:123456789012:job-queue/encode"

    plan = run_under_mocks(
        lambda: exec(compile(program, "README.md", "exec"), {}),
        "my-batch",
        "dev",
        stack_outputs={"my-org/batch/prod": {"encodeQueueArn": encode}},
    )

    assert [resource.type for resource in plan.resources if resource.type.startswith("aws:batch/")] == []
    (rule,) = [r for r in plan.resources if r.name == "render-completed" and r.type.endswith("EventRule")]
    assert (
        '"jobQueue": ["arn:aws:batch:us-east-1:123456789012:job-queue/render", "' + encode
        in rule.inputs["eventPattern"]
    )
    assert plan.outputs["topicArn"].startswith("arn:aws:sns:us-east-1:")


def stage_file(stage: str) -> dict[str, Any]:
    config = yaml.safe_load((ROOT / f"Pulumi.{stage}.yaml").read_text())["config"]
    return {key.removeprefix("batch-array-notify:"): value for key, value in config.items()}


def test_the_stage_differences_the_configuration_docs_state_are_the_stage_files():
    dev, prod = stage_file("dev"), stage_file("prod")
    stated = [
        f"**dev** runs on {dev['computeType']} with {dev['maxVcpus']} vCPUs, {dev['jobVcpus']}-vCPU jobs",
        f"{dev['jobLogRetentionDays']}-day log retention",
        f"a {dev['kmsKeyDeletionWindowDays']}-day key deletion window",
        f"**prod** on {prod['computeType']} ({', '.join(prod['instanceTypes'])}) with",
        f"{prod['maxVcpus']} vCPUs, {prod['jobVcpus']}-vCPU jobs, {prod['jobRetryAttempts']} attempts per child",
        f"{prod['jobLogRetentionDays']}-day retention",
    ]
    paragraph = " ".join(CONFIGURATION[CONFIGURATION.index("The stages differ") :].split("\n\n", 1)[0].split())

    assert [fragment for fragment in stated if fragment not in paragraph] == []


def test_the_outputs_table_lists_exactly_what_the_stack_exports(stage_plans):
    section = CONFIGURATION[CONFIGURATION.index("## Outputs") :]
    listed = {
        name for row in table_rows(section, "| output |")[2:] for name in re.findall(r"`(\w+)`", row.split(" | ")[0])
    }
    exported = {name for plan in stage_plans.values() for name in plan.outputs}
    downstream = {name for name in listed if name.startswith("downstream")}

    assert "submitArrayJob" in section
    assert downstream, "the table names the outputs of a downstream function"
    # A downstream function is not configured in any stage file; its outputs come from the component.
    assert listed - downstream <= exported
    assert exported - {"submitArrayJob"} <= listed
    assert downstream <= {camel(name) for name in BatchArrayPipeline.output_names()}


def test_the_figures_of_the_readme_and_how_it_works_come_from_the_code(stage_plans):
    rules = stage_plans["dev"].of_type("aws:cloudwatch/eventRule:EventRule")
    (completion_rule,) = [rule for rule in rules if "arrayProperties" in rule.inputs["eventPattern"]]
    requires_python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    figures = {
        HOW_IT_WORKS: [
            f"The dev stack's pattern is {len(completion_rule.inputs['eventPattern'])} characters of the "
            f"{MAX_PATTERN_CHARS:,} EventBridge allows.",
            f"Subject (at most {MAX_SUBJECT_CHARS}\ncharacters, as SNS requires)",
        ],
        README: [f"(Python {requires_python.removeprefix('>=')}+,"],
    }
    attach_queues = stage_file("attach")["existingJobQueueArns"]
    figures[HOW_IT_WORKS].append(f"(**attach**, {['one', 'two', 'three'][len(attach_queues) - 1]} queues)")

    assert [figure for text, stated in figures.items() for figure in stated if figure not in text] == []


def test_the_readme_describes_the_rehearsal_make_rehearse_runs():
    """The prose before the rehearsal's output names the Makefile's scenario (the output itself is compared
    with what `make rehearse` prints by tests/stack/test_readme_commands.py)."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^rehearse:.*\n\t(.*)$", makefile, re.M)[1]
    options = dict(re.findall(r"--(\w+) (\S+)", recipe))
    options["stack"] = options["stack"].replace("$(STACK)", re.search(r"^STACK \?= (\w+)$", makefile, re.M)[1])
    size, failures = int(options["size"]), int(options["failures"])
    prose = " ".join(README[README.index("## What `make rehearse` shows") :].split("```", 1)[0].split())

    assert f"It plans the {options['stack']} stack" in prose
    assert f"a {size}-child array job ({failures} children failing, one of them before placement" in prose
    # The rehearsal fails half of the failing children, rounded down, before placement.
    assert failures // 2 == 1
    assert "and a duplicate delivery" in prose
    assert options["duplicates"] == "1"


#: Pages that other branches add; a link may name them before they land. When one exists, the test below
#: fails until it is taken off this list.
PENDING_PAGES: set[str] = set()


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors: lower case, punctuation other than `-` and `_` dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    broken, pending = [], set()
    for page, text in PAGES.items():
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"\w+://", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (ROOT / page).parent / path if path else ROOT / page
            name = resolved.resolve().relative_to(ROOT).as_posix()
            if name in PENDING_PAGES:
                pending.add(name)
            elif not resolved.exists():
                broken.append(f"{page}: {target}")
            elif anchor and anchor not in heading_anchors(resolved.read_text()):
                broken.append(f"{page}: {target} (no such heading)")

    assert broken == []
    assert pending == PENDING_PAGES
    assert [page for page in PENDING_PAGES if (ROOT / page).exists()] == []


def test_the_rule_how_it_works_shows_is_the_one_the_code_builds():
    queue = "arn:aws:batch:us-east-1:123456789012:job-queue/q"
    definition = "arn:aws:batch:us-east-1:123456789012:job-definition/d"
    (shown,) = [block for block in fenced_blocks("json", HOW_IT_WORKS) if '"aws.batch"' in block]
    placeholders = {
        "<this queue's ARN>": queue,
        "<this job definition's ARN without revision>": definition,
    }
    for placeholder, value in placeholders.items():
        assert placeholder in shown
        shown = shown.replace(placeholder, value)

    assert json.loads(shown) == completion_event_pattern(queue, definition)


#: Words a newcomer meets in the README and the docs that the glossary must explain (issue 10's list and more).
GLOSSARY_TERMS = [
    "array job",
    "parent",
    "before placement",
    "noise",
    "moto",
    "mock runtime",
    "ecsProperties",
    "Powertools layer",
    "idempotency",
    "DLQ",
    "stack",
]


def test_the_glossary_explains_the_words_the_readme_uses_unexplained():
    glossary = (DOCS / "glossary.md").read_text()
    entries = {entry.lower() for entry in re.findall(r"^\*\*(.+?)\.?\*\*", glossary, re.M)}
    explained = {term for term in GLOSSARY_TERMS if any(term.lower() in entry for entry in entries)}

    assert explained == set(GLOSSARY_TERMS)
    assert "(docs/glossary.md)" in README.split("\n## ", 1)[0]


def test_the_virtualenv_make_venv_fills_is_the_one_pulumi_up_runs_the_program_with():
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    venv = re.search(r"^VENV := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]

    assert runtime["options"]["virtualenv"] == venv == ".venv"
    assert "boto3" in (ROOT / "requirements.txt").read_text()


def test_the_user_docs_name_no_issue_numbers():
    """A reader has no access to the project's issue tracker: the docs say what they mean instead."""
    mentions = {page: re.findall(r"\bissues? #?\d+", text, re.I) for page, text in PAGES.items()}

    assert {page: found for page, found in mentions.items() if found} == {}
