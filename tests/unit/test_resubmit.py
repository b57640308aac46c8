"""cli/resubmit.py against botocore's Stubber: what it reads of the original array job, the one request
(or the split requests) it submits, its pacing and its exit codes.

Stubber, not moto: moto's ListJobs ignores `maxResults` and `nextToken` (and its DescribeJobs drops
container overrides), so only a scripted Batch shows the paging and the exact SubmitJob request; Stubber
also checks every request and response against botocore's Batch model. The resubmission against moto,
through the stack's rule and notifier, is `tools.rehearse --resubmit` (tests/integration).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from batch_array_notify.cli import resubmit
from batch_array_notify.cli.resubmit import MAX_SUBMIT_PAYLOAD_BYTES, PAUSE_SECONDS, payload_bytes
from batch_array_notify.handler import aws
from batch_array_notify.handler.lineage import (
    INDEX_MAP_VARIABLE,
    RESUBMISSION_OF_TAG,
    RESUBMISSION_OF_VARIABLE,
    compact_ranges,
)
from tests.support import ToolRun, original_indices_by_python, original_indices_by_shell, run_tool

REGION = "eu-west-1"
PARENT = "4c7e2a31-0d5f-4c53-9d0b-5a1f8e2b9c10"
QUEUE = f"arn:aws:batch:{REGION}:123456789012:job-queue/render"
DEFINITION = f"arn:aws:batch:{REGION}:123456789012:job-definition/render:3"
FAILED = [0, 17, 18, 19, 20, 9999]
#: The definition's container: what the job's own container is compared with to find its overrides.
DEFINITION_CONTAINER = {
    "image": "public.ecr.aws/docker/library/busybox:stable",
    "command": ["sh", "-c", "echo default"],
    "environment": [{"name": "STAGE", "value": "dev"}],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
}
#: The original's overrides: another command, one more variable, more memory.
OVERRIDES = {
    "command": ["python", "render.py", "--frames", "all"],
    "environment": [{"name": "QUALITY", "value": "high"}],
    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4096"}],
}


def parent_job(size: int = 10_000, failed: int = len(FAILED), **fields: Any) -> dict[str, Any]:
    """The array parent as DescribeJobs shows it: its effective container is the definition's with the
    overrides applied, plus a variable Batch sets itself."""
    job: dict[str, Any] = {
        "jobId": PARENT,
        "jobName": "render",
        "jobArn": f"arn:aws:batch:{REGION}:123456789012:job/{PARENT}",
        "jobQueue": QUEUE,
        "jobDefinition": DEFINITION,
        "status": "FAILED",
        "startedAt": 1_700_000_000_000,
        "arrayProperties": {"size": size, "statusSummary": {"SUCCEEDED": size - failed, "FAILED": failed}},
        "container": {
            "image": DEFINITION_CONTAINER["image"],
            "command": OVERRIDES["command"],
            "environment": [
                {"name": "STAGE", "value": "dev"},
                {"name": "QUALITY", "value": "high"},
                {"name": "AWS_BATCH_JOB_ATTEMPT", "value": "1"},
            ],
            "resourceRequirements": OVERRIDES["resourceRequirements"],
        },
        "parameters": {"scene": "s3://scenes/castle.blend"},
        "tags": {"team": "render"},
        "timeout": {"attemptDurationSeconds": 600},
        "retryStrategy": {"attempts": 2},
    }
    return job | fields


def summaries(indices: list[int]) -> list[dict[str, Any]]:
    return [
        {"jobId": f"{PARENT}:{index}", "jobName": "render", "status": "FAILED", "arrayProperties": {"index": index}}
        for index in indices
    ]


DEFINITIONS = {
    "jobDefinitions": [
        {
            "jobDefinitionName": "render",
            "jobDefinitionArn": DEFINITION,
            "revision": 3,
            "type": "container",
            "containerProperties": DEFINITION_CONTAINER,
        }
    ]
}


class Batch:
    """A real botocore Batch client under a Stubber; `submitted` records each SubmitJob request."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = boto3.client("batch", region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test")
        self.stubber = Stubber(self.client)
        self.submitted: list[dict[str, Any]] = []
        self.pauses: list[float] = []
        self.client.meta.events.register(
            "provide-client-params.batch.SubmitJob", lambda params, **_: self.submitted.append(copy.deepcopy(params))
        )
        monkeypatch.setattr(resubmit, "new_client", lambda *args, **kwargs: self.client)

    def original(self, job: dict[str, Any]) -> Batch:
        self.stubber.add_response("describe_jobs", {"jobs": [job]}, {"jobs": [PARENT]})
        return self

    def failed_pages(self, *pages: list[int]) -> Batch:
        for number, page in enumerate(pages):
            request: dict[str, Any] = {"arrayJobId": PARENT, "jobStatus": "FAILED", "maxResults": 1000}
            if number:
                request["nextToken"] = f"page-{number}"
            response: dict[str, Any] = {"jobSummaryList": summaries(page)}
            if number + 1 < len(pages):
                response["nextToken"] = f"page-{number + 1}"
            self.stubber.add_response("list_jobs", response, request)
        return self

    def definition(self) -> Batch:
        self.stubber.add_response("describe_job_definitions", DEFINITIONS, {"jobDefinitions": [DEFINITION]})
        return self

    def accepts(self, jobs: int) -> Batch:
        for number in range(jobs):
            self.stubber.add_response("submit_job", {"jobName": "render", "jobId": f"retry-{number}"})
        return self

    def run(self, *argv: str) -> ToolRun:
        with self.stubber:
            result = run_tool(partial(resubmit.main, sleep=self.pauses.append), "--job-id", PARENT, *argv)
            self.stubber.assert_no_pending_responses()
        return result


def environment_of(request: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in request["containerOverrides"]["environment"]}


def test_the_failed_children_of_10000_become_one_array_job_of_6_with_the_originals_settings(monkeypatch):
    batch = Batch(monkeypatch).original(parent_job()).failed_pages(FAILED).definition().accepts(1)

    result = batch.run("--region", REGION)

    assert (result.code, result.stderr) == (0, "")
    (request,) = batch.submitted
    assert request == {
        "jobName": "render",
        "jobQueue": QUEUE,
        "jobDefinition": DEFINITION,
        "arrayProperties": {"size": 6},
        "containerOverrides": {
            "command": OVERRIDES["command"],
            "environment": [
                {"name": "QUALITY", "value": "high"},
                {"name": INDEX_MAP_VARIABLE, "value": "0,17-20,9999"},
                {"name": RESUBMISSION_OF_VARIABLE, "value": PARENT},
            ],
            "resourceRequirements": OVERRIDES["resourceRequirements"],
        },
        "parameters": {"scene": "s3://scenes/castle.blend"},
        "tags": {"team": "render", RESUBMISSION_OF_TAG: PARENT},
        "timeout": {"attemptDurationSeconds": 600},
        "retryStrategy": {"attempts": 2},
    }
    assert result.stdout.splitlines() == [
        f"{PARENT} (render, 10000 children): 6 failed: 0,17-20,9999",
        "submitted retry-0: 6 children of render:3, original indices 0,17-20,9999",
    ]


@pytest.mark.parametrize("run", [original_indices_by_shell, original_indices_by_python])
def test_every_new_child_computes_its_original_index_from_the_submitted_map(monkeypatch, run):
    batch = Batch(monkeypatch).original(parent_job()).failed_pages(FAILED).definition().accepts(1)
    batch.run()
    (request,) = batch.submitted

    assert run(environment_of(request)[INDEX_MAP_VARIABLE], request["arrayProperties"]["size"]) == FAILED


def test_ten_thousand_failed_children_are_read_in_pages_of_1000_with_a_pause_between(monkeypatch):
    pages = [list(range(start, start + 1000)) for start in range(0, 10_000, 1000)]
    batch = Batch(monkeypatch).original(parent_job(failed=10_000)).failed_pages(*pages).definition().accepts(1)

    result = batch.run()

    assert result.code == 0
    (request,) = batch.submitted
    assert request["arrayProperties"] == {"size": 10_000}
    assert environment_of(request)[INDEX_MAP_VARIABLE] == "0-9999"
    assert batch.pauses == [PAUSE_SECONDS] * 9


#: Every ninth child from 1: a map of about 4.9 KB.
SCATTERED = list(range(1, 9000, 9))
#: A bulky original (a long parameter): it leaves about 2.6 KB of the 30 KiB payload for the map.
BULKY = {"scene": "s3://scenes/" + "x" * 27_000}


def test_a_map_too_long_for_one_payload_is_split_over_several_jobs_and_says_so(monkeypatch):
    job = parent_job(failed=len(SCATTERED), parameters=BULKY)
    batch = Batch(monkeypatch).original(job).failed_pages(SCATTERED).definition().accepts(2)

    result = batch.run()

    assert result.code == 0
    assert "the index map is too long for SubmitJob's 30 KiB payload: split into 2 jobs" in result.stdout
    first, second = batch.submitted
    assert [payload_bytes(request) <= MAX_SUBMIT_PAYLOAD_BYTES for request in (first, second)] == [True, True]
    whole = resubmit.with_children(resubmit.base_request(job, DEFINITION_CONTAINER), SCATTERED, PARENT)
    assert payload_bytes(whole) > MAX_SUBMIT_PAYLOAD_BYTES
    maps = [environment_of(request)[INDEX_MAP_VARIABLE] for request in (first, second)]
    sizes = [request["arrayProperties"]["size"] for request in (first, second)]
    assert sum(sizes) == len(SCATTERED)
    for request in (first, second):
        assert (request["jobDefinition"], request["jobQueue"], request["parameters"]) == (DEFINITION, QUEUE, BULKY)
        assert request["containerOverrides"]["command"] == OVERRIDES["command"]
        assert request["tags"][RESUBMISSION_OF_TAG] == PARENT
    computed = [
        original_indices_by_shell(maps[0], sizes[0]) + original_indices_by_shell(maps[1], sizes[1]),
        original_indices_by_python(maps[0], sizes[0]) + original_indices_by_python(maps[1], sizes[1]),
    ]
    assert computed == [SCATTERED, SCATTERED]
    assert batch.pauses == [PAUSE_SECONDS]


def test_the_longest_map_of_10000_children_fits_one_payload_of_an_ordinary_job():
    """Every other child of 10,000 failed: the longest map there is, and it still needs no split."""
    every_other = list(range(0, 10_000, 2))
    request = resubmit.with_children(resubmit.base_request(parent_job(), DEFINITION_CONTAINER), every_other, PARENT)

    assert len(resubmit.plan_jobs(resubmit.base_request(parent_job(), DEFINITION_CONTAINER), every_other, PARENT)) == 1
    assert payload_bytes(request) < MAX_SUBMIT_PAYLOAD_BYTES


def test_one_failed_child_becomes_a_plain_job(monkeypatch):
    batch = Batch(monkeypatch).original(parent_job(failed=1)).failed_pages([17]).definition().accepts(1)

    result = batch.run()

    (request,) = batch.submitted
    assert "arrayProperties" not in request
    assert environment_of(request)[INDEX_MAP_VARIABLE] == "17"
    assert "a plain job, which the notifier does not report" in result.stdout
    assert original_indices_by_shell("17", 1, array=False) == [17]


def test_a_resubmission_of_a_resubmission_maps_to_the_first_jobs_indices(monkeypatch):
    container = parent_job()["container"] | {
        "environment": [
            {"name": INDEX_MAP_VARIABLE, "value": "100-109"},
            {"name": RESUBMISSION_OF_VARIABLE, "value": "first-job"},
        ]
    }
    job = parent_job(size=10, failed=2, container=container, tags={RESUBMISSION_OF_TAG: "first-job"})
    batch = Batch(monkeypatch).original(job).failed_pages([2, 5]).definition().accepts(1)

    batch.run()

    (request,) = batch.submitted
    assert environment_of(request) == {INDEX_MAP_VARIABLE: "102,105", RESUBMISSION_OF_VARIABLE: PARENT}
    assert request["tags"] == {RESUBMISSION_OF_TAG: PARENT}


def test_a_dry_run_submits_nothing_and_says_what_it_would(monkeypatch):
    batch = Batch(monkeypatch).original(parent_job()).failed_pages(FAILED).definition()

    result = batch.run("--dry-run", "--json")

    assert result.code == 0
    document = json.loads(result.stdout)
    assert (document["dryRun"], document["failedChildren"], document["split"]) == (True, "0,17-20,9999", False)
    assert [(job["jobId"], job["size"], job["indexMap"]) for job in document["jobs"]] == [(None, 6, "0,17-20,9999")]
    assert batch.submitted == []


def test_no_failed_children_means_nothing_to_resubmit_and_exit_1(monkeypatch):
    batch = Batch(monkeypatch).original(parent_job(status="SUCCEEDED", failed=0)).failed_pages([])

    result = batch.run()

    assert (result.code, result.stdout) == (1, f"{PARENT} has no failed children: nothing to resubmit\n")


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (None, f"error: --job-id {PARENT}: Batch does not know this job here: check the id and --region\n"),
        (
            parent_job(arrayProperties={}),
            f"error: --job-id {PARENT}: not an array parent (no arrayProperties.size): give the array job's id\n",
        ),
        (
            parent_job(status="RUNNING"),
            f"error: --job-id {PARENT}: the array job is RUNNING: resubmit once it has finished\n",
        ),
        (
            parent_job(ecsProperties={"taskProperties": [{"containers": [{"image": "x"}]}]}),
            f"error: --job-id {PARENT}: a multi-container (ecsProperties) job: only container jobs can be "
            "resubmitted\n",
        ),
    ],
)
def test_a_job_that_cannot_be_resubmitted_is_one_line_and_exit_2(monkeypatch, job, message):
    batch = Batch(monkeypatch)
    batch.stubber.add_response("describe_jobs", {"jobs": [job] if job else []}, {"jobs": [PARENT]})

    result = batch.run()

    assert (result.code, result.stderr, batch.submitted) == (2, message, [])


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, "AWS throttled ListJobs (ThrottlingException) after botocore's retries"),
        (
            "ServerException",
            500,
            "AWS answered ListJobs with HTTP 500 (ServerException), a fault on its side or a proxy's: try again later",
        ),
    ],
)
def test_throttling_and_server_errors_are_one_line_and_exit_3(monkeypatch, code, status, expected):
    batch = Batch(monkeypatch).original(parent_job())
    batch.stubber.add_client_error("list_jobs", code, http_status_code=status)

    result = batch.run()

    assert result.code == 3
    assert result.stderr.count("\n") == 1
    assert expected in result.stderr


class ServerErrors(BaseHTTPRequestHandler):
    """Batch on the loopback answering every request with HTTP 500, counting them."""

    requests = 0

    def do_POST(self) -> None:  # http.server's name
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "ServerException", "message": "internal"}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_server_errors_are_retried_up_to_the_factorys_attempts_then_one_line_and_exit_3(monkeypatch, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ServerErrors)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # botocore's backoff between attempts
    try:
        result = run_tool(resubmit.main, "--job-id", PARENT, "--region", REGION)
    finally:
        server.shutdown()
        server.server_close()

    assert (ServerErrors.requests, result.code) == (aws.MAX_ATTEMPTS, 3)
    assert result.stderr == (
        "error: AWS answered DescribeJobs with HTTP 500 (ServerException), a fault on its side or a proxy's: "
        "try again later\n"
    )


DOCS = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


def test_the_dry_run_the_docs_show_is_the_tools_own_output(monkeypatch):
    batch = Batch(monkeypatch).original(parent_job()).failed_pages(FAILED).definition()

    result = batch.run("--region", REGION, "--dry-run")

    command = f"$ .venv/bin/batch-array-notify resubmit --job-id {PARENT} --region {REGION} --dry-run"
    assert f"```text\n{command}\n{result.stdout}```" in DOCS.read_text()


def test_the_docs_give_the_longest_map_of_10000_children():
    longest = len(compact_ranges(range(0, 10_000, 2)))

    assert f"the longest map 10,000 children can need (every other child failed) is {longest:,} characters" in (
        " ".join(DOCS.read_text().split())
    )
