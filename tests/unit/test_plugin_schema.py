"""`components/` as a source-based plugin package: the schema other languages get, inferred offline
with the SDK's component provider (what `pulumi package get-schema ./components` would print), for both
components it hosts."""

import json
import runpy
import typing
from pathlib import Path

import pytest
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from batch_array_notify import (
    ArrayCompletionNotifier,
    ArrayCompletionNotifierArgs,
    BatchArrayPipeline,
    BatchArrayPipelineArgs,
    BatchEventForwarder,
    BatchEventForwarderArgs,
)
from batch_array_notify.args import NotifierOptions
from batch_array_notify.completion_notifier import TYPE_TOKEN as NOTIFIER_TOKEN
from batch_array_notify.forwarder import TYPE_TOKEN as FORWARDER_TOKEN
from batch_array_notify.pipeline import TYPE_TOKEN
from batch_array_notify.plugin_schema import inherited_descriptions

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
#: Type token -> (component, its args).
HOSTED = {
    TYPE_TOKEN: (BatchArrayPipeline, BatchArrayPipelineArgs),
    NOTIFIER_TOKEN: (ArrayCompletionNotifier, ArrayCompletionNotifierArgs),
    FORWARDER_TOKEN: (BatchEventForwarder, BatchEventForwarderArgs),
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@pytest.fixture(scope="module")
def entry() -> dict[str, typing.Any]:
    """The plugin entry, loaded as the CLI would: the folder is run, so `components/` itself is first on
    the import path and the components come from the installed package."""
    return runpy.run_path(str(COMPONENTS), run_name="plugin_entry")


def infer_schema(entry: dict[str, typing.Any]) -> dict[str, typing.Any]:
    provider = ComponentProvider(list(entry["COMPONENTS"]), entry["PACKAGE_NAME"], version=entry["PACKAGE_VERSION"])
    loaded: dict[str, typing.Any] = json.loads(provider.schema)
    return loaded


@pytest.fixture(scope="module")
def schema(entry) -> dict[str, typing.Any]:
    """What the entry serves: it runs the provider inside `inherited_descriptions` (see plugin_schema.py)."""
    with inherited_descriptions():
        return infer_schema(entry)


def test_plugin_manifest_names_python_and_the_entry_hosts_every_component(entry):
    manifest = yaml.safe_load((COMPONENTS / "PulumiPlugin.yaml").read_text())

    assert manifest["runtime"] == "python"
    assert list(entry["COMPONENTS"]) == [BatchArrayPipeline, ArrayCompletionNotifier, BatchEventForwarder]
    assert entry["PACKAGE_NAME"] == TYPE_TOKEN.split(":")[0] == NOTIFIER_TOKEN.split(":")[0] == "batcharray"
    assert "with inherited_descriptions():" in (COMPONENTS / "__main__.py").read_text()
    # The CLI installs the plugin's requirements from `components/`: the one package, from the repository root.
    requirements = [
        line for line in (COMPONENTS / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert requirements == [".."]
    assert 'name = "batch-array-notify"' in (COMPONENTS / ".." / "pyproject.toml").read_text()


@pytest.mark.parametrize("token", HOSTED)
def test_every_input_is_in_the_schema_with_a_description(schema, token):
    resource = schema["resources"][token]
    inputs = resource["inputProperties"]
    _, args = HOSTED[token]

    assert set(inputs) == {camel(key) for key in args.__annotations__}
    assert not [key for key, prop in inputs.items() if not prop.get("description")]
    assert resource.get("requiredInputs", []) == sorted(camel(key) for key in args.__required_keys__)


def test_the_notifier_requires_only_its_queues_and_shares_every_other_input_with_the_pipeline(schema):
    pipeline = schema["resources"][TYPE_TOKEN]["inputProperties"]
    notifier = schema["resources"][NOTIFIER_TOKEN]["inputProperties"]

    assert schema["resources"][NOTIFIER_TOKEN]["requiredInputs"] == ["jobQueueArns"]
    # The pipeline knows its own job definition and log group; the notifier is told them, and (central
    # mode) the member accounts it reports.
    central = {"memberAccounts", "organizationId", "memberExternalId"}
    assert set(notifier) - set(pipeline) == {"jobQueueArns", "jobDefinitionArnPrefixes", "jobLogGroupNames", *central}
    shared = set(notifier) & set(pipeline)
    assert shared == {camel(key) for key in NotifierOptions.__annotations__}
    assert all(notifier[key] == pipeline[key] for key in shared)
    for key in ("jobQueueArns", "jobDefinitionArnPrefixes", "jobLogGroupNames"):
        assert "plain" not in notifier[key]["items"], key  # Outputs of other stacks work


def test_the_sdk_analyzer_still_needs_the_shim_for_inherited_descriptions(entry):
    """Without `inherited_descriptions`, options declared once in a base lose their descriptions. When this
    fails, the SDK reads base classes itself: drop components/plugin_schema.py's shim."""
    bare = infer_schema(entry)

    undescribed = [
        key for key, prop in bare["resources"][TYPE_TOKEN]["inputProperties"].items() if not prop.get("description")
    ]
    assert "stage" in undescribed
    assert "topicArn" in [
        key for key, prop in bare["resources"][NOTIFIER_TOKEN]["properties"].items() if not prop.get("description")
    ]


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


@pytest.mark.parametrize("token", HOSTED)
def test_every_output_is_in_the_schema_with_a_description(schema, token):
    resource = schema["resources"][token]
    outputs = resource["properties"]
    component, _ = HOSTED[token]
    # Outputs of opt-in parts: the downstream function, the sweep (off with reconcile_every_minutes 0), chat,
    # central mode's intake bus and members, and a forwarder's read role (off with read_role false).
    opt_in = ("downstream_", "sweep_", "chat_", "intake_bus_", "member_", "read_role_")
    optional = {camel(key) for key in component.output_names() if key.startswith(opt_in)}

    assert set(outputs) == {camel(key) for key in component.output_names()}
    assert not [key for key, prop in outputs.items() if not prop.get("description")]
    assert set(resource["required"]) == set(outputs) - optional


def test_list_outputs_are_arrays_of_strings(schema):
    pipeline = schema["resources"][TYPE_TOKEN]["properties"]
    notifier = schema["resources"][NOTIFIER_TOKEN]["properties"]

    for outputs, key in [
        (pipeline, "computeEnvironmentArns"),
        *[(notifier, key) for key in ("jobQueueArns", "completionRuleArns", "queueBlockedRuleArns")],
    ]:
        assert outputs[key]["type"] == "array", key
        assert outputs[key]["items"]["type"] == "string", key


def test_inputs_wired_from_other_resources_accept_outputs(schema):
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]

    # `plain: true` would make other languages pass literal strings only.
    for key in ("subnetIds", "securityGroupIds"):
        assert "plain" not in inputs[key]["items"], key
    for key in ("existingTopicArn", "completionEventBus", "vpcId"):
        assert "plain" not in inputs[key], key


def test_the_shim_for_inherited_descriptions_is_undone_after_its_block():
    """The SDK's analyzer is patched only while the schema is built: other providers in the same process
    (and the test above) get the SDK's own."""
    from pulumi.provider.experimental import component  # noqa: PLC0415

    original = component.Analyzer
    with inherited_descriptions():
        assert component.Analyzer is not original

    assert component.Analyzer is original
