"""The test run's warning filters (pyproject.toml) hide only named third-party noise: a deprecation
raised by our code, by the Pulumi SDK or by boto still reaches the person running the tests."""

import warnings

import pytest


@pytest.mark.parametrize(
    ("category", "module"),
    [
        (DeprecationWarning, "batch_array_notify.validation"),
        (DeprecationWarning, "batch_array_notify.testing.program"),
        (DeprecationWarning, "pulumi.runtime.settings"),
        (DeprecationWarning, "pulumi_aws.batch.job_definition"),
        (DeprecationWarning, "botocore.client"),
        (PendingDeprecationWarning, "pulumi.output"),
    ],
)
def test_deprecations_are_shown(category, module):
    with warnings.catch_warnings(record=True) as caught:
        # The filters in force are the ones pytest applied from pyproject.toml for this test.
        warnings.warn_explicit("old API", category, f"{module}.py", 1, module=module, registry={})

    assert [warning.category for warning in caught] == [category]
