"""What a newcomer's first `make test` costs: a fresh clone, then `make test` (what CI runs), timed, with
the peak memory of the whole process tree sampled.

    python3 -m benchmarks.fresh_clone                    # HEAD of this checkout
    python3 -m benchmarks.fresh_clone --phases           # make venv, make lint, make unit one after another
    python3 -m benchmarks.fresh_clone --ref f0550c0      # any commit, for a before/after pair
    python3 -m benchmarks.fresh_clone --cold-cache       # empty uv and pip caches, as on a new CI machine

Runs with the system `python3` (it needs nothing installed). Peak tree memory is the largest sum of the
resident sets of `make` and all its descendants seen in one sample (every 0.1 s); peak process is the
largest single one. CPU is user + system time of the finished children (rusage).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("venv", "lint", "unit")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Step:
    name: str
    seconds: float
    cpu_seconds: float
    peak_tree_mb: float
    peak_process_mb: float
    returncode: int


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def _tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(_children(current))
    return found


def run_step(name: str, cwd: Path, environment: dict[str, str]) -> Step:
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(["make", name], cwd=cwd, env=environment, stdout=subprocess.DEVNULL)
    peaks = {"tree": 0.0, "process": 0.0}

    def sample() -> None:
        while process.poll() is None:
            sizes = [_rss_mb(pid) for pid in _tree(process.pid)]
            peaks["tree"] = max(peaks["tree"], sum(sizes))
            peaks["process"] = max(peaks["process"], max(sizes, default=0.0))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = process.wait()
    seconds = time.perf_counter() - started
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    return Step(name, seconds, cpu, peaks["tree"], peaks["process"], returncode)


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(prog="python3 -m benchmarks.fresh_clone", description=__doc__.split("\n\n")[0])
    arguments.add_argument("--ref", default="HEAD", help="commit of this repository to clone (default: HEAD)")
    arguments.add_argument("--cold-cache", action="store_true", help="empty uv and pip caches for the run")
    arguments.add_argument("--phases", action="store_true", help="time make venv, lint and unit one by one")
    options = arguments.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fresh-clone-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", options.ref], check=True)
        environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
        if options.cold_cache:
            environment |= {"UV_CACHE_DIR": f"{scratch}/uv-cache", "PIP_CACHE_DIR": f"{scratch}/pip-cache"}
        steps = [run_step(name, clone, environment) for name in (PHASES if options.phases else ("test",))]
    print(f"fresh clone of {options.ref}, {os.cpu_count()} cores, load before {os.getloadavg()[0]:.1f}")
    print("| step | wall s | CPU s | peak tree MB | peak process MB | exit |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for step in steps:
        print(
            f"| make {step.name} | {step.seconds:.1f} | {step.cpu_seconds:.1f} | {step.peak_tree_mb:.0f} | "
            f"{step.peak_process_mb:.0f} | {step.returncode} |"
        )
    total = sum(step.seconds for step in steps)
    cpu = sum(step.cpu_seconds for step in steps)
    tree = max(step.peak_tree_mb for step in steps)
    single = max(step.peak_process_mb for step in steps)
    if len(steps) > 1:
        print(f"| all three | {total:.1f} | {cpu:.1f} | {tree:.0f} | {single:.0f} | |")
    return 0 if all(step.returncode == 0 for step in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
