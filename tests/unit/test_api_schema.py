"""The public API keeps its promises: what docs/api-schema.json records for this major version is still
there, with the same types, and nothing new slips in unrecorded (see tools/api_schema.py)."""

import copy
import json
from typing import Any

import pytest

import batch_array_notify
import batch_array_notify.testing
from batch_array_notify.cli.commands import COMMANDS
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
    _compare_testing_kit(snapshot.get("testing", {}), current["testing"], breaking, additive)
    _compare_commands(snapshot.get("cli", {}), current["cli"], breaking, additive)
    return breaking, additive


def _compare_signature(where: str, old: list[str], new: list[str], breaking: list[str], additive: list[str]) -> None:
    """A caller's call still works when every old parameter keeps its place, name and kind (a default may
    be added, not taken away) and every new one has a default."""
    broken = [
        f"{where} parameter `{parameter}` was removed, renamed, moved or made required"
        for index, parameter in enumerate(old)
        if index >= len(new)
        or new[index].replace("=", "") != parameter.replace("=", "")
        or ("=" in parameter and "=" not in new[index])
    ]
    broken += [
        f"{where} has a new required parameter `{parameter}`"
        for parameter in new[len(old) :]
        if "=" not in parameter and not parameter.startswith("*")
    ]
    breaking += broken
    if old != new and not broken:
        additive.append(f"{where} parameters changed: {old} -> {new}")


def _compare_testing_kit(old: dict, new: dict, breaking: list[str], additive: list[str]) -> None:
    for name, entry in old.items():
        where = f"batch_array_notify.testing.{name}"
        if name not in new or new[name]["kind"] != entry["kind"]:
            breaking.append(f"{where} was removed, renamed or is no longer a {entry['kind']}")
            continue
        if "signature" in entry:
            _compare_signature(where, entry["signature"], new[name]["signature"], breaking, additive)
        for member, signature in entry.get("members", {}).items():
            if member not in new[name]["members"]:
                breaking.append(f"{where}.{member} was removed or renamed")
            else:
                _compare_signature(f"{where}.{member}", signature, new[name]["members"][member], breaking, additive)
        additive += [
            f"{where}.{member} is new" for member in new[name].get("members", {}) if member not in entry["members"]
        ]
        removed_values = sorted(set(entry.get("values", [])) - set(new[name].get("values", [])))
        breaking += [f"{where} value `{value}` was removed" for value in removed_values]
        additive += [
            f"{where} value `{value}` is new"
            for value in new[name].get("values", [])
            if value not in entry.get("values", [])
        ]
    additive += [f"batch_array_notify.testing.{name} is new" for name in new if name not in old]


def _compare_commands(old: dict, new: dict, breaking: list[str], additive: list[str]) -> None:
    for name, command in old.items():
        where = f"`batch-array-notify {name}`"
        if name not in new:
            breaking.append(f"{where} was removed or renamed")
            continue
        options = new[name]["options"]
        for option, shape in command["options"].items():
            if option not in options:
                breaking.append(f"{where} option {option} was removed or renamed")
            elif options[option]["takesValue"] != shape["takesValue"]:
                breaking.append(f"{where} option {option} changed whether it takes a value")
            elif options[option]["required"] and not shape["required"]:
                breaking.append(f"{where} option {option} is now required")
        breaking += [
            f"{where} has a new required option {option}"
            for option, shape in options.items()
            if option not in command["options"] and shape["required"]
        ]
        additive += [f"{where} option {option} is new" for option in options if option not in command["options"]]
        if new[name]["positionals"] != command["positionals"]:
            breaking.append(f"{where} positionals changed: {command['positionals']} -> {new[name]['positionals']}")
    additive += [f"`batch-array-notify {name}` is new" for name in new if name not in old]


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


def test_the_snapshot_covers_the_testing_kit_and_every_command(snapshot):
    assert set(snapshot["testing"]) == set(batch_array_notify.testing.__all__)
    assert {"run_under_mocks", "completion_rule", "matches", "array_job_events", "PlanMocks"} <= set(
        snapshot["testing"]
    )
    assert set(snapshot["cli"]) == set(COMMANDS)
    assert snapshot["cli"]["plan"]["options"]["--stack"] == {"required": True, "takesValue": True}


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
        (lambda api: api["testing"].pop("matches"), "batch_array_notify.testing.matches was removed"),
        (
            lambda api: api["testing"]["run_under_mocks"]["signature"].insert(0, "plan"),
            "run_under_mocks parameter `program` was removed, renamed, moved or made required",
        ),
        (
            lambda api: api["testing"]["completion_rule"]["signature"].append("strict"),
            "completion_rule has a new required parameter `strict`",
        ),
        (lambda api: api["testing"]["Plan"]["members"].pop("children"), "testing.Plan.children was removed"),
        (lambda api: api["testing"]["Compute"]["values"].remove("eks"), "Compute value `eks` was removed"),
        (lambda api: api["cli"].pop("submit"), "`batch-array-notify submit` was removed"),
        (lambda api: api["cli"]["plan"]["options"].pop("--program"), "plan` option --program was removed"),
        (
            lambda api: api["cli"]["submit"]["options"]["--wait"].update(takesValue=True),
            "option --wait changed whether it takes a value",
        ),
        (
            lambda api: api["cli"]["redrive"]["options"]["--stack"].update(required=True),
            "option --stack is now required",
        ),
    ],
    ids=[
        "renamed output",
        "retyped input",
        "input now plain",
        "newly required",
        "detail field",
        "schema version",
        "component",
        "kit name",
        "kit parameter",
        "kit required parameter",
        "kit member",
        "kit enum value",
        "command",
        "option",
        "option value",
        "option required",
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
    changed["testing"]["completion_rule"]["signature"].append("queue=")
    changed["cli"]["plan"]["options"]["--json"] = {"required": False, "takesValue": False}

    breaking, additive = compare(current, changed)

    assert breaking == []
    assert additive == [
        f"{TYPE_TOKEN} input `newKnob` is new",
        "completion event detail field `links.dashboard` is new",
        "batch_array_notify.testing.completion_rule parameters changed: ['plan', 'notifier='] -> "
        "['plan', 'notifier=', 'queue=']",
        "`batch-array-notify plan` option --json is new",
    ]
