"""Config keys as strict as the Pulumi CLI: a key in the project's namespace that `Pulumi.yaml` does not
declare is refused with the closest declared key, in every stack file and in `--config` overrides."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from batch_array_notify.cli import plan
from batch_array_notify.testing.program import ROOT, UnknownConfigKeyError, stack_config

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
PROJECT = "batch-array-notify"


def test_the_repository_has_stack_files_to_check():
    assert {path.name for path in STACK_FILES} >= {"Pulumi.dev.yaml", "Pulumi.prod.yaml", "Pulumi.attach.yaml"}


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda path: path.name)
def test_every_stack_file_uses_declared_keys_only(stack_file: Path):
    stage = stack_file.name.split(".")[1]
    config = stack_config(ROOT, stage)
    written = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    assert set(written) <= set(config)


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=lambda path: path.name)
def test_a_misspelt_key_in_each_stack_file_is_refused(stack_file: Path, tmp_path: Path):
    """Each real stack file with one of its project keys misspelt (last letter dropped) is refused."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = yaml.safe_load(stack_file.read_text())
    key = next(key for key in document["config"] if key.startswith(f"{PROJECT}:"))
    document["config"][key[:-1]] = document["config"].pop(key)
    (tmp_path / stack_file.name).write_text(yaml.safe_dump(document))

    with pytest.raises(UnknownConfigKeyError) as refused:
        stack_config(tmp_path, stack_file.name.split(".")[1])

    message = str(refused.value)
    assert message.startswith(f"{stack_file.name}: {key[:-1]} is not a config key")
    assert message.endswith(f"did you mean {key.split(':', 1)[1]}?")


def test_an_unqualified_key_in_a_stack_file_is_the_projects_and_is_checked(tmp_path: Path):
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  maxVcpu: 8\n")

    with pytest.raises(UnknownConfigKeyError, match=f"{PROJECT}:maxVcpu .*did you mean maxVcpus\\?"):
        stack_config(tmp_path, "qa")


def test_a_provider_namespace_is_left_to_the_provider():
    config = stack_config(ROOT, "dev", {"aws:profile": "research", "aws:skipMetadataApiCheck": "true"})

    assert config["aws:profile"] == "research"


def test_a_key_far_from_any_declared_one_lists_the_declared_keys():
    with pytest.raises(UnknownConfigKeyError) as refused:
        stack_config(ROOT, "dev", {f"{PROJECT}:zzzz": "1"})

    assert "declared keys: alertsTopicArn, allocationStrategy," in str(refused.value)


def test_plan_refuses_a_misspelt_override_with_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        plan.main(["--stack", "dev", "--config", f"{PROJECT}:maxVcpu=8"])

    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.out == ""
    assert captured.err == (
        f"error: --config: {PROJECT}:maxVcpu is not a config key of {PROJECT} (Pulumi.yaml); did you mean maxVcpus?\n"
    )
