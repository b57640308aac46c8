"""The mutation-testing report: `docs/mutation-report.json` (written by `python -m tools.mutate`) and the
per-module table and explained survivors in `docs/testing.md` that must agree with it.

Kept apart from the driver so the docs test imports no pytest plugin and no Pulumi runtime.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
REPORT: Final = ROOT / "docs" / "mutation-report.json"
TESTING_DOC: Final = ROOT / "docs" / "testing.md"
#: A module passes when all its mutants were run and at least this share of those that can be killed (all but
#: the survivors explained as equivalent in docs/testing.md, the usual definition of a mutation score) is.
TARGET_SCORE: Final = 0.9
#: The heading of the list of survivors explained as equivalent in docs/testing.md; it ends at the next heading.
EXPLAINED_HEADING: Final = "### Surviving mutants, each explained"
#: The heading of the list of survivors that are not equivalent: each a missing test, named until it is written.
OPEN_HEADING: Final = "### Surviving mutants still to kill"
#: A component module longer than this is measured; shorter ones are wiring (the package's exports, its
#: entry point, names and identities), where a mutant changes what a longer module's tests already pin.
COMPONENT_MODULE_MIN_LINES: Final = 40


def measured_files() -> list[Path]:
    """What the driver measures, whatever the folders hold when it runs: every module of `handler/` (its
    package `__init__` holds only a docstring) and every module of `components/` over
    `COMPONENT_MODULE_MIN_LINES` lines."""
    handler = [path for path in sorted((ROOT / "handler").glob("*.py")) if path.stem != "__init__"]
    component = [
        path
        for path in sorted((ROOT / "components").glob("*.py"))
        if path.stem not in ("__init__", "__main__") and len(path.read_text().splitlines()) > COMPONENT_MODULE_MIN_LINES
    ]
    return [*handler, *component]


#: An explained survivor: "- `handler/scope.py:87` `False -> True`: why it cannot change behaviour".
_EXPLAINED = re.compile(r"^- `(?P<file>[\w/.]+\.py):(?P<line>\d+)` `(?P<operator>[^`]+)`")


@dataclass(frozen=True)
class Survivor:
    file: str
    line: int
    operator: str
    source: str
    status: str

    @property
    def where(self) -> tuple[str, int, str]:
        return (self.file, self.line, self.operator)


def explained_survivors(doc: str, heading: str = EXPLAINED_HEADING) -> set[tuple[str, int, str]]:
    """(file, line, operator) of each survivor listed under `heading` in docs/testing.md (by default, those
    explained as equivalent)."""
    _, found, rest = doc.partition(heading)
    if not found:
        return set()
    section = re.split(r"^#", rest, maxsplit=1, flags=re.MULTILINE)[0]
    return {
        (match["file"], int(match["line"]), match["operator"])
        for match in map(_EXPLAINED.match, section.splitlines())
        if match
    }


def module_rows(
    mutants: dict[str, int],
    outcomes: Iterable[tuple[str, str]],
    explained_per_module: dict[str, int],
    chosen: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """One row per module file: mutants made, chosen (all of them, or a seeded sample's size), run, killed,
    survived (timeouts and untested included), survivors explained as equivalent, the score (the killed
    share of the chosen mutants that can be killed: all but the explained equivalents) and the killed share
    of all the chosen ones. `outcomes` are those of the chosen mutants."""
    rows: dict[str, dict[str, Any]] = {
        file: {
            "module": file,
            "mutants": count,
            "chosen": (chosen or {}).get(file, count),
            "run": 0,
            "killed": 0,
            "survived": 0,
        }
        for file, count in mutants.items()
    }
    for file, status in outcomes:
        row = rows[file]
        row["run"] += 1
        # A timeout is not a kill: on a loaded machine a mutant the tests pass may simply be slow.
        row["killed" if status == "killed" else "survived"] += 1
    for row in rows.values():
        _score(row, explained_per_module.get(row["module"], 0))
    return sorted(rows.values(), key=lambda row: str(row["module"]))


def _score(row: dict[str, Any], equivalent: int) -> None:
    row["equivalent"] = equivalent
    row["score"] = _share(row["killed"], row["chosen"] - equivalent)
    row["killed_of_all"] = _share(row["killed"], row["chosen"])


def totals(rows: Sequence[dict[str, Any]], sessions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The report's cost figures: the mutants its rows ran, and the sessions of the driver that ran them."""
    wall = sum(session["wall_seconds"] for session in sessions)
    cpu = sum(session["child_cpu_seconds"] for session in sessions)
    # Runs, not mutants: a mutant re-run after a test was added counts once in the rows, twice here.
    runs = sum(session["mutants"] for session in sessions)
    return {
        "mutants_run": sum(row["run"] for row in rows),
        "mutant_runs": runs,
        "wall_minutes": round(wall / 60, 1),
        "mutants_per_minute": round(runs / (wall / 60), 1) if wall else 0.0,
        "child_cpu_minutes": round(cpu / 60, 1),
        "cpu_seconds_per_mutant": round(cpu / runs, 1) if runs else 0.0,
        "idle_minutes_on_2_cores": round(cpu / 60 / 2, 1),
        "coverage_minutes": round(sum(session["coverage_seconds"] for session in sessions) / 60, 1),
        # Over every mutant run: each session's mean load as its mutants finished, weighed by how many ran.
        "mean_load": round(sum(s["mean_load"] * s["mutants"] for s in sessions) / runs, 1) if runs else 0.0,
    }


def merged(
    old: dict[str, Any], new: dict[str, Any], files: Sequence[str], targets: Sequence[str], doc: str
) -> dict[str, Any]:
    """`old` with the rows, survivors and samples of `files` replaced by `new`'s and the sessions that ran
    them added: how modules measured on their own (new ones, after a merge) join the tracked report.
    Rows of modules that are no longer `targets` are dropped; the `equivalent` column and the scores are
    counted again from the survivors `doc` explains (an explanation may have been added since)."""
    replaced, kept = set(files), set(targets) - set(files)
    rows = [dict(row) for row in old["modules"] if row["module"] in kept]
    rows += [dict(row) for row in new["modules"] if row["module"] in replaced]
    survivors = [s for s in old["survivors"] if s["file"] in kept] + [
        s for s in new["survivors"] if s["file"] in replaced
    ]
    explained = explained_survivors(doc)
    for row in rows:
        file = row["module"]
        _score(row, sum(1 for s in survivors if s["file"] == file and Survivor(**s).where in explained))
    samples = {file: sample for file, sample in old["samples"].items() if file in kept}
    samples |= {file: sample for file, sample in new["samples"].items() if file in replaced}
    sessions = [*old["sessions"]]
    sessions += [s for s in new["sessions"] if s not in sessions and replaced & set(s["modules"])]
    rows.sort(key=lambda row: str(row["module"]))
    return {
        **old,
        "modules": rows,
        "samples": dict(sorted(samples.items())),
        "survivors": sorted(survivors, key=lambda s: (s["file"], s["line"], s["operator"])),
        "sessions": sessions,
        "totals": totals(rows, sessions),
    }


def with_report_in_doc(doc: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """docs/testing.md showing `new`'s table and cost sentence where it showed `old`'s; None when it does
    not show `old`'s (edited by hand since: the test of the docs says where they differ)."""
    table, sentence = markdown(old["modules"]), summary(old)
    if table not in doc or sentence not in doc:
        return None
    return doc.replace(table, markdown(new["modules"])).replace(sentence, summary(new))


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The table docs/testing.md shows (a test keeps the two equal)."""
    lines = [
        "| module | mutants | chosen | run | killed | survived | equivalent (explained) | score | killed % of chosen |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = ("mutants", "chosen", "run", "killed", "survived", "equivalent")
    for row in rows:
        figures = " | ".join(str(row[key]) for key in keys)
        lines.append(f"| `{row['module']}` | {figures} | {_percent(row['score'])} | {_percent(row['killed_of_all'])} |")
    total = {key: sum(row[key] for row in rows) for key in keys}
    score = _share(total["killed"], total["chosen"] - total["equivalent"])
    of_all = _share(total["killed"], total["chosen"])
    lines.append(f"| all | {' | '.join(str(total[key]) for key in keys)} | {_percent(score)} | {_percent(of_all)} |")
    return "\n".join(lines)


def summary(report: dict[str, Any]) -> str:
    """The cost sentence docs/testing.md shows (a test keeps it equal to the report)."""
    totals = report["totals"]
    return (
        f"{totals['mutants_run']} mutants run ({totals['mutant_runs']} runs, counting re-runs after a test was "
        f"added) in {len(report['sessions'])} sessions of the driver: {totals['wall_minutes']} minutes of wall "
        f"time ({totals['mutants_per_minute']} mutant runs a minute) "
        f"at a mean load of {totals['mean_load']} on the 2 shared cores, plus {totals['coverage_minutes']} minutes "
        f"for the coverage run. The children used {totals['child_cpu_minutes']} CPU-minutes "
        f"({totals['cpu_seconds_per_mutant']} s a run), that is {totals['idle_minutes_on_2_cores']} minutes "
        f"on 2 idle cores.{_largest_session(report['sessions'])}"
    )


def _largest_session(sessions: Sequence[dict[str, Any]]) -> str:
    """What one whole run costs: the session that ran the most mutants, coverage run included."""
    if not sessions:
        return ""
    largest = max(sessions, key=lambda session: session["mutants"])
    wall, coverage = largest["wall_seconds"] / 60, largest["coverage_seconds"] / 60
    return (
        f" The largest session ran {largest['mutants']} mutants of {len(largest['modules'])} modules in "
        f"{wall + coverage:.1f} minutes, {coverage:.1f} of them for its coverage run."
    )


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole > 0 else 1.0


def _percent(share: float) -> str:
    # Floored, so 89.96% never shows as the 90% it does not reach.
    return f"{int(round(share * 1000, 6)) / 10:.1f}%"


def passed(rows: Iterable[dict[str, Any]]) -> bool:
    return all(row["run"] == row["chosen"] and row["score"] >= TARGET_SCORE for row in rows)


def write(report: dict[str, Any], path: Path = REPORT) -> None:
    path.write_text(json.dumps(report, indent=1) + "\n")


def load(path: Path = REPORT) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def survivors(report: dict[str, Any]) -> list[Survivor]:
    return [Survivor(**entry) for entry in report["survivors"]]
