"""models: a failed child's array index, from `arrayProperties.index` or else from its `<parent>:<index>` id."""

import pytest
from pydantic import ValidationError

from batch_array_notify.handler.models import ChildJobDetail, JobDetail

BASE = {"jobName": "print-color", "jobQueue": "q", "jobDefinition": "d", "status": "FAILED"}


@pytest.mark.parametrize(
    ("job_id", "array_properties", "index"),
    [
        ("parent:7", {"index": 3, "statusSummary": {}}, 3),
        ("parent:7", {"statusSummary": {}}, 7),
        ("parent:7", None, 7),
        ("parent:0", None, 0),
        ("parent:x", None, None),
        ("parent:", None, None),
        ("12345", None, None),
        ("12345", {"statusSummary": {}}, None),
    ],
)
def test_the_array_index_comes_from_array_properties_or_the_job_id(job_id, array_properties, index):
    detail = {**BASE, "jobId": job_id}
    if array_properties is not None:
        detail["arrayProperties"] = array_properties

    assert ChildJobDetail.model_validate(detail).array_index == index


@pytest.mark.parametrize(
    ("field", "value"),
    [("arrayProperties", {"size": "7", "statusSummary": {}}), ("container", {"exitCode": "137"}), ("jobName", 7)],
)
def test_a_value_of_the_wrong_type_is_refused_not_converted(field, value):
    """Batch sends numbers as numbers: a `"7"` means the document is not what Batch sent (a hand-made test
    event, another producer), and reading it as 7 would report counts nobody measured."""
    with pytest.raises(ValidationError, match=field):
        ChildJobDetail.model_validate({**BASE, "jobId": "parent:3", field: value})


def test_a_parent_document_is_read_with_its_fields_and_is_immutable():
    job = JobDetail.model_validate(
        {**BASE, "jobId": "parent", "arrayProperties": {"size": 2, "statusSummary": {"SUCCEEDED": 2}}, "extra": 1}
    )

    assert (job.job_id, job.array_properties.size, job.array_properties.status_summary) == (
        "parent",
        2,
        {"SUCCEEDED": 2},
    )
    with pytest.raises(ValidationError, match="frozen"):
        job.status = "SUCCEEDED"
