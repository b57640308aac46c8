"""Invariants of the synthetic Batch event streams that every other test relies on."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from itertools import islice
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_array_notify.testing.eventgen import (
    MAX_ARRAY_SIZE,
    QUEUE_BLOCKED,
    STATUS_SUMMARY_KEYS,
    ArrayJobSpec,
    Compute,
    array_job_events,
    noise_events,
    queue_blocked_event,
    single_job_events,
)

# A region and account other than moto's defaults, to prove both are taken from the queue ARN.
REGION, ACCOUNT = "eu-west-1", "111122223333"
QUEUE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/print-color-queue"
OTHER_QUEUE_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/other-queue"
JOB_DEFINITION_ARN = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/print-color:4"
ENVELOPE_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
ISO_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RUNTIME_KEYS = ("containerInstanceArn", "taskArn", "exitCode", "logStreamName", "podName")
NON_EC2 = [Compute.FARGATE, Compute.EKS, Compute.ECSPROPS]


def _spec(compute: Compute = Compute.EC2, size: int = 7, failures: int = 0, before: int = 0) -> ArrayJobSpec:
    return ArrayJobSpec(QUEUE_ARN, JOB_DEFINITION_ARN, size, failures, before, compute)


def _by_job(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    statuses: dict[str, list[str]] = defaultdict(list)
    for event in events:
        statuses[event["detail"]["jobId"]].append(event["detail"]["status"])
    return statuses


def _keys_anywhere(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for value in node.values() for k in _keys_anywhere(value)}
    if isinstance(node, list):
        return {k for item in node for k in _keys_anywhere(item)}
    return set()


def _check_stream(spec: ArrayJobSpec) -> list[dict[str, Any]]:
    """Assert the invariants every array stream must hold; return the events for further checks."""
    events = list(array_job_events(spec))
    parent = spec.job_id
    statuses = _by_job(events)

    assert len(events) == spec.event_count()
    assert statuses.pop(parent) == ["PENDING", "FAILED" if spec.failures else "SUCCEEDED"]
    assert events[-1]["detail"]["jobId"] == parent
    assert set(statuses) == {f"{parent}:{i}" for i in range(spec.size)}
    for child_id, child_statuses in statuses.items():
        index = int(child_id.rsplit(":", 1)[1])
        if index in spec.failed_before_placement_indices:
            assert child_statuses == ["RUNNABLE", "FAILED"]
        else:
            final = "FAILED" if index in spec.failed_indices else "SUCCEEDED"
            assert child_statuses == ["RUNNABLE", "STARTING", "RUNNING", final]
    assert len(spec.failed_indices) == spec.failures

    final_summary = events[-1]["detail"]["arrayProperties"]["statusSummary"]
    assert list(final_summary) == list(STATUS_SUMMARY_KEYS)
    assert sum(final_summary.values()) == spec.size
    assert (final_summary["SUCCEEDED"], final_summary["FAILED"]) == (spec.size - spec.failures, spec.failures)

    times = [e["time"] for e in events]
    assert times == sorted(times)
    assert len({e["id"] for e in events}) == len(events)
    return events


@pytest.mark.parametrize(("failures", "before"), [(0, 0), (2, 0), (3, 2), (7, 7)])
@pytest.mark.parametrize("compute", list(Compute))
def test_stream_invariants(compute: Compute, failures: int, before: int) -> None:
    _check_stream(_spec(compute, failures=failures, before=before))


@settings(max_examples=40, deadline=None)
@given(
    compute=st.sampled_from(Compute),
    size=st.integers(2, 130),
    data=st.data(),
)
def test_stream_invariants_hold_for_any_size_and_failure_mix(compute: Compute, size: int, data: Any) -> None:
    failures = data.draw(st.integers(0, size), label="failures")
    before = data.draw(st.integers(0, failures), label="failures_before_placement")
    _check_stream(_spec(compute, size, failures, before))


def test_largest_array_streams_every_event() -> None:
    spec = _spec(size=MAX_ARRAY_SIZE, failures=10, before=4)
    stream = array_job_events(spec)
    first = next(stream)
    assert first["detail"]["arrayProperties"] == {
        "statusSummary": dict.fromkeys(STATUS_SUMMARY_KEYS, 0) | {"PENDING": MAX_ARRAY_SIZE},
        "size": MAX_ARRAY_SIZE,
    }
    count, last = 1, first
    for count, last in enumerate(stream, start=2):  # noqa: B007 - the loop variables are the result
        pass
    assert count == spec.event_count() == 4 * MAX_ARRAY_SIZE + 2 - 2 * 4
    assert last["detail"]["status"] == "FAILED"
    assert last["detail"]["arrayProperties"]["statusSummary"]["FAILED"] == 10


def test_envelope_and_common_detail_fields() -> None:
    events = list(array_job_events(_spec(Compute.FARGATE, failures=1)))
    parent_arn = f"arn:aws:batch:{REGION}:{ACCOUNT}:job/{events[0]['detail']['jobId']}"
    for event in events:
        detail = event["detail"]
        assert set(event) == ENVELOPE_KEYS
        assert (event["source"], event["detail-type"], event["version"]) == ("aws.batch", "Batch Job State Change", "0")
        assert (event["account"], event["region"]) == (ACCOUNT, REGION)
        assert ISO_SECOND.match(event["time"])
        assert event["resources"] == [detail["jobArn"]]
        assert detail["jobArn"].endswith(f":job/{detail['jobId']}")
        assert (detail["jobQueue"], detail["jobDefinition"]) == (QUEUE_ARN, JOB_DEFINITION_ARN)
        # Captures show children tagged with the *parent's* ARN.
        assert detail["tags"] == {"resourceArn": parent_arn}
        assert isinstance(detail["createdAt"], int)


@pytest.mark.parametrize("compute", list(Compute))
def test_parent_and_child_array_properties(compute: Compute) -> None:
    events = list(array_job_events(_spec(compute)))
    parent_id = events[0]["detail"]["jobId"]
    for event in events:
        detail = event["detail"]
        if detail["jobId"] == parent_id:
            assert set(detail["arrayProperties"]) == {"statusSummary", "size"}
            assert detail["arrayProperties"]["size"] == 7
            assert detail["attempts"] == []
            assert not {"startedAt", "stoppedAt", "statusReason"} & set(detail)
        else:
            index = int(detail["jobId"].removeprefix(f"{parent_id}:"))
            assert detail["arrayProperties"] == {"statusSummary": {}, "index": index}


@pytest.mark.parametrize("compute", list(Compute))
def test_placed_children_carry_timestamps_and_terminal_attempts(compute: Compute) -> None:
    events = list(array_job_events(_spec(compute, failures=2)))
    for event in events[1:-1]:
        detail = event["detail"]
        status = detail["status"]
        assert ("startedAt" in detail) == (status in ("RUNNING", "SUCCEEDED", "FAILED"))
        assert ("stoppedAt" in detail) == (status in ("SUCCEEDED", "FAILED"))
        if status in ("SUCCEEDED", "FAILED"):
            attempts = detail["eksAttempts"] if compute is Compute.EKS else detail["attempts"]
            [attempt] = attempts
            assert attempt["startedAt"] < attempt["stoppedAt"] == detail["stoppedAt"]
        else:
            assert detail["attempts"] == detail["eksAttempts"] == []


@pytest.mark.parametrize("compute", [Compute.EC2, Compute.SPOT])
def test_ec2_children_name_their_container_instance_once_placed(compute: Compute) -> None:
    events = list(array_job_events(_spec(compute, failures=2)))
    for event in events:
        detail = event["detail"]
        placed = detail["status"] in ("STARTING", "RUNNING") or (
            detail["status"] in ("SUCCEEDED", "FAILED") and "index" in detail["arrayProperties"]
        )
        assert ("containerInstanceArn" in detail["container"]) == placed
        assert detail["platformCapabilities"] == ["EC2"]
        if placed and detail["attempts"]:
            assert (
                detail["attempts"][0]["container"]["containerInstanceArn"]
                == detail["container"]["containerInstanceArn"]
            )


def test_spot_failures_are_host_terminations_without_exit_code() -> None:
    events = list(array_job_events(_spec(Compute.SPOT, failures=2)))
    failed = [e["detail"] for e in events[:-1] if e["detail"]["status"] == "FAILED"]
    assert len(failed) == 2
    for detail in failed:
        assert re.fullmatch(r"Host EC2 \(instance i-0[0-9a-f]+\) terminated\.", detail["statusReason"])
        assert "exitCode" not in detail["container"]


def test_fargate_never_has_a_container_instance() -> None:
    events = list(array_job_events(_spec(Compute.FARGATE, failures=3, before=1)))
    assert "containerInstanceArn" not in json.dumps(events)
    for event in events:
        detail = event["detail"]
        assert detail["platformCapabilities"] == ["FARGATE"]
        assert detail["container"]["fargatePlatformConfiguration"] == {"platformVersion": "LATEST"}
        if detail["status"] in ("STARTING", "RUNNING", "SUCCEEDED") or detail.get("attempts"):
            assert detail["container"]["taskArn"].startswith(f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/")
            [interface] = detail["container"]["networkInterfaces"]
            assert set(interface) == {"attachmentId", "privateIpv4Address"}


@pytest.mark.parametrize("compute", [Compute.EKS, Compute.ECSPROPS])
def test_eks_and_ecsprops_events_have_no_container_key(compute: Compute) -> None:
    events = [
        *array_job_events(_spec(compute, failures=2, before=1)),
        *single_job_events(QUEUE_ARN, JOB_DEFINITION_ARN, compute),
    ]
    assert all("container" not in e["detail"] for e in events)


def test_ecsprops_children_carry_the_instance_under_task_properties() -> None:
    events = list(array_job_events(_spec(Compute.ECSPROPS, failures=1)))
    terminal = [e["detail"] for e in events[:-1] if e["detail"]["status"] in ("SUCCEEDED", "FAILED")]
    assert len(terminal) == 7
    for detail in terminal:
        [task] = detail["ecsProperties"]["taskProperties"]
        [attempt_task] = detail["attempts"][0]["taskProperties"]
        assert task["containerInstanceArn"] == attempt_task["containerInstanceArn"]
        assert attempt_task["containers"][0]["exitCode"] == (0 if detail["status"] == "SUCCEEDED" else 1)


def test_eks_children_report_pods_not_tasks() -> None:
    events = list(array_job_events(_spec(Compute.EKS, failures=1)))
    keys = _keys_anywhere(events)
    assert {"eksProperties", "eksAttempts", "podName", "nodeName"} <= keys
    assert not {"taskArn", "containerInstanceArn", "taskProperties"} & keys


@pytest.mark.parametrize("compute", list(Compute))
def test_children_failing_before_placement_have_no_runtime_trace(compute: Compute) -> None:
    spec = _spec(compute, failures=3, before=3)
    unplaced = {f"{spec.job_id}:{i}" for i in spec.failed_before_placement_indices}
    events = [e for e in array_job_events(spec) if e["detail"]["jobId"] in unplaced]
    assert len(events) == 2 * 3
    for event in events:
        assert not set(RUNTIME_KEYS) & _keys_anywhere(event)
        assert event["detail"]["attempts"] == []
    failed = [e["detail"] for e in events if e["detail"]["status"] == "FAILED"]
    assert len(failed) == 3
    assert all(detail["statusReason"] for detail in failed)


def test_streams_are_deterministic_and_ids_follow_the_spec() -> None:
    assert list(array_job_events(_spec(Compute.EKS, failures=2))) == list(
        array_job_events(_spec(Compute.EKS, failures=2))
    )
    assert _spec().job_id != _spec(failures=1).job_id
    given = ArrayJobSpec(QUEUE_ARN, JOB_DEFINITION_ARN, size=3, parent_job_id="moto-made-this")
    assert [e["detail"]["jobId"] for e in islice(array_job_events(given), 4)] == [
        "moto-made-this",
        "moto-made-this:0",
        "moto-made-this:1",
        "moto-made-this:2",
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"size": 1}, "size"),
        ({"size": MAX_ARRAY_SIZE + 1}, "size"),
        ({"failures": 8}, "failures"),
        ({"failures": -1}, "failures"),
        ({"failures": 1, "failures_before_placement": 2}, "failures_before_placement"),
        ({"compute": "lambda"}, "compute"),
        ({"job_queue_arn": "arn:aws:batch:eu-west-1:111122223333:job-definition/x:1"}, "job_queue_arn"),
        ({"job_definition_arn": JOB_DEFINITION_ARN.rsplit(":", 1)[0]}, "job_definition_arn"),
        ({"parent_job_id": "abc:1"}, "parent_job_id"),
        ({"job_name": ""}, "job_name"),
    ],
)
def test_invalid_specs_name_the_field(overrides: dict[str, Any], field: str) -> None:
    fields: dict[str, Any] = {"job_queue_arn": QUEUE_ARN, "job_definition_arn": JOB_DEFINITION_ARN, "size": 7}
    with pytest.raises(ValueError, match=rf"^{field} "):
        ArrayJobSpec(**(fields | overrides))


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^start "):
        ArrayJobSpec(QUEUE_ARN, JOB_DEFINITION_ARN, 2, start=datetime(2024, 1, 1))


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED"])
@pytest.mark.parametrize("compute", list(Compute))
def test_single_job_events(compute: Compute, status: str) -> None:
    events = list(single_job_events(QUEUE_ARN, JOB_DEFINITION_ARN, compute, status))
    assert [e["detail"]["status"] for e in events] == ["RUNNABLE", "STARTING", "RUNNING", status]
    assert len({e["detail"]["jobId"] for e in events}) == 1
    assert all("arrayProperties" not in e["detail"] for e in events)
    assert events[0]["detail"]["tags"] == {"resourceArn": events[0]["detail"]["jobArn"]}


def test_single_job_rejects_non_terminal_status() -> None:
    with pytest.raises(ValueError, match=r"^status "):
        list(single_job_events(QUEUE_ARN, JOB_DEFINITION_ARN, Compute.EC2, "RUNNING"))


def test_queue_blocked_event() -> None:
    event = queue_blocked_event(QUEUE_ARN, JOB_DEFINITION_ARN)
    assert event["detail-type"] == QUEUE_BLOCKED
    assert event["detail"]["status"] == "RUNNABLE"
    assert event["resources"] == [event["detail"]["jobArn"], QUEUE_ARN]
    assert event["detail"]["statusReason"].startswith("MISCONFIGURATION:")
    assert "arrayProperties" not in event["detail"]


@pytest.mark.parametrize("compute", list(Compute))
def test_noise_events_composition(compute: Compute) -> None:
    events = list(noise_events(QUEUE_ARN, JOB_DEFINITION_ARN, OTHER_QUEUE_ARN, compute))
    on_our_queue = [e for e in events if e["detail"]["jobQueue"] == QUEUE_ARN]
    elsewhere = [e for e in events if e["detail"]["jobQueue"] == OTHER_QUEUE_ARN]
    assert len(on_our_queue) + len(elsewhere) == len(events) == 23
    assert [e["detail"]["status"] for e in on_our_queue if e["detail-type"] != QUEUE_BLOCKED].count("FAILED") == 1
    assert all("arrayProperties" not in e["detail"] for e in on_our_queue)
    assert [e["detail-type"] for e in on_our_queue].count(QUEUE_BLOCKED) == 1
    assert len(_by_job(elsewhere)) == 4  # parent + 3 children
    assert len({e["id"] for e in events}) == len(events)
