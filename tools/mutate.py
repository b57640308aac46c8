"""Mutation testing of the handler and the component's core modules: `python -m tools.mutate` (`make mutate`).

Each mutant is one small deliberate bug (a comparison flipped, a constant changed, a string emptied, ...)
in one of `TARGETS`; it is run against the tests that execute its line, and it is *killed* when one of
them fails. A surviving mutant is a bug no test would notice (or an equivalent change: docs/testing.md
explains each one that survives).

Why not mutmut: it copies the sources into `mutants/` and imports them from there, but this package is
imported from a strict editable install that maps `components/` and `handler/` into `batch_array_notify`
(setuptools package-dir), so the tests would import the originals; and copying the tree per run would
not fit the Pulumi mock runtime's per-process state either. This driver never writes a source file:

1. Coverage, once: the whole suite runs under coverage.py with one context per test and one per fixture
   setup (a session fixture such as `stage_plans` runs inside whichever test needs it first, so its lines
   are credited to every test that uses the fixture). Cached in build/mutate/ until a source or test changes.
2. Mutants: every mutation point of each target's AST, outside docstrings, annotations and decorators.
3. Runs: the driver imports the package and the heavy libraries, then starts one pytest session that
   collects every chosen test file once and runs no test itself: instead it forks one child per mutant
   (two at a time by default). The child patches the mutant into the imported module in memory (a
   function's `__code__`, or a module-level statement run again with the later ones that depend on it,
   rebound wherever it was imported) and runs the mutant's tests through pytest's own test protocol
   (fixtures, setup, teardown), whole files in order, until one fails. So a child pays for its tests and
   nothing else: no pytest start-up, no collection. The child exits; the parent and the files on disk
   never see the mutant, so an interrupted run leaves nothing behind.
4. Tests of a mutant: those that run its line (for a function) or read what its statement defines (for a
   module-level one: the target lines that read the name, and the tests that read it themselves, such as
   a test comparing a limits table with the docs).

Exit codes: 0 every module reached the target score, 1 some module did not, 2 usage error.
"""

from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import functools
import hashlib
import importlib
import inspect
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any, Final

import pytest

from batch_array_notify.cli.arguments import bounded_number, whole_number
from batch_array_notify.cli.exit_codes import BAD_OUTCOME, DONE, USAGE_ERROR, tool_parser
from batch_array_notify.testing.program import forget_plans
from tools import mutation_report

ROOT: Final = Path(__file__).resolve().parent.parent
WORK: Final = ROOT / "build" / "mutate"
#: Where a run writes its report unless `--write-report` asks for the tracked docs/mutation-report.json.
UNTRACKED_REPORT: Final = WORK / "report.json"


def _targets() -> dict[str, Path]:
    """Module name -> source file, of every file `mutation_report.measured_files` names."""
    return {
        f"batch_array_notify.{'handler.' if path.parent.name == 'handler' else ''}{path.stem}": path
        for path in mutation_report.measured_files()
    }


TARGETS: Final = _targets()

# --------------------------------------------------------------------------------------------------
# Mutants


@dataclass(frozen=True)
class Mutant:
    module: str
    #: Position among the module's mutation points, in AST walk order (what `mutate_source` applies).
    index: int
    line: int
    operator: str
    #: Where the mutated node lives: "function", "default" (a parameter's default value) or "module".
    scope: str
    #: For "function"/"default": the function's name and the line of its `def` (or first decorator);
    #: for "module": the top-level statement's index in the module body.
    owner: str
    owner_line: int
    #: The last line of that function or statement.
    owner_end: int

    @property
    def key(self) -> str:
        return f"{self.module}:{self.line}:{self.index}"


_COMPARE_SWAPS: Final[dict[type[ast.cmpop], type[ast.cmpop]]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_BINARY_SWAPS: Final[dict[type[ast.operator], type[ast.operator]]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


class _Mutator(ast.NodeTransformer):
    """Walks a module; counts mutation points, and replaces the one numbered `target` (if any)."""

    def __init__(self, module: str, target: int | None = None) -> None:
        self.module = module
        self.target = target
        self.found: list[Mutant] = []
        self._scope: tuple[str, str, int, int] = ("module", "", 0, 0)

    # Where we are ---------------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for index, statement in enumerate(node.body):
            if _is_docstring(statement) or isinstance(statement, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(statement, ast.If) and _is_type_checking(statement.test):
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)):
                self._scope = ("module", "", index, statement.end_lineno or statement.lineno)
                node.body[index] = self.visit(statement)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        outer = self._scope
        for index, statement in enumerate(node.body):
            if _is_docstring(statement):
                continue
            node.body[index] = self.visit(statement)
            self._scope = outer
        return node

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        outer = self._scope
        first_line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        if outer[0] == "module":
            # Defaults are evaluated where the function is defined; the body runs from its code object.
            end = node.end_lineno or node.lineno
            self._scope = ("default", node.name, first_line, end)
            arguments = node.args
            arguments.defaults = [self.visit(default) for default in arguments.defaults]
            arguments.kw_defaults = [None if d is None else self.visit(d) for d in arguments.kw_defaults]
            self._scope = ("function", node.name, first_line, end)
        body = node.body[1:] if node.body and _is_docstring(node.body[0]) else node.body
        start = len(node.body) - len(body)
        for offset, statement in enumerate(body):
            node.body[start + offset] = self.visit(statement)
        self._scope = outer
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        return self._function(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        # Literal["batch", ...] is a type: changing its strings changes nothing at run time.
        if isinstance(node.value, ast.Name) and node.value.id == "Literal":
            return node
        return self.generic_visit(node)

    # Mutation points --------------------------------------------------------------------------------

    def _point(self, node: ast.AST, operator: str, replacement: Callable[[], ast.AST]) -> ast.AST:
        scope, owner, owner_line, owner_end = self._scope
        index = len(self.found)
        self.found.append(
            Mutant(self.module, index, getattr(node, "lineno", 0), operator, scope, owner, owner_line, owner_end)
        )
        if index == self.target:
            return ast.copy_location(replacement(), node)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for position, op in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(op))
            if swap is None:
                continue

            def flipped(position: int = position, swap: type[ast.cmpop] = swap) -> ast.AST:
                ops = list(node.ops)
                ops[position] = swap()
                return ast.Compare(left=node.left, ops=ops, comparators=node.comparators)

            mutated = self._point(node, f"{type(op).__name__} -> {swap.__name__}", flipped)
            if mutated is not node:
                return mutated
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return self._point(
            node,
            f"{type(node.op).__name__} -> {type(other).__name__}",
            lambda: ast.BoolOp(op=other, values=node.values),
        )

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return self._point(node, "not x -> x", lambda: node.operand)
        return node

    def _swap_operator(self, node: ast.BinOp | ast.AugAssign, suffix: str) -> ast.AST:
        self.generic_visit(node)
        swap = _BINARY_SWAPS.get(type(node.op))
        if swap is None:
            return node

        def swapped() -> ast.AST:
            mutated = copy.copy(node)
            mutated.op = swap()
            return mutated

        return self._point(node, f"{type(node.op).__name__}{suffix} -> {swap.__name__}{suffix}", swapped)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        return self._swap_operator(node, "")

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        return self._swap_operator(node, "=")

    def visit_Break(self, node: ast.Break) -> ast.AST:
        return self._point(node, "break -> continue", ast.Continue)

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        return self._point(node, "continue -> break", ast.Break)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        # One mutant per f-string (its pieces are not mutated one by one).
        return self._point(node, 'f"..." -> ""', lambda: ast.Constant(""))

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            return self._point(node, f"{value} -> {not value}", lambda: ast.Constant(not value))
        if isinstance(value, int | float):
            return self._point(node, f"{value!r} -> {value + 1!r}", lambda: ast.Constant(value + 1))
        if isinstance(value, str):
            if value:
                return self._point(node, f'"{_short(value)}" -> ""', lambda: ast.Constant(""))
            return self._point(node, '"" -> "mutated"', lambda: ast.Constant("mutated"))
        return node


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _short(text: str, width: int = 24) -> str:
    flat = text.replace("\n", "\\n")
    return flat if len(flat) <= width else flat[: width - 3] + "..."


@functools.cache
def _source(module: str) -> str:
    """The module's source as it was when the run began (editing a file mid-run changes nothing)."""
    return TARGETS[module].read_text()


def mutants_of(module: str) -> list[Mutant]:
    mutator = _Mutator(module)
    mutator.visit(ast.parse(_source(module), str(TARGETS[module])))
    return mutator.found


#: Forked children at once: more than the cores only makes each mutant's timeout likelier.
MAX_JOBS: Final = os.cpu_count() or 1
#: The most mutants a sample takes from one module (validation.py, the largest, has about 500).
MAX_SAMPLE: Final = 1000

#: A module's sample: how many of its mutants (None: all) and the seed that chose them.
Sample = tuple[int | None, int]


def sample_of(module: str, size: int | None, seed: int) -> list[Mutant]:
    """The module's mutants, or a seeded sample of `size` of them in source order: the same seed and sources
    give the same sample on any machine, so a sampled score can be checked by running it again."""
    every = mutants_of(module)
    if size is None or size >= len(every):
        return every
    return sorted(random.Random(f"{seed}:{module}").sample(every, size), key=lambda mutant: mutant.index)


def mutated_tree(mutant: Mutant) -> ast.Module:
    tree = ast.parse(_source(mutant.module), str(TARGETS[mutant.module]))
    mutator = _Mutator(mutant.module, target=mutant.index)
    mutated: ast.Module = mutator.visit(tree)
    ast.fix_missing_locations(mutated)
    found = mutator.found[mutant.index]
    if (found.line, found.operator) != (mutant.line, mutant.operator):
        raise RuntimeError(f"{mutant.key} no longer matches the source; list the mutants again")
    return mutated


def describe(mutant: Mutant) -> str:
    """`handler/report.py:212  Lt -> LtE  |  if len(name) > name_budget:`"""
    source = _source(mutant.module).splitlines()
    line = source[mutant.line - 1].strip() if 0 < mutant.line <= len(source) else ""
    return f"{TARGETS[mutant.module].relative_to(ROOT)}:{mutant.line}  {mutant.operator}  |  {line}"


# --------------------------------------------------------------------------------------------------
# Putting one mutant into the imported module (in a forked child only)


def _functions_of(module: ModuleType) -> Iterator[FunctionType]:
    """Every function defined in `module`: top-level (unwrapped from decorators) and in its classes."""
    for value in list(vars(module).values()):
        candidates: list[Any] = [value]
        if inspect.isclass(value) and value.__module__ == module.__name__:
            for member in vars(value).values():
                if isinstance(member, staticmethod | classmethod):
                    candidates.append(member.__func__)
                elif isinstance(member, property):
                    candidates += [member.fget, member.fset, member.fdel]
                else:
                    candidates.append(member)
        for candidate in candidates:
            if callable(candidate):
                unwrapped = inspect.unwrap(candidate)
                if isinstance(unwrapped, FunctionType) and unwrapped.__module__ == module.__name__:
                    yield unwrapped


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield constant
            yield from _code_objects(constant)


def _rebind(module: ModuleType, name: str, old: Any, new: Any) -> None:
    """Point every other module-level reference to `old` under `name` (`from m import name` copies) and
    `module`'s parameter defaults captured at definition time at `new`."""
    for other in list(sys.modules.values()):
        namespace = getattr(other, "__dict__", None)
        if isinstance(namespace, dict) and namespace.get(name) is old:
            namespace[name] = new
    for function in _functions_of(module):
        if function.__defaults__ and any(value is old for value in function.__defaults__):
            function.__defaults__ = tuple(new if value is old else value for value in function.__defaults__)


def apply(mutant: Mutant) -> None:
    """Make the imported module behave as the mutated source would."""
    module = importlib.import_module(mutant.module)
    filename = str(getattr(module, "__file__", ""))
    tree = mutated_tree(mutant)
    if mutant.scope == "function":
        code = compile(tree, filename, "exec")
        codes = [c for c in _code_objects(code) if c.co_name == mutant.owner and c.co_firstlineno == mutant.owner_line]
        targets = [
            f
            for f in _functions_of(module)
            if f.__code__.co_name == mutant.owner and f.__code__.co_firstlineno == mutant.owner_line
        ]
        if len(codes) != 1 or len(targets) != 1:
            raise RuntimeError(f"cannot find function {mutant.owner} (line {mutant.owner_line}) of {mutant.module}")
        targets[0].__code__ = codes[0]
        return
    if mutant.scope == "default":
        (definition,) = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == mutant.owner
        ]
        function = inspect.unwrap(getattr(module, mutant.owner))
        evaluate = functools.partial(_evaluate, namespace=vars(module), filename=filename)
        function.__defaults__ = tuple(evaluate(d) for d in definition.args.defaults) or None
        kwdefaults = {
            argument.arg: evaluate(default)
            for argument, default in zip(definition.args.kwonlyargs, definition.args.kw_defaults, strict=True)
            if default is not None
        }
        function.__kwdefaults__ = kwdefaults or None
        return
    # A module-level statement: run it again, with the later statements that depend on it; rebind what
    # they define.
    statements = [tree.body[position] for position in _rerun(tree.body, int(mutant.owner_line))]
    # In the module's own namespace: pydantic resolves a model's annotations there.
    namespace = vars(module)
    names = [name for defined in statements for name in _names_defined(defined)]
    before = {name: namespace.get(name) for name in names}
    exec(compile(ast.Module(body=statements, type_ignores=[]), filename, "exec"), namespace)
    for name in names:
        _rebind(module, name, before[name], namespace[name])


def _rerun(body: Sequence[ast.stmt], index: int) -> list[int]:
    """The module-level statement at `index` and the later ones to run again after it changes: every later
    class (it may derive from it or use it in a field, as pydantic models use `Count`), and every later
    assignment that reads a name defined so far (`LIMITS = {"id": Limit(128)}` after `class Limit`)."""
    chosen = [index]
    changed = set(_names_defined(body[index]))
    for position in range(index + 1, len(body)):
        statement = body[position]
        reads = {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}
        if isinstance(statement, ast.ClassDef) or (
            isinstance(statement, ast.Assign | ast.AnnAssign) and reads & changed
        ):
            chosen.append(position)
            changed.update(_names_defined(statement))
    return chosen


def _evaluate(expression: ast.expr, *, namespace: dict[str, Any], filename: str) -> Any:
    return eval(compile(ast.fix_missing_locations(ast.Expression(expression)), filename, "eval"), namespace)


def _names_defined(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [statement.name]
    targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
    return [target.id for target in targets if isinstance(target, ast.Name)]


# --------------------------------------------------------------------------------------------------
# Which tests run which lines (pytest plugin, loaded in the coverage run's processes)


class CoverageRecorder:
    """Per-test and per-fixture coverage contexts, the fixtures each test uses, and test durations."""

    def __init__(self, output: Path) -> None:
        import coverage  # noqa: PLC0415  # only the coverage run needs it

        self.output = output
        self.coverage = coverage.Coverage(
            data_file=str(output.with_suffix(".coverage")), source_pkgs=["batch_array_notify"], branch=False
        )
        self.contexts: list[str] = []
        self.fixtures: dict[str, list[str]] = {}
        self.durations: dict[str, float] = defaultdict(float)
        self.coverage.start()

    def _switch(self, context: str) -> None:
        self.coverage.switch_context(context)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: Any) -> Iterator[None]:
        self.contexts = [item.nodeid]
        self._switch(item.nodeid)
        definitions = item._fixtureinfo.name2fixturedefs
        self.fixtures[item.nodeid] = [
            _fixture_context(definitions[name][-1]) for name in item.fixturenames if definitions.get(name)
        ]
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Iterator[None]:
        self.contexts.append(_fixture_context(fixturedef))
        self._switch(self.contexts[-1])
        try:
            yield
        finally:
            self.contexts.pop()
            self._switch(self.contexts[-1] if self.contexts else "")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Iterator[None]:
        self._switch(item.nodeid)
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: Any) -> Iterator[None]:
        self._switch(item.nodeid)
        yield

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] += report.duration

    def pytest_sessionfinish(self) -> None:
        self.coverage.stop()
        self.coverage.save()
        data = self.coverage.get_data()
        readers = _readers_elsewhere()
        by_real_path = {str(path.resolve()): module for module, path in {**TARGETS, **_OTHER_MODULES}.items()}
        lines: dict[str, dict[int, list[str]]] = {}
        for measured in data.measured_files():
            module = by_real_path.get(str(Path(measured).resolve()))
            if module is not None:
                # Of the other modules, only the lines that read a target's module-level name.
                wanted = None if module in TARGETS else readers.get(module, {})
                lines[module] = {
                    line: sorted({c for c in ctx if c})
                    for line, ctx in data.contexts_by_lineno(measured).items()
                    if wanted is None or line in wanted
                }
        self.output.write_text(json.dumps({"lines": lines, "fixtures": self.fixtures, "durations": self.durations}))


def _fixture_context(fixturedef: Any) -> str:
    return f"fixture {fixturedef.baseid}::{fixturedef.argname}"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: Any) -> None:
    """Entry point when loaded with `-p tools.mutate` by `collect_coverage`: before the conftests import
    the package, so coverage measures it from the start."""
    config = early_config
    output = os.environ.get("MUTATE_COVERAGE_OUTPUT")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None and getattr(config.known_args_namespace, "numprocesses", None):
        return  # the xdist controller runs no test
    if output:
        worker = worker or "main"
        config.pluginmanager.register(CoverageRecorder(Path(f"{output}.{worker}.json")), "mutate-coverage")


@functools.cache
def _name_uses() -> dict[str, list[tuple[str, int]]]:
    """Name -> (module, line) of every place a target module reads a name (its own or an imported one),
    and every place another module of the package reads a target's module-level name (`batch.py` reads
    `iam.ECS_TASK_EXECUTION_POLICY`)."""
    uses: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for module in TARGETS:
        for node in ast.walk(ast.parse(_source(module))):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                uses[node.id].append((module, node.lineno))
    for module, by_line in _readers_elsewhere().items():
        for line, names in by_line.items():
            uses.update({name: [*uses[name], (module, line)] for name in names})
    return uses


#: The package's other modules (module name -> file), whose reads of the targets' names are measured too.
_OTHER_MODULES: Final = {
    f"batch_array_notify{'.handler' if path.parent.name == 'handler' else ''}.{path.stem}": path
    for path in sorted([*(ROOT / "components").glob("*.py"), *(ROOT / "handler").glob("*.py")])
    if path not in TARGETS.values() and path.stem not in ("__init__", "__main__")
}


def _module_level_names(module: str) -> list[str]:
    return [name for statement in ast.parse(_source(module)).body for name in _names_defined(statement)]


@functools.cache
def _readers_elsewhere() -> dict[str, dict[int, set[str]]]:
    """Other module -> line -> the targets' module-level names read there (by name or as `module.NAME`)."""
    defined = {
        name
        for module in TARGETS
        for statement in ast.parse(_source(module)).body
        for name in _names_defined(statement)
    }
    found: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for module, path in _OTHER_MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if name in defined:
                    found[module][node.lineno].add(name)
    return {module: dict(by_line) for module, by_line in found.items()}


@functools.cache
def _test_readers() -> dict[str, frozenset[str]]:
    """Name -> the tests that read it in their own code: `file::test` (`file::Class::test`), or `file::`
    when the file reads it outside any test (a table the file's tests are parametrized over)."""
    readers: dict[str, set[str]] = defaultdict(set)
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        file = str(path.relative_to(ROOT))

        def note(node: ast.AST, prefix: str) -> None:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name):
                    readers[inner.id].add(prefix)
                elif isinstance(inner, ast.Attribute):
                    readers[inner.attr].add(prefix)

        for statement in ast.parse(path.read_text()).body:
            if isinstance(statement, ast.FunctionDef) and statement.name.startswith("test"):
                note(statement, f"{file}::{statement.name}")
            elif isinstance(statement, ast.ClassDef) and statement.name.startswith("Test"):
                for member in statement.body:
                    note(member, f"{file}::{statement.name}::{getattr(member, 'name', '')}")
            elif not isinstance(statement, ast.Import | ast.ImportFrom):
                note(statement, f"{file}::")
    return {name: frozenset(prefixes) for name, prefixes in readers.items()}


def _tests_reading(name: str) -> frozenset[str]:
    return _test_readers().get(name, frozenset())


def _is_under(test: str, prefix: str) -> bool:
    """`file::test[param]` is under `file::test` and under `file::`."""
    return test.startswith(prefix) if prefix.endswith("::") else test == prefix or test.startswith(f"{prefix}[")


@functools.cache
def _statement_names(module: str, index: int) -> tuple[str, ...]:
    """What a module-level mutant changes: the names of the statements `apply` runs again (`_rerun`)."""
    body = ast.parse(_source(module)).body
    return tuple(name for position in _rerun(body, index) for name in _names_defined(body[position]))


@dataclass
class TestMap:
    """Module -> line -> the tests that run it; each test's duration."""

    lines: dict[str, dict[int, set[str]]]
    durations: dict[str, float]
    #: At most this many seconds of tests (as timed in the coverage run) per mutant, the fastest first.
    budget_seconds: float = float("inf")

    def _at(self, module: str, line: int) -> set[str]:
        return self.lines.get(module, {}).get(line, set())

    def _between(self, module: str, first: int, last: int) -> set[str]:
        return set().union(*(t for n, t in self.lines.get(module, {}).items() if first <= n <= last))

    def readers(self, mutant: Mutant) -> set[str]:
        """For a module-level mutant, the tests that read what its statement defines in their own code (a
        test comparing the defaults table with Pulumi.yaml): written to notice a change in it, whatever
        their kind, so they come first."""
        if mutant.scope != "module":
            return set()
        prefixes = [
            prefix for name in _statement_names(mutant.module, mutant.owner_line) for prefix in _tests_reading(name)
        ]
        return {test for test in self.durations if any(_is_under(test, prefix) for prefix in prefixes)}

    def tests_for(self, mutant: Mutant) -> set[str]:
        if mutant.scope == "function":
            # A line the tracer never reports (a constant folded into a tuple on an earlier line): the
            # tests that run any line of the function.
            tests = self._at(mutant.module, mutant.line) or self._between(
                mutant.module, mutant.owner_line, mutant.owner_end
            )
        elif mutant.scope == "default":
            tests = self._between(mutant.module, mutant.owner_line, mutant.owner_end)
        else:
            # A module-level value matters where it is read: the lines of any target module that use its name.
            names = _statement_names(mutant.module, mutant.owner_line)
            tests = set().union(*(self._at(m, n) for name in names for m, n in _name_uses().get(name, [])))
            # And the tests that read it themselves (a test of a limits table compares it with the docs).
            tests |= self.readers(mutant)
            if not tests:
                tests = set().union(*self.lines.get(mutant.module, {}).values())
        # The tests that read a mutated table themselves first, then the fastest, up to the budget: a bug
        # only a slow test notices counts as surviving, which is what asks for a fast test that notices it.
        readers = self.readers(mutant)
        order = functools.partial(_test_order, mutant.module, self.durations)
        chosen: set[str] = set()
        spent = 0.0
        for test in sorted(tests, key=lambda test: (test not in readers, *order(test))):
            cost = self.durations.get(test, 1.0)
            if chosen and spent + cost > self.budget_seconds:
                break
            chosen.add(test)
            spent += cost
        return chosen


def _test_order(module: str, durations: dict[str, float], test: str) -> tuple[bool, bool, float, str]:
    """The module's own test files first (`test_handler_delivery.py` for `handler/delivery.py`): they
    are the likeliest to notice; then unit tests; then the fastest."""
    path = test.split("::", maxsplit=1)[0]
    return (not _mirrors(module, path), not path.startswith("tests/unit/"), durations.get(test, 1.0), test)


def _mirrors(module: str, test_file: str) -> bool:
    """`tests/unit/test_handler_report_rendering.py` mirrors `handler/report.py`; `test_validation_rules.py`
    mirrors `components/validation.py`."""
    subject = Path(test_file).stem.removeprefix("test_").removeprefix("handler_")
    return subject.startswith(module.rsplit(".", maxsplit=1)[1])


def _digest(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _sources_digest() -> str:
    """What every test's coverage depends on besides its own file: the code, the harnesses, the config."""
    tests = ROOT / "tests"
    helpers = [path for path in tests.rglob("*.py") if not path.name.startswith("test_")]
    # The driver and its report are not code the tests run: editing them keeps the measured coverage.
    tools = [path for path in (ROOT / "tools").rglob("*.py") if path.name not in ("mutate.py", "mutation_report.py")]
    shipped = [path for folder in ("components", "cli", "testing") for path in (ROOT / folder).glob("*.py")]
    return f"{TEST_MAP_FORMAT}-" + _digest([*shipped, *TARGETS.values(), *tools, *helpers])


#: Bumped when what the coverage run records changes, so an older build/mutate/tests.json is measured again.
TEST_MAP_FORMAT: Final = 2

#: The test of this driver's own report: it runs no target, and the report it checks changes during a run.
REPORT_TEST: Final = "tests/unit/test_mutation_report.py"


def _test_files() -> dict[str, str]:
    files = {str(path.relative_to(ROOT)): _digest([path]) for path in (ROOT / "tests").rglob("test_*.py")}
    return {path: digest for path, digest in files.items() if path != REPORT_TEST}


def _run_under_coverage(files: Sequence[str], workers: int) -> tuple[dict[str, dict[int, set[str]]], dict[str, float]]:
    """Run `files` (all tests if empty) under coverage; the lines each test runs, and test durations."""
    prefix = WORK / "coverage"
    for stale in WORK.glob("coverage*"):
        stale.unlink()
    command = [
        *(sys.executable, "-m", "pytest", "-q", "-p", "tools.mutate", "-n", str(workers), "--ignore", REPORT_TEST),
        *files,
    ]
    print(f"coverage: {len(files) or 'all'} test files with per-test contexts", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "MUTATE_COVERAGE_OUTPUT": str(prefix)}, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the tests must pass before mutation testing (pytest exit {result.returncode})")
    lines: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    durations: dict[str, float] = {}
    for part in WORK.glob("coverage.*.json"):
        data = json.loads(part.read_text())
        users: dict[str, set[str]] = defaultdict(set)
        for test, fixtures in data["fixtures"].items():
            for fixture in fixtures:
                users[fixture].add(test)
        for module, by_line in data["lines"].items():
            for line, contexts in by_line.items():
                for context in contexts:
                    lines[module][int(line)].update(
                        users.get(context, set()) if context.startswith("fixture ") else {context}
                    )
        durations.update(data["durations"])
    print(f"coverage: {time.monotonic() - started:.0f} s", flush=True)
    return lines, durations


def collect_coverage(workers: int) -> TestMap:
    """The test map, brought up to date: every test file again when code or harness changed, else only
    the test files that changed."""
    WORK.mkdir(parents=True, exist_ok=True)
    state_path = WORK / "tests.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    sources, files = _sources_digest(), _test_files()
    known: dict[str, str] = state.get("files", {}) if state.get("sources") == sources else {}
    lines = {m: {int(n): set(t) for n, t in by_line.items()} for m, by_line in state.get("lines", {}).items()}
    durations: dict[str, float] = dict(state.get("durations", {})) if known else {}
    stale = sorted(path for path, digest in files.items() if known.get(path) != digest)
    dropped = set(stale) | (set(known) - set(files))
    if not known:
        lines = {}
    elif dropped:
        for by_line in lines.values():
            for tests in by_line.values():
                tests.difference_update({test for test in tests if test.split("::")[0] in dropped})
        durations = {test: seconds for test, seconds in durations.items() if test.split("::")[0] not in dropped}
    if stale:
        fresh_lines, fresh_durations = _run_under_coverage([] if not known else stale, workers)
        for module, by_line in fresh_lines.items():
            for line, tests in by_line.items():
                lines.setdefault(module, {}).setdefault(line, set()).update(tests)
        durations.update(fresh_durations)
        state_path.write_text(
            json.dumps(
                {
                    "sources": sources,
                    "files": files,
                    "lines": {m: {str(n): sorted(t) for n, t in by_line.items()} for m, by_line in lines.items()},
                    "durations": durations,
                }
            )
        )
    return TestMap(lines=lines, durations=durations)


# --------------------------------------------------------------------------------------------------
# Running mutants


def _ordered(
    module: str, tests: set[str], durations: dict[str, float], items: dict[str, Any], first: Iterable[str] = ()
) -> list[Any]:
    """The collected items of `tests`, whole files in order: the files of the tests in `first` (those that
    read a mutated table themselves), the module's own test files, then unit test files (a test's own time
    leaves out the module fixtures an integration file sets up), then the cheapest files; within a file,
    collection order."""
    position = {nodeid: n for n, nodeid in enumerate(items)}
    chosen = [test for test in tests if test in items]
    cost: dict[str, float] = defaultdict(float)
    for test in chosen:
        cost[test.split("::")[0]] += durations.get(test, 1.0)
    first_files = {test.split("::")[0] for test in first}

    def order(test: str) -> tuple[bool, bool, bool, float, str, int]:
        path = test.split("::", maxsplit=1)[0]
        return (
            path not in first_files,
            not _mirrors(module, path),
            not path.startswith("tests/unit/"),
            cost[path],
            path,
            position[test],
        )

    return [items[test] for test in sorted(chosen, key=order)]


class _CollectOnce:
    """pytest plugin for the driver's one pytest session: collect every chosen test file once, run no
    test in the parent, and hand the collected items to `run`, which forks a child per mutant."""

    def __init__(self, run: Callable[[dict[str, Any]], list[Outcome]]) -> None:
        self.run = run
        self.outcomes: list[Outcome] | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: Any) -> bool:
        if session.testsfailed:
            return True  # a collection error: `run_mutants` reports it, no mutant runs
        self.outcomes = self.run({item.nodeid: item for item in session.items})
        return True


class _FirstFailure:
    """pytest plugin for a child: notes whether any phase of any test failed (a failing fixture too)."""

    def __init__(self) -> None:
        self.failed = False

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.failed = self.failed or report.failed


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | no tests | error
    seconds: float
    tests: int
    #: CPU seconds the child used (user + system): what the run costs on an idle machine.
    cpu: float = 0.0
    #: The machine's 1-minute load average when it finished (the cores are shared with other work).
    load: float = dataclasses.field(default_factory=lambda: os.getloadavg()[0])


def _child(mutant: Mutant, items: Sequence[Any]) -> int:
    """In the forked child: apply the mutant, run `items` until one fails; 1 killed, 0 survived (101 when
    the mutant cannot even be applied)."""
    config = items[0].config
    # The parent's capture files are shared with the other child: this child captures into its own.
    capture = config.pluginmanager.getplugin("capturemanager")
    capture.stop_global_capturing()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    capture.start_global_capturing()
    capture.suspend_global_capture()
    try:
        apply(mutant)
        # A plan made before the fork would hide the mutant from every test that reuses it.
        forget_plans()
    except Exception:
        # The mutated module would not even import (or define what it must): every test would fail.
        return 101
    watch = _FirstFailure()
    config.pluginmanager.register(watch)
    for position, item in enumerate(items):
        # `nextitem` tells pytest which fixtures to tear down: a file's module fixtures after its last test.
        following = items[position + 1] if position + 1 < len(items) else None
        item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
        if watch.failed:
            return 1
    return 0


def _preload() -> None:
    """Import once in the parent what every child needs, so a fork costs milliseconds, not seconds."""
    import pulumi_aws  # noqa: PLC0415

    # Not hypothesis: it is a pytest plugin, which pytest must import itself to rewrite its asserts.
    for library in ("boto3", "moto"):
        importlib.import_module(library)

    for service in ("batch", "cloudwatch", "dynamodb", "ec2", "iam", "kms", "lambda_", "scheduler", "sns", "sqs"):
        getattr(pulumi_aws, service)
    for module in [
        *TARGETS,
        "batch_array_notify",
        "batch_array_notify.testing.program",
        "batch_array_notify.testing.rehearsal_world",
        "batch_array_notify.cli.rehearse",
    ]:
        importlib.import_module(module)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_mutants(mutants: Sequence[Mutant], tests: TestMap, jobs: int, timeout_factor: float) -> list[Outcome]:
    """Collect the tests of every mutant in one pytest session, then fork a child per mutant from it."""
    _preload()
    files = sorted({test.split("::")[0] for mutant in mutants for test in tests.tests_for(mutant)})
    session = _CollectOnce(functools.partial(_fork_per_mutant, mutants, tests, jobs, timeout_factor))
    arguments = ["-qq", "--no-header", "-p", "no:cacheprovider", "-p", "no:randomly", "-o", "addopts="]
    code = pytest.main([*files, *arguments], plugins=[session]) if files else 0
    if session.outcomes is None:
        if files:
            raise SystemExit(f"the tests could not be collected (pytest exit {code})")
        return [Outcome(mutant, "no tests", 0.0, 0) for mutant in mutants]
    return session.outcomes


def _fork_per_mutant(
    mutants: Sequence[Mutant], tests: TestMap, jobs: int, timeout_factor: float, items: dict[str, Any]
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    pending = list(mutants)
    running: dict[int, tuple[Mutant, float, float, int]] = {}
    total = len(pending)
    try:
        while pending or running:
            while pending and len(running) < jobs:
                mutant = pending.pop(0)
                selected = tests.tests_for(mutant)
                chosen = _ordered(mutant.module, selected, tests.durations, items, tests.readers(mutant) & selected)
                if not chosen:
                    outcomes.append(Outcome(mutant, "no tests", 0.0, 0))
                    continue
                budget = 60 + timeout_factor * sum(tests.durations.get(test, 1.0) for test in selected)
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = _child(mutant, chosen)
                    finally:
                        os._exit(code)
                running[pid] = (mutant, time.monotonic(), budget, len(chosen))
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(0.05)
                for child, (mutant, started, budget, count) in list(running.items()):
                    if time.monotonic() - started > budget:
                        os.kill(child, signal.SIGKILL)
                        _, _, usage = os.wait4(child, 0)
                        del running[child]
                        cpu = usage.ru_utime + usage.ru_stime
                        outcomes.append(Outcome(mutant, "timeout", time.monotonic() - started, count, cpu))
                continue
            if pid not in running:
                continue
            mutant, started, _, count = running.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            state = {0: "survived", 1: "killed", 101: "killed"}.get(code, "error")
            cpu = usage.ru_utime + usage.ru_stime
            outcomes.append(Outcome(mutant, state, time.monotonic() - started, count, cpu))
            done = len(outcomes)
            if state != "killed" or done % 25 == 0:
                print(f"[{done}/{total}] {state:8} {describe(mutant)}", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted after {len(outcomes)} of {total} mutants; their results are kept", flush=True)
    finally:
        for child in running:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
    return outcomes


# Reporting


def _file(module: str) -> str:
    return str(TARGETS[module].relative_to(ROOT))


def _outcome_record(outcome: Outcome) -> dict[str, Any]:
    return {
        **dataclasses.asdict(outcome.mutant),
        "key": outcome.mutant.key,
        "status": outcome.status,
        "seconds": round(outcome.seconds, 1),
        "cpu": round(outcome.cpu, 1),
        "load": round(outcome.load, 1),
        "tests": outcome.tests,
    }


def build_report(
    outcomes: Sequence[Outcome], sessions: Sequence[dict[str, Any]], doc: str, samples: Mapping[str, Sample]
) -> dict[str, Any]:
    """What docs/mutation-report.json holds: per module figures over every target (over its sample where
    `samples` names one), each survivor, and the sessions (wall time, CPU time, machine load) that produced
    them."""
    chosen = {module: {m.key for m in sample_of(module, *samples.get(module, (None, 0)))} for module in TARGETS}
    outcomes = [outcome for outcome in outcomes if outcome.mutant.key in chosen[outcome.mutant.module]]
    explained = mutation_report.explained_survivors(doc)
    survivors = [
        mutation_report.Survivor(
            _file(o.mutant.module), o.mutant.line, o.mutant.operator, describe(o.mutant).split("|  ", 1)[1], o.status
        )
        for o in outcomes
        if o.status != "killed"
    ]
    explained_per_module: dict[str, int] = defaultdict(int)
    for survivor in survivors:
        if survivor.where in explained:
            explained_per_module[survivor.file] += 1
    rows = mutation_report.module_rows(
        {_file(module): len(mutants_of(module)) for module in TARGETS},
        [(_file(o.mutant.module), o.status) for o in outcomes],
        explained_per_module,
        {_file(module): len(keys) for module, keys in chosen.items()},
    )
    return {
        "command": "python -m tools.mutate",
        "target_score": mutation_report.TARGET_SCORE,
        "samples": {_file(module): {"size": size, "seed": seed} for module, (size, seed) in sorted(samples.items())},
        "modules": rows,
        "survivors": [dataclasses.asdict(survivor) for survivor in survivors],
        "sessions": list(sessions),
        "totals": mutation_report.totals(rows, sessions),
    }


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        ".venv/bin/python -m tools.mutate",
        __doc__.split("\n\n")[0] if __doc__ else None,
        bad_outcome="some module killed less than 90% of its mutants, or not all were run",
        uses_aws=False,
    )
    arguments.add_argument(
        "--module",
        action="append",
        default=[],
        help="only this module (repeatable, or comma-separated): handler.report, iam, components/iam.py",
    )
    arguments.add_argument(
        "--jobs",
        type=whole_number(1, MAX_JOBS),
        default=2,
        help=f"mutants run at once, 1-{MAX_JOBS} (default 2: each is a forked pytest on its own core)",
    )
    arguments.add_argument(
        "--timeout-factor",
        type=bounded_number(1.0, 20.0),
        default=4.0,
        help="a child may take this many times its tests' usual time, plus 60 s (1-20, default 4)",
    )
    arguments.add_argument(
        "--budget",
        type=bounded_number(1.0, 600.0),
        default=30.0,
        help="seconds of tests (as timed in the coverage run) per mutant, fastest first (1-600, default 30)",
    )
    arguments.add_argument(
        "--sample",
        type=whole_number(1, MAX_SAMPLE),
        help=f"run a seeded sample of this many mutants per module (1-{MAX_SAMPLE}); the report says so",
    )
    arguments.add_argument(
        "--seed", type=whole_number(0, 2**31), default=0, help="the seed that chooses a sample (default 0)"
    )
    arguments.add_argument(
        "--write-report",
        action="store_true",
        help=f"write the tracked {_shown(mutation_report.REPORT)} and its table and cost sentence in"
        f" {_shown(mutation_report.TESTING_DOC)} (only once every module has been run to the end);"
        f" without it the report goes to {_shown(UNTRACKED_REPORT)}",
    )
    arguments.add_argument(
        "--merge-report",
        action="store_true",
        help=f"replace only the --module modules' rows of the tracked {_shown(mutation_report.REPORT)} (and"
        f" its table and cost sentence in {_shown(mutation_report.TESTING_DOC)}), keeping the other modules'"
        " rows: measure modules added since the last whole run",
    )
    arguments.add_argument("--list", action="store_true", help="list the mutants and exit")
    arguments.add_argument(
        "--report", action="store_true", help="write the report of the results so far and print it, run nothing"
    )
    arguments.add_argument(
        "--list-survivors", action="store_true", help="print only the survivors of the results so far, run nothing"
    )
    arguments.add_argument(
        "--survivors", action="store_true", help="run only the mutants no run has killed yet (after adding a test)"
    )
    arguments.add_argument(
        "--remaining", action="store_true", help="run only the mutants no run has reached yet (continue a run)"
    )
    arguments.add_argument(
        "--fresh", action="store_true", help="forget earlier results and sessions (a full measured run)"
    )
    return arguments


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _chosen_modules(names: Sequence[str]) -> list[str]:
    names = [part.strip() for listed in names for part in listed.split(",") if part.strip()]
    if not names:
        return list(TARGETS)
    chosen = []
    for name in names:
        # `handler.report`, `iam`, or the file: `components/iam.py`.
        matches = [
            module
            for module in TARGETS
            if module.endswith(f".{name}") or module == name or _file(module) in (name, f"{name}.py")
        ]
        if len(matches) != 1:
            raise SystemExit(f"error: --module {name!r} matches {len(matches)} of {', '.join(TARGETS)}")
        chosen += matches
    return chosen


def _show_in_doc(doc: str, previous: dict[str, Any] | None, report: dict[str, Any]) -> None:
    """Put the report's table and cost sentence into docs/testing.md where the previous report's were."""
    updated = mutation_report.with_report_in_doc(doc, previous, report) if previous is not None else None
    if updated is None:
        print(
            f"{_shown(mutation_report.TESTING_DOC)} does not show the previous report's table and cost sentence:"
            " put in the table below and the cost sentence by hand",
            file=sys.stderr,
        )
        return
    mutation_report.TESTING_DOC.write_text(updated)


@dataclass
class Results:
    """build/mutate/results.json: every outcome so far that still matches the sources, the sessions that
    produced them, and each module's sample (a module not named was run whole)."""

    outcomes: list[Outcome]
    sessions: list[dict[str, Any]]
    samples: dict[str, Sample]

    @classmethod
    def read(cls, path: Path) -> Results:
        if not path.exists():
            return cls([], [], {})
        stored = json.loads(path.read_text())
        current = {mutant.key: mutant for module in TARGETS for mutant in mutants_of(module)}
        kept = [
            Outcome(current[o["key"]], o["status"], o["seconds"], o["tests"], o.get("cpu", 0.0), o.get("load", 0.0))
            for o in stored["outcomes"]
            if o["key"] in current and current[o["key"]].operator == o["operator"]
        ]
        stored_samples = stored.get("samples", {}).items()
        samples = {module: (size, seed) for module, (size, seed) in stored_samples if module in TARGETS}
        return cls(kept, list(stored.get("sessions", [])), samples)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        records = [_outcome_record(o) for o in self.outcomes]
        path.write_text(json.dumps({"outcomes": records, "sessions": self.sessions, "samples": self.samples}, indent=1))

    def unfinished(self) -> list[str]:
        """The target modules some of whose chosen mutants no run has reached."""
        reached = {outcome.mutant.key for outcome in self.outcomes}
        return [
            module
            for module in TARGETS
            if any(m.key not in reached for m in sample_of(module, *self.samples.get(module, (None, 0))))
        ]


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    # `kill` of the driver must end its children too: the coverage run's pytest (`subprocess.run` kills it
    # on the way out) and the mutants' children (`run_mutants` kills them).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        modules = _chosen_modules(options.module)
    except SystemExit as error:
        print(error, file=sys.stderr)
        return USAGE_ERROR
    if options.merge_report and (not options.module or options.write_report):
        print(
            "error: --merge-report needs --module (the modules whose rows it replaces) and no --write-report"
            " (which replaces every row)",
            file=sys.stderr,
        )
        return USAGE_ERROR
    if options.merge_report and not mutation_report.REPORT.exists():
        print(
            f"error: --merge-report needs a {_shown(mutation_report.REPORT)} to merge into: run every module"
            " with --write-report first",
            file=sys.stderr,
        )
        return USAGE_ERROR
    results = WORK / "results.json"
    earlier = Results([], [], {}) if options.fresh else Results.read(results)
    samples = dict(earlier.samples)
    for module in modules:
        # --sample applies to the modules of this run; without it a module keeps the sample it was run with.
        if options.sample is not None or options.fresh:
            samples[module] = (options.sample, options.seed)
    samples = {module: sample for module, sample in samples.items() if sample[0] is not None}
    mutants = [mutant for module in modules for mutant in sample_of(module, *samples.get(module, (None, 0)))]
    if options.write_report and not options.report:
        # What this run leaves unreached elsewhere is known now: refuse before an hour of work, not after.
        others = [m for m in Results(earlier.outcomes, [], samples).unfinished() if m not in modules]
        if others:
            print(
                f"error: --write-report needs every module run to the end; {len(others)} other modules are not "
                f"(first {_file(others[0])}): run them too, or leave out --write-report",
                file=sys.stderr,
            )
            return USAGE_ERROR
    if options.survivors or options.remaining:
        skipped = {o.mutant.key for o in earlier.outcomes if o.status == "killed" or options.remaining}
        mutants = [mutant for mutant in mutants if mutant.key not in skipped]
    if options.list:
        for mutant in mutants:
            print(describe(mutant))
        print(f"{len(mutants)} mutants")
        return DONE
    if options.list_survivors:
        for outcome in earlier.outcomes:
            if outcome.status != "killed" and outcome.mutant.module in modules:
                print(f"{outcome.status:8} {describe(outcome.mutant)}")
        return DONE
    outcomes: list[Outcome] = []
    session: dict[str, Any] = {}
    if not options.report:
        load_before = os.getloadavg()
        started = time.monotonic()
        try:
            test_map = dataclasses.replace(collect_coverage(options.jobs), budget_seconds=options.budget)
        except KeyboardInterrupt:
            print("interrupted during the coverage run; no mutant was run", file=sys.stderr)
            return BAD_OUTCOME
        coverage_seconds = time.monotonic() - started
        started = time.monotonic()
        outcomes = run_mutants(mutants, test_map, options.jobs, options.timeout_factor)
        session = {
            "finished": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
            "modules": [_file(module) for module in modules],
            "mutants": len(outcomes),
            "sample": options.sample,
            "seed": options.seed,
            "jobs": options.jobs,
            "budget_seconds": options.budget,
            "coverage_seconds": round(coverage_seconds),
            "wall_seconds": round(time.monotonic() - started),
            "child_cpu_seconds": round(sum(outcome.cpu for outcome in outcomes)),
            # What the run shared the 2 cores with: the 1-minute load as each mutant finished, on average.
            "mean_load": round(sum(o.load for o in outcomes) / len(outcomes), 1) if outcomes else 0.0,
            "load_15min_before": round(load_before[2], 1),
        }
    # Read again: another driver may have run other modules meanwhile (and --fresh starts over).
    stored = Results([], [], {}) if options.fresh else Results.read(results)
    rerun = {outcome.mutant.key for outcome in outcomes}
    merged = Results(
        sorted(
            [*(o for o in stored.outcomes if o.mutant.key not in rerun), *outcomes],
            key=lambda o: (o.mutant.module, o.mutant.index),
        ),
        [*stored.sessions, *([session] if session else [])],
        {**stored.samples, **{module: sample for module, sample in samples.items() if module in modules}},
    )
    merged.write(results)
    doc = mutation_report.TESTING_DOC.read_text()
    report = build_report(merged.outcomes, merged.sessions, doc, merged.samples)
    unfinished = merged.unfinished()
    if options.merge_report:
        # The named modules must be whole; the others keep the rows the tracked report has for them.
        unfinished = [module for module in unfinished if module in modules]
    tracked = (options.write_report or options.merge_report) and not unfinished
    destination = mutation_report.REPORT if tracked else UNTRACKED_REPORT
    if tracked:
        previous = mutation_report.load(mutation_report.REPORT) if mutation_report.REPORT.exists() else None
        if options.merge_report and previous is not None:
            files = [_file(module) for module in modules]
            report = mutation_report.merged(previous, report, files, [_file(module) for module in TARGETS], doc)
        _show_in_doc(doc, previous, report)
    mutation_report.write(report, destination)
    shown = [o for o in merged.outcomes if o.mutant.module in modules]
    survivors = [o for o in shown if o.status != "killed"]
    print("\nSurvivors:" if survivors else "\nNo survivors.")
    for outcome in survivors:
        print(f"  {outcome.status:8} {describe(outcome.mutant)}")
    rows = [row for row in report["modules"] if row["module"] in {_file(module) for module in modules}]
    print(f"\n{mutation_report.markdown(rows)}\n")
    if outcomes:
        cpu = sum(outcome.cpu for outcome in outcomes)
        print(
            f"This run: {len(outcomes)} mutants in {session['wall_seconds'] / 60:.1f} min with {options.jobs} jobs "
            f"({len(outcomes) / max(session['wall_seconds'], 1) * 60:.1f} mutants/min at a mean load of "
            f"{session['mean_load']}); the children used "
            f"{cpu / 60:.1f} CPU-minutes ({cpu / 60 / options.jobs:.1f} min on {options.jobs} idle cores)"
        )
    print(f"Report: {_shown(destination)}")
    if (options.write_report or options.merge_report) and unfinished:
        # An interrupted run: the tracked report keeps the last whole one.
        print(
            f"{len(unfinished)} modules not run to the end (first {_file(unfinished[0])}): "
            f"{_shown(mutation_report.REPORT)} left as it was; continue with --remaining",
            file=sys.stderr,
        )
        return BAD_OUTCOME
    return DONE if mutation_report.passed(rows) else BAD_OUTCOME


if __name__ == "__main__":
    raise SystemExit(main())
