"""The README's generated parts and commands stay true to the code."""

import importlib.util
import re
from pathlib import Path

from tools.config_table import config_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


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
