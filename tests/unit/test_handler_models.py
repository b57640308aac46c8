"""models: a failed child's array index, from `arrayProperties.index` or else from its `<parent>:<index>` id."""

import pytest

from batch_array_notify.handler.models import ChildJobDetail

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
