"""The public API as a snapshot: `.venv/bin/python -m tools.api_schema [--write]` (`make api-schema` writes it).

The snapshot (`docs/api-schema.json`) holds what semantic versioning promises for the package's major
version: each component's type token, inputs and outputs (type and description, as the plugin package's
schema infers them, which is what other languages are generated from), the nested argument types, the
completion event's source, detail-type and detail fields, the SNS message's `schemaVersion`, the testing
kit (`batch_array_notify.testing`: each public name's signature, a class's public members) and the
`batch-array-notify` commands with their options.
`tests/unit/test_api_schema.py` compares the code with it: removing, renaming or retyping anything
fails while the major version stays the same; additions fail until the snapshot is regenerated.
Exit codes: 0 written or printed, 2 usage.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import batch_array_notify
import batch_array_notify.testing
from batch_array_notify.cli.commands import COMMANDS
from batch_array_notify.cli.exit_codes import tool_parser
from batch_array_notify.plugin_schema import component_provider

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "api-schema.json"


def _property(schema: dict[str, Any]) -> dict[str, Any]:
    """What a consumer depends on: the type (scalar, array item, map value or referenced type), whether
    it takes Outputs (`plain`), and the description."""
    kept: dict[str, Any] = {key: schema[key] for key in ("type", "$ref", "plain", "description") if key in schema}
    for nested in ("items", "additionalProperties"):
        if nested in schema:
            kept[nested] = _property(schema[nested])
    return kept


def _properties(properties: dict[str, Any]) -> dict[str, Any]:
    return {name: _property(schema) for name, schema in sorted(properties.items())}


def completion_event_contract() -> dict[str, Any]:
    """The completion event consumers match on, and the fields of its detail (the report's document)."""
    from batch_array_notify.handler import report  # noqa: PLC0415 (pydantic models: only when asked)

    sample = report.CompletionReport(
        stage="dev",
        status="FAILED",
        status_reason=None,
        job_id="job",
        job_name="name",
        job_arn=None,
        job_queue_arn="arn:aws:batch:us-east-1:123456789012:job-queue/q",
        job_definition_arn="arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
        array_size=2,
        succeeded=1,
        failed=1,
        failed_children=(report.FailedChild(1, "job:1", None, 1, None, None, None, None),),
        created_at_ms=0,
        stopped_at_ms=1000,
        job_url="https://example.invalid",
    )
    document = sample.document()

    def fields(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: fields(item) for key, item in sorted(value.items())}
        if isinstance(value, list):
            return [fields(value[0])] if value else []
        return type(value).__name__ if value is not None else "null"

    return {
        "source": batch_array_notify.COMPLETION_EVENT_SOURCE,
        "detailType": batch_array_notify.COMPLETION_EVENT_DETAIL_TYPE,
        "schemaVersion": report.SCHEMA_VERSION,
        "detailFields": sorted(_paths(fields(document))),
    }


def _paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        return [path for key, item in value.items() for path in _paths(item, f"{prefix}{key}.")]
    if isinstance(value, list):
        return _paths(value[0], f"{prefix[:-1]}[].") if value else [prefix[:-1]]
    return [prefix[:-1]]


def _signature(value: Any) -> list[str]:
    """The parameters a caller depends on, in order: name, `=` when it has a default, `*`/`**` for the
    variadic ones, ` (keyword)` for keyword-only ones; annotations and default values are left out."""
    try:
        parameters = inspect.signature(value).parameters.values()
    except ValueError:  # a builtin without a signature
        return ["..."]
    variadic: dict[Any, str] = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return [
        variadic.get(parameter.kind, "")
        + parameter.name
        + ("=" if parameter.default is not inspect.Parameter.empty else "")
        + (" (keyword)" if parameter.kind is inspect.Parameter.KEYWORD_ONLY else "")
        for parameter in parameters
        if parameter.name != "self"
    ]


def _public_name(value: Any) -> dict[str, Any]:
    """What a test that uses `value` depends on: a function's signature; a class's constructor and its
    public members (methods by signature, the rest by name); an enum's values; a constant's type."""
    if isinstance(value, type) and issubclass(value, enum.Enum):
        return {"kind": "enum", "values": sorted(str(member.value) for member in value)}
    if isinstance(value, type):
        members = {
            name: _signature(member) if inspect.isfunction(member) else ["attribute"]
            for cls in reversed(value.__mro__)
            if cls.__module__.startswith("batch_array_notify")
            for name, member in vars(cls).items()
            if not name.startswith("_")
        }
        fields = getattr(value, "__dataclass_fields__", {})
        members |= {name: ["attribute"] for name in fields if not name.startswith("_")}
        return {"kind": "class", "signature": _signature(value), "members": dict(sorted(members.items()))}
    if callable(value):
        return {"kind": "function", "signature": _signature(value)}
    return {"kind": "constant", "type": type(value).__name__}


def testing_kit() -> dict[str, Any]:
    """Every name `batch_array_notify.testing` exports."""
    kit = batch_array_notify.testing
    return {name: _public_name(getattr(kit, name)) for name in sorted(kit.__all__)}


def _option(action: argparse.Action) -> dict[str, Any]:
    return {"required": action.required, "takesValue": action.nargs != 0}


def cli_commands() -> dict[str, Any]:
    """Each `batch-array-notify` command and its options (what a script that calls it depends on)."""
    commands = {}
    for name, command in COMMANDS.items():
        parser: argparse.ArgumentParser = importlib.import_module(f"batch_array_notify.cli.{command.module}").parser()
        commands[name] = {
            "options": {
                option: _option(action)
                for action in parser._actions  # argparse keeps its arguments here, and nowhere public
                for option in action.option_strings
            },
            "positionals": [action.dest for action in parser._actions if not action.option_strings],
        }
    return commands


def current_api() -> dict[str, Any]:
    """The API as the code defines it now."""
    schema = json.loads(component_provider(batch_array_notify.__version__).schema or "{}")
    resources = {
        token: {
            "inputs": _properties(resource.get("inputProperties", {})),
            "requiredInputs": sorted(resource.get("requiredInputs", [])),
            "outputs": _properties(resource.get("properties", {})),
            "requiredOutputs": sorted(resource.get("required", [])),
        }
        for token, resource in sorted(schema["resources"].items())
    }
    types = {
        token: {
            "description": definition.get("description", ""),
            "properties": _properties(definition.get("properties", {})),
            "required": sorted(definition.get("required", [])),
        }
        for token, definition in sorted(schema.get("types", {}).items())
    }
    return {
        "version": batch_array_notify.__version__,
        "resources": resources,
        "types": types,
        "completionEvent": completion_event_contract(),
        "testing": testing_kit(),
        "cli": cli_commands(),
    }


def render(api: dict[str, Any]) -> str:
    return json.dumps(api, indent=2, sort_keys=True) + "\n"


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(".venv/bin/python -m tools.api_schema", __doc__, bad_outcome=None, uses_aws=False)
    arguments.add_argument("--write", action="store_true", help=f"write the snapshot to {SNAPSHOT.name}")
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    text = render(current_api())
    if options.write:
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT.relative_to(SNAPSHOT.parent.parent)} for version {batch_array_notify.__version__}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
