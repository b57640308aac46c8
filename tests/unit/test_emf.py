"""tools.emf: EMF documents are read as CloudWatch would, and a broken one is an error, not a missing metric."""

from __future__ import annotations

import json

import pytest

from batch_array_notify.testing.emf import EmfError, read_documents, totals


def _document(**overrides):
    document = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "BatchArrayNotify",
                    "Dimensions": [["stage", "jobQueue"]],
                    "Metrics": [{"Name": "ArraySize", "Unit": "Count"}, {"Name": "Lag", "Unit": "Seconds"}],
                }
            ],
        },
        "stage": "dev",
        "jobQueue": "q",
        "ArraySize": [7.0],
        "Lag": 1.5,
    }
    document.update(overrides)
    return json.dumps(document)


def test_documents_are_read_and_other_log_lines_skipped():
    lines = ['{"level": "INFO", "message": "completion reported"}', "plain text", _document()]

    (document,) = read_documents(lines)

    assert document.namespace == "BatchArrayNotify"
    assert document.dimensions == {"stage": "dev", "jobQueue": "q"}
    assert document.value("ArraySize") == 7.0
    assert document.metrics["Lag"].unit == "Seconds"
    assert document.to_json()["metrics"]["Lag"] == {"unit": "Seconds", "values": [1.5]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jobQueue": None}, "member 'jobQueue' has the wrong type"),
        ({"ArraySize": "7"}, "member 'ArraySize' has the wrong type"),
        ({"ArraySize": []}, "ArraySize must have a number"),
        ({"_aws": {"Timestamp": "now", "CloudWatchMetrics": []}}, "integer Timestamp"),
        ({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}}, "exactly one CloudWatchMetrics"),
    ],
)
def test_a_broken_document_names_the_problem_and_its_line(overrides, message):
    with pytest.raises(EmfError, match=message) as error:
        read_documents(["{}", _document(**overrides)])
    assert str(error.value).startswith("line 2: ")


def test_a_declared_member_that_is_missing_is_an_error():
    document = json.loads(_document())
    del document["stage"]
    with pytest.raises(EmfError, match="no member 'stage'"):
        read_documents([json.dumps(document)])


def test_totals_group_by_dimensions_and_describe_counts_as_sums_and_times_as_values():
    documents = read_documents([_document(), _document(ArraySize=3, Lag=0.25), _document(jobQueue="other")])

    grouped = totals(documents)

    mine = {total.name: total for total in grouped[("BatchArrayNotify", (("stage", "dev"), ("jobQueue", "q")))]}
    assert mine["ArraySize"].describe() == "10 Count"
    assert mine["Lag"].describe() == "1.5, 0.25 Seconds"
    assert len(grouped) == 2
