"""Stack tests run the real program (`__main__.py`) per stage file, under mocks (`stage_plans`, in
tests/conftest.py)."""

import pytest


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
