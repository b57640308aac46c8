"""Stack files and config keys, read as strictly as AWS and the Pulumi CLI would have them, or stricter.

Shared by the stack program (`__main__.py`, under `pulumi up`) and the offline commands
(`batch_array_notify.testing.program`), so a mistake is refused the same way by both: one line, naming the
file and line or the key, and the fix.
Pure functions: a path or a mapping in, a `StackConfigError` out.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
from collections.abc import Hashable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml

from .aws_formats import partition_of, regions

#: The attributes of a stack settings file (Pulumi docs, "Stack settings file reference",
#: https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/). The CLI ignores any other
#: top-level key, so a `configs:` would make every setting silently unused.
STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
#: Namespaces besides the project's and the AWS provider's: `pulumi:` is the engine's own (`pulumi:tags`).
ENGINE_NAMESPACE = "pulumi"
PROVIDER_NAMESPACE = "aws"


class StackConfigError(pulumi.RunError, ValueError):
    """A stack file or config key that cannot be right. A RunError: `pulumi up` prints it as one line."""


class UnknownConfigKeyError(StackConfigError):
    """A key no part of the program reads: a typo that would otherwise be silently ignored."""


class _StrictLoader(yaml.SafeLoader):
    """YAML as the Pulumi CLI reads it (Go's yaml.v3): a key given twice in one mapping is an error,
    where PyYAML would keep the last value."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise StackConfigError(
                    f"line {key_node.start_mark.line + 1}: {key} is given twice (first on line {seen[key]}); keep one"
                )
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path) -> Any:
    """The document in `path`; a syntax error or duplicate key is one line with the file and line."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise StackConfigError(f"{path.name}: cannot read it ({error})") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except StackConfigError as error:
        raise StackConfigError(f"{path.name} {error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(error.problem or error.context or "invalid YAML").split())
        opened = error.context_mark
        if error.context and opened is not None and opened is not mark and opened.line != getattr(mark, "line", None):
            # An unclosed `[` or `{` is found at the end of the file; say where it was opened.
            problem += f" ({error.context} that starts on line {opened.line + 1}, column {opened.column + 1})"
        hint = "; YAML indents with spaces, not tabs" if "\\t" in problem or "\t" in problem else ""
        raise StackConfigError(f"{path.name}{where}: {problem}{hint} (fix the YAML there)") from None
    except yaml.YAMLError as error:
        raise StackConfigError(f"{path.name}: not valid YAML ({' '.join(str(error).split())})") from None


def _kind(value: object) -> str:
    return {dict: "a map", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` map of a stack settings file, its keys as written; anything else is refused."""
    document = load_yaml(path)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackConfigError(f"{path.name}: expected a map with a config: key, found {_kind(document)}")
    unknown = sorted(str(key) for key in document if key not in STACK_FILE_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], STACK_FILE_KEYS, n=1)
        hint = f"did you mean {close[0]}?" if close else f"allowed: {', '.join(STACK_FILE_KEYS)}"
        raise StackConfigError(
            f"{path.name}: {unknown[0]}: is not a stack file key (the CLI would ignore it and all under it); {hint}"
        )
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path.name}: config: must be a map of key: value, found {_kind(config)}")
    for key in config:
        if not isinstance(key, str) or not key:
            raise StackConfigError(f"{path.name}: config key {key!r} is not a name; write namespace:key")
    return config


#: A project config declaration's fields (Pulumi docs, "Pulumi project file reference", config).
PROJECT_CONFIG_FIELDS = ("default", "description", "items", "secret", "type", "value")
PROJECT_CONFIG_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def read_project_file(path: Path) -> dict[str, Any]:
    """`Pulumi.yaml`, with its name and config declarations checked."""
    project = load_yaml(path)
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StackConfigError(f"{path.name}: expected a map with name:, runtime: and config:")
    for key, declaration in (project.get("config") or {}).items():
        if not isinstance(declaration, dict):
            continue  # a plain value: the shorthand for `value:`
        unknown = sorted(set(declaration) - set(PROJECT_CONFIG_FIELDS))
        if unknown:
            raise StackConfigError(f"{path.name}: config {key} has unknown field {unknown[0]}")
        declared_type = declaration.get("type", "string")
        if declared_type not in PROJECT_CONFIG_TYPES:
            raise StackConfigError(
                f"{path.name}: config {key} has type {declared_type}; allowed: {', '.join(PROJECT_CONFIG_TYPES)}"
            )
        default = declaration.get("default")
        python_type = PROJECT_CONFIG_TYPES[declared_type]
        wrong = default is not None and (
            not isinstance(default, python_type) or (declared_type == "integer" and isinstance(default, bool))
        )
        if wrong:
            raise StackConfigError(f"{path.name}: config {key} has a default of {_kind(default)}, not {declared_type}")
    return project


@cache
def aws_config_keys() -> frozenset[str]:
    """Every key of the `aws:` namespace, as pulumi_aws's own config module reads them."""
    # Its text, not an import: the module reads the stack's config when imported.
    package = importlib.util.find_spec("pulumi_aws")
    folders = package.submodule_search_locations if package is not None else None
    if not folders:
        raise StackConfigError("pulumi_aws is not installed: make venv")
    text = (Path(folders[0]) / "config" / "vars.py").read_text()
    return frozenset(re.findall(r"__config__\.get(?:_\w+)?\('(\w+)'\)", text))


def _did_you_mean(name: str, choices: frozenset[str] | tuple[str, ...], listed: str) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f"did you mean {close[0]}?" if close else f"{listed}: {', '.join(sorted(choices))}"


def check_config_keys(sources: Mapping[str, str], project: str, declared: frozenset[str]) -> None:
    """Each fully qualified key (mapped to where it was written) must be one the program reads: the
    project's declared keys, the AWS provider's or the engine's."""
    for qualified, where in sources.items():
        namespace, _, short = qualified.partition(":")
        if namespace == project and short not in declared:
            hint = _did_you_mean(short, declared, "declared keys")
            raise UnknownConfigKeyError(f"{where}: {qualified} is not a config key of {project} (Pulumi.yaml); {hint}")
        if namespace == PROVIDER_NAMESPACE and short not in aws_config_keys():
            hint = _did_you_mean(short, aws_config_keys(), "its keys")
            raise UnknownConfigKeyError(f"{where}: {qualified} is not a key of the aws provider; {hint}")
        if namespace not in (project, PROVIDER_NAMESPACE, ENGINE_NAMESPACE):
            hint = _did_you_mean(namespace, (project, PROVIDER_NAMESPACE), "namespaces it reads")
            raise UnknownConfigKeyError(
                f"{where}: {qualified}: no part of this program reads namespace {namespace}; {hint}"
            )


def check_region(region: object, where: str) -> str:
    """`aws:region` must be a region of a partition AWS has (botocore's endpoint data)."""
    if not isinstance(region, str) or partition_of(region) is None:
        close = difflib.get_close_matches(str(region), regions(), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise StackConfigError(f"{where}: aws:region {region!r} is not an AWS region (botocore's endpoint data){hint}")
    return region
