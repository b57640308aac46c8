"""Stack tests run the real program (`__main__.py`) per stage file, under mocks."""

from pathlib import Path

import pytest

from tools.program import Plan, run_program

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def stage_plans() -> dict[str, Plan]:
    stages = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
    return {stage: run_program(ROOT, stage) for stage in stages}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto needs credentials and a region to exist; none of them reach AWS."""
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(variable, value)
