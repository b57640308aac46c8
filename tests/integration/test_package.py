"""The component as users get it: a wheel of the one package, installed, imported from anywhere.

`make wheel` (setuptools, through uv) builds exactly one wheel; installed as the README prints it (a line
of a program's requirements.txt next to the checkout), with `--no-deps --target` into an empty directory
(the only path besides the interpreter's own packages), the program planned from a working directory
outside the repository registers the same resources as `batch-array-notify plan --stack dev` and ships the
same Lambda code. The checkout's own line installs too. Installed with its `testing` extra into a fresh
virtualenv, as a user installs it, it runs docs/embedding.md's test recipe and its console script plans
examples/two_pipelines.
"""

import hashlib
import importlib.metadata
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import batch_array_notify
from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.notifier import handler_sources
from batch_array_notify.testing import Plan, run_program, stack_config

ROOT = Path(__file__).resolve().parents[2]
#: uv, which `make venv` installs beside the interpreter that runs the tests.
UV = str(Path(sys.executable).with_name("uv"))
PYTHON = ("--python", sys.executable)
#: What a wheel is built from (everything else in the repository is not part of the package).
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "components", "handler", "cli", "testing")

#: An outside program's own offline check: the installed package's testing kit, no repository code on the path.
PROBE = r"""
import hashlib, importlib.metadata, json, runpy, sys
from pathlib import Path

import batch_array_notify
from batch_array_notify.testing import program as planner

config, program, report = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
plan = planner.run_under_mocks(
    lambda: runpy.run_path(program, run_name="__main__"), "batch-array-notify", "dev", config
)
assets = {}
for function in plan.of_type("aws:lambda/function:Function"):
    for name, asset in function.inputs["code"]["assetArchive"].items():
        path = planner.ROOT / asset["file"]
        assets[name] = {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
report.write_text(json.dumps({
    "registered": [resource.type for resource in plan.resources],
    "assets": assets,
    "module": batch_array_notify.__file__,
    "kit": planner.__file__,
    "version": batch_array_notify.__version__,
    "metadata_version": importlib.metadata.version("batch-array-notify"),
}))
"""


def run(command: list[str], cwd: Path, **env: str) -> None:
    finished = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    assert finished.returncode == 0, f"{' '.join(command)}\n{finished.stdout}\n{finished.stderr}"


def readme_requirements() -> list[str]:
    """The requirements.txt lines the README prints for a program next to a checkout."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Use it in your own program") :].split("```text\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package's sources named like the repository, with the wheel `make wheel` built in
    its dist/ (the Makefile's own recipe, with .venv's tools; the real checkout gets no build/ or egg-info)."""
    source = tmp_path_factory.mktemp("checkouts") / "batch-array-notify"
    source.mkdir()
    for name in (*PACKAGE_SOURCES, "Makefile"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(
            ROOT / name,
            source / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}),
        )
    # INSTALLED empty: .venv is ready (the tests run in it), so the target builds and installs nothing else.
    run(["make", "--no-print-directory", "wheel", f"VENV={Path(sys.executable).parents[1]}", "INSTALLED="], source)
    return source


@pytest.fixture(scope="module")
def installed(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `make wheel` built, named as the README names it, installed with no dependencies into an
    empty target directory from a program's requirements.txt next to the checkout."""
    wheels = list((checkout / "dist").glob("*.whl"))
    assert [wheel.name for wheel in wheels] == [f"batch_array_notify-{batch_array_notify.__version__}-py3-none-any.whl"]
    (wheel_line,) = [line for line in readme_requirements() if line.endswith(".whl")]
    return install_requirement(wheel_line, checkout, tmp_path_factory)


@pytest.fixture(scope="module")
def wheel(checkout: Path) -> Path:
    """The wheel `make wheel` built in the copied checkout's dist/."""
    (built,) = (checkout / "dist").glob("*.whl")
    return built


def install_requirement(line: str, checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`line` as the one requirement of a program in a folder next to `checkout`, installed (no
    dependencies, nothing downloaded) into an empty target directory."""
    program = checkout.parent / "my-program"
    program.mkdir(exist_ok=True)
    (program / "requirements.txt").write_text(line + "\n")
    target = tmp_path_factory.mktemp("site-packages")
    options = ["--python", sys.executable, "--no-deps", "--no-build-isolation", "--target", str(target), "--quiet"]
    run([UV, "pip", "install", *options, "-r", "requirements.txt"], program)
    # uv's own lock of the target directory; not from the wheel.
    (target / ".lock").unlink(missing_ok=True)
    return target


@pytest.fixture(scope="module")
def outside_program(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """This repository's own program, copied out of it and planned with only the wheel on the path."""
    workdir = tmp_path_factory.mktemp("outside")
    program = workdir / "program"
    program.mkdir()
    shutil.copy2(ROOT / "__main__.py", program / "__main__.py")
    (workdir / "probe.py").write_text(PROBE)
    config = json.dumps(stack_config(ROOT, "dev"))
    run([sys.executable, "probe.py", config, str(program), "report.json"], workdir, PYTHONPATH=str(installed))
    return json.loads((workdir / "report.json").read_text())


def test_the_readme_names_the_checkout_and_the_wheel_make_builds():
    assert readme_requirements() == [
        "../batch-array-notify",
        f"../batch-array-notify/dist/batch_array_notify-{batch_array_notify.__version__}-py3-none-any.whl",
    ]


def test_the_checkout_as_printed_installs_the_package(checkout, tmp_path_factory):
    (checkout_line,) = [line for line in readme_requirements() if not line.endswith(".whl")]

    target = install_requirement(checkout_line, checkout, tmp_path_factory)

    assert (target / "batch_array_notify" / "handler" / "app.py").is_file()
    assert (target / f"batch_array_notify-{batch_array_notify.__version__}.dist-info").is_dir()


def test_the_wheel_installs_one_package_its_console_script_and_no_generic_top_level_names(installed):
    top_level = sorted(path.name for path in installed.iterdir())

    assert top_level == ["batch_array_notify", f"batch_array_notify-{batch_array_notify.__version__}.dist-info", "bin"]
    assert [path.name for path in (installed / "bin").iterdir()] == ["batch-array-notify"]
    assert (installed / "batch_array_notify" / "handler" / "app.py").is_file()
    assert (installed / "batch_array_notify" / "cli" / "commands.py").is_file()
    assert (installed / "batch_array_notify" / "testing" / "program.py").is_file()
    assert (installed / "batch_array_notify" / "py.typed").is_file()


def test_an_outside_program_imports_the_installed_package(installed, outside_program):
    assert Path(outside_program["module"]).is_relative_to(installed)
    assert Path(outside_program["kit"]).is_relative_to(installed)
    assert outside_program["version"] == outside_program["metadata_version"] == batch_array_notify.__version__


def test_an_outside_program_plans_the_same_resources_as_the_dev_stack(outside_program, stage_plans):
    planned: Plan = stage_plans["dev"]

    assert len(planned.resources) > 25
    assert Counter(outside_program["registered"]) == Counter(resource.type for resource in planned.resources)


def test_the_lambda_asset_is_the_same_from_the_wheel_and_from_the_checkout(installed, outside_program):
    from_checkout = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in handler_sources().items()}
    from_wheel = {name: asset["sha256"] for name, asset in outside_program["assets"].items()}

    assert "handler/app.py" in from_wheel
    assert from_wheel == from_checkout
    assert all(Path(asset["path"]).is_relative_to(installed) for asset in outside_program["assets"].values())


def test_one_version_for_the_package_its_metadata_the_plugin_and_the_changelog():
    plugin = runpy.run_path(str(ROOT / "components"), run_name="plugin_entry")
    changelog = (ROOT / "CHANGELOG.md").read_text()

    assert importlib.metadata.version("batch-array-notify") == batch_array_notify.__version__
    assert plugin["PACKAGE_VERSION"] == batch_array_notify.__version__
    assert f"## [{batch_array_notify.__version__}]" in changelog


def test_examples_install_the_package_by_path_and_never_edit_the_import_path():
    examples = [path for path in (ROOT / "examples").iterdir() if (path / "Pulumi.yaml").is_file()]

    assert examples
    for example in examples:
        requirements = [
            line.strip()
            for line in (example / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert [(example / line).resolve() for line in requirements] == [ROOT], example.name
        assert "batch-array-notify" in (example / "requirements.txt").read_text(), example.name
    needle = ".".join(("sys", "path"))  # spelled apart so this file does not match itself
    skipped = {".venv", "venv", "build", ".git"}
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not skipped & set(path.relative_to(ROOT).parts) and needle in path.read_text()
    ]
    assert offenders == []


# --------------------------------------------------------------------------------------------------
# As a user installs it: a fresh virtualenv with the wheel and its `testing` extra


#: The recipe's broken twin: the completion rule without its `arrayProperties` clause (the status-only rule).
STATUS_ONLY_RULE = """
import pytest

import batch_array_notify.completion_rule as rule_module


@pytest.fixture(autouse=True)
def status_only_rule(monkeypatch):
    original = rule_module.completion_event_pattern

    def without_array_properties(*args, **kwargs):
        pattern = original(*args, **kwargs)
        del pattern["detail"]["arrayProperties"]
        return pattern

    monkeypatch.setattr(rule_module, "completion_event_pattern", without_array_properties)
"""


def docs_recipe() -> str:
    """The first ```python block of docs/embedding.md's testing section: the user's test."""
    section = (ROOT / "docs" / "embedding.md").read_text().split("\n## Testing your program\n", 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0] + "\n"


def user_environment() -> dict[str, str]:
    """This environment without what points into this checkout or its virtualenv."""
    return {name: value for name, value in os.environ.items() if name not in {"PYTHONPATH", "VIRTUAL_ENV"}}


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with the wheel, its `testing` extra and pytest, from uv's cache (which `make venv`
    filled): nothing is downloaded and nothing of the checkout is on the path."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    run([UV, "venv", "--quiet", *PYTHON, str(venv)], wheel.parent)
    python = ("--python", str(venv / "bin" / "python"))
    run([UV, "pip", "install", "--quiet", "--offline", *python, f"{wheel}[testing]", "pytest"], wheel.parent)
    return venv


def test_the_docs_recipe_passes_in_a_fresh_virtualenv_and_fails_on_a_broken_rule(fresh_venv, tmp_path):
    """One pytest run outside the repository: the recipe as printed, and beside it the same test with the
    rule's `arrayProperties` clause removed, which must fail on the rule's assertion."""
    for folder in ("recipe", "broken"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "test_my_program.py").write_text(docs_recipe())
    (tmp_path / "broken" / "conftest.py").write_text(STATUS_ONLY_RULE)
    finished = subprocess.run(
        [
            str(fresh_venv / "bin" / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "-rf",
            "recipe",
            "broken",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=user_environment(),
        check=False,
    )
    failed = [line.split(" - ")[0] for line in finished.stdout.splitlines() if line.startswith("FAILED ")]

    assert "1 failed, 1 passed" in finished.stdout, finished.stdout + finished.stderr
    assert failed == ["FAILED broken/test_my_program.py::test_one_notification_per_array_job_with_least_privilege"]
    # The line pytest marks with ">" is the assertion on what the rule caught.
    assert (
        '>       assert [(event["detail"]["jobId"], event["detail"]["status"]) for event in caught]' in finished.stdout
    )


def test_the_console_script_lists_its_commands_and_plans_a_copied_example(fresh_venv, tmp_path):
    script = str(fresh_venv / "bin" / "batch-array-notify")
    listed = subprocess.run([script, "--help"], capture_output=True, text=True, env=user_environment(), check=False)
    example = shutil.copytree(ROOT / "examples" / "two_pipelines", tmp_path / "two_pipelines")
    planned = subprocess.run(
        [script, "plan", "--stack", "dev"],
        cwd=example,
        capture_output=True,
        text=True,
        env=user_environment(),
        check=False,
    )

    assert listed.returncode == 0
    listing = listed.stdout.split("\ncommands:\n", 1)[1]
    assert re.findall(r"^    ([a-z][a-z-]*)", listing, re.M) == list(COMMANDS)
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    in_checkout = run_program(ROOT / "examples" / "two_pipelines", "dev")
    assert (plan["project"], plan["stack"]) == ("two-pipelines", "dev")
    assert sorted(resource["urn"] for resource in plan["resources"]) == sorted(r.urn for r in in_checkout.resources)


def test_the_extras_pin_what_the_checkout_installs():
    """The `testing` and `cli` extras give users the ranges `make venv` installs and the suite runs with."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    installed_here = {
        line.split("#")[0].strip()
        for name in ("requirements.txt", "requirements-dev.txt")
        for line in (ROOT / name).read_text().splitlines()
    }

    assert set(extras) == {"testing", "cli"}
    assert [wanted for extra in extras.values() for wanted in extra if wanted not in installed_here] == []
