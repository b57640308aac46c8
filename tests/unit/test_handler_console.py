"""console: links into the AWS console for a job and a log stream, per partition."""

from batch_array_notify.handler.console import batch_job_url, console_host, log_stream_url


def test_each_partition_has_its_console_host():
    assert console_host("aws", "eu-west-1") == "eu-west-1.console.aws.amazon.com"
    assert console_host("aws-cn", "cn-north-1") == "console.amazonaws.cn"
    assert console_host("aws-us-gov", "us-gov-west-1") == "console.amazonaws-us-gov.com"


def test_a_job_link_quotes_the_job_id():
    assert batch_job_url("aws", "eu-west-1", "a b#c") == (
        "https://eu-west-1.console.aws.amazon.com/batch/home?region=eu-west-1#jobs/detail/a%20b%23c"
    )


def test_a_log_stream_link_escapes_each_part_twice_with_dollars():
    url = log_stream_url("aws", "us-east-1", "/aws/batch/job", "print-color/default/0a1b")

    assert url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/print-color$252Fdefault$252F0a1b"
    )
