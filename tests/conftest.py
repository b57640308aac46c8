"""Fixtures shared by every test layer."""

from pathlib import Path

import pytest

from tests.support import CHAT_CONFIG
from tools.program import Plan, run_program

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def stage_plans() -> dict[str, Plan]:
    """The real program (`__main__.py`) planned once per stage file, under mocks."""
    stages = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
    return {stage: run_program(ROOT, stage) for stage in stages}


@pytest.fixture(scope="session")
def chat_plan() -> Plan:
    """The dev stage with a Slack and a Teams channel configured (tests/support.py CHAT_CONFIG)."""
    return run_program(ROOT, "dev", CHAT_CONFIG)
