"""AWS console links for a job and a CloudWatch Logs stream. Pure string building."""

from __future__ import annotations

from urllib.parse import quote

# Other partitions serve the console from their own domains; "aws" consoles are per region.
_PARTITION_CONSOLE_HOSTS = {
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def console_host(partition: str, region: str) -> str:
    return _PARTITION_CONSOLE_HOSTS.get(partition, f"{region}.console.aws.amazon.com")


def batch_job_url(partition: str, region: str, job_id: str) -> str:
    return f"https://{console_host(partition, region)}/batch/home?region={region}#jobs/detail/{quote(job_id)}"


def log_stream_url(partition: str, region: str, log_group: str, log_stream: str) -> str:
    """Link to one log stream. The CloudWatch console expects each path part URL-encoded twice with
    `%` then written as `$` (e.g. `/aws/batch/job` -> `$252Faws$252Fbatch$252Fjob`)."""
    return (
        f"https://{console_host(partition, region)}/cloudwatch/home?region={region}"
        f"#logsV2:log-groups/log-group/{_console_escape(log_group)}/log-events/{_console_escape(log_stream)}"
    )


def _console_escape(part: str) -> str:
    return _escape_every_reserved(_escape_every_reserved(part)).replace("%", "$")


def _escape_every_reserved(text: str) -> str:
    # `quote` keeps `/` by default; a log group's slashes must be escaped too.
    return quote(text, safe="")
