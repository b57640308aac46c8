"""The public API keeps its promises: what docs/api-schema.json records for this major version is still
there, with the same types, and nothing new slips in unrecorded (see tools/api_schema.py)."""

import copy
import json
from typing import Any

import pytest

import batch_array_notify
from batch_array_notify.pipeline import TYPE_TOKEN
from tools.api_schema import SNAPSHOT, current_api

REGENERATE = "accept an additive change with `make api-schema` (python -m tools.api_schema --write) and commit it"
#: What a consumer's code depends on: changing any of these breaks it.
SIGNATURE_KEYS = ("type", "$ref", "plain", "items", "additionalProperties")


def major(version: str) -> str:
    return version.split(".", 1)[0]


def signature(schema: dict[str, Any]) -> dict[str, Any]:
    kept = {key: schema[key] for key in ("type", "$ref", "plain") if key in schema}
    for nested in ("items", "additionalProperties"):
        if nested in schema:
            kept[nested] = signature(schema[nested])
    return kept


def _compare_properties(where: str, old: dict, new: dict, breaking: list[str], additive: list[str]) -> None:
    for name, schema in old.items():
        if name not in new:
            breaking.append(f"{where} `{name}` was removed or renamed")
        elif signature(schema) != signature(new[name]):
            breaking.append(f"{where} `{name}` changed type: {signature(schema)} -> {signature(new[name])}")
        elif schema.get("description") != new[name].get("description"):
            additive.append(f"{where} `{name}` has a new description")
    additive += [f"{where} `{name}` is new" for name in new if name not in old]


def compare(snapshot: dict, current: dict) -> tuple[list[str], list[str]]:
    """(breaking changes, other changes) from `snapshot` to `current`."""
    breaking: list[str] = []
    additive: list[str] = []
    for kind in ("resources", "types"):
        for token, old in snapshot[kind].items():
            new = current[kind].get(token)
            if new is None:
                breaking.append(f"{token} was removed or renamed")
                continue
            for part in ("inputs", "outputs", "properties"):
                if part in old:
                    _compare_properties(f"{token} {part[:-1]}", old[part], new[part], breaking, additive)
            for required in ("requiredInputs", "required"):
                added = sorted(set(new.get(required, [])) - set(old.get(required, [])))
                if added and required in old:
                    breaking.append(f"{token} now requires {added}")
            # An output that may now be absent breaks consumers that read it.
            dropped = sorted(set(old.get("requiredOutputs", [])) - set(new.get("requiredOutputs", [])))
            breaking += [
                f"{token} output `{name}` is no longer always set" for name in dropped if name in new["outputs"]
            ]
        additive += [f"{token} is new" for token in current[kind] if token not in snapshot[kind]]
    old_event, new_event = snapshot["completionEvent"], current["completionEvent"]
    for key in ("source", "detailType", "schemaVersion"):
        if old_event[key] != new_event[key]:
            breaking.append(f"completion event {key} changed: {old_event[key]!r} -> {new_event[key]!r}")
    removed = sorted(set(old_event["detailFields"]) - set(new_event["detailFields"]))
    breaking += [f"completion event detail field `{field}` was removed or renamed" for field in removed]
    added = sorted(set(new_event["detailFields"]) - set(old_event["detailFields"]))
    additive += [f"completion event detail field `{field}` is new" for field in added]
    return breaking, additive


@pytest.fixture(scope="module")
def current() -> dict:
    return current_api()


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def test_the_code_keeps_every_promise_of_the_snapshot(snapshot, current):
    assert major(snapshot["version"]) == major(batch_array_notify.__version__), (
        f"docs/api-schema.json is for major version {major(snapshot['version'])}, the package is "
        f"{batch_array_notify.__version__}: after a major release, regenerate it with `make api-schema`"
    )
    breaking, additive = compare(snapshot, current)

    assert breaking == [], (
        f"breaking API changes while the major version stays {major(batch_array_notify.__version__)}: "
        + "; ".join(breaking)
        + ". Restore them, or release a new major version (components/__init__.py, CHANGELOG.md) and "
        "regenerate the snapshot with `make api-schema`."
    )
    assert additive == [], "API changes not in docs/api-schema.json: " + "; ".join(additive) + f"; {REGENERATE}"


def test_the_snapshot_covers_every_component_output_and_the_completion_event(snapshot):
    pipeline = snapshot["resources"][TYPE_TOKEN]

    assert "jobQueueArn" in pipeline["outputs"]
    assert "computeType" in pipeline["inputs"]
    assert all(output["description"] for output in pipeline["outputs"].values())
    assert {"jobId", "status", "counts.failed", "failedChildren[].index"} <= set(
        snapshot["completionEvent"]["detailFields"]
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda api: api["resources"][TYPE_TOKEN]["outputs"].update(
                queueArn=api["resources"][TYPE_TOKEN]["outputs"].pop("jobQueueArn")
            ),
            "output `jobQueueArn` was removed or renamed",
        ),
        (
            lambda api: api["resources"][TYPE_TOKEN]["inputs"]["maxVcpus"].update(type="string"),
            "input `maxVcpus` changed type",
        ),
        (
            lambda api: api["resources"][TYPE_TOKEN]["inputs"]["subnetIds"]["items"].update(plain=True),
            "input `subnetIds` changed type",
        ),
        (lambda api: api["resources"][TYPE_TOKEN]["requiredInputs"].append("stage"), "now requires ['stage']"),
        (
            lambda api: api["completionEvent"]["detailFields"].remove("counts.failed"),
            "detail field `counts.failed` was removed",
        ),
        (lambda api: api["completionEvent"].update(schemaVersion=2), "schemaVersion changed"),
        (lambda api: api["resources"].pop(TYPE_TOKEN), f"{TYPE_TOKEN} was removed"),
    ],
    ids=[
        "renamed output",
        "retyped input",
        "input now plain",
        "newly required",
        "detail field",
        "schema version",
        "component",
    ],
)
def test_breaking_changes_are_caught_and_named(current, change, expected):
    changed = copy.deepcopy(current)
    change(changed)

    breaking, _ = compare(current, changed)

    assert any(expected in message for message in breaking), breaking


def test_additions_are_not_breaking_but_must_be_recorded(current):
    changed = copy.deepcopy(current)
    changed["resources"][TYPE_TOKEN]["inputs"]["newKnob"] = {"type": "integer", "description": "new"}
    changed["completionEvent"]["detailFields"].append("links.dashboard")

    breaking, additive = compare(current, changed)

    assert breaking == []
    assert additive == [
        f"{TYPE_TOKEN} input `newKnob` is new",
        "completion event detail field `links.dashboard` is new",
    ]
