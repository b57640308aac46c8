"""The README's generated parts and commands stay true to the code."""

import importlib.util
import re
from pathlib import Path

import yaml

import batch_array_notify
from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs
from batch_array_notify.pipeline import TYPE_TOKEN
from tools.config_table import config_table
from tools.program import run_under_mocks

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


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
    assert config_table() in README


def test_rule_comparison_matches_the_rehearsal_docs_both_produced_by_the_tool():
    header = "| rule | array job |"
    readme_rows = table_rows(README, header)
    docs_rows = table_rows((ROOT / "docs" / "rehearsal.md").read_text(), header)

    assert len(readme_rows) == 14
    assert readme_rows == docs_rows
    ours = [row for row in readme_rows if row.startswith("| this stack's rule")]
    assert len(ours) == 4
    assert all(row.endswith("| 1 | 1 | 0 | 0 | yes |") for row in ours)


def test_every_python_module_the_readme_runs_exists():
    modules = set(re.findall(r"python -m ([\w.]+)", README))

    assert {"tools.plan", "tools.rehearse", "tools.submit", "tools.compare_rules"} <= modules
    missing = [module for module in modules if importlib.util.find_spec(module) is None]
    assert missing == []


def test_every_make_target_the_readme_names_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"make (\w+)", README))

    assert {"test", "rehearse"} <= targets
    assert [target for target in targets if not re.search(rf"^{target}:", makefile, re.M)] == []


def test_ci_runs_the_readmes_test_command():
    assert "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_report_examples_are_lines_of_the_generated_examples():
    """The README abbreviates the examples of docs/message-format.md (which a test keeps equal to what the
    handler renders); every line it shows in full must stand there verbatim."""
    generated = (ROOT / "docs" / "message-format.md").read_text()
    blocks = re.findall(r"```text\nSubject: (.*?)```", README, re.S)
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


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_readmes_python_program_plans_a_pipeline_with_the_installed_package():
    (program,) = [block for block in fenced_blocks("python") if block.startswith("# __main__.py")]

    plan = run_under_mocks(lambda: exec(compile(program, "README.md", "exec"), {}), "my-batch", "dev")

    pipelines = plan.of_type(TYPE_TOKEN)
    assert [pipeline.name for pipeline in pipelines] == ["etl"]
    assert plan.outputs["jobQueue"].startswith("etl-queue-")
    requirement = (
        f"batch-array-notify @ git+https://github.com/<owner>/batch-array-notify@v{batch_array_notify.__version__}"
    )
    assert requirement in {line for block in fenced_blocks("text") for line in block.splitlines()}


def test_the_readmes_yaml_program_uses_inputs_and_outputs_the_component_has():
    (program,) = [yaml.safe_load(block) for block in fenced_blocks("yaml") if "runtime: yaml" in block]
    pipeline = program["resources"]["pipeline"]
    inputs = {camel(key) for key in BatchArrayPipelineArgs.__annotations__}
    outputs = {camel(key) for key in BatchArrayPipeline.output_names()}

    assert pipeline["type"] == TYPE_TOKEN
    assert set(pipeline["properties"]) <= inputs
    assert {value.strip("${}").split(".", 1)[1] for value in program["outputs"].values()} <= outputs
    assert program["packages"]["batcharray"].endswith(f"/components@v{batch_array_notify.__version__}")


def test_the_resource_counts_are_those_of_the_stage_plans(stage_plans):
    paragraph = README[README.index("Counts from the offline plan") :].split("\n\n", 1)[0]
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
