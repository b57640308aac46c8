"""Every AWS client of the handler, the sweep and the tools states its retry mode: each is made by
`handler.aws.new_client`, with botocore's standard mode and `MAX_ATTEMPTS` attempts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from batch_array_notify.handler import aws
from tests.support import notifier_environment

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ROOT / "handler" / "aws.py"
#: What makes a boto3 client or resource besides our factory.
CLIENT_MAKERS = frozenset({"client", "resource"})


def client_calls(path: Path) -> list[str]:
    """`x.client(...)` and `x.resource(...)` calls in a module, as `file:line`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_MAKERS
    ]


def test_no_module_of_the_handler_or_the_tools_makes_a_client_but_the_factory():
    modules = [*sorted((ROOT / "handler").glob("*.py")), *sorted((ROOT / "tools").glob("*.py"))]

    made_elsewhere = [call for module in modules if module != FACTORY for call in client_calls(module)]

    assert len(client_calls(FACTORY)) == 1, "the factory is where clients are made"
    assert made_elsewhere == []


def test_the_scan_sees_a_client_made_outside_the_factory(tmp_path):
    rogue = ROOT / "tools" / "_rogue_client_probe.py"
    rogue.write_text('import boto3\n\nsqs = boto3.client("sqs")\n')
    try:
        assert client_calls(rogue) == ["tools/_rogue_client_probe.py:3"]
    finally:
        rogue.unlink()


@pytest.mark.parametrize("service", ["batch", "sns", "dynamodb", "events", "sqs", "lambda", "sts", "ec2"])
def test_a_factory_client_uses_standard_retries_with_bounded_attempts(service):
    made = aws.new_client(service, region="us-east-1")

    assert made.meta.config.retries == {"mode": "standard", "total_max_attempts": aws.MAX_ATTEMPTS}
    assert aws.RETRY_MODE in ("standard", "adaptive")
    assert 2 <= aws.MAX_ATTEMPTS <= 10


def test_options_add_to_the_retry_config_without_replacing_it():
    made = aws.new_client("lambda", region="us-east-1", read_timeout=90)

    assert made.meta.config.read_timeout == 90
    assert made.meta.config.retries["mode"] == "standard"


def test_the_handlers_clients_come_from_the_factory(monkeypatch):
    environment = notifier_environment("arn:aws:batch:eu-west-1:123456789012:job-queue/q", AWS_REGION="eu-west-1")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from batch_array_notify.handler.settings import settings  # noqa: PLC0415

    settings.cache_clear()
    aws.reset()
    try:
        for service in ("batch", "sns", "dynamodb", "events"):
            assert aws.client(service).meta.config.retries == {
                "mode": "standard",
                "total_max_attempts": aws.MAX_ATTEMPTS,
            }
            assert aws.client(service).meta.region_name == "eu-west-1"
    finally:
        aws.reset()
        settings.cache_clear()


def test_a_new_pacer_replaces_the_last_one_on_the_batch_client(monkeypatch):
    """A warm environment's next sweep paces with its own pacer: the last one's is no longer called."""
    environment = notifier_environment("arn:aws:batch:eu-west-1:123456789012:job-queue/q", AWS_REGION="eu-west-1")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    from batch_array_notify.handler.settings import settings  # noqa: PLC0415

    settings.cache_clear()
    aws.reset()
    waits: list[str] = []
    try:
        aws.pace_batch_calls(lambda: waits.append("first sweep"))
        aws.pace_batch_calls(lambda: waits.append("next sweep"))
        # What botocore emits before it sends each request (and each retry) of the client.
        aws.client("batch").meta.events.emit("before-send.batch.ListJobs", request=None)
    finally:
        aws.reset()
        settings.cache_clear()

    assert waits == ["next sweep"]
