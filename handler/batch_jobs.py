"""The handler's Batch queries, each with a fixed number of calls whatever the array size.

Per notification: one DescribeJobs for the parent, at most `MAX_LIST_PAGES` ListJobs pages of failed
children and one DescribeJobs for at most 100 of them, so never more than 4 Batch calls. Totals come
from the parent's `statusSummary`, never from listing children (that would be 10,000 rows).
"""

from __future__ import annotations

from typing import Any

from .accounts import client_for
from .models import ChildJobDetail, JobDetail
from .scope import Origin

#: ListJobs may return fewer than `maxResults` rows with a `nextToken`; one follow-up page is allowed.
MAX_LIST_PAGES = 2
#: DescribeJobs accepts at most 100 job ids per call.
MAX_DESCRIBE_IDS = 100
#: The most Batch calls one notification makes (before retries): what a paced replay charges for it.
MAX_BATCH_CALLS_PER_NOTIFICATION = 1 + MAX_LIST_PAGES + 1


def describe_job(job_id: str, origin: Origin | None = None) -> JobDetail | None:
    """The job as Batch (of `origin`, a member account, else the notifier's own) sees it now, or None once
    Batch no longer knows it (jobs expire after days)."""
    jobs = client_for("batch", origin).describe_jobs(jobs=[job_id]).get("jobs", [])
    return JobDetail.model_validate(jobs[0]) if jobs else None


def first_failed_children(parent_job_id: str, limit: int, origin: Origin | None = None) -> list[ChildJobDetail]:
    """Up to `limit` failed children of an array parent (in `origin`'s Batch), ordered by array index."""
    if not 1 <= limit <= MAX_DESCRIBE_IDS:
        raise ValueError(f"limit must be from 1 to {MAX_DESCRIBE_IDS}, got {limit}")
    job_ids = _failed_child_ids(parent_job_id, limit, origin)
    if not job_ids:
        return []
    described = client_for("batch", origin).describe_jobs(jobs=job_ids).get("jobs", [])
    children = [ChildJobDetail.model_validate(job) for job in described]
    return sorted(children, key=lambda child: (child.array_index is None, child.array_index or 0))


def _failed_child_ids(parent_job_id: str, limit: int, origin: Origin | None) -> list[str]:
    job_ids: list[str] = []
    request: dict[str, Any] = {"arrayJobId": parent_job_id, "jobStatus": "FAILED"}
    for _ in range(MAX_LIST_PAGES):
        page = client_for("batch", origin).list_jobs(**request, maxResults=limit - len(job_ids))
        job_ids.extend(summary["jobId"] for summary in page.get("jobSummaryList", []))
        next_token = page.get("nextToken")
        if len(job_ids) >= limit or not next_token:
            break
        request["nextToken"] = next_token
    # moto ignores maxResults; real Batch honours it. Either way, never describe more than asked for.
    return job_ids[:limit]
