"""The plugin package's schema, as `pulumi package get-schema ./components` infers it from the components.

Why a shim: pulumi's component analyzer (3.272) reads an attribute's description only from the source
of the class it analyses. The options and outputs both components share are declared once, in a base
(`NotifierOptions`, `NotifierOutputs`), so without help both components' schemas would lose those
descriptions. `inherited_descriptions` lets the analyzer fall back to the classes a class was declared
with. tests/unit/test_plugin_schema.py fails the day the SDK does this itself: then drop the shim.
"""

from __future__ import annotations

import ast
import inspect
import sys
import typing
from collections.abc import Iterator
from contextlib import contextmanager

from pulumi.provider.experimental import analyzer, component

from .completion_notifier import ArrayCompletionNotifier
from .forwarder import BatchEventForwarder
from .pipeline import TYPE_TOKEN, BatchArrayPipeline

#: The components the plugin package hosts.
COMPONENTS: tuple[type, ...] = (BatchArrayPipeline, ArrayCompletionNotifier, BatchEventForwarder)
#: The consumers' SDK name; must equal the first part of the components' type tokens.
PACKAGE_NAME = TYPE_TOKEN.split(":", 1)[0]


def declared_bases(cls: type) -> list[type]:
    """The classes `cls` inherits attributes from. A TypedDict's bases are gone from its MRO at run time
    (it derives from `dict`), so they are read from the `class` statement in its source."""
    if not typing.is_typeddict(cls):
        return list(cls.__mro__[1:])
    try:
        statement = ast.parse(inspect.getsource(cls)).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return []
    namespace = vars(sys.modules[cls.__module__])
    names = [base.id for base in getattr(statement, "bases", []) if isinstance(base, ast.Name)]
    return [namespace[name] for name in names if typing.is_typeddict(namespace.get(name))]


class _InheritingAnalyzer(analyzer.Analyzer):
    def get_docstring(self, typ: type, name: str) -> str | None:
        found = super().get_docstring(typ, name)
        for base in declared_bases(typ):
            if found is not None:
                break
            if name in vars(base).get("__annotations__", {}):
                found = self.get_docstring(base, name)
        return found


@contextmanager
def inherited_descriptions() -> Iterator[None]:
    """Within the block, the component provider's analyzer also reads descriptions from base classes."""
    original = analyzer.Analyzer
    setattr(component, "Analyzer", _InheritingAnalyzer)  # noqa: B010 (a module attribute, patched on purpose)
    try:
        yield
    finally:
        setattr(component, "Analyzer", original)  # noqa: B010


def component_provider(version: str) -> component.ComponentProvider:
    """The provider the plugin package runs, with its schema (`.schema`), built offline."""
    with inherited_descriptions():
        return component.ComponentProvider(list(COMPONENTS), PACKAGE_NAME, version=version)
