"""The contract between a resubmission (cli/resubmit.py), the job it runs and the notifier. Pure.

A resubmission runs only the failed children of an array job, so its child `i` is not the original's
child `i`: its environment carries the map from its own `AWS_BATCH_JOB_ARRAY_INDEX` to the original index
as compact ranges (`3,17-20,99`: new index 0 is 3, 1 to 4 are 17 to 20, 5 is 99), and the snippets below
turn it back inside the job. The job also names the job it retries, in a tag and in its environment, so
the notifier can say "resubmission of <id>". Names starting with `AWS_BATCH` are reserved for Batch
(environment variables of SubmitJob's containerOverrides), hence the project's own prefix.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence

#: The map from the job's own array index to the original job's index (compact ranges).
INDEX_MAP_VARIABLE = "BATCH_ARRAY_NOTIFY_INDEX_MAP"
#: The job id of the array job this one retries (environment and tag).
RESUBMISSION_OF_VARIABLE = "BATCH_ARRAY_NOTIFY_RESUBMISSION_OF"
RESUBMISSION_OF_TAG = "batch-array-notify:resubmission-of"

#: Inside the job (POSIX sh, busybox too): ORIGINAL_INDEX is the original job's index of this child.
ORIGINAL_INDEX_SH = """\
i=${AWS_BATCH_JOB_ARRAY_INDEX:-0} ORIGINAL_INDEX=${AWS_BATCH_JOB_ARRAY_INDEX:-0} saved_ifs=$IFS IFS=,
for range in ${BATCH_ARRAY_NOTIFY_INDEX_MAP:-}; do
  first=${range%-*} last=${range#*-}
  if [ "$i" -le $((last - first)) ]; then ORIGINAL_INDEX=$((first + i)); break; fi
  i=$((i - last + first - 1))
done; IFS=$saved_ifs"""

#: The same in Python: `original_index` is the original job's index of this child.
ORIGINAL_INDEX_PY = """\
import os

index = original_index = int(os.environ.get("AWS_BATCH_JOB_ARRAY_INDEX", "0"))
for part in filter(None, os.environ.get("BATCH_ARRAY_NOTIFY_INDEX_MAP", "").split(",")):
    first, _, last = part.partition("-")
    if index <= int(last or first) - int(first):
        original_index = int(first) + index
        break
    index -= int(last or first) - int(first) + 1"""


def compact_ranges(indices: Iterable[int]) -> str:
    """`3,17-20,99` for [3, 17, 18, 19, 20, 99], in the given order (runs of consecutive indices joined)."""
    parts: list[str] = []
    first = last = None
    for index in indices:
        if last is not None and index == last + 1:
            last = index
            continue
        if first is not None:
            parts.append(_range_text(first, last))
        first = last = index
    if first is not None:
        parts.append(_range_text(first, last))
    return ",".join(parts)


def _range_text(first: int, last: int | None) -> str:
    return str(first) if last == first else f"{first}-{last}"


def expand_ranges(text: str) -> list[int]:
    """The indices of `compact_ranges`' text, in order; ValueError for anything else."""
    indices: list[int] = []
    for part in filter(None, text.split(",")):
        first, separator, last = part.partition("-")
        try:
            start, end = int(first), int(last) if separator else int(first)
        except ValueError:
            raise ValueError(f"not a range of indices: {part!r}") from None
        if start < 0 or end < start:
            raise ValueError(f"not a range of indices: {part!r}")
        indices.extend(range(start, end + 1))
    return indices


def resubmission_of(tags: Mapping[str, str], environment: Sequence[Mapping[str, str]]) -> str | None:
    """The job id a job retries: its tag, else its environment variable; None for an ordinary job."""
    tagged = tags.get(RESUBMISSION_OF_TAG)
    if tagged:
        return tagged
    named = [entry.get("value") for entry in environment if entry.get("name") == RESUBMISSION_OF_VARIABLE]
    return named[0] or None if named else None


def resubmit_command(job_id: str, region: str) -> str:
    """The command that resubmits only the failed children of `job_id`, as a user runs it from a checkout."""
    return shlex.join([".venv/bin/batch-array-notify", "resubmit", "--job-id", job_id, "--region", region])
