"""The notifier's Powertools layer: by default the one Powertools' own public SSM parameter names for the
release the handler is tested with (one constant, equal to the requirements pin); a pinned layer version
number, or `latest`, instead."""

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from batch_array_notify import InvalidArgumentError
from batch_array_notify.notifier import POWERTOOLS_VERSION, powertools_layer_arn, powertools_parameter_name
from batch_array_notify.testing.program import ROOT, ProgramError, powertools_parameter_answer, run_program
from batch_array_notify.validation import resolve_args
from tests.support import FUNCTION


def test_the_default_release_is_the_one_the_tests_run_with():
    requirements = (Path(ROOT) / "requirements-dev.txt").read_text()
    (pin,) = re.findall(r"^aws-lambda-powertools==(\S+)$", requirements, re.M)

    assert POWERTOOLS_VERSION == pin == version("aws-lambda-powertools")


def test_the_parameter_is_powertools_own_path():
    """powertools-lambda-python PR #5754; the runtime keeps its period (#6213)."""
    assert powertools_parameter_name("x86_64", "python3.13", "3.23.0") == (
        "/aws/service/powertools/python/x86_64/python3.13/3.23.0"
    )


def _layers(config: dict[str, str]) -> list[list[str]]:
    plan = run_program(ROOT, "dev", {f"batch-array-notify:{key}": value for key, value in config.items()})
    return [function.inputs["layers"] for function in plan.of_type(FUNCTION)]


def test_by_default_both_functions_run_on_the_layer_the_releases_parameter_names(stage_plans):
    parameter = powertools_parameter_name("arm64", "python3.13", POWERTOOLS_VERSION)
    layer = powertools_parameter_answer(parameter, "us-east-1")["value"]

    assert [f.inputs["layers"] for f in stage_plans["dev"].of_type(FUNCTION)] == [[layer], [layer]]


def test_latest_reads_the_latest_parameter():
    parameter = powertools_parameter_name("arm64", "python3.13", "latest")

    assert (
        _layers({"powertoolsLayerVersion": "latest"})
        == [[powertools_parameter_answer(parameter, "us-east-1")["value"]]] * 2
    )


def test_a_number_pins_that_layer_version():
    assert (
        _layers({"powertoolsLayerVersion": "37"})
        == [[powertools_layer_arn("us-east-1", "arm64", "python3.13", 37)]] * 2
    )


def test_a_layer_version_that_is_neither_a_number_nor_latest_names_the_key():
    with pytest.raises(InvalidArgumentError) as raised:
        _layers({"powertoolsLayerVersion": "3.37.0"})

    assert raised.value.key == "batch-array-notify:powertoolsLayerVersion"
    assert "a layer version number or latest" in str(raised.value)


@pytest.mark.parametrize("version", ["2.43.1", "3.37", "newest", 3])
def test_a_release_that_is_not_a_v3_release_or_latest_is_refused(version):
    with pytest.raises(InvalidArgumentError) as raised:
        resolve_args({"powertools_version": version})

    assert raised.value.key == "powertools_version"


def test_a_number_and_a_release_together_are_refused():
    with pytest.raises(InvalidArgumentError) as raised:
        resolve_args({"powertools_layer_version": 37, "powertools_version": "latest"})

    assert raised.value.key == "powertools_layer_version"
    assert "not with powertools_version" in raised.value.allowed


@pytest.mark.parametrize(
    "name",
    ["/aws/service/powertools/python/arm64/python3.13/2.43.1", "/aws/service/powertools/typescript/generic/all/latest"],
)
def test_the_plan_mocks_answer_parameter_not_found_for_any_other_name(name):
    """As AWS answers GetParameter for a name that does not exist (a V2 release has no V3 layer)."""
    with pytest.raises(ProgramError, match="ParameterNotFound"):
        powertools_parameter_answer(name, "us-east-1")
