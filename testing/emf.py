"""Read CloudWatch embedded metric format (EMF) documents back from a log: what CloudWatch would extract.

The handler writes one EMF document per invocation on stdout (handler/metrics.py); the tests, the
rehearsal and the dashboard picture read them with this one reader. It follows the EMF specification
(a `_aws` object whose `CloudWatchMetrics` directives name the namespace, the dimension sets and each
metric's unit; dimension values and metric values as members of the root), so a document CloudWatch
would reject is an `EmfError` here, not a silently missing metric.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class EmfError(ValueError):
    """A log line that claims to be EMF (it has `_aws`) but breaks the specification; says what."""


@dataclass(frozen=True)
class EmfMetric:
    name: str
    unit: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class EmfDocument:
    namespace: str
    dimension_sets: tuple[tuple[str, ...], ...]
    dimensions: Mapping[str, str]
    metrics: Mapping[str, EmfMetric]
    timestamp_ms: int

    def value(self, name: str) -> float:
        """The single value of metric `name` (KeyError if the document has no such metric)."""
        (value,) = self.metrics[name].values
        return value

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "dimensions": dict(self.dimensions),
            "metrics": {
                name: {"unit": metric.unit, "values": list(metric.values)} for name, metric in self.metrics.items()
            },
        }


def read_documents(lines: Iterable[str]) -> list[EmfDocument]:
    """Every EMF document among `lines` (other lines, e.g. ordinary JSON logs, are skipped)."""
    documents = []
    for number, line in enumerate(lines, start=1):
        try:
            root = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(root, dict) and "_aws" in root:
            try:
                documents.append(_document(root))
            except EmfError as error:
                raise EmfError(f"line {number}: {error}") from None
    return documents


def _document(root: Mapping[str, Any]) -> EmfDocument:
    metadata = root["_aws"]
    if not isinstance(metadata, dict) or not isinstance(metadata.get("Timestamp"), int):
        raise EmfError("_aws must be an object with an integer Timestamp (epoch milliseconds)")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list) or len(directives) != 1:
        raise EmfError("expected exactly one CloudWatchMetrics directive")
    (directive,) = directives
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not namespace:
        raise EmfError("the directive has no Namespace")
    dimension_sets = tuple(tuple(_strings(names, "Dimensions")) for names in directive.get("Dimensions") or [])
    dimensions = {name: _member(root, name, str) for names in dimension_sets for name in names}
    metrics: dict[str, EmfMetric] = {}
    for definition in directive.get("Metrics") or []:
        name, unit = definition.get("Name"), definition.get("Unit", "None")
        if not isinstance(name, str) or not isinstance(unit, str):
            raise EmfError(f"metric definition {definition!r} needs a string Name and Unit")
        raw = _member(root, name, (int, float, list))
        values = tuple(raw) if isinstance(raw, list) else (raw,)
        if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise EmfError(f"metric {name} must have a number or a non-empty list of numbers, got {raw!r}")
        metrics[name] = EmfMetric(name, unit, tuple(float(v) for v in values))
    if not metrics:
        raise EmfError("the directive defines no metric")
    return EmfDocument(namespace, dimension_sets, dimensions, metrics, metadata["Timestamp"])


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EmfError(f"{what} must be lists of strings, got {value!r}")
    return value


def _member(root: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in root:
        raise EmfError(f"{name} is declared but the document has no member {name!r}")
    if not isinstance(root[name], kind):
        raise EmfError(f"member {name!r} has the wrong type: {root[name]!r}")
    return root[name]


@dataclass(frozen=True)
class MetricTotal:
    """One metric of one dimension set over many documents."""

    name: str
    unit: str
    values: tuple[float, ...]

    def describe(self) -> str:
        """Counts add up; times are listed (or their range, when there are many)."""
        if self.unit == "Count":
            return f"{_number(sum(self.values))} {self.unit}"
        if len(self.values) <= 3:
            return ", ".join(_number(v) for v in self.values) + f" {self.unit}"
        return f"{_number(min(self.values))} to {_number(max(self.values))} {self.unit} ({len(self.values)} values)"


def totals(documents: Iterable[EmfDocument]) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[MetricTotal]]:
    """(namespace, dimensions) -> each metric's values across the documents, in order of first appearance."""
    grouped: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, MetricTotal]] = {}
    for document in documents:
        key = (document.namespace, tuple(document.dimensions.items()))
        metrics = grouped.setdefault(key, {})
        for name, metric in document.metrics.items():
            seen = metrics.get(name)
            values = (seen.values if seen else ()) + metric.values
            metrics[name] = MetricTotal(name, metric.unit, values)
    return {key: list(metrics.values()) for key, metrics in grouped.items()}


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}".rstrip("0")
