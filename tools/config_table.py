"""Print the config table of docs/configuration.md from `Pulumi.yaml`, so the two can never disagree.

`.venv/bin/python -m tools.config_table` prints the Markdown table; a test checks docs/configuration.md contains it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from batch_array_notify.cli.exit_codes import DONE, tool_parser
from batch_array_notify.testing.program import ROOT, load_project


def _default(schema: dict[str, Any]) -> str:
    if "default" not in schema:
        return "(unset)"
    default = schema["default"]
    text = default if isinstance(default, str) else json.dumps(default)
    return f"`{text}`" if len(text) <= 60 else "see Pulumi.yaml"


def config_table(program_dir: Path = ROOT) -> str:
    project = load_project(program_dir)
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, schema in project["config"].items():
        kind = schema["type"] if schema["type"] != "array" else f"array of {schema['items']['type']}"
        rows.append(f"| `{key}` | {kind} | {_default(schema)} | {schema['description'].replace('|', '/')} |")
    return "\n".join(rows)


def parser() -> argparse.ArgumentParser:
    return tool_parser(".venv/bin/python -m tools.config_table", __doc__, bad_outcome=None, uses_aws=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser().parse_args(argv)
    sys.stdout.write(config_table() + "\n")
    return DONE


if __name__ == "__main__":
    raise SystemExit(main())
