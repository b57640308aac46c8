"""Draw what a stack's dashboard shows after an offline rehearsal, as a PNG (build/dashboard.png).

    .venv/bin/python -m tools.dashboard_picture --stack dev
    .venv/bin/python -m tools.dashboard_picture --stack dev --output docs/dashboard.png   # the docs' picture

The layout and every widget come from the dashboard body the stack plans (what `pulumi up` would send);
the numbers come from rehearsals of the same stack (batch-array-notify rehearse): the handler's EMF metrics, its
invocations, their wall time and errors, the rule's matches and the handler's completion log lines.
A rehearsal lasts seconds, so each graph shows its statistics over the whole run as bars rather than a
time series. Where AWS would publish a metric, the rehearsal stands in for it: Lambda `Invocations`,
`Errors` and `Duration` as measured, `Throttles`, `AsyncEventsDropped` and `AsyncEventAge` 0,
`AsyncEventsReceived` the rule's matches; the rule's `Invocations` are its matches, its
failures 0; the on-failure queue holds what the handler raised on, the dead-letter queue nothing. A
custom metric the handler never emitted shows "no data", as in CloudWatch. The alarms are evaluated
against the same numbers, and the completions table runs the widget's Logs Insights query (the subset
it uses: its SOURCE log groups, fields, one `=` or `in` filter, sort, limit) on the handler's and the
sweep's log lines.

The PNG carries the list of widgets it drew (type, title and grid cell, read back from the figure) in its
`Description` text chunk; a test compares that list with the planned body.
Exit codes: 0 drawn, 1 drawn but a rehearsal was not exact, 2 usage or config error.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import re
import sys
import textwrap
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from batch_array_notify.cli.exit_codes import USAGE_ERROR, tool_parser
from batch_array_notify.cli.plan import add_program_arguments, plan_or_exit
from batch_array_notify.cli.progress import progress_for
from batch_array_notify.cli.rehearse import Scenario, rehearse
from batch_array_notify.testing.eventgen import Compute
from batch_array_notify.testing.program import ROOT, Plan
from batch_array_notify.testing.rehearsal_world import StackTarget, WorldMismatchError

DASHBOARD: Final = "aws:cloudwatch/dashboard:Dashboard"
ALARM: Final = "aws:cloudwatch/metricAlarm:MetricAlarm"
QUEUE: Final = "aws:batch/jobQueue:JobQueue"
#: Git ignores build/: without `--output`, the tool never replaces the tracked docs/dashboard.png.
DEFAULT_OUTPUT: Final = ROOT / "build" / "dashboard.png"
#: A few array jobs, so every graph has something to show: successes and failures, duplicate deliveries,
#: and one whose parent events were lost, which the reconciliation sweep reports.
SCENARIOS: Final = (
    Scenario(size=7, lost_parents=1),
    Scenario(size=7, failures=2, duplicates=1),
    Scenario(size=50, failures=5, compute=Compute.EC2),
    Scenario(size=20, duplicates=2, compute=Compute.SPOT),
)
#: Inches per grid unit (CloudWatch's grid is 24 columns wide; a row unit is about 1/4 of a column's width).
COLUMN_INCHES: Final = 0.75
ROW_INCHES: Final = 0.42
CAPTION_INCHES: Final = 0.55
OK_COLOR: Final = "#1d8102"
ALARM_COLOR: Final = "#d13212"
BACKGROUND: Final = "#f2f3f3"
PALETTE: Final = ("#1f77b4", "#ff7f0e", "#9467bd")

MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def metric_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return namespace, name, tuple(sorted(dimensions.items()))


# --------------------------------------------------------------------------------------------------
# What the rehearsals measured


@dataclass
class Observed:
    """Every value per metric, the handler's log lines, and whether every rehearsal was exact."""

    series: dict[MetricKey, list[float]] = field(default_factory=lambda: defaultdict(list))
    log_lines: list[dict[str, Any]] = field(default_factory=list)
    exact: bool = True

    def add(self, namespace: str, name: str, dimensions: Mapping[str, str], values: Sequence[float]) -> None:
        self.series[metric_key(namespace, name, dimensions)].extend(values)

    def values(self, namespace: str, name: str, dimensions: Mapping[str, str]) -> list[float]:
        return list(self.series.get(metric_key(namespace, name, dimensions), []))


def observe(plan: Plan, scenarios: Sequence[Scenario], advance: Callable[[], None] = lambda: None) -> Observed:
    """Rehearse each scenario on the stack and keep what CloudWatch would have seen; `advance` is called
    after each rehearsal (a progress bar)."""
    needed = ("notifierFunctionName", "completionRuleName", "deadLetterQueueUrl", "notifierFailureQueueUrl")
    missing = [name for name in needed if name not in plan.outputs]
    if missing or len(plan.of_type(QUEUE)) != 1:
        raise LookupError(
            "the rehearsal needs a program with one pipeline that exports its outputs (like this project's); "
            f"this one plans {len(plan.of_type(QUEUE))} job queues"
            + (f" and lacks {', '.join(missing)}" if missing else "")
        )
    target = StackTarget.from_plan(plan)
    function = {"FunctionName": str(plan.outputs["notifierFunctionName"])}
    rule = {"RuleName": str(plan.outputs["completionRuleName"])}
    dead_letter = {"QueueName": str(plan.outputs["deadLetterQueueUrl"]).rpartition("/")[2]}
    notifier_failed = {"QueueName": str(plan.outputs["notifierFailureQueueUrl"]).rpartition("/")[2]}
    observed = Observed()
    for scenario in scenarios:
        log = io.StringIO()
        result = rehearse(target, scenario, handler_log=log)
        advance()
        observed.exact = observed.exact and result.exact
        for document in result.metrics:
            for name, metric in document.metrics.items():
                observed.add(document.namespace, name, document.dimensions, metric.values)
        errors = len(result.handler_errors)
        observed.add("AWS/Lambda", "Invocations", function, [1.0] * result.invocations)
        observed.add("AWS/Lambda", "Errors", function, [0.0] if not errors else [1.0] * errors)
        observed.add("AWS/Lambda", "Throttles", function, [0.0])
        # Every match is an event Lambda queues; none waits (there is a free environment) or is dropped.
        observed.add("AWS/Lambda", "AsyncEventsReceived", function, [1.0] * result.matches)
        observed.add("AWS/Lambda", "AsyncEventsDropped", function, [0.0])
        observed.add("AWS/Lambda", "AsyncEventAge", function, [0.0])
        observed.add("AWS/Lambda", "Duration", function, result.invocation_ms)
        observed.add("AWS/Events", "Invocations", rule, [1.0] * result.matches)
        observed.add("AWS/Events", "FailedInvocations", rule, [0.0])
        observed.add("AWS/Events", "InvocationsFailedToBeSentToDlq", rule, [0.0])
        observed.add("AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_letter, [0.0])
        observed.add("AWS/SQS", "ApproximateNumberOfMessagesVisible", notifier_failed, [float(errors)])
        observed.log_lines += [json.loads(line) for line in log.getvalue().splitlines() if line.startswith("{")]
        if "sweepFunctionName" in plan.outputs:
            sweep = {"FunctionName": str(plan.outputs["sweepFunctionName"])}
            failed = sum(1 for error in result.handler_errors if error.startswith("sweep: "))
            observed.add("AWS/Lambda", "Invocations", sweep, [1.0] if result.swept else [])
            observed.add("AWS/Lambda", "Errors", sweep, [float(failed)] if result.swept else [])
            observed.add("AWS/Lambda", "Throttles", sweep, [0.0] if result.swept else [])
    return observed


def statistic(values: Sequence[float], stat: str) -> float | None:
    """CloudWatch's statistic over `values`; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    if stat == "Sum":
        return sum(ordered)
    if stat == "Maximum":
        return ordered[-1]
    if stat == "Minimum":
        return ordered[0]
    if stat == "Average":
        return sum(ordered) / len(ordered)
    if stat == "SampleCount":
        return float(len(ordered))
    percentile = re.fullmatch(r"p(\d+(?:\.\d+)?)", stat)
    if percentile:
        # Nearest rank, as CloudWatch's percentiles of raw values are.
        rank = math.ceil(float(percentile.group(1)) / 100 * len(ordered))
        return ordered[max(rank, 1) - 1]
    raise ValueError(f"statistic {stat!r} is not drawn by this tool")


@dataclass(frozen=True)
class MetricLine:
    """One entry of a metric widget: `[namespace, name, dimension, value, ..., {options}]`."""

    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str
    label: str

    @classmethod
    def parse(cls, array: Sequence[Any], default_stat: str) -> MetricLine:
        options: Mapping[str, Any] = array[-1] if isinstance(array[-1], dict) else {}
        namespace, name, *pairs = array[:-1] if options else array
        dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
        return cls(namespace, name, dimensions, options.get("stat", default_stat), options.get("label", name))


@dataclass(frozen=True)
class AlarmState:
    name: str
    metric: str
    value: float | None
    firing: bool


def alarm_states(plan: Plan, alarm_arns: Sequence[str], observed: Observed) -> list[AlarmState]:
    """Each alarm evaluated as CloudWatch would on the rehearsal's numbers (`GreaterThanThreshold`; missing
    data as the alarm's `treatMissingData` says)."""
    planned = {alarm.state["arn"]: alarm for alarm in plan.of_type(ALARM)}
    states = []
    for arn in alarm_arns:
        alarm = planned[arn].inputs
        if alarm["comparisonOperator"] != "GreaterThanThreshold":
            raise ValueError(f"alarm {arn}: only GreaterThanThreshold is evaluated here")
        values = observed.values(alarm["namespace"], alarm["metricName"], alarm["dimensions"])
        value = statistic(values, alarm["statistic"])
        firing = alarm.get("treatMissingData") == "breaching" if value is None else value > alarm["threshold"]
        states.append(AlarmState(str(planned[arn].state["name"]), alarm["metricName"], value, firing))
    return states


@dataclass(frozen=True)
class InsightsQuery:
    """The part of Logs Insights the completions table uses."""

    fields: tuple[str, ...]
    filter_field: str
    filter_values: tuple[str, ...]
    limit: int

    @classmethod
    def parse(cls, query: str) -> InsightsQuery:
        stages = [stage.strip() for stage in query.split("|")]
        sources = [stage for stage in stages if stage.startswith("SOURCE ")]
        fields = filters = limit = None
        for stage in stages[len(sources) :]:
            command, _, rest = stage.partition(" ")
            if command == "fields":
                fields = tuple(part.strip() for part in rest.split(","))
            elif command == "filter":
                filters = re.fullmatch(r"(\w+) (?:= '([^']*)'|in \[('[^']*'(?:, '[^']*')*)\])", rest.strip())
            elif command == "limit":
                limit = int(rest)
            elif stage != "sort @timestamp desc":
                raise ValueError(f"query stage {stage!r} is not run by this tool")
        if not sources or stages[: len(sources)] != sources or fields is None or filters is None or limit is None:
            raise ValueError(f"expected SOURCE, fields, one filter and limit in {query!r}")
        field_name, equal, listed = filters.groups()
        values = (equal,) if equal is not None else tuple(re.findall(r"'([^']*)'", listed))
        return cls(fields, field_name, values, limit)

    def run(self, lines: Sequence[Mapping[str, Any]]) -> list[list[str]]:
        matching = [line for line in lines if str(line.get(self.filter_field)) in self.filter_values]
        newest_first = sorted(matching, key=lambda line: str(line.get("timestamp")), reverse=True)
        return [
            [str(line.get("timestamp" if name == "@timestamp" else name, "")) for name in self.fields]
            for line in newest_first[: self.limit]
        ]


# --------------------------------------------------------------------------------------------------
# Drawing


def widget_title(widget: Mapping[str, Any]) -> str:
    """A widget's title; a text widget's is its first line, without the heading marks."""
    properties = widget["properties"]
    if widget["type"] == "text":
        return str(properties["markdown"]).splitlines()[0].lstrip("# ").strip()
    return str(properties.get("title", ""))


def draw(
    body: Mapping[str, Any], plan: Plan, observed: Observed, output: Path, caption: str = ""
) -> list[dict[str, Any]]:
    """Draw every widget of `body` where the grid puts it, `caption` below; write the PNG; return what
    was drawn."""
    import matplotlib  # noqa: PLC0415 (only this tool needs it; the tests that do not draw stay fast)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415
    from matplotlib.gridspec import GridSpec  # noqa: PLC0415

    widgets = body["widgets"]
    rows = max(w["y"] + w["height"] for w in widgets)
    height_inches = rows * ROW_INCHES + CAPTION_INCHES
    figure = pyplot.figure(figsize=(24 * COLUMN_INCHES, height_inches), facecolor=BACKGROUND)
    bottom = CAPTION_INCHES / height_inches
    grid = GridSpec(rows, 24, figure=figure, left=0.01, right=0.99, top=0.99, bottom=bottom, wspace=0.4, hspace=0.4)
    figure.text(0.01, bottom / 2, textwrap.fill(caption, 210), fontsize=9, style="italic", va="center", color="#545b64")
    drawn = []
    for widget in widgets:
        x, y, width, height = widget["x"], widget["y"], widget["width"], widget["height"]
        panel = figure.add_subplot(grid[y : y + height, x : x + width])
        _panel(panel, widget_title(widget) if widget["type"] != "text" else "")
        DRAWERS[widget["type"]](panel, widget["properties"], plan, observed)
        span = panel.get_subplotspec()
        assert span is not None
        drawn.append(
            {
                "type": widget["type"],
                "title": widget_title(widget),
                "x": span.colspan.start,
                "y": span.rowspan.start,
                "width": span.colspan.stop - span.colspan.start,
                "height": span.rowspan.stop - span.rowspan.start,
            }
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(
        output,
        dpi=72,
        facecolor=BACKGROUND,
        metadata={"Title": "Dashboard after an offline rehearsal", "Description": json.dumps(drawn), "Software": None},
    )
    pyplot.close(figure)
    return drawn


def _panel(panel: Any, title: str) -> None:
    """A white widget frame with its title, as the console draws widgets."""
    panel.set_xticks([])
    panel.set_yticks([])
    panel.set_facecolor("white")
    for spine in panel.spines.values():
        spine.set_edgecolor("#d5dbdb")
    if title:
        panel.text(0.015, 0.96, title, fontsize=10, fontweight="bold", va="top", transform=panel.transAxes)


def _metric(panel: Any, properties: Mapping[str, Any], plan: Plan, observed: Observed) -> None:
    lines = [MetricLine.parse(array, properties.get("stat", "Average")) for array in properties["metrics"]]
    values = [statistic(observed.values(line.namespace, line.name, line.dimensions), line.stat) for line in lines]
    heights = [value or 0.0 for value in values]
    axes = panel.inset_axes((0.3, 0.1, 0.6, 0.68))
    positions = list(range(len(lines)))
    bars = axes.barh(positions, heights, color=PALETTE[: len(lines)])
    axes.set_yticks(positions, [line.label for line in lines])
    axes.bar_label(bars, labels=["no data" if v is None else _number(v) for v in values], padding=3, fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, max([*heights, 1.0]) * 1.3)
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)


def _text(panel: Any, properties: Mapping[str, Any], plan: Plan, observed: Observed) -> None:
    heading, *rest = str(properties["markdown"]).splitlines()
    panel.text(0.01, 0.85, heading.lstrip("# "), fontsize=14, fontweight="bold", va="top", transform=panel.transAxes)
    prose = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1: \2", " ".join(rest)).replace("`", "")
    panel.text(0.01, 0.45, textwrap.fill(prose, width=190), fontsize=9, va="top", transform=panel.transAxes)


def _alarm(panel: Any, properties: Mapping[str, Any], plan: Plan, observed: Observed) -> None:
    states = alarm_states(plan, properties["alarms"], observed)
    step = 0.8 / max(len(states), 1)
    for index, state in enumerate(states):
        y = 0.8 - index * step
        color = ALARM_COLOR if state.firing else OK_COLOR
        badge = {"facecolor": color, "edgecolor": color, "boxstyle": "round"}
        panel.text(0.02, y, "ALARM" if state.firing else " OK ", color="white", fontsize=8, fontweight="bold",
                   va="center", bbox=badge, transform=panel.transAxes)  # fmt: skip
        value = "no data" if state.value is None else _number(state.value)
        line = f"{state.name}   {state.metric}: {value}"
        panel.text(0.12, y, line, fontsize=8, va="center", transform=panel.transAxes)


def _log(panel: Any, properties: Mapping[str, Any], plan: Plan, observed: Observed) -> None:
    query = InsightsQuery.parse(properties["query"])
    rows = query.run(observed.log_lines) or [["(no completions)", *[""] * (len(query.fields) - 1)]]
    table = panel.table(
        cellText=rows, colLabels=list(query.fields), cellLoc="left", bbox=(0.01, 0.04, 0.98, 0.8), edges="horizontal"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)


DRAWERS: Final = {"metric": _metric, "text": _text, "alarm": _alarm, "log": _log}


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) or value >= 100 else f"{value:.2f}"


# --------------------------------------------------------------------------------------------------
# Command line


def caption(stack: str, scenarios: Sequence[Scenario]) -> str:
    jobs = "; ".join(
        f"{s.size} children, {s.failures} failing, {s.duplicates} duplicate deliveries"
        + (", parent events lost (the sweep reports it)" if s.lost_parents else "")
        for s in scenarios
    )
    return (
        f"Offline rehearsal of stack {stack} (moto, no AWS account), {len(scenarios)} array jobs: {jobs}. "
        "Drawn by python -m tools.dashboard_picture from the planned dashboard body; each graph shows its "
        "statistics over the whole rehearsal."
    )


def the_dashboard(plan: Plan, name: str | None) -> dict[str, Any]:
    """The planned body of the stack's dashboard (`name` picks one when the program plans several)."""
    dashboards = plan.of_type(DASHBOARD)
    if name is not None:
        dashboards = [d for d in dashboards if d.inputs["dashboardName"] == name]
    if len(dashboards) != 1:
        names = ", ".join(str(d.inputs["dashboardName"]) for d in plan.of_type(DASHBOARD)) or "none"
        if name is not None:
            raise LookupError(f"--dashboard: the plan has no dashboard {name!r}; it has: {names}")
        raise LookupError(f"expected one dashboard, the plan has: {names} (choose one with --dashboard NAME)")
    body: dict[str, Any] = json.loads(dashboards[0].inputs["dashboardBody"])
    return body


def parser() -> argparse.ArgumentParser:
    arguments = tool_parser(
        ".venv/bin/python -m tools.dashboard_picture",
        __doc__.split("\n\n")[0] if __doc__ else None,
        bad_outcome="drawn, but a rehearsal was not exact (the picture shows it)",
        uses_aws=False,
    )
    add_program_arguments(arguments)
    arguments.add_argument(
        "--output",
        type=png_path,
        default=DEFAULT_OUTPUT,
        metavar="FILE.png",
        help="PNG to write (default build/dashboard.png; docs/dashboard.png replaces the docs' picture)",
    )
    arguments.add_argument("--dashboard", metavar="NAME", help="which dashboard, when the program plans several")
    return arguments


def png_path(text: str) -> Path:
    """An argparse type: a `.png` file to write (matplotlib picks the format from the suffix, and only a PNG
    carries the widget list a test reads back)."""
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise argparse.ArgumentTypeError(f"{text!r} must name a .png file")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; name the .png file to write")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    plan = plan_or_exit(options)
    bar = progress_for(len(SCENARIOS), quiet=False, label="rehearsals")
    try:
        body = the_dashboard(plan, options.dashboard)
        observed = observe(plan, SCENARIOS, bar.advance if bar else lambda: None)
    except (LookupError, WorldMismatchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        if bar is not None:
            bar.close()
    try:
        drawn = draw(body, plan, observed, options.output, caption(plan.stack, SCENARIOS))
    except OSError as error:
        print(f"error: --output: cannot write {options.output}: {error.strerror}", file=sys.stderr)
        return USAGE_ERROR
    print(f"wrote {options.output} ({len(drawn)} widgets, {len(SCENARIOS)} rehearsed array jobs)")
    if not observed.exact:
        print("a rehearsal was not exact: the picture shows it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
