"""`components/` as a source-based plugin package: the schema other languages get, inferred offline
with the SDK's component provider (what `pulumi package get-schema ./components` would print)."""

import json
import runpy
import typing
from pathlib import Path

import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from batch_array_notify import BatchArrayPipeline, BatchArrayPipelineArgs
from batch_array_notify.pipeline import TYPE_TOKEN

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@pytest.fixture(scope="module")
def entry() -> dict[str, typing.Any]:
    """The plugin entry, loaded as the CLI would: the folder is run, so `components/` itself is first on
    the import path and the component comes from the installed package."""
    return runpy.run_path(str(COMPONENTS), run_name="plugin_entry")


@pytest.fixture(scope="module")
def schema(entry) -> dict[str, typing.Any]:
    provider = ComponentProvider([entry["BatchArrayPipeline"]], entry["PACKAGE_NAME"], version=entry["PACKAGE_VERSION"])
    loaded: dict[str, typing.Any] = json.loads(provider.schema)
    return loaded


def test_plugin_manifest_names_python_and_the_entry_hosts_the_component(entry):
    manifest = yaml.safe_load((COMPONENTS / "PulumiPlugin.yaml").read_text())

    assert manifest["runtime"] == "python"
    assert entry["BatchArrayPipeline"] is BatchArrayPipeline
    assert entry["PACKAGE_NAME"] == TYPE_TOKEN.split(":")[0] == "batcharray"
    # The CLI installs the plugin's requirements from `components/`: the one package, from the repository root.
    requirements = [
        line for line in (COMPONENTS / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert requirements == [".."]
    assert 'name = "batch-array-notify"' in (COMPONENTS / ".." / "pyproject.toml").read_text()


def test_every_input_is_in_the_schema_with_a_description(schema):
    resource = schema["resources"][TYPE_TOKEN]
    inputs = resource["inputProperties"]

    assert set(inputs) == {camel(key) for key in BatchArrayPipelineArgs.__annotations__}
    assert not [key for key, prop in inputs.items() if not prop.get("description")]
    assert resource.get("requiredInputs", []) == []  # every argument is optional


def test_nested_argument_types_are_described_property_by_property(schema):
    types = schema["types"]
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]
    referenced = {
        prop["items"]["$ref"] if "items" in prop else prop["$ref"]
        for prop in inputs.values()
        if "$ref" in prop or "$ref" in prop.get("items", {})
    }

    assert {ref.rsplit("/", 1)[-1] for ref in referenced} >= {
        "batcharray:index:ComputeEnvironment",
        "batcharray:index:DownstreamFunction",
        "batcharray:index:EmailSubscription",
    }
    for name in ("ComputeEnvironment", "DownstreamFunction", "EmailSubscription"):
        definition = types[f"batcharray:index:{name}"]
        assert definition.get("description"), name
        assert not [key for key, prop in definition["properties"].items() if not prop.get("description")], name
    assert types["batcharray:index:ComputeEnvironment"]["required"] == ["computeType"]
    assert sorted(types["batcharray:index:DownstreamFunction"]["required"]) == ["codePath", "handler"]


def test_every_output_is_in_the_schema_with_a_description(schema):
    resource = schema["resources"][TYPE_TOKEN]
    outputs = resource["properties"]
    optional = {camel(key) for key in BatchArrayPipeline.__annotations__ if key.startswith("downstream_")}

    assert set(outputs) == {camel(key) for key in BatchArrayPipeline.__annotations__}
    assert not [key for key, prop in outputs.items() if not prop.get("description")]
    assert set(resource["required"]) == set(outputs) - optional
    assert outputs["computeEnvironmentArns"]["type"] == "array"
    assert outputs["computeEnvironmentArns"]["items"]["type"] == "string"


def test_inputs_wired_from_other_resources_accept_outputs(schema):
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]

    # `plain: true` would make other languages pass literal strings only.
    for key in ("subnetIds", "securityGroupIds"):
        assert "plain" not in inputs[key]["items"], key
    for key in ("existingTopicArn", "completionEventBus", "vpcId"):
        assert "plain" not in inputs[key], key
