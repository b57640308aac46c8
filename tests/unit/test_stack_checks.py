"""`Pulumi.yaml`'s config declarations as components/stack_checks.py reads them: Pulumi's own fields and
types accepted, anything else refused in one line naming the key."""

from pathlib import Path

import pytest

from batch_array_notify.stack_checks import StackConfigError, read_project_file


def project_file(tmp_path: Path, declaration: str) -> Path:
    path = tmp_path / "Pulumi.yaml"
    path.write_text(f"name: p\nruntime: python\nconfig:\n  p:key:\n{declaration}")
    return path


@pytest.mark.parametrize(
    "declaration",
    [
        "    type: string\n    secret: true\n",
        "    type: integer\n    default: 3\n",
        "    type: boolean\n    default: false\n",
    ],
)
def test_pulumis_own_fields_and_types_are_accepted(tmp_path, declaration):
    """`secret` is one of a declaration's fields in Pulumi's project file reference."""
    assert read_project_file(project_file(tmp_path, declaration))["config"]["p:key"]


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("    type: string\n    secrets: true\n", "Pulumi.yaml: config p:key has unknown field secrets"),
        ("    type: integer\n    default: true\n", "Pulumi.yaml: config p:key has a default of bool, not integer"),
        ("    type: integer\n    default: '3'\n", "Pulumi.yaml: config p:key has a default of a string, not integer"),
    ],
)
def test_other_fields_and_defaults_of_another_type_are_refused_naming_the_key(tmp_path, declaration, message):
    with pytest.raises(StackConfigError) as refused:
        read_project_file(project_file(tmp_path, declaration))

    assert str(refused.value) == message
