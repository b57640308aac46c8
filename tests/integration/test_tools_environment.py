"""The tools that call AWS, run where AWS cannot be used: no credentials, an unreachable endpoint. Each
ends with one line naming the cause and the fix, and exit 3; never a traceback. No moto here: the point
is what botocore itself raises."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from batch_array_notify.cli import preflight, resubmit, submit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tools.md"
SUBMIT = ["--stack", "dev", "--size", "3", "--queue", "q", "--job-definition", "d"]
PREFLIGHT = ["--stack", "dev"]
MAINS = {
    "submit": (submit.main, SUBMIT),
    "preflight": (preflight.main, PREFLIGHT),
    "resubmit": (resubmit.main, ["--job-id", "4c7e2a31-0d5f-4c53-9d0b-5a1f8e2b9c10", "--region", "us-east-1"]),
}


@pytest.fixture
def nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No credentials anywhere botocore looks: environment, files, SSO, instance metadata; a fresh session."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return monkeypatch


def run(name: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one tool; `exit_on_aws_environment_errors` exits through SystemExit."""
    main, argv = MAINS[name]
    try:
        code = main(argv)
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", sorted(MAINS))
def test_without_credentials_one_line_and_exit_3(name, nowhere, capsys):
    code, out, err = run(name, capsys)

    assert code == 3
    assert out == ""
    assert err == (
        "error: no AWS credentials found: set AWS_PROFILE to a profile in ~/.aws/config "
        "(run `aws sso login --profile NAME` for SSO) or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n"
    )


@pytest.mark.parametrize("name", sorted(MAINS))
def test_an_unreachable_endpoint_is_one_line_and_exit_3(name, nowhere, capsys):
    """Port 9 (discard) on the loopback refuses at once; one attempt, so botocore does not retry for long."""
    nowhere.setenv("AWS_ACCESS_KEY_ID", "unused")
    nowhere.setenv("AWS_SECRET_ACCESS_KEY", "unused")
    nowhere.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    nowhere.setenv("AWS_MAX_ATTEMPTS", "1")

    code, out, err = run(name, capsys)

    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith('error: cannot reach AWS (Could not connect to the endpoint URL: "http://127.0.0.1:9/')
    assert err.endswith("check the network, a proxy (HTTPS_PROXY) or AWS_ENDPOINT_URL\n")


def test_the_docs_show_submits_own_line_without_credentials(nowhere, capsys):
    _, _, err = run("submit", capsys)

    assert f"$ .venv/bin/batch-array-notify submit {' '.join(SUBMIT)}\n{err}" in DOCS.read_text()
