"""The component as users get it: a wheel of the one package, installed, imported from anywhere.

The build backend (setuptools, through uv) builds exactly one wheel; installed with `--no-deps --target`
into an empty directory (the
only path besides the interpreter's own packages), the program planned from a working directory outside
the repository registers the same resources as `tools.plan --stack dev` and ships the same Lambda code.
"""

import hashlib
import importlib.metadata
import json
import os
import runpy
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import batch_array_notify
from batch_array_notify.notifier import handler_sources
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.testing.program import Plan, stack_config

ROOT = Path(__file__).resolve().parents[2]
#: uv, which `make venv` installs beside the interpreter that runs the tests.
UV = str(Path(sys.executable).with_name("uv"))
#: What a wheel is built from (everything else in the repository is not part of the package).
PACKAGE_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "components", "handler")

#: An outside program's own offline check: minimal mocks, no repository code on the path.
PROBE = r"""
import asyncio, hashlib, importlib.metadata, json, runpy, sys
from pathlib import Path

import pulumi

config, program, report = json.loads(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
registered, assets = [], {}


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        if args.typ == "aws:lambda/function:Function":
            assets.update({
                name: {"path": asset.path, "sha256": hashlib.sha256(Path(asset.path).read_bytes()).hexdigest()}
                for name, asset in args.inputs["code"].assets.items()
            })
        registered.append(args.typ)
        arn = f"arn:aws:batch:us-east-1:123456789012:job-definition/{args.name}"
        return f"{args.name}-id", {**args.inputs, "name": args.name, "arn": f"{arn}:1", "arnPrefix": arn,
                                   "url": f"https://sqs.us-east-1.amazonaws.com/123456789012/{args.name}"}

    def call(self, args):
        return {"region": "us-east-1", "partition": "aws", "accountId": "123456789012", "id": "vpc-1",
                "ids": ["subnet-1", "subnet-2"], "vpcId": "vpc-1"}, []


asyncio.set_event_loop(asyncio.new_event_loop())
pulumi.runtime.set_all_config(config)
pulumi.runtime.set_mocks(Mocks(), project="batch-array-notify", stack="dev", preview=False)


@pulumi.runtime.test
def run():
    runpy.run_path(program, run_name="__main__")
    return pulumi.Output.from_input(None)


run()
import batch_array_notify
report.write_text(json.dumps({
    "registered": registered,
    "assets": assets,
    "module": batch_array_notify.__file__,
    "version": batch_array_notify.__version__,
    "metadata_version": importlib.metadata.version("batch-array-notify"),
}))
"""


def run(command: list[str], cwd: Path, **env: str) -> None:
    finished = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}, check=False)
    assert finished.returncode == 0, f"{' '.join(command)}\n{finished.stdout}\n{finished.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the package's sources (so the checkout gets no build/ or
    egg-info), installed with no dependencies into an empty target directory."""
    source = tmp_path_factory.mktemp("source")
    for name in PACKAGE_SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(
            ROOT / name,
            source / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}),
        )
    dist = tmp_path_factory.mktemp("dist")
    # --no-build-isolation: the project's own setuptools builds it, nothing is downloaded. uv (which `make
    # venv` installs) rather than pip: the same backend builds the same wheel, in a fifth of pip's time.
    python = ["--python", sys.executable]
    run([UV, "build", "--wheel", "--no-build-isolation", *python, "--out-dir", str(dist), "--quiet", "."], source)
    wheels = list(dist.glob("*.whl"))
    assert [wheel.name for wheel in wheels] == [f"batch_array_notify-{batch_array_notify.__version__}-py3-none-any.whl"]
    target = tmp_path_factory.mktemp("site-packages")
    run([UV, "pip", "install", *python, "--no-deps", "--target", str(target), str(wheels[0]), "--quiet"], dist)
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


def test_the_wheel_installs_one_package_and_no_generic_top_level_names(installed):
    top_level = sorted(path.name for path in installed.iterdir())

    assert top_level == ["batch_array_notify", f"batch_array_notify-{batch_array_notify.__version__}.dist-info"]
    assert (installed / "batch_array_notify" / "handler" / "app.py").is_file()
    assert (installed / "batch_array_notify" / "py.typed").is_file()


def test_an_outside_program_imports_the_installed_package(installed, outside_program):
    assert Path(outside_program["module"]).is_relative_to(installed)
    assert outside_program["version"] == outside_program["metadata_version"] == batch_array_notify.__version__


def test_an_outside_program_plans_the_same_resources_as_the_dev_stack(outside_program, stage_plans):
    planned: Plan = stage_plans["dev"]
    expected = Counter(resource.type for resource in planned.resources if resource.type != TYPE_TOKEN)
    # The mocks of a component-only registration (no provider call) differ between harnesses; resources do not.
    registered = Counter(typ for typ in outside_program["registered"] if typ != TYPE_TOKEN)

    assert sum(expected.values()) > 25
    assert registered == expected


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
