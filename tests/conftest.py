"""Fixtures shared by every test layer."""

import functools
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest

from batch_array_notify.testing.program import Plan, run_program
from tests.support import CHAT_CONFIG

ROOT = Path(__file__).resolve().parents[1]


class _UniquePaths(list[str]):
    """boto3 appends its data folder to the loader's search path for every session it makes."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    loader = botocore.loaders.create_loader(search_path_string)
    loader._search_paths = _UniquePaths(loader.search_paths)
    return loader


# Tests start the handler afresh (new boto3 session, new clients) hundreds of times, and each new session
# parsed the service models' JSON from disk again: a third of a moto test's time. One loader for every
# session of the test process; it only caches what it reads from botocore's own files.
botocore.session.create_loader = _shared_loader


@pytest.fixture(scope="session")
def stage_plans() -> dict[str, Plan]:
    """The real program (`__main__.py`) planned once per stage file, under mocks."""
    stages = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
    return {stage: run_program(ROOT, stage) for stage in stages}


@pytest.fixture(scope="session")
def chat_plan() -> Plan:
    """The dev stage with a Slack and a Teams channel configured (tests/support.py CHAT_CONFIG)."""
    return run_program(ROOT, "dev", CHAT_CONFIG)


@pytest.fixture
def offline_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool run as in a fresh shell with nothing set up: no AWS credentials to find, no instance
    metadata to ask, no Pulumi CLI on PATH (tools that read stack outputs are told it is missing)."""
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr("batch_array_notify.cli.stack_outputs.shutil.which", lambda _name: None)
