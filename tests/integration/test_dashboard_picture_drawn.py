"""tools.dashboard_picture draws every widget of the planned body where the grid puts it, from a real
rehearsal; and the committed docs/dashboard.png shows the dashboard the dev stack plans today."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from batch_array_notify.cli.rehearse import Scenario
from tools.dashboard_picture import caption, draw, observe, the_dashboard

ROOT = Path(__file__).resolve().parents[2]
PICTURE = ROOT / "docs" / "dashboard.png"


def planned_widgets(body: dict) -> list[dict]:
    """The body's widgets as the picture lists them: type, title (a text widget's first line), grid cell."""
    return [
        {
            "type": widget["type"],
            "title": widget["properties"].get("title") or widget["properties"]["markdown"].splitlines()[0][2:],
            "x": widget["x"],
            "y": widget["y"],
            "width": widget["width"],
            "height": widget["height"],
        }
        for widget in body["widgets"]
    ]


def widgets_in_picture(path: Path) -> list[dict]:
    with Image.open(path) as picture:
        return list(json.loads(picture.text["Description"]))


@pytest.fixture(scope="module")
def drawn(stage_plans, tmp_path_factory):
    plan = stage_plans["dev"]
    scenarios = [Scenario(size=3, failures=1, duplicates=1)]
    observed = observe(plan, scenarios)
    output = tmp_path_factory.mktemp("picture") / "dashboard.png"
    return observed, output, draw(the_dashboard(plan, None), plan, observed, output, caption("dev", scenarios))


def test_the_tool_draws_every_widget_of_the_body_in_its_grid_cell(stage_plans, drawn):
    _, output, widgets = drawn

    assert widgets == planned_widgets(the_dashboard(stage_plans["dev"], None))
    assert widgets_in_picture(output) == widgets
    with Image.open(output) as picture:
        assert picture.format == "PNG"
        assert picture.size[0] > 1000


def test_the_numbers_come_from_the_rehearsal(stage_plans, drawn):
    observed, _, _ = drawn
    plan = stage_plans["dev"]
    custom = {"stage": "dev", "jobQueue": plan.outputs["jobQueueName"]}
    function = {"FunctionName": plan.outputs["notifierFunctionName"]}

    assert observed.exact
    assert observed.values("BatchArrayNotify", "ArrayJobsFailed", custom) == [1.0]
    assert observed.values("BatchArrayNotify", "FailedChildren", custom) == [1.0]
    assert observed.values("BatchArrayNotify", "DuplicateDeliveries", custom) == [1.0]
    assert observed.values("AWS/Lambda", "Invocations", function) == [1.0, 1.0]
    assert len(observed.values("AWS/Lambda", "Duration", function)) == 2
    assert [line["decision"] for line in observed.log_lines if "decision" in line] == ["delivered", "duplicate"]


def test_the_committed_picture_shows_the_dashboard_the_dev_stack_plans(stage_plans):
    # Regenerate with `python -m tools.dashboard_picture --stack dev` when the dashboard changes.
    assert widgets_in_picture(PICTURE) == planned_widgets(the_dashboard(stage_plans["dev"], None))
