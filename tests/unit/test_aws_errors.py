"""cli/aws_errors.py: each environmental botocore error becomes one line naming the cause and the fix
and exit 3; an AWS refusal of the caller's input becomes one line and exit 2; anything else propagates."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.parsers import ResponseParserError

from batch_array_notify.cli.aws_errors import exit_on_aws_environment_errors
from batch_array_notify.cli.exit_codes import AWS_UNREACHABLE, USAGE_ERROR


def client_error(code: str, operation: str = "SubmitJob", message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


def outcome(error: BaseException) -> tuple[int, str]:
    """(exit code, what the user reads) when `error` escapes the context manager."""
    stream = io.StringIO()
    with pytest.raises(SystemExit) as exited, exit_on_aws_environment_errors(stream):
        raise error
    assert isinstance(exited.value.code, int)
    return exited.value.code, stream.getvalue()


ENVIRONMENTAL = [
    (NoCredentialsError(), "no AWS credentials found", "AWS_PROFILE"),
    (PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), "no AWS credentials", "AWS_PROFILE"),
    (TokenRetrievalError(provider="sso", error_msg="expired"), "SSO session has expired", "aws sso login"),
    (UnauthorizedSSOTokenError(), "SSO session has expired", "aws sso login"),
    (ProfileNotFound(profile="research"), "research", "~/.aws/config"),
    (NoRegionError(), "no AWS region", "--region"),
    (EndpointConnectionError(endpoint_url="https://batch.example"), "cannot reach AWS", "HTTPS_PROXY"),
    (ConnectTimeoutError(endpoint_url="https://batch.example"), "cannot reach AWS", "AWS_ENDPOINT_URL"),
    (ReadTimeoutError(endpoint_url="https://batch.example"), "cannot reach AWS", "check the network"),
    (client_error("AccessDeniedException"), "access denied to SubmitJob", "IAM policy must allow it"),
    (client_error("AccessDenied", "GetCallerIdentity"), "access denied to GetCallerIdentity", "IAM policy"),
    (client_error("UnauthorizedOperation", "DescribeVpcs"), "access denied to DescribeVpcs", "IAM policy"),
    (client_error("ExpiredToken"), "rejected the credentials (ExpiredToken)", "AWS_PROFILE"),
    (client_error("UnrecognizedClientException"), "rejected the credentials", "AWS_ACCESS_KEY_ID"),
    (client_error("InvalidClientTokenId"), "rejected the credentials", "AWS_ACCESS_KEY_ID"),
    (client_error("SignatureDoesNotMatch"), "rejected the credentials", "AWS_ACCESS_KEY_ID"),
    (client_error("ThrottlingException"), "throttled SubmitJob (ThrottlingException)", "run again"),
    (client_error("TooManyRequestsException"), "throttled", "wait a minute"),
    (client_error("RequestLimitExceeded", "DescribeSubnets"), "throttled DescribeSubnets", "wait a minute"),
    (
        ClientError({"Error": {"Code": "ServerException"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "ListJobs"),
        "AWS answered ListJobs with HTTP 500 (ServerException), a fault on its side or a proxy's: try again later",
        "try again later",
    ),
]


@pytest.mark.parametrize(("error", "cause", "fix"), ENVIRONMENTAL, ids=lambda value: type(value).__name__)
def test_an_environmental_error_is_one_line_with_cause_and_fix_and_exit_3(error, cause, fix):
    code, text = outcome(error)

    assert code == AWS_UNREACHABLE
    assert text.count("\n") == 1
    assert text.startswith("error: ")
    assert cause in text
    assert fix in text


def test_an_aws_refusal_of_the_input_is_one_line_naming_the_operation_and_exit_2():
    code, text = outcome(client_error("ClientException", "SubmitJob", "Job queue not found: render"))

    assert code == USAGE_ERROR
    assert text == "error: AWS refused SubmitJob: ClientException: Job queue not found: render\n"


def test_a_parameter_botocore_refuses_before_sending_is_the_callers_input_exit_2():
    code, text = outcome(ParamValidationError(report="Invalid type for parameter arrayProperties.size"))

    assert code == USAGE_ERROR
    assert text.count("\n") == 1
    assert "arrayProperties.size" in text


def test_errors_that_are_not_aws_errors_propagate_untouched():
    with pytest.raises(KeyError), exit_on_aws_environment_errors(io.StringIO()):
        raise KeyError("a bug in the tool stays a bug")


def test_nothing_is_printed_when_nothing_goes_wrong():
    stream = io.StringIO()
    with exit_on_aws_environment_errors(stream):
        pass
    assert stream.getvalue() == ""


def test_a_server_error_is_one_line_without_its_body_and_exit_3():
    """A 5xx is AWS's fault or a proxy's, not the caller's input: the body (here a proxy's HTML page, as
    botocore keeps it in the message of an XML service) is never printed."""
    page = "<html>\n<body><h1>503 Service Unavailable</h1></body>\n</html>"
    error = ClientError(
        {"Error": {"Code": "503", "Message": page}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "DescribeVpcs"
    )

    code, text = outcome(error)

    assert code == AWS_UNREACHABLE
    assert text == "error: AWS answered DescribeVpcs with HTTP 503, a fault on its side or a proxy's: try again later\n"


def test_an_answer_botocore_cannot_parse_is_one_line_and_exit_3():
    code, text = outcome(ResponseParserError("Unable to parse response (syntax error), invalid XML received:\n<html>"))

    assert code == AWS_UNREACHABLE
    assert text.count("\n") == 1
    assert "<html>" not in text
    assert "AWS_ENDPOINT_URL" in text


def test_a_tool_without_a_region_option_does_not_offer_one():
    stream = io.StringIO()
    with pytest.raises(SystemExit), exit_on_aws_environment_errors(stream, region_option=False):
        raise NoRegionError()

    assert stream.getvalue() == "error: no AWS region: set AWS_REGION or set aws:region in the stack's config\n"
